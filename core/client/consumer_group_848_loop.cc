// ConsumerMembership848 (consumer_group_848.h): the heartbeat fiber, reconciliation on the
// poll fiber, commits with the member epoch, leaving and close.
#include <algorithm>

#include "core/client/consumer.h"
#include "core/client/consumer_group_848.h"
#include "core/protocol/generated/consumer_group_heartbeat_request.h"
#include "core/protocol/generated/consumer_group_heartbeat_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"

namespace keel::client {

namespace {

using protocol::ErrorCode;
using HbRequest = protocol::ConsumerGroupHeartbeatRequest;
using HbResponse = protocol::ConsumerGroupHeartbeatResponse;

constexpr int16_t kHeartbeatMax = 1;
constexpr int16_t kMetadataTopicIds = 10;    // topic ids in Metadata

int32_t to_ms32(Duration d) { return static_cast<int32_t>(std::clamp<int64_t>(to_ms(d), 0, INT32_MAX)); }

}  // namespace

// ---- heartbeats ----

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
    auto resp = channel_.call<HbResponse>(req, 0, kHeartbeatMax, env_.now() + config_.request_timeout);
    if (stopping_ || closing_) return;
    if (!resp.ok()) {
        if (resp.error().code == Errc::unsupported_version) {
            fatal_ = Error{Errc::unsupported_version, "the coordinator does not speak ConsumerGroupHeartbeat"};
            return;
        }
        send_now_ = channel_.back_off();
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
                    send_now_ = channel_.back_off();  // a topic the metadata does not show yet
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
            send_now_ = channel_.back_off();
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
        auto resp = channel_.pool().get(address).call<protocol::MetadataResponse>(req, kMetadataTopicIds, 12,
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
        auto resp = channel_.call<HbResponse>(req, 0, kHeartbeatMax, deadline);
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
    channel_.maybe_auto_commit(std::max(deadline, env_.now() + config_.request_timeout), false);
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
            Status s = channel_.commit(positions, std::min(deadline, env_.now() + config_.request_timeout));
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
    KEEL_TRY(channel_.seek_to_committed(positions_pending_, deadline));
    positions_pending_.clear();
    return ok_status();
}

Result<OffsetMap> ConsumerMembership848::committed(const std::vector<TopicPartitionName>& partitions,
                                                   Instant deadline) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    return channel_.committed(partitions, deadline);
}

// ---- close ----

void ConsumerMembership848::close(Instant deadline) {
    if (closed_ || closing_) return;
    closing_ = true;
    channel_.wait_async_commits(deadline);
    if (!fatal_ && (joined_ || !subscribed())) channel_.maybe_auto_commit(deadline, true);
    if (subscribed()) {
        revoke(hooks_.assignment(), false);
        leave(deadline);
    }
    closed_ = true;
    stopping_ = true;
    heartbeat_wake_.set();
    channel_.shut();
    if (heartbeat_started_) heartbeat_done_.wait();
    channel_.wait_async_commits(Instant::max());
}

}  // namespace keel::client
