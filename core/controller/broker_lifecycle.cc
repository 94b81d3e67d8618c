#include "core/controller/broker_lifecycle.h"

#include <algorithm>
#include <limits>

#include "core/protocol/generated/allocate_producer_ids_request.h"
#include "core/protocol/generated/allocate_producer_ids_response.h"

namespace keel::controller {

using protocol::ErrorCode;

BrokerLifecycle::BrokerLifecycle(env::Env& env, const MetadataImage& image, BrokerLifecycleOptions options,
                                 std::function<std::optional<NodeId>()> leader_hint, BrokerLifecycleHooks hooks)
    : env_(env),
      image_(image),
      options_(std::move(options)),
      leader_hint_(std::move(leader_hint)),
      hooks_(std::move(hooks)),
      client_(env, "broker-" + std::to_string(options_.broker_id.value())),
      admin_client_(env, "broker-" + std::to_string(options_.broker_id.value()) + "-isr"),
      producer_ids_client_(env, "broker-" + std::to_string(options_.broker_id.value()) + "-pids"),
      incarnation_id_(random_uuid(env.random())) {
    KEEL_ASSERT(!options_.controllers.empty());
    current_ = options_.controllers.begin()->first;
}

// The hinted quorum leader, unless a call to it just failed (the hint may be stale, or
// the path to it broken); then the controllers in turn.
const env::Address& BrokerLifecycle::controller() {
    std::optional<NodeId> hint = leader_hint_ ? leader_hint_() : std::nullopt;
    if (hint && *hint != failed_ && options_.controllers.count(*hint) != 0) current_ = *hint;
    return options_.controllers.at(current_);
}

void BrokerLifecycle::next_controller() {
    failed_ = current_;
    auto it = options_.controllers.upper_bound(current_);
    current_ = it == options_.controllers.end() ? options_.controllers.begin()->first : it->first;
}

void BrokerLifecycle::run() {
    while (!stopping_ && !shut_down_) {
        if (!epoch_) {
            if (!register_once()) continue;
        }
        bool ok = heartbeat_once();
        if (shut_down_) break;
        Duration pause = !ok ? options_.retry_backoff
                         : fenced_ && !want_shut_down_ ? options_.fenced_heartbeat_interval
                                                       : options_.heartbeat_interval;
        // Buggify: heartbeat jitter (a busy broker, a slow network stack): up to half an
        // interval late, still well inside the session timeout.
        if (ok && KEEL_BUGGIFY(env_, "broker.heartbeat_jitter")) pause += env_.random().uniform(Duration(0), pause / 2);
        env_.executor().sleep_for(pause);
    }
}

bool BrokerLifecycle::register_once() {
    protocol::BrokerRegistrationRequest req;
    req.broker_id = options_.broker_id;
    req.cluster_id = options_.cluster_id;
    req.incarnation_id = incarnation_id_;
    for (const auto& l : options_.listeners) req.listeners.push_back({l.name, l.host, l.port, l.security_protocol});
    req.rack = options_.rack;
    const env::Address& to = controller();
    auto r = client_.call<protocol::BrokerRegistrationResponse>(to, req, 4, deadline());
    if (!r.ok() || r->error_code == ErrorCode::not_controller) {
        next_controller();
        env_.executor().sleep_for(options_.retry_backoff);
        return false;
    }
    if (r->error_code != ErrorCode::none) {
        bool duplicate = r->error_code == ErrorCode::duplicate_broker_registration;
        env_.executor().sleep_for(duplicate ? options_.duplicate_registration_backoff : options_.retry_backoff);
        return false;
    }
    failed_ = NodeId(-1);
    epoch_ = BrokerEpoch(r->broker_epoch);
    fenced_ = true;
    if (hooks_.on_registered) hooks_.on_registered(options_.broker_id, *epoch_, env_.now());
    return true;
}

bool BrokerLifecycle::heartbeat_once() {
    protocol::BrokerHeartbeatRequest req;
    req.broker_id = options_.broker_id;
    req.broker_epoch = epoch_->value();
    req.current_metadata_offset = image_.end_offset().value() - 1;
    req.want_shut_down = want_shut_down_;
    auto r = client_.call<protocol::BrokerHeartbeatResponse>(controller(), req, 1, deadline());
    if (!r.ok() || r->error_code == ErrorCode::not_controller) {
        next_controller();
        return false;
    }
    if (r->error_code == ErrorCode::stale_broker_epoch || r->error_code == ErrorCode::broker_id_not_registered) {
        epoch_.reset();
        fenced_ = true;
        return false;
    }
    failed_ = NodeId(-1);
    if (r->error_code != ErrorCode::none) return false;
    fenced_ = r->is_fenced;
    if (r->should_shut_down) shut_down_ = true;
    if (hooks_.on_heartbeat) hooks_.on_heartbeat(options_.broker_id, env_.now(), *r);
    return true;
}

Result<protocol::AlterPartitionResponse> BrokerLifecycle::alter_partition(protocol::AlterPartitionRequest req) {
    if (!epoch_) return Error{Errc::broker_not_registered, "not registered yet"};
    req.broker_id = options_.broker_id;
    req.broker_epoch = epoch_->value();
    auto r = admin_client_.call<protocol::AlterPartitionResponse>(controller(), req, 3, deadline());
    if (!r.ok()) {
        next_controller();
        return r;
    }
    if (r->error_code == ErrorCode::not_controller) next_controller();
    return r;
}

template <typename Response, typename Request, typename NotController>
Result<Response> BrokerLifecycle::admin_call(const Request& req, int16_t version, std::optional<Instant> retry_until,
                                             NotController not_controller) {
    for (;;) {
        auto r = admin_client_.call<Response>(controller(), req, version, deadline());
        bool elsewhere = !r.ok() || not_controller(*r);
        if (!elsewhere) {
            failed_ = NodeId(-1);
            return r;
        }
        next_controller();
        if (!retry_until || env_.now() + options_.retry_backoff >= *retry_until || stopping_) return r;
        env_.executor().sleep_for(options_.retry_backoff);
    }
}

Result<protocol::CreateTopicsResponse> BrokerLifecycle::create_topics(const protocol::CreateTopicsRequest& req,
                                                                      std::optional<Instant> retry_until) {
    return admin_call<protocol::CreateTopicsResponse>(req, 7, retry_until, [](const auto& resp) {
        return std::any_of(resp.topics.begin(), resp.topics.end(),
                           [](const auto& t) { return t.error_code == ErrorCode::not_controller; });
    });
}

Result<protocol::DeleteTopicsResponse> BrokerLifecycle::delete_topics(const protocol::DeleteTopicsRequest& req,
                                                                      Instant retry_until) {
    return admin_call<protocol::DeleteTopicsResponse>(req, 6, retry_until, [](const auto& resp) {
        return std::any_of(resp.responses.begin(), resp.responses.end(),
                           [](const auto& t) { return t.error_code == ErrorCode::not_controller; });
    });
}

Result<protocol::CreatePartitionsResponse> BrokerLifecycle::create_partitions(
    const protocol::CreatePartitionsRequest& req, Instant retry_until) {
    return admin_call<protocol::CreatePartitionsResponse>(req, 3, retry_until, [](const auto& resp) {
        return std::any_of(resp.results.begin(), resp.results.end(),
                           [](const auto& t) { return t.error_code == ErrorCode::not_controller; });
    });
}

namespace {

bool any_not_controller(const auto& resp) {
    return std::any_of(resp.responses.begin(), resp.responses.end(),
                       [](const auto& r) { return r.error_code == ErrorCode::not_controller; });
}

}  // namespace

Result<protocol::IncrementalAlterConfigsResponse> BrokerLifecycle::incremental_alter_configs(
    const protocol::IncrementalAlterConfigsRequest& req, Instant retry_until) {
    return admin_call<protocol::IncrementalAlterConfigsResponse>(
        req, 1, retry_until, [](const auto& resp) { return any_not_controller(resp); });
}

Result<protocol::AlterConfigsResponse> BrokerLifecycle::alter_configs(const protocol::AlterConfigsRequest& req,
                                                                      Instant retry_until) {
    return admin_call<protocol::AlterConfigsResponse>(req, 2, retry_until,
                                                      [](const auto& resp) { return any_not_controller(resp); });
}

Result<ProducerIdBlock> BrokerLifecycle::allocate_producer_ids() {
    Instant give_up = deadline();
    for (;;) {
        if (!epoch_) return Error{Errc::broker_not_registered, "not registered yet"};
        protocol::AllocateProducerIdsRequest req;
        req.broker_id = options_.broker_id;
        req.broker_epoch = *epoch_;
        auto r = producer_ids_client_.call<protocol::AllocateProducerIdsResponse>(
            controller(), req, 0, std::min(give_up, deadline()));
        bool retry = !r.ok() || r->error_code == ErrorCode::not_controller;
        if (retry) next_controller();
        if (retry && env_.now() + options_.retry_backoff < give_up) {
            env_.executor().sleep_for(options_.retry_backoff);
            continue;
        }
        if (!r.ok()) return std::move(r).error();
        if (r->error_code != ErrorCode::none) {
            Status st = protocol::status_from(r->error_code, "AllocateProducerIds");
            return st.error();
        }
        if (r->producer_id_len <= 0 || r->producer_id_start < 0 ||
            r->producer_id_start > std::numeric_limits<int64_t>::max() - r->producer_id_len) {
            return Error{Errc::invalid_request, "the controller answered the producer id block [" +
                                                    std::to_string(r->producer_id_start) + ", +" +
                                                    std::to_string(r->producer_id_len) + ")"};
        }
        return ProducerIdBlock{options_.broker_id, r->producer_id_start, r->producer_id_len};
    }
}

}  // namespace keel::controller
