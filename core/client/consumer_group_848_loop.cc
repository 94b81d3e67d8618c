// ConsumerMembership848 (consumer_group_848.h): the heartbeat fiber, reconciliation on the
// poll fiber, commits with the member epoch, leaving and close.
#include <algorithm>

#include "core/client/consumer.h"
#include "core/client/consumer_group_848.h"
#include "core/protocol/generated/consumer_group_heartbeat_request.h"
#include "core/protocol/generated/consumer_group_heartbeat_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_commit_response.h"

namespace keel::client {

namespace {

using protocol::ErrorCode;
using HbRequest = protocol::ConsumerGroupHeartbeatRequest;
using HbResponse = protocol::ConsumerGroupHeartbeatResponse;

constexpr int16_t kHeartbeatMax = 1;
constexpr int16_t kOffsetCommitVersion = 9;  // generation_id_or_member_epoch
constexpr int16_t kMetadataTopicIds = 10;    // topic ids in Metadata

int32_t to_ms32(Duration d) { return static_cast<int32_t>(std::clamp<int64_t>(to_ms(d), 0, INT32_MAX)); }

bool is_coordinator_error(ErrorCode code) {
    return code == ErrorCode::not_coordinator || code == ErrorCode::coordinator_not_available;
}

}  // namespace

// ---- heartbeats ----

template <typename Resp, typename Req>
Result<Resp> ConsumerMembership848::call_coordinator(const Req& req, int16_t min, int16_t max, Instant deadline) {
    KEEL_TRY(ensure_coordinator(deadline));
    auto resp = pool_.get(*coordinator_).call<Resp>(req, min, max, deadline);
    if (!resp.ok()) {
        coordinator_dead();
        return resp;
    }
    if constexpr (requires { resp->error_code; }) {
        if (is_coordinator_error(resp->error_code)) coordinator_dead();
    }
    return resp;
}


void ConsumerMembership848::heartbeat_loop() {
    while (!stopping_) {
        if (!send_now_ || !subscribed() || lost_pending_) {
            Instant until = env_.now() + interval_;
            bool woken = heartbeat_wake_.wait(until);
            heartbeat_wake_.reset();
            if (!woken && env_.now() < until) break;  // the node is dying
        }
        if (stopping_) break;
        if (!subscribed() || lost_pending_) continue;  // the poll fiber drops lost partitions first
        send_now_ = false;
        heartbeat_once(joined_ ? epoch_ : 0);
    }
}

void ConsumerMembership848::heartbeat_once(int32_t epoch) {
    HbRequest req;
    req.group_id = *config_.group_id;
    req.member_id = member_id_;
    req.member_epoch = epoch;
    req.instance_id = config_.group_instance_id;
    req.rebalance_timeout_ms = to_ms32(config_.max_poll_interval);
    req.subscribed_topic_names = topics_;
    req.topic_partitions.emplace();
    for (const auto& tp : hooks_.assignment()) {
        auto id = topic_ids_.find(tp.topic);
        if (id == topic_ids_.end()) continue;
        auto& tps = *req.topic_partitions;
        auto it = std::find_if(tps.begin(), tps.end(), [&](const auto& t) { return t.topic_id == id->second; });
        if (it == tps.end()) it = tps.insert(tps.end(), {id->second, {}, {}});
        it->partitions.push_back(tp.partition);
    }
    auto resp = call_coordinator<HbResponse>(req, 0, kHeartbeatMax, env_.now() + config_.request_timeout);
    if (stopping_ || closing_) return;
    if (!resp.ok()) {
        if (resp.error().code == Errc::unsupported_version) {
            fatal_ = Error{Errc::unsupported_version, "the coordinator does not speak ConsumerGroupHeartbeat"};
            return;
        }
        send_now_ = back_off();
        return;
    }
    on_heartbeat_answer(*resp);
}

void ConsumerMembership848::on_heartbeat_answer(const HbResponse& r) {
    switch (r.error_code) {
        case ErrorCode::none: {
            if (r.member_id && !r.member_id->empty()) member_id_ = *r.member_id;
            if (r.heartbeat_interval_ms > 0) interval_ = ms(r.heartbeat_interval_ms);
            joined_ = true;
            epoch_ = r.member_epoch;
            if (!r.assignment) return;
            std::set<TopicPartitionName> s;
            if (!resolve_assignment(*r.assignment, s)) {
                refresh_topic_ids();
                if (!resolve_assignment(*r.assignment, s)) {
                    send_now_ = back_off();  // a topic the metadata does not show yet
                    return;
                }
            }
            target_ = std::move(s);
            return;
        }
        case ErrorCode::fenced_member_epoch:
        case ErrorCode::unknown_member_id:
            joined_ = false;
            epoch_ = 0;
            target_.reset();
            lost_pending_ = true;
            return;
        case ErrorCode::coordinator_load_in_progress:
        case ErrorCode::not_coordinator:
        case ErrorCode::coordinator_not_available:
            send_now_ = back_off();
            return;
        default:
            fatal_ = protocol::status_from(r.error_code, "ConsumerGroupHeartbeat " + r.error_message.value_or(""))
                         .error();
    }
}

bool ConsumerMembership848::resolve_assignment(const HbResponse::Assignment& a, std::set<TopicPartitionName>& out) {
    out.clear();
    for (const auto& t : a.topic_partitions) {
        auto it = topic_names_.find(t.topic_id);
        if (it == topic_names_.end()) return false;
        for (PartitionIndex p : t.partitions) out.insert({it->second, p});
    }
    return true;
}

void ConsumerMembership848::refresh_topic_ids() {
    protocol::MetadataRequest req;
    req.topics.emplace();
    for (const auto& t : topics_) {
        protocol::MetadataRequest::MetadataRequestTopic mt;
        mt.name = t;
        req.topics->push_back(mt);
    }
    req.allow_auto_topic_creation = false;
    for (const auto& address : metadata_.any_brokers()) {
        auto resp = pool_.get(address).call<protocol::MetadataResponse>(req, kMetadataTopicIds, 12,
                                                                         env_.now() + config_.request_timeout);
        if (!resp.ok()) continue;
        for (const auto& t : resp->topics) {
            if (!t.name || t.topic_id.is_zero()) continue;
            topic_names_[t.topic_id] = *t.name;
            topic_ids_[*t.name] = t.topic_id;
        }
        return;
    }
}

void ConsumerMembership848::leave(Instant deadline) {
    if (joined_) {
        HbRequest req;
        req.group_id = *config_.group_id;
        req.member_id = member_id_;
        req.member_epoch = -1;  // static leave (-2) is not implemented: a static member leaves too
        auto resp = call_coordinator<HbResponse>(req, 0, kHeartbeatMax, deadline);
        (void)resp;  // best effort: the session timeout removes us otherwise
    }
    joined_ = false;
    epoch_ = 0;
    target_.reset();
}

// ---- the poll fiber ----

Status ConsumerMembership848::poll(Instant deadline) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (fatal_) return Status(fatal_->code, fatal_->message);
    if (lost_pending_) {
        revoke(hooks_.assignment(), true);
        positions_pending_.clear();
        lost_pending_ = false;
        send_now_ = true;
        heartbeat_wake_.set();
    }
    if (target_) reconcile(deadline);
    if (!positions_pending_.empty()) KEEL_TRY(fetch_initial_positions(deadline));
    maybe_auto_commit(std::max(deadline, env_.now() + config_.request_timeout), false);
    return ok_status();
}

void ConsumerMembership848::reconcile(Instant deadline) {
    std::set<TopicPartitionName> target = std::move(*target_);
    target_.reset();
    std::vector<TopicPartitionName> owned = hooks_.assignment();
    std::vector<TopicPartitionName> revoked;
    for (const auto& tp : owned) {
        if (!target.count(tp)) revoked.push_back(tp);
    }
    std::vector<TopicPartitionName> added;
    for (const auto& tp : target) {
        if (std::find(owned.begin(), owned.end(), tp) == owned.end()) added.push_back(tp);
    }
    if (!revoked.empty()) {
        if (config_.enable_auto_commit) {
            OffsetMap positions = hooks_.positions();
            std::erase_if(positions, [&](const auto& kv) { return target.count(kv.first) != 0; });
            Status s = commit_offsets(positions, std::min(deadline, env_.now() + config_.request_timeout));
            (void)s;  // at least once: the new owner starts from the last commit
        }
        revoke(revoked, false);
    }
    if (!added.empty()) {
        std::vector<TopicPartitionName> now_owned = hooks_.assignment();
        now_owned.insert(now_owned.end(), added.begin(), added.end());
        hooks_.assign(std::move(now_owned));
        positions_pending_.insert(positions_pending_.end(), added.begin(), added.end());
        Status s = fetch_initial_positions(deadline);
        (void)s;  // retried by the next poll while positions are pending
    }
    if (!revoked.empty() || !added.empty()) {
        // As Java's consumer: after every reconciliation, with what was added (maybe none).
        if (listener_ != nullptr) listener_->on_partitions_assigned(added);
        send_now_ = true;  // acknowledge
        heartbeat_wake_.set();
    }
}

Status ConsumerMembership848::fetch_initial_positions(Instant deadline) {
    if (positions_pending_.empty()) return ok_status();
    Instant d = std::min(deadline, env_.now() + config_.request_timeout);
    KEEL_TRY_ASSIGN(OffsetMap committed_offsets, offsets_->committed(positions_pending_, d));
    OffsetMap positions = hooks_.positions();
    auto assigned = hooks_.assignment();
    for (const auto& [tp, offset] : committed_offsets) {
        bool mine = std::find(assigned.begin(), assigned.end(), tp) != assigned.end();
        if (mine && !positions.contains(tp)) hooks_.seek(tp, offset);
    }
    positions_pending_.clear();
    return ok_status();
}

Result<OffsetMap> ConsumerMembership848::committed(const std::vector<TopicPartitionName>& partitions,
                                                   Instant deadline) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    return offsets_->committed(partitions, deadline);
}

// ---- commits ----

void ConsumerMembership848::maybe_auto_commit(Instant deadline, bool force) {
    if (!config_.enable_auto_commit || (!force && env_.now() < next_auto_commit_)) return;
    next_auto_commit_ = env_.now() + config_.auto_commit_interval;
    OffsetMap positions = hooks_.positions();
    if (positions.empty()) return;
    Status s = commit_offsets(positions, std::min(deadline, env_.now() + config_.request_timeout));
    (void)s;  // retried at the next interval
}

Status ConsumerMembership848::commit_sync(const OffsetMap& offsets, Instant deadline) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (fatal_) return Status(fatal_->code, fatal_->message);
    return commit_offsets(offsets, deadline);
}

void ConsumerMembership848::commit_async(OffsetMap offsets, CommitCallback callback) {
    if (closed_) {
        if (callback) callback(offsets, Status(Errc::closed, "the consumer is closed"));
        return;
    }
    async_commits_++;
    env::FiberId f = env_.executor().spawn("consumer-commit-" + config_.client_id, [this, offsets, callback] {
        struct Done {
            ConsumerMembership848* c;
            ~Done() {
                c->async_commits_--;
                c->async_done_.notify_all();
            }
        } done{this};
        Status s = commit_offsets(offsets, env_.now() + config_.request_timeout);
        if (callback) callback(offsets, s);
    });
    if (f == 0) async_commits_--;
}

Status ConsumerMembership848::commit_offsets(const OffsetMap& offsets, Instant deadline) {
    if (offsets.empty()) return ok_status();
    while (true) {
        bool retry = false;
        Status s = commit_once(offsets, deadline, retry);
        if (!retry) return s;
        if (env_.now() >= deadline) return s.ok() ? Status(Errc::timeout, "OffsetCommit: timed out") : s;
        if (!back_off()) return Status(Errc::closed, "OffsetCommit: the node is stopping");
    }
}

Status ConsumerMembership848::commit_once(const OffsetMap& offsets, Instant deadline, bool& retry) {
    protocol::OffsetCommitRequest req;
    req.group_id = *config_.group_id;
    req.generation_id_or_member_epoch = joined_ ? epoch_ : -1;
    req.member_id = joined_ ? member_id_ : "";
    req.group_instance_id = config_.group_instance_id;
    for (const auto& [tp, offset] : offsets) {
        if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}, {}});
        protocol::OffsetCommitRequest::OffsetCommitRequestPartition p;
        p.partition_index = tp.partition;
        p.committed_offset = offset.value();
        p.committed_metadata = "";
        req.topics.back().partitions.push_back(p);
    }
    auto resp = call_coordinator<protocol::OffsetCommitResponse>(req, kOffsetCommitVersion, kOffsetCommitVersion,
                                                                 std::min(deadline, env_.now() + config_.request_timeout));
    if (!resp.ok()) {
        retry = resp.error().code != Errc::closed && resp.error().code != Errc::unsupported_version;
        return resp.error();
    }
    for (const auto& t : resp->topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code == ErrorCode::none) continue;
            std::string where = "OffsetCommit " + t.name + "-" + std::to_string(p.partition_index.value());
            // STALE_MEMBER_EPOCH: the next heartbeat answer brings the epoch the commit needs.
            retry = is_coordinator_error(p.error_code) || p.error_code == ErrorCode::coordinator_load_in_progress ||
                    p.error_code == ErrorCode::stale_member_epoch ||
                    (protocol::is_retriable(p.error_code) && p.error_code != ErrorCode::unknown_topic_or_partition);
            if (is_coordinator_error(p.error_code)) coordinator_dead();
            return protocol::status_from(p.error_code, where);
        }
    }
    return ok_status();
}

// ---- close ----

void ConsumerMembership848::close(Instant deadline) {
    if (closed_ || closing_) return;
    closing_ = true;
    while (async_commits_ > 0 && env_.now() < deadline) {
        if (async_done_.wait(deadline) == env::WakeReason::dying) break;
    }
    if (!fatal_ && (joined_ || !subscribed())) maybe_auto_commit(deadline, true);
    if (subscribed()) {
        revoke(hooks_.assignment(), false);
        leave(deadline);
    }
    closed_ = true;
    stopping_ = true;
    heartbeat_wake_.set();
    pool_.close_all();
    if (heartbeat_started_) heartbeat_done_.wait();
    while (async_commits_ > 0) {
        if (async_done_.wait(Instant::max()) == env::WakeReason::dying) break;
    }
    offsets_->close(deadline);
}

}  // namespace keel::client
