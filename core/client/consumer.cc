// Consumer: assignment, positions, auto_offset_reset through ListOffsets, poll's loop.
// Fetching and record decoding are in consumer_fetch.cc.
#include "core/client/consumer.h"

#include <algorithm>

#include "core/protocol/error_codes.h"
#include "core/protocol/generated/list_offsets_request.h"
#include "core/protocol/generated/list_offsets_response.h"

namespace keel::client {

namespace {

constexpr int16_t kListOffsetsVersionMin = 1;
constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

ConnectionOptions connection_options(const ConsumerConfig& c) {
    ConnectionOptions o;
    o.client_id = c.client_id;
    o.connect_timeout = c.request_timeout;
    return o;
}

MetadataOptions metadata_options(const ConsumerConfig& c) {
    MetadataOptions o;
    o.bootstrap = c.bootstrap;
    o.max_age = c.metadata_max_age;
    o.request_timeout = c.request_timeout;
    o.allow_auto_topic_creation = false;
    return o;
}

}  // namespace

Consumer::Consumer(env::Env& env, ConsumerConfig config)
    : env_(env),
      config_(std::move(config)),
      pool_(env, connection_options(config_)),
      metadata_(env, pool_, metadata_options(config_)) {
    if (config_.group_id) group_ = make_group_membership(env_, config_, metadata_, group_hooks());
}

Consumer::~Consumer() { close(); }

ConsumerGroupHooks Consumer::group_hooks() {
    ConsumerGroupHooks h;
    h.assignment = [this] { return assignment(); };
    h.assign = [this](std::vector<TopicPartitionName> tps) { set_assignment(std::move(tps)); };
    h.positions = [this] { return consumed_positions(); };
    h.seek = [this](const TopicPartitionName& tp, Offset o) { (void)seek(tp, o); };
    return h;
}

OffsetMap Consumer::consumed_positions() const {
    OffsetMap out;
    for (const auto& [tp, ps] : assigned_) {
        if (ps.position) out[tp] = *ps.position;
    }
    return out;
}

void Consumer::assign(std::vector<TopicPartitionName> partitions) {
    if (group_ && group_->subscribed()) group_->unsubscribe();
    set_assignment(std::move(partitions));
}

void Consumer::set_assignment(std::vector<TopicPartitionName> partitions) {
    std::map<TopicPartitionName, PartitionState> next;
    for (auto& tp : partitions) {
        auto it = assigned_.find(tp);
        next[tp] = it == assigned_.end() ? PartitionState{} : it->second;
        metadata_.add_topic(tp.topic);
    }
    assigned_ = std::move(next);
    std::erase_if(paused_, [&](const TopicPartitionName& tp) { return !assigned_.contains(tp); });
}

std::vector<TopicPartitionName> Consumer::assignment() const {
    std::vector<TopicPartitionName> out;
    for (const auto& [tp, ps] : assigned_) out.push_back(tp);
    return out;
}

Status Consumer::seek(const TopicPartitionName& tp, Offset offset) {
    auto it = assigned_.find(tp);
    if (it == assigned_.end()) return Status(Errc::invalid_argument, "seek: " + tp.to_string() + " is not assigned");
    if (offset.value() < 0) return Status(Errc::invalid_argument, "seek: negative offset");
    it->second.position = offset;
    it->second.last_epoch = LeaderEpoch(-1);
    return ok_status();
}

Result<Offset> Consumer::position(const TopicPartitionName& tp) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    auto it = assigned_.find(tp);
    if (it == assigned_.end()) return Error{Errc::invalid_argument, "position: " + tp.to_string() + " is not assigned"};
    if (!it->second.position) {
        Instant deadline = env_.now() + config_.request_timeout;
        while (!it->second.position) {
            KEEL_TRY(metadata_.refresh_if_needed(deadline));
            Status s = reset_position(tp, deadline);
            if (!s.ok() && (s.code() == Errc::offset_out_of_range || env_.now() >= deadline)) return s.error();
            if (!it->second.position) env_.executor().sleep_for(config_.retry_backoff);
        }
    }
    return *it->second.position;
}

Status Consumer::reset_positions(Instant deadline) {
    for (auto& [tp, ps] : assigned_) {
        if (ps.position) continue;
        Status s = reset_position(tp, deadline);
        if (!s.ok() && s.code() == Errc::offset_out_of_range) return s;  // policy none
    }
    return ok_status();
}

Status Consumer::reset_position(const TopicPartitionName& tp, Instant deadline) {
    if (config_.auto_offset_reset == OffsetReset::none) {
        return Status(Errc::offset_out_of_range,
                      "OFFSET_OUT_OF_RANGE: no valid position for " + tp.to_string() + " and auto_offset_reset is none");
    }
    auto leader = metadata_.partition(tp);
    auto address = leader ? metadata_.broker_address(leader->leader) : std::nullopt;
    if (!address) {
        metadata_.request_refresh();
        return Status(Errc::not_leader, "LEADER_NOT_AVAILABLE: no leader known for " + tp.to_string());
    }
    protocol::ListOffsetsRequest req;
    req.replica_id = NodeId(-1);
    req.isolation_level = static_cast<int8_t>(config_.isolation_level);
    protocol::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = tp.partition;
    p.current_leader_epoch = leader->leader_epoch;
    p.timestamp = config_.auto_offset_reset == OffsetReset::earliest ? kEarliestTimestamp : kLatestTimestamp;
    req.topics.push_back({tp.topic, {p}, {}});
    Instant d = std::min(deadline, env_.now() + config_.request_timeout);
    auto max_version = std::clamp<int16_t>(config_.list_offsets_version_max, kListOffsetsVersionMin, 7);
    auto resp = pool_.get(*address).call<protocol::ListOffsetsResponse>(req, kListOffsetsVersionMin,
                                                                         max_version, d);
    if (!resp.ok()) {
        metadata_.request_refresh();
        return resp.error();
    }
    for (const auto& t : resp->topics) {
        for (const auto& pr : t.partitions) {
            if (t.name != tp.topic || pr.partition_index != tp.partition) continue;
            if (pr.error_code != protocol::ErrorCode::none) {
                metadata_.request_refresh();
                return protocol::status_from(pr.error_code, "ListOffsets " + tp.to_string());
            }
            auto it = assigned_.find(tp);
            if (it != assigned_.end()) {
                it->second.position = Offset(pr.offset);
                it->second.last_epoch = pr.leader_epoch;  // (v4+; -1 before)
            }
            return ok_status();
        }
    }
    return Status(Errc::invalid_request, "ListOffsets answer without " + tp.to_string());
}

Result<std::vector<ConsumerRecord>> Consumer::poll(Duration timeout) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    Instant deadline = env_.now() + timeout;
    std::vector<ConsumerRecord> out;
    while (true) {
        if (group_) KEEL_TRY(group_->poll(std::max(deadline, env_.now() + config_.request_timeout)));
        Instant now = env_.now();
        if (metadata_.needs_refresh() && now >= metadata_retry_at_) {
            metadata_retry_at_ = now + config_.retry_backoff;
            Status s = metadata_.refresh(std::max(deadline, now + config_.request_timeout));
            (void)s;  // partitions without a leader wait for the next refresh
        }
        KEEL_TRY(reset_positions(std::max(deadline, env_.now() + ms(1))));
        bool any = !fetch_targets().empty();
        if (any) KEEL_TRY(fetch_round(deadline, out));
        if (!out.empty() || env_.now() >= deadline) return out;
        if (!any) {
            Duration nap = std::min(config_.retry_backoff, deadline - env_.now());
            env_.executor().sleep_for(nap);
        }
    }
}

void Consumer::close() {
    if (closed_) return;
    if (group_) group_->close(env_.now() + config_.request_timeout);  // the listener may still commit
    closed_ = true;
    pool_.close_all();
}

}  // namespace keel::client
