#include "core/controller/controller_service.h"

#include <algorithm>

#include "core/protocol/api_versions.h"

namespace keel::controller {

using protocol::ErrorCode;
using protocol::to_error_code;

namespace {

RegistrationInput to_input(const protocol::BrokerRegistrationRequest& req) {
    RegistrationInput in;
    in.broker_id = req.broker_id;
    in.cluster_id = req.cluster_id;
    in.incarnation_id = req.incarnation_id;
    for (const auto& l : req.listeners) in.listeners.push_back({l.name, l.host, l.port, l.security_protocol});
    for (const auto& f : req.features) {
        in.features.push_back({f.name, f.min_supported_version, f.max_supported_version});
    }
    in.rack = req.rack;
    return in;
}

std::vector<CreatableTopic> to_input(const protocol::CreateTopicsRequest& req) {
    std::vector<CreatableTopic> out;
    for (const auto& t : req.topics) {
        CreatableTopic c{t.name, t.num_partitions, t.replication_factor, {}, {}};
        for (const auto& a : t.assignments) c.assignments[a.partition_index] = a.broker_ids;
        for (const auto& cfg : t.configs) c.configs.emplace_back(cfg.name, cfg.value);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<DeletableTopic> to_input(const protocol::DeleteTopicsRequest& req, int16_t version) {
    std::vector<DeletableTopic> out;
    if (version < 6) {
        for (const std::string& name : req.topic_names) out.push_back({name, Uuid{}});
        return out;
    }
    for (const auto& t : req.topics) out.push_back({t.name, t.topic_id});
    return out;
}

}  // namespace

ControllerService::ControllerService(env::Env& env, raft::RaftDriver& driver, const MetadataImage& image,
                                     ControllerServiceOptions options, ControllerServiceHooks hooks)
    : env_(env),
      driver_(driver),
      image_(image),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      mutex_(env.executor()),
      sessions_(options_.config.session_timeout),
      ticker_done_(env.executor()) {}

ControllerService::~ControllerService() = default;

Status ControllerService::run() {
    server_ = std::make_unique<RpcServer>(
        env_, options_.listen, [this](const protocol::RequestFrame& f) { return dispatch(f); }, options_.rpc);
    env::spawn_joinable(env_.executor(), "controller-tick", ticker_done_, [this] {
        while (!stopping_) {
            env_.executor().sleep_for(options_.tick);
            if (!stopping_) tick();
        }
    });
    Status st = server_->run();
    stop();
    ticker_done_.wait();
    return st;
}

void ControllerService::stop() {
    stopping_ = true;
    if (server_) server_->stop();
}

// ------------------------------------------------------------------------- deciding

Status ControllerService::await_active(Instant deadline) {
    for (;;) {
        raft::RaftStatus s = driver_.status();
        if (!s.running || s.role != raft::Role::leader) {
            std::string leader = s.leader ? std::to_string(s.leader->value()) : "unknown";
            return Status(Errc::not_controller, "not the active controller (the quorum leader is " + leader + ")");
        }
        if (blocked_epoch_ == s.epoch) {
            return Status(Errc::not_controller, "a proposal of this epoch has an unknown outcome");
        }
        // The whole log applied (the LeaderChange entry that opens the epoch included):
        // the image holds everything any earlier leader committed.
        if (s.applied >= s.log_end) {
            if (active_epoch_ != s.epoch) {
                active_epoch_ = s.epoch;
                sessions_.reset(image_, env_.now());
                stats_.activations++;
                next_election_ = env_.now();
                next_noop_ = env_.now() + options_.noop_interval;
                if (env_.tracer().enabled()) {
                    env_.tracer().event("controller.active", "{\"epoch\":" + std::to_string(s.epoch.value()) + "}");
                }
                if (hooks_.on_activated) hooks_.on_activated(s.epoch, env_.now());
            }
            return ok_status();
        }
        if (env_.now() >= deadline) return Status(Errc::timeout, "the new leader is still applying its log");
        env_.executor().sleep_for(ms(5));
    }
}

Status ControllerService::write(const std::vector<MetadataRecord>& records) {
    if (records.empty()) return ok_status();
    QuorumEpoch epoch = driver_.status().epoch;
    env::Future<Offset> f = driver_.propose(encode_batch(records));
    Result<Offset> r = f.get(env_.now() + options_.request_timeout);
    if (r.ok()) {
        stats_.batches_written++;
        return ok_status();
    }
    stats_.write_failures++;
    // Still pending: whatever this controller decides next in this epoch could conflict
    // with it, so it decides nothing more in this epoch and renounces it (Kafka's
    // QuorumController.renounce): the quorum elects a leader that can decide again, instead
    // of this one answering NOT_CONTROLLER for as long as it keeps its majority.
    if (r.code() == Errc::timeout) {
        blocked_epoch_ = epoch;
        stats_.renounced++;
        if (env_.tracer().enabled()) {
            env_.tracer().event("controller.renounce", "{\"epoch\":" + std::to_string(epoch.value()) + "}");
        }
        driver_.resign();
        if (hooks_.on_renounced) hooks_.on_renounced(epoch, env_.now());
    }
    if (r.code() == Errc::not_leader || r.code() == Errc::closed || r.code() == Errc::timeout) {
        return Status(Errc::not_controller, "the metadata write did not commit here: " + r.error().message);
    }
    return r.error();
}

// --------------------------------------------------------------------------- ticking

void ControllerService::tick() {
    raft::RaftStatus s = driver_.status();
    if (!s.running || s.role != raft::Role::leader) return;
    env::LockGuard guard(mutex_);
    if (!guard.held() || stopping_ || !await_active(env_.now() + options_.tick).ok()) return;
    fence_lapsed_sessions();
    Instant now = env_.now();
    if (now >= next_election_) {
        next_election_ = now + options_.election_interval;
        if (!write(elect_leaderless(image_)).ok()) return;
    }
    if (options_.noop_interval > Duration(0) && now >= next_noop_) {
        next_noop_ = now + options_.noop_interval;
        (void)write({NoOpRecord{}});
    }
}

void ControllerService::fence_lapsed_sessions() {
    for (NodeId b : sessions_.expired(image_, env_.now())) {
        const BrokerRegistration* reg = image_.broker(b);
        if (reg == nullptr || reg->fenced) continue;
        Instant last = sessions_.last_contact(b).value_or(Instant{});
        std::vector<MetadataRecord> fence = fence_broker(image_, b);
        if (options_.config.bug_fence_leaves_isr) fence = {FenceBrokerRecord{b, reg->epoch}};
        if (!write(std::move(fence)).ok()) return;
        stats_.session_fences++;
        if (env_.tracer().enabled()) {
            env_.tracer().event("controller.fence", "{\"broker\":" + std::to_string(b.value()) + "}");
        }
        if (hooks_.on_session_fence) hooks_.on_session_fence(b, last, env_.now());
    }
}

// ------------------------------------------------------------------------------ RPCs

protocol::BrokerRegistrationResponse ControllerService::broker_registration(
    const protocol::BrokerRegistrationRequest& req) {
    protocol::BrokerRegistrationResponse resp;
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    if (st.ok()) {
        BrokerEpoch epoch(driver_.status().log_end.value());
        bool live = sessions_.has_live_session(req.broker_id, env_.now());
        auto r = register_broker(image_, to_input(req), epoch, live, options_.config);
        st = r.ok() ? write(r->records) : Status(r.error());
        if (st.ok()) {
            sessions_.touch(req.broker_id, env_.now());
            resp.broker_epoch = r->reply.value();
        }
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        resp.error_code = to_error_code(st.code());
    }
    return resp;
}

protocol::BrokerHeartbeatResponse ControllerService::broker_heartbeat(const protocol::BrokerHeartbeatRequest& req) {
    protocol::BrokerHeartbeatResponse resp;
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    if (st.ok()) {
        HeartbeatInput in{req.broker_id, BrokerEpoch(req.broker_epoch), Offset(req.current_metadata_offset),
                          req.want_fence, req.want_shut_down};
        auto r = controller::broker_heartbeat(image_, in);
        if (r.ok()) {
            sessions_.touch(req.broker_id, env_.now());
            if (hooks_.on_heartbeat) hooks_.on_heartbeat(req.broker_id, env_.now());
            st = write(r->records);
        } else {
            st = r.error();
        }
        if (st.ok()) {
            resp.is_caught_up = r->reply.is_caught_up;
            resp.is_fenced = r->reply.is_fenced;
            resp.should_shut_down = r->reply.should_shut_down;
        }
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        resp.error_code = to_error_code(st.code());
    }
    return resp;
}

protocol::CreateTopicsResponse ControllerService::create_topics(const protocol::CreateTopicsRequest& req,
                                                                int16_t version) {
    protocol::CreateTopicsResponse resp;
    auto fail_all = [&](const Status& st) {
        for (const auto& t : req.topics) {
            protocol::CreateTopicsResponse::Topic out;
            out.name = t.name;
            out.error_code = to_error_code(st.code());
            if (version >= 1) out.error_message = st.error().message;
            resp.topics.push_back(std::move(out));
        }
        return resp;
    };
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        return fail_all(st);
    }
    auto r = controller::create_topics(image_, to_input(req), req.validate_only, options_.config, env_.random());
    st = write(r.records);
    if (!st.ok()) return fail_all(st);
    for (size_t i = 0; i < r.reply.size(); i++) {
        const CreatableTopicResult& c = r.reply[i];
        protocol::CreateTopicsResponse::Topic out;
        out.name = c.name;
        out.topic_id = c.topic_id;
        if (!c.status.ok()) {
            out.error_code = to_error_code(c.status.code());
            if (version >= 1) out.error_message = c.status.error().message;
        }
        out.num_partitions = c.num_partitions;
        out.replication_factor = c.replication_factor;
        if (c.status.ok()) {
            out.configs.emplace();
            for (const auto& cfg : req.topics[i].configs) {
                // config_source 1 = DYNAMIC_TOPIC_CONFIG
                out.configs->push_back({cfg.name, cfg.value, false, 1, false});
            }
        }
        resp.topics.push_back(std::move(out));
    }
    return resp;
}

protocol::DeleteTopicsResponse ControllerService::delete_topics(const protocol::DeleteTopicsRequest& req,
                                                                int16_t version) {
    std::vector<DeletableTopic> in = to_input(req, version);
    protocol::DeleteTopicsResponse resp;
    auto answer = [&](const DeletableTopicResult& r) {
        protocol::DeleteTopicsResponse::DeletableTopicResult out;
        out.name = r.name;
        out.topic_id = r.topic_id;
        if (!r.status.ok()) {
            Errc e = r.status.code();
            if (version < 6 && e == Errc::unknown_topic_id) e = Errc::unknown_topic_or_partition;
            out.error_code = to_error_code(e);
            if (version >= 5) out.error_message = r.status.error().message;
        }
        resp.responses.push_back(std::move(out));
    };
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    std::optional<ControllerResult<std::vector<DeletableTopicResult>>> r;
    if (st.ok()) {
        r = controller::delete_topics(image_, in);
        st = write(r->records);
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        for (const DeletableTopic& d : in) answer({d.name, d.topic_id, st});
        return resp;
    }
    if (!r->records.empty() && env_.tracer().enabled()) {
        env_.tracer().event("controller.delete_topics", "{\"count\":" + std::to_string(r->records.size()) + "}");
    }
    for (const DeletableTopicResult& t : r->reply) answer(t);
    return resp;
}

protocol::CreatePartitionsResponse ControllerService::create_partitions(const protocol::CreatePartitionsRequest& req,
                                                                        int16_t) {
    std::vector<PartitionIncrease> in;
    for (const auto& t : req.topics) {
        PartitionIncrease p{t.name, t.count, std::nullopt};
        if (t.assignments) {
            p.assignments.emplace();
            for (const auto& a : *t.assignments) p.assignments->push_back(a.broker_ids);
        }
        in.push_back(std::move(p));
    }
    protocol::CreatePartitionsResponse resp;
    auto answer = [&](const std::string& name, const Status& st) {
        protocol::CreatePartitionsResponse::CreatePartitionsTopicResult out;
        out.name = name;
        if (!st.ok()) {
            out.error_code = to_error_code(st.code());
            out.error_message = st.error().message;
        }
        resp.results.push_back(std::move(out));
    };
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    std::optional<ControllerResult<std::vector<PartitionIncreaseResult>>> r;
    if (st.ok()) {
        r = controller::create_partitions(image_, in, req.validate_only, options_.config, env_.random());
        st = write(r->records);
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        for (const PartitionIncrease& p : in) answer(p.name, st);
        return resp;
    }
    if (!r->records.empty() && env_.tracer().enabled()) {
        env_.tracer().event("controller.create_partitions",
                            "{\"count\":" + std::to_string(r->records.size()) + "}");
    }
    for (const PartitionIncreaseResult& t : r->reply) answer(t.name, t.status);
    return resp;
}

std::vector<ConfigResourceResult> ControllerService::change_configs(const std::vector<ConfigResourceChange>& in,
                                                                   bool validate_only) {
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    std::optional<ControllerResult<std::vector<ConfigResourceResult>>> r;
    if (st.ok()) {
        r = controller::alter_configs(image_, in, validate_only);
        st = write(r->records);
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        std::vector<ConfigResourceResult> failed;
        for (const ConfigResourceChange& c : in) failed.push_back({c.resource_type, c.resource_name, st});
        return failed;
    }
    if (!r->records.empty() && env_.tracer().enabled()) {
        env_.tracer().event("controller.alter_configs", "{\"count\":" + std::to_string(r->records.size()) + "}");
    }
    return std::move(r->reply);
}

namespace {

template <typename Response>
Response config_results(const std::vector<ConfigResourceResult>& results) {
    Response resp;
    for (const ConfigResourceResult& r : results) {
        typename Response::AlterConfigsResourceResponse out;
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        if (!r.status.ok()) {
            out.error_code = to_error_code(r.status.code());
            out.error_message = r.status.error().message;
        }
        resp.responses.push_back(std::move(out));
    }
    return resp;
}

}  // namespace

protocol::IncrementalAlterConfigsResponse ControllerService::incremental_alter_configs(
    const protocol::IncrementalAlterConfigsRequest& req) {
    std::vector<ConfigResourceChange> in;
    for (const auto& r : req.resources) {
        ConfigResourceChange c{r.resource_type, r.resource_name, {}, false};
        for (const auto& cfg : r.configs) {
            c.changes.push_back({cfg.name, static_cast<ConfigOp>(cfg.config_operation), cfg.value});
        }
        in.push_back(std::move(c));
    }
    return config_results<protocol::IncrementalAlterConfigsResponse>(change_configs(in, req.validate_only));
}

protocol::AlterConfigsResponse ControllerService::alter_configs(const protocol::AlterConfigsRequest& req) {
    std::vector<ConfigResourceChange> in;
    for (const auto& r : req.resources) {
        ConfigResourceChange c{r.resource_type, r.resource_name, {}, true};
        for (const auto& cfg : r.configs) c.changes.push_back({cfg.name, ConfigOp::set, cfg.value});
        in.push_back(std::move(c));
    }
    return config_results<protocol::AlterConfigsResponse>(change_configs(in, req.validate_only));
}

protocol::AlterPartitionResponse ControllerService::alter_partition(const protocol::AlterPartitionRequest& req,
                                                                    int16_t version) {
    protocol::AlterPartitionResponse resp;
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    AlterPartitionInput in{req.broker_id, BrokerEpoch(req.broker_epoch), {}};
    for (const auto& t : req.topics) {
        AlterPartitionInput::Topic it;
        it.topic_id = t.topic_id;
        if (version <= 1) {
            const TopicState* named = image_.topic_by_name(t.topic_name);
            it.topic_id = named ? named->id : Uuid{};
        }
        for (const auto& p : t.partitions) {
            AlterPartitionInput::Partition ip{PartitionIndex(p.partition_index), LeaderEpoch(p.leader_epoch), {},
                                              p.leader_recovery_state, PartitionEpoch(p.partition_epoch)};
            if (version >= 3) {
                for (const auto& b : p.new_isr_with_epochs) ip.new_isr.push_back({b.broker_id, BrokerEpoch(b.broker_epoch)});
            } else {
                for (NodeId b : p.new_isr) ip.new_isr.push_back({b, BrokerEpoch(-1)});
            }
            it.partitions.push_back(std::move(ip));
        }
        in.topics.push_back(std::move(it));
    }
    std::optional<AlterPartitionResult> result;
    if (st.ok()) {
        auto r = controller::alter_partition(image_, in);
        st = r.ok() ? write(r->records) : Status(r.error());
        if (st.ok()) result = std::move(r->reply);
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        resp.error_code = to_error_code(st.code());
        return resp;
    }
    for (size_t i = 0; i < result->topics.size(); i++) {
        protocol::AlterPartitionResponse::TopicData t;
        t.topic_name = req.topics[i].topic_name;
        t.topic_id = req.topics[i].topic_id;
        for (const auto& p : result->topics[i].partitions) {
            protocol::AlterPartitionResponse::PartitionData out;
            out.partition_index = p.partition.value();
            if (!p.status.ok()) {
                Errc e = p.status.code();
                if (version <= 1 && e == Errc::unknown_topic_id) e = Errc::unknown_topic_or_partition;
                out.error_code = to_error_code(e);
            } else {
                out.leader_id = p.leader;
                out.leader_epoch = p.leader_epoch.value();
                out.isr = p.isr;
                out.leader_recovery_state = p.leader_recovery_state;
                out.partition_epoch = p.partition_epoch.value();
            }
            t.partitions.push_back(std::move(out));
        }
        resp.topics.push_back(std::move(t));
    }
    return resp;
}

protocol::AllocateProducerIdsResponse ControllerService::allocate_producer_ids(
    const protocol::AllocateProducerIdsRequest& req) {
    protocol::AllocateProducerIdsResponse resp;
    env::LockGuard guard(mutex_);
    Status st = guard.held() ? await_active(env_.now() + options_.request_timeout)
                             : Status(Errc::cancelled, "stopping");
    if (st.ok()) {
        auto r = controller::allocate_producer_ids(image_, req.broker_id, req.broker_epoch);
        st = r.ok() ? write(r->records) : Status(r.error());
        if (st.ok()) {
            resp.producer_id_start = r->reply.first_id;
            resp.producer_id_len = r->reply.size;
        }
    }
    if (!st.ok()) {
        stats_.not_controller += st.code() == Errc::not_controller ? 1 : 0;
        resp.error_code = to_error_code(st.code());
    }
    return resp;
}

// -------------------------------------------------------------------------- dispatch

namespace {

template <typename Req, typename F>
Result<Bytes> serve(const protocol::RequestFrame& frame, F&& handle) {
    KEEL_TRY_ASSIGN(Req req, protocol::decode_request_body<Req>(frame));
    auto resp = handle(req, frame.header.api_version);
    return protocol::encode_response(frame.header.correlation_id, frame.header.api_version, resp);
}

}  // namespace

Result<Bytes> ControllerService::dispatch(const protocol::RequestFrame& frame) {
    using protocol::ApiKey;
    switch (frame.header.api_key) {
        case ApiKey::api_versions:
            return protocol::answer_api_versions(frame, protocol::controller_listener_api_versions());
        case ApiKey::broker_registration:
            return serve<protocol::BrokerRegistrationRequest>(
                frame, [this](const auto& r, int16_t) { return broker_registration(r); });
        case ApiKey::broker_heartbeat:
            return serve<protocol::BrokerHeartbeatRequest>(
                frame, [this](const auto& r, int16_t) { return broker_heartbeat(r); });
        case ApiKey::create_topics:
            return serve<protocol::CreateTopicsRequest>(
                frame, [this](const auto& r, int16_t v) { return create_topics(r, v); });
        case ApiKey::delete_topics:
            return serve<protocol::DeleteTopicsRequest>(
                frame, [this](const auto& r, int16_t v) { return delete_topics(r, v); });
        case ApiKey::create_partitions:
            return serve<protocol::CreatePartitionsRequest>(
                frame, [this](const auto& r, int16_t v) { return create_partitions(r, v); });
        case ApiKey::incremental_alter_configs:
            return serve<protocol::IncrementalAlterConfigsRequest>(
                frame, [this](const auto& r, int16_t) { return incremental_alter_configs(r); });
        case ApiKey::alter_configs:
            return serve<protocol::AlterConfigsRequest>(
                frame, [this](const auto& r, int16_t) { return alter_configs(r); });
        case ApiKey::alter_partition:
            return serve<protocol::AlterPartitionRequest>(
                frame, [this](const auto& r, int16_t v) { return alter_partition(r, v); });
        case ApiKey::allocate_producer_ids:
            return serve<protocol::AllocateProducerIdsRequest>(
                frame, [this](const auto& r, int16_t) { return allocate_producer_ids(r); });
        default:
            return Error{Errc::invalid_request, "the controller does not serve " +
                                                    std::string(protocol::api_name(frame.header.api_key))};
    }
}

}  // namespace keel::controller
