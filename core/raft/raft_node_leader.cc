// RaftNode, leader side: answering Fetch and FetchSnapshot, the high watermark,
// check-quorum, BeginQuorumEpoch.
#include <algorithm>

#include "core/raft/entry_codec.h"
#include "core/raft/raft_node.h"
#include "core/raft/rpc_util.h"

namespace keel::raft {

using namespace keel::protocol;

namespace {

// Where a follower's (fetch offset, last fetched epoch) stands against the leader's log
// (Kafka's ReplicatedLog.validateOffsetAndEpoch).
struct FetchPosition {
    enum Kind { valid, diverging, snapshot } kind = valid;
    RaftLog::EpochEnd diverging_at{};
    SnapshotId snapshot_id{};
};

FetchPosition validate_fetch_position(const RaftLog& log, Offset offset, QuorumEpoch epoch) {
    if (offset.value() == 0 && log.start().value() == 0) return {};
    std::optional<SnapshotId> snap = log.snapshot_id();
    if (snap && snap->end_offset.value() > 0 &&
        (offset < log.start() || (offset == log.start() && epoch != snap->epoch) ||
         epoch < snap->epoch)) {
        return {FetchPosition::snapshot, {}, *snap};
    }
    RaftLog::EpochEnd end = log.end_offset_for_epoch(epoch);
    if (end.epoch != epoch || end.end_offset < offset) return {FetchPosition::diverging, end, {}};
    return {};
}

FetchResponse single_fetch_response(FetchResponse::PartitionData pd) {
    FetchResponse resp;
    pd.partition_index = metadata_partition;
    resp.responses.push_back({"", metadata_topic_id, {std::move(pd)}});
    return resp;
}

}  // namespace

void RaftNode::on_fetch_request(const Message& m, const FetchRequest& req) {
    if (auto e = check_cluster_id(req.cluster_id)) {
        FetchResponse resp;
        resp.error_code = *e;
        return send_response(m.from, m.correlation_id, std::move(resp));
    }
    const auto* p = single_partition(req);
    if (p == nullptr || req.replica_id != m.from || m.from == id_ || p->fetch_offset.value() < 0) {
        return answer_fetch_error(m.from, m.correlation_id, ErrorCode::invalid_request);
    }
    QuorumEpoch their_epoch(p->current_leader_epoch);
    if (their_epoch < qs_.epoch) {
        return answer_fetch_error(m.from, m.correlation_id, ErrorCode::fenced_leader_epoch);
    }
    if (their_epoch > qs_.epoch) {
        return answer_fetch_error(m.from, m.correlation_id, ErrorCode::unknown_leader_epoch);
    }
    if (role_ != Role::leader) return answer_not_leader(m.from, m.correlation_id);

    FetchPosition pos = validate_fetch_position(log_, p->fetch_offset, QuorumEpoch(p->last_fetched_epoch));
    if (pos.kind != FetchPosition::valid) {
        // Alive, though not acknowledging anything yet (check-quorum counts it).
        if (auto it = voter_progress_.find(m.from); it != voter_progress_.end()) it->second.last_fetch = now_;
        FetchResponse::PartitionData pd;
        pd.high_watermark = high_watermark_ > epoch_start_offset_ ? high_watermark_ : Offset(-1);
        pd.log_start_offset = log_.start();
        pd.current_leader = {id_, qs_.epoch.value()};
        if (pos.kind == FetchPosition::diverging) {
            pd.diverging_epoch = {pos.diverging_at.epoch.value(), pos.diverging_at.end_offset};
        } else {
            pd.snapshot_id = {pos.snapshot_id.end_offset, pos.snapshot_id.epoch.value()};
        }
        return send_response(m.from, m.correlation_id, single_fetch_response(std::move(pd)));
    }
    record_fetch(m.from, p->fetch_offset);
    bool hw_moved = advance_high_watermark();
    size_t bytes_max = std::min<size_t>(config_.fetch_bytes_max,
                                        static_cast<size_t>(std::max(p->partition_max_bytes, 1)));
    const Progress* progress = nullptr;
    if (auto it = voter_progress_.find(m.from); it != voter_progress_.end()) progress = &it->second;
    if (auto it = observer_progress_.find(m.from); it != observer_progress_.end()) progress = &it->second;
    bool knows_high_watermark = progress != nullptr && progress->high_watermark_sent == high_watermark_;
    if (p->fetch_offset == log_.end() && !hw_moved && knows_high_watermark && req.max_wait_ms > 0) {
        // Nothing new: park it (long poll) until data or a new high watermark arrives.
        if (auto old = parked_.find(m.from); old != parked_.end()) {
            answer_fetch(m.from, old->second.correlation_id, old->second.fetch_offset, bytes_max);
        }
        Duration wait = std::min(config_.fetch_max_wait, ms(req.max_wait_ms));
        parked_[m.from] = ParkedFetch{m.correlation_id, p->fetch_offset, bytes_max, now_ + wait};
        return;
    }
    answer_fetch(m.from, m.correlation_id, p->fetch_offset, bytes_max);
}

void RaftNode::answer_fetch(NodeId to, int32_t correlation_id, Offset fetch_offset, size_t bytes_max) {
    KEEL_ASSERT(role_ == Role::leader);
    KEEL_ASSERT(fetch_offset >= log_.start() && fetch_offset <= log_.end());
    FetchResponse::PartitionData pd;
    // The high watermark is unknown until the leader has committed in its own epoch.
    bool established = high_watermark_ > epoch_start_offset_;
    pd.high_watermark = established ? high_watermark_ : Offset(-1);
    pd.log_start_offset = log_.start();
    pd.current_leader = {id_, qs_.epoch.value()};
    if (fetch_offset < log_.end()) {
        std::vector<LogEntry> entries = log_.read(fetch_offset, bytes_max);
        pd.records = encode_entries(entries);
    }
    for (auto* progress : {&voter_progress_, &observer_progress_}) {
        if (auto it = progress->find(to); it != progress->end()) {
            it->second.high_watermark_sent = high_watermark_;
        }
    }
    send_response(to, correlation_id, single_fetch_response(std::move(pd)));
}

void RaftNode::answer_fetch_error(NodeId to, int32_t correlation_id, ErrorCode error) {
    FetchResponse::PartitionData pd;
    pd.error_code = error;
    pd.current_leader = {qs_.leader_id.value_or(NodeId(-1)), qs_.epoch.value()};
    send_response(to, correlation_id, single_fetch_response(std::move(pd)));
}

void RaftNode::record_fetch(NodeId replica, Offset fetch_offset) {
    // The fetch offset acknowledges everything below it. It may go down (the follower
    // truncated, or lost its disk): the latest report is the truth, never the maximum.
    if (is_voter(replica)) {
        Progress& p = voter_progress_[replica];
        record_fetch_times(p, fetch_offset);
        p.fetch_offset = fetch_offset;
        p.last_fetch = now_;
        p.fetched_this_epoch = true;
        return;
    }
    auto it = observer_progress_.find(replica);
    if (it == observer_progress_.end()) {
        if (observer_progress_.size() >= config_.observers_max) return;
        it = observer_progress_.emplace(replica, Progress{}).first;
    }
    record_fetch_times(it->second, fetch_offset);
    it->second.fetch_offset = fetch_offset;
    it->second.last_fetch = now_;
    it->second.fetched_this_epoch = true;
}

// Kafka's LeaderState.ReplicaState.updateFollowerState (KIP-836). The leader's log end is
// its durable one, as Kafka's is its flushed one; a fetch may already be past it (the
// entries were sent after they were synced, before the next Ready), which counts as
// caught up.
void RaftNode::record_fetch_times(Progress& p, Offset fetch_offset) const {
    Offset leader_end = durable_end_;
    if (fetch_offset >= leader_end) {
        p.last_caught_up = now_;
    } else if (p.leader_end_at_last_fetch.value() > 0 && fetch_offset >= p.leader_end_at_last_fetch) {
        // It now holds everything the leader had at its previous fetch: it was caught up
        // as of that fetch.
        KEEL_ASSERT(p.last_accepted_fetch.has_value());
        Instant then = *p.last_accepted_fetch;
        p.last_caught_up = p.last_caught_up ? std::max(*p.last_caught_up, then) : then;
    }
    p.leader_end_at_last_fetch = leader_end;
    p.last_accepted_fetch = now_;
}

ReplicaProgress RaftNode::replica_progress(NodeId id, const Progress& p) const {
    return ReplicaProgress{id, p.fetch_offset, p.last_accepted_fetch, p.last_caught_up};
}

std::optional<QuorumProgress> RaftNode::quorum_progress(Instant now) const {
    if (role_ != Role::leader) return std::nullopt;
    KEEL_ASSERT(now >= now_);
    QuorumProgress q;
    q.leader_id = id_;
    q.epoch = qs_.epoch;
    if (high_watermark_ > epoch_start_offset_) q.high_watermark = high_watermark_;
    for (NodeId v : config_.voters) {  // sorted at construction
        if (v == id_) {
            q.voters.push_back(ReplicaProgress{id_, durable_end_, now, now});
        } else if (auto it = voter_progress_.find(v); it != voter_progress_.end()) {
            q.voters.push_back(replica_progress(v, it->second));
        } else {
            q.voters.push_back(ReplicaProgress{v, std::nullopt, std::nullopt, std::nullopt});
        }
    }
    for (const auto& [o, p] : observer_progress_) {
        if (p.last_accepted_fetch && now - *p.last_accepted_fetch < config_.observer_session_timeout) {
            q.observers.push_back(replica_progress(o, p));
        }
    }
    return q;
}

std::optional<Offset> RaftNode::majority_fetch_offset() const {
    std::vector<Offset> offsets;
    for (NodeId v : config_.voters) {
        if (v == id_) {
            offsets.push_back(durable_end_);
        } else if (auto it = voter_progress_.find(v); it != voter_progress_.end() && it->second.fetch_offset) {
            offsets.push_back(*it->second.fetch_offset);
        }
    }
    if (offsets.size() < majority()) return std::nullopt;
    std::sort(offsets.begin(), offsets.end(), std::greater<>());
    return offsets[majority() - 1];
}

bool RaftNode::advance_high_watermark() {
    std::optional<Offset> replicated = majority_fetch_offset();
    // Invariant (Raft figure 8): the high watermark moves only to an offset whose entry is
    // of the current epoch — it must cover the epoch's first entry, the LeaderChange.
    if (!replicated || *replicated <= high_watermark_ || config_.bug_high_watermark_never_moves) return false;
    if (*replicated <= epoch_start_offset_ && !config_.bug_commit_by_counting_older_epochs) return false;
    KEEL_ASSERT(*replicated <= log_.end());
    high_watermark_ = *replicated;
    answer_parked_fetches();
    return true;
}

void RaftNode::answer_parked_fetches() {
    std::map<NodeId, ParkedFetch> parked = std::move(parked_);
    parked_.clear();
    for (const auto& [to, pf] : parked) answer_fetch(to, pf.correlation_id, pf.fetch_offset, pf.bytes_max);
}

void RaftNode::on_fetch_snapshot_request(const Message& m, const FetchSnapshotRequest& req) {
    FetchSnapshotResponse resp;
    if (auto e = check_cluster_id(req.cluster_id)) {
        resp.error_code = *e;
        return send_response(m.from, m.correlation_id, std::move(resp));
    }
    const auto* p = single_partition(req);
    if (p == nullptr || req.replica_id != m.from) {
        resp.error_code = ErrorCode::invalid_request;
        return send_response(m.from, m.correlation_id, std::move(resp));
    }
    FetchSnapshotResponse::PartitionSnapshot ps;
    ps.index = metadata_partition;
    ps.snapshot_id = {p->snapshot_id.end_offset, p->snapshot_id.epoch};
    ps.current_leader = {qs_.leader_id.value_or(NodeId(-1)), qs_.epoch};
    SnapshotId wanted{p->snapshot_id.end_offset, p->snapshot_id.epoch};
    if (p->current_leader_epoch < qs_.epoch) {
        ps.error_code = ErrorCode::fenced_leader_epoch;
    } else if (p->current_leader_epoch > qs_.epoch) {
        ps.error_code = ErrorCode::unknown_leader_epoch;
    } else if (role_ != Role::leader) {
        ps.error_code = ErrorCode::not_leader_or_follower;
    } else if (!snapshot_ || snapshot_->id != wanted) {
        ps.error_code = ErrorCode::snapshot_not_found;
    } else if (p->position < 0 || static_cast<uint64_t>(p->position) > snapshot_->data.size()) {
        ps.error_code = ErrorCode::position_out_of_range;
    } else {
        if (auto it = voter_progress_.find(m.from); it != voter_progress_.end()) it->second.last_fetch = now_;
        size_t limit = std::min<size_t>(config_.snapshot_chunk_bytes_max,
                                        static_cast<size_t>(std::max(req.max_bytes, 1)));
        size_t from = static_cast<size_t>(p->position);
        size_t n = std::min(limit, snapshot_->data.size() - from);
        ps.size = static_cast<int64_t>(snapshot_->data.size());
        ps.position = p->position;
        ps.unaligned_records.assign(snapshot_->data.begin() + static_cast<std::ptrdiff_t>(from),
                                    snapshot_->data.begin() + static_cast<std::ptrdiff_t>(from + n));
    }
    resp.topics.push_back({std::string(metadata_topic_name), {std::move(ps)}});
    send_response(m.from, m.correlation_id, std::move(resp));
}

void RaftNode::send_begin_quorum_epoch(NodeId to) {
    BeginQuorumEpochRequest req;
    req.cluster_id = config_.cluster_id;
    req.voter_id = to;
    req.topics.push_back({std::string(metadata_topic_name), {{metadata_partition, {}, id_, qs_.epoch}}});
    send_request(to, std::move(req), Outstanding{ApiKey::begin_quorum_epoch, to, qs_.epoch});
}

void RaftNode::tick_leader() {
    for (auto it = parked_.begin(); it != parked_.end();) {
        if (it->second.deadline <= now_) {
            ParkedFetch pf = it->second;
            NodeId to = it->first;
            it = parked_.erase(it);
            answer_fetch(to, pf.correlation_id, pf.fetch_offset, pf.bytes_max);
        } else {
            ++it;
        }
    }
    // Check-quorum: a leader cut off from a majority steps down instead of serving stale
    // reads and holding writes forever.
    size_t alive = 0;
    for (const auto& [v, p] : voter_progress_) {
        if (v == id_ || now_ - p.last_fetch < config_.check_quorum_timeout) alive++;
    }
    if (alive < majority()) {
        become_unattached(qs_.epoch, id_);
        return;
    }
    if (now_ >= begin_quorum_resend_at_) {
        for (const auto& [v, p] : voter_progress_) {
            if (v != id_ && !p.fetched_this_epoch && !begin_quorum_acked_.contains(v)) {
                send_begin_quorum_epoch(v);
            }
        }
        begin_quorum_resend_at_ = now_ + config_.request_timeout;
    }
}

}  // namespace keel::raft
