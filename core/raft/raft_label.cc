#include "core/raft/raft_label.h"

#include "core/protocol/error_codes.h"

namespace keel::raft {

namespace {

using namespace protocol;

std::string num(int64_t v) { return std::to_string(v); }

std::string error_suffix(ErrorCode top, ErrorCode partition) {
    ErrorCode e = top != ErrorCode::none ? top : partition;
    return e == ErrorCode::none ? "" : " " + error_code_name(e);
}

// The first partition of the first topic (KRaft messages carry exactly one), or nullptr.
template <typename Topics, typename Get>
auto first_partition(const Topics& topics, Get get) -> decltype(&get(topics.front()).front()) {
    if (topics.empty() || get(topics.front()).empty()) return nullptr;
    return &get(topics.front()).front();
}

std::string label(const VoteRequest& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "Vote";
    return std::string(p->pre_vote ? "PreVote" : "Vote") + " e=" + num(p->candidate_epoch.value()) +
           " cand=" + num(p->candidate_id.value()) + " last=" + num(p->last_offset.value()) + "/" +
           num(p->last_offset_epoch.value());
}

std::string label(const VoteResponse& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "VoteResp" + error_suffix(m.error_code, ErrorCode::none);
    return "VoteResp e=" + num(p->leader_epoch.value()) + (p->vote_granted ? " granted" : " denied") +
           error_suffix(m.error_code, p->error_code);
}

template <typename Request>
std::string epoch_request_label(const char* name, const Request& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return name;
    return std::string(name) + " e=" + num(p->leader_epoch.value()) + " leader=" + num(p->leader_id.value());
}

template <typename Response>
std::string epoch_response_label(const char* name, const Response& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return name + error_suffix(m.error_code, ErrorCode::none);
    return std::string(name) + " e=" + num(p->leader_epoch.value()) + error_suffix(m.error_code, p->error_code);
}

std::string label(const FetchRequest& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "Fetch";
    return "Fetch off=" + num(p->fetch_offset.value()) + " e=" + num(p->current_leader_epoch) +
           " last=" + num(p->last_fetched_epoch);
}

std::string label(const FetchResponse& m) {
    auto p = first_partition(m.responses, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "FetchResp" + error_suffix(m.error_code, ErrorCode::none);
    std::string s = "FetchResp hw=" + num(p->high_watermark.value()) + " " + num(static_cast<int64_t>(p->records.size())) + "B";
    if (p->diverging_epoch.present()) {
        s += " div=" + num(p->diverging_epoch.epoch) + "/" + num(p->diverging_epoch.end_offset.value());
    }
    if (p->snapshot_id.present()) s += " snap=" + num(p->snapshot_id.end_offset.value());
    return s + error_suffix(m.error_code, p->error_code);
}

std::string label(const FetchSnapshotRequest& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "FetchSnapshot";
    return "FetchSnapshot snap=" + num(p->snapshot_id.end_offset.value()) + "/" + num(p->snapshot_id.epoch.value()) +
           " pos=" + num(p->position);
}

std::string label(const FetchSnapshotResponse& m) {
    auto p = first_partition(m.topics, [](const auto& t) -> const auto& { return t.partitions; });
    if (p == nullptr) return "FetchSnapshotResp" + error_suffix(m.error_code, ErrorCode::none);
    return "FetchSnapshotResp snap=" + num(p->snapshot_id.end_offset.value()) + " pos=" + num(p->position) + " " +
           num(static_cast<int64_t>(p->unaligned_records.size())) + "B" + error_suffix(m.error_code, p->error_code);
}

std::string label(const BeginQuorumEpochRequest& m) { return epoch_request_label("BeginEpoch", m); }
std::string label(const EndQuorumEpochRequest& m) { return epoch_request_label("EndEpoch", m); }
std::string label(const BeginQuorumEpochResponse& m) { return epoch_response_label("BeginEpochResp", m); }
std::string label(const EndQuorumEpochResponse& m) { return epoch_response_label("EndEpochResp", m); }

}  // namespace

std::string message_label(const Message& m) {
    return std::visit([](const auto& body) { return label(body); }, m.body);
}

}  // namespace keel::raft
