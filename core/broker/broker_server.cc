#include "core/broker/broker_server.h"

#include <algorithm>

#include "core/controller/controller_logic.h"
#include "core/log/record_batch.h"
#include "core/protocol/api_versions.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;
using protocol::MetadataRequest;
using protocol::MetadataResponse;
using protocol::ProduceRequest;
using protocol::ProduceResponse;

namespace {

ErrorCode code_of(Errc e) { return e == Errc{} ? ErrorCode::none : protocol::to_error_code(e); }

std::string tp_name(const std::string& topic, const ProduceRequest::PartitionProduceData& pd) {
    return topic + "-" + std::to_string(pd.index.value());
}

}  // namespace

BrokerServer::BrokerServer(ReplicaManager& replicas, BrokerServerOptions options)
    : replicas_(replicas), options_(std::move(options)) {}

BrokerServer::~BrokerServer() = default;

Status BrokerServer::run() {
    server_ = std::make_unique<controller::RpcServer>(
        replicas_.env(), options_.listen, [this](const protocol::RequestFrame& f) { return dispatch(f); },
        options_.rpc);
    return server_->run();
}

void BrokerServer::stop() {
    if (server_) server_->stop();
}

Result<Bytes> BrokerServer::dispatch(const protocol::RequestFrame& frame) {
    Instant start = replicas_.env().now();
    bool follower_fetch = false;
    Result<Bytes> r = dispatch_api(frame, follower_fetch);
    if (options_.metrics == nullptr) return r;
    std::string api(protocol::api_name(frame.header.api_key));
    if (frame.header.api_key == protocol::ApiKey::fetch) api = follower_fetch ? "FetchFollower" : "FetchConsumer";
    record_request(api, replicas_.env().now() - start, r.ok());
    return r;
}

void BrokerServer::record_request(const std::string& api, Duration took, bool ok) {
    auto it = api_metrics_.find(api);
    if (it == api_metrics_.end()) {
        metrics::Labels labels{{"api", api}};
        metrics::Registry& m = *options_.metrics;
        ApiMetrics am;
        am.requests = &m.counter("keel_broker_requests_total", "Kafka requests answered, by API.", labels);
        am.errors = &m.counter("keel_broker_request_errors_total",
                               "Requests that could not be answered (undecodable, unsupported version), by API.",
                               labels);
        am.seconds = &m.histogram("keel_broker_request_duration_seconds",
                                  "Time from reading a request to its response, including waits (acks=all, "
                                  "fetch max wait), by API.",
                                  metrics::latency_buckets_seconds(), labels);
        it = api_metrics_.emplace(api, am).first;
    }
    it->second.requests->inc();
    if (!ok) it->second.errors->inc();
    it->second.seconds->observe(std::chrono::duration<double>(took).count());
}

void BrokerServer::count_bytes_in(size_t bytes, int64_t messages) {
    if (options_.metrics == nullptr) return;
    options_.metrics->counter("keel_broker_bytes_in_total", "Record batch bytes appended by produce requests.")
        .inc(static_cast<double>(bytes));
    options_.metrics->counter("keel_broker_messages_in_total", "Records appended by produce requests.")
        .inc(static_cast<double>(messages));
}

namespace {

// Decodes the body as Req, hands it to `handle`, encodes its response.
template <typename Req, typename F>
Result<Bytes> answer(const protocol::RequestFrame& frame, F&& handle) {
    KEEL_TRY_ASSIGN(Req req, protocol::decode_request_body<Req>(frame));
    return protocol::encode_response(frame.header.correlation_id, frame.header.api_version, handle(req));
}

}  // namespace

Result<Bytes> BrokerServer::dispatch_api(const protocol::RequestFrame& frame, bool& follower_fetch) {
    auto table = protocol::broker_listener_api_versions();
    const protocol::RequestHeader& h = frame.header;
    if (h.api_key == protocol::ApiKey::api_versions) return protocol::answer_api_versions(frame, table);
    if (!protocol::serves(table, h.api_key, h.api_version)) {
        return Error{Errc::unsupported_version, "api key " + std::to_string(static_cast<int>(h.api_key)) + " v" +
                                                    std::to_string(h.api_version) + " is not served here"};
    }
    if (is_group_api(h.api_key)) return dispatch_group(frame);
    switch (h.api_key) {
        case protocol::ApiKey::metadata: {
            KEEL_TRY_ASSIGN(MetadataRequest req, protocol::decode_request_body<MetadataRequest>(frame));
            return protocol::encode_response(h.correlation_id, h.api_version, metadata(req, h.api_version));
        }
        case protocol::ApiKey::produce: {
            KEEL_TRY_ASSIGN(ProduceRequest req, protocol::decode_request_body<ProduceRequest>(frame));
            auto resp = produce(req, h.api_version);
            if (!resp) return Bytes{};  // acks=0: no response
            return protocol::encode_response(h.correlation_id, h.api_version, *resp);
        }
        case protocol::ApiKey::fetch: {
            KEEL_TRY_ASSIGN(FetchRequest req, protocol::decode_request_body<FetchRequest>(frame));
            follower_fetch = req.replica_id.value() >= 0;
            FetchResponse resp = fetch(req, h.api_version);
            count_bytes_out(req, resp);
            return protocol::encode_response(h.correlation_id, h.api_version, resp);
        }
        case protocol::ApiKey::list_offsets:
            return answer<ListOffsetsRequest>(frame, [&](const auto& r) { return list_offsets(r, h.api_version); });
        case protocol::ApiKey::delete_records:
            return answer<protocol::DeleteRecordsRequest>(frame, [&](const auto& r) { return delete_records(r); });
        case protocol::ApiKey::create_topics:
            return answer<protocol::CreateTopicsRequest>(
                frame, [&](const auto& r) { return create_topics(r, h.api_version); });
        case protocol::ApiKey::delete_topics:
            return answer<protocol::DeleteTopicsRequest>(
                frame, [&](const auto& r) { return delete_topics(r, h.api_version); });
        case protocol::ApiKey::create_partitions:
            return answer<protocol::CreatePartitionsRequest>(
                frame, [&](const auto& r) { return create_partitions(r, h.api_version); });
        case protocol::ApiKey::describe_cluster:
            return answer<protocol::DescribeClusterRequest>(frame, [&](const auto& r) { return describe_cluster(r); });
        case protocol::ApiKey::describe_configs:
            return answer<protocol::DescribeConfigsRequest>(
                frame, [&](const auto& r) { return describe_configs(r, h.api_version); });
        case protocol::ApiKey::incremental_alter_configs:
            return answer<protocol::IncrementalAlterConfigsRequest>(
                frame, [&](const auto& r) { return incremental_alter_configs(r); });
        case protocol::ApiKey::alter_configs:
            return answer<protocol::AlterConfigsRequest>(frame, [&](const auto& r) { return alter_configs(r); });
        case protocol::ApiKey::init_producer_id:
            return answer<protocol::InitProducerIdRequest>(frame, [&](const auto& r) { return init_producer_id(r); });
        default:
            return Error{Errc::unsupported_version, "unhandled api key"};
    }
}

// ------------------------------------------------------------------ DescribeCluster

// KIP-700: what Metadata says of the cluster, without topics. KIP-919's endpoint type 2
// (the controllers) is for controller listeners; a broker answers MISMATCHED_ENDPOINT_TYPE.
protocol::DescribeClusterResponse BrokerServer::describe_cluster(const protocol::DescribeClusterRequest& req) {
    protocol::DescribeClusterResponse resp;
    resp.endpoint_type = req.endpoint_type;
    if (req.endpoint_type != 1) {
        resp.error_code = req.endpoint_type == 2 ? ErrorCode::mismatched_endpoint_type
                                                 : ErrorCode::unsupported_endpoint_type;
        resp.error_message = "this is a broker listener: endpoint type 1 (brokers) only";
        return resp;
    }
    resp.cluster_id = options_.cluster_id;
    for (const auto& [id, b] : replicas_.image().brokers()) {
        if (b.fenced || b.endpoints.empty()) continue;
        if (resp.controller_id.value() < 0) resp.controller_id = id;  // as Metadata says
        resp.brokers.push_back({id, b.endpoints[0].host, b.endpoints[0].port, b.rack, {}});
    }
    return resp;
}

// ------------------------------------------------------------------------- Metadata

MetadataResponse BrokerServer::metadata(const MetadataRequest& req, int16_t version) {
    stats_.metadata_requests++;
    const controller::MetadataImage& image = replicas_.image();
    MetadataResponse resp;
    resp.cluster_id = options_.cluster_id;
    for (const auto& [id, b] : image.brokers()) {
        if (b.fenced || b.endpoints.empty()) continue;
        if (resp.controller_id.value() < 0) resp.controller_id = id;  // the lowest live broker
        resp.brokers.push_back({id, b.endpoints[0].host, b.endpoints[0].port, b.rack, {}});
    }
    std::vector<const controller::TopicState*> topics;
    std::vector<std::string> missing;
    bool all = !req.topics || (version == 0 && req.topics->empty());
    if (all) {
        for (const auto& [id, t] : image.topics()) topics.push_back(&t);
    } else {
        for (const auto& rt : *req.topics) {
            const controller::TopicState* t = rt.name ? image.topic_by_name(*rt.name) : image.topic(rt.topic_id);
            if (t != nullptr) {
                topics.push_back(t);
            } else {
                missing.push_back(rt.name.value_or(""));
            }
        }
    }
    for (const controller::TopicState* t : topics) {
        MetadataResponse::MetadataResponseTopic mt;
        mt.name = t->name;
        mt.topic_id = t->id;
        mt.is_internal = controller::is_internal_topic(t->name);  // __consumer_offsets, as Kafka flags it
        for (const auto& [index, p] : t->partitions) {
            MetadataResponse::MetadataResponsePartition mp;
            mp.partition_index = index;
            mp.leader_id = p.leader;
            mp.leader_epoch = p.leader_epoch;
            mp.replica_nodes = p.replicas;
            mp.isr_nodes = p.isr;
            if (!p.has_leader()) mp.error_code = ErrorCode::leader_not_available;
            mt.partitions.push_back(std::move(mp));
        }
        resp.topics.push_back(std::move(mt));
    }
    // Metadata v0-v3 has no allow_auto_topic_creation: those versions always allowed it.
    bool may_create = replicas_.config().auto_create_topics_enable && (version < 4 || req.allow_auto_topic_creation);
    for (const std::string& name : missing) {
        MetadataResponse::MetadataResponseTopic mt;
        mt.name = name;
        mt.error_code = may_create && !name.empty() ? auto_create_topic(name) : ErrorCode::unknown_topic_or_partition;
        resp.topics.push_back(std::move(mt));
    }
    return resp;
}

// ------------------------------------------------------------- auto topic creation

// Kafka's AutoTopicCreationManager, minimal: one CreateTopics per unknown topic, with the
// cluster defaults, through the broker's controller channel. A created (or concurrently
// created) topic is answered LEADER_NOT_AVAILABLE until this broker's image has it; an
// invalid name gets the controller's error; no answer from the controller is
// LEADER_NOT_AVAILABLE too (the client retries).
ErrorCode BrokerServer::auto_create_topic(const std::string& name) {
    protocol::CreateTopicsRequest req;
    req.topics.push_back({name, -1, -1, {}, {}});
    req.timeout_ms = 5000;
    auto r = replicas_.lifecycle().create_topics(req);
    if (!r.ok() || r->topics.size() != 1) return ErrorCode::leader_not_available;
    ErrorCode code = r->topics[0].error_code;
    if (code == ErrorCode::none) stats_.topics_auto_created++;
    bool retriable = code == ErrorCode::none || code == ErrorCode::topic_already_exists ||
                     code == ErrorCode::not_controller || code == ErrorCode::request_timed_out;
    return retriable ? ErrorCode::leader_not_available : code;
}

// ------------------------------------------------------------------- InitProducerId

// Without a transactional id Kafka always hands out a fresh producer id at epoch 0 (its
// TransactionCoordinator "blindly accepts" such requests, also the KIP-360 epoch bumps of
// v3+). Transactions are not implemented: a transactional id is refused.
protocol::InitProducerIdResponse BrokerServer::init_producer_id(const protocol::InitProducerIdRequest& req) {
    protocol::InitProducerIdResponse resp;
    if (req.transactional_id) {
        resp.error_code = ErrorCode::transactional_id_authorization_failed;
        return resp;
    }
    if (options_.producer_ids == nullptr) {
        resp.error_code = ErrorCode::coordinator_not_available;
        return resp;
    }
    auto id = options_.producer_ids->generate_producer_id();
    if (!id.ok()) {
        resp.error_code = ErrorCode::coordinator_load_in_progress;
        return resp;
    }
    stats_.producer_ids_issued++;
    resp.producer_id = *id;
    resp.producer_epoch = 0;
    return resp;
}

// -------------------------------------------------------------------------- Produce

std::optional<ProduceResponse> BrokerServer::produce(const ProduceRequest& req, int16_t version) {
    stats_.produce_requests++;
    ProduceResponse resp;
    struct Pending {
        size_t topic;
        size_t part;
        Offset last;
        LeaderEpoch epoch;
    };
    std::vector<Pending> pending;
    for (const auto& td : req.topic_data) {
        ProduceResponse::TopicProduceResponse tr;
        tr.name = td.name;
        for (const auto& pd : td.partition_data) {
            Offset last{-1};
            tr.partition_responses.push_back(produce_partition(td.name, pd, req.acks, version, last));
            const auto& r = tr.partition_responses.back();
            if (r.error_code != ErrorCode::none) stats_.produce_errors++;
            if (r.error_code == ErrorCode::none && req.acks == -1 && last.value() >= 0) {
                Partition* p = replicas_.partition({td.name, pd.index.value()});
                pending.push_back({resp.responses.size(), tr.partition_responses.size() - 1, last,
                                   p != nullptr ? p->leader_epoch() : LeaderEpoch(-1)});
            }
        }
        resp.responses.push_back(std::move(tr));
    }
    Instant deadline = replicas_.env().now() + ms(std::max<int32_t>(0, req.timeout_ms));
    for (const Pending& pe : pending) {
        auto& tr = resp.responses[pe.topic];
        await_acks(tr.name, tr.partition_responses[pe.part], pe.last, pe.epoch, deadline);
    }
    if (req.acks == 0) return std::nullopt;
    return resp;
}

ProduceResponse::PartitionProduceResponse BrokerServer::produce_partition(
    const std::string& topic, const ProduceRequest::PartitionProduceData& pd, int16_t acks, int16_t version,
    Offset& last_offset) {
    ProduceResponse::PartitionProduceResponse r;
    r.index = pd.index;
    std::shared_ptr<Partition> p = replicas_.partition_ref({topic, pd.index.value()});
    if (p == nullptr) {
        bool known = replicas_.image().topic_by_name(topic) != nullptr;
        r.error_code = known ? ErrorCode::not_leader_or_follower : ErrorCode::unknown_topic_or_partition;
        return r;
    }
    r.current_leader = {p->leader(), p->leader_epoch(), {}};
    if (Errc e = p->check_leader(-1); e != Errc{}) {
        r.error_code = code_of(e);
        return r;
    }
    if (acks != 0 && acks != 1 && acks != -1) {
        r.error_code = ErrorCode::invalid_required_acks;
        return r;
    }
    if (!pd.records || pd.records->empty()) {
        r.error_code = ErrorCode::invalid_record;
        r.error_message = "no records";
        return r;
    }
    int32_t min_isr = replicas_.min_insync_replicas(topic);
    if (acks == -1 && static_cast<int32_t>(p->isr().size()) < min_isr) {
        r.error_code = ErrorCode::not_enough_replicas;
        return r;
    }
    ValidationConfig vc =
        validation_config(p->log().config(), replicas_.env().clock().wall_now().ms(), version, replicas_.codec());
    ProduceOutcome o = p->append_produce(*pd.records, vc);
    if (o.error != ErrorCode::none) {
        if (p->log().offline() && replicas_.hosts(*p)) {
            replicas_.fail(Status(Errc::io_error, tp_name(topic, pd) + ": log offline"));
        }
        r.error_code = o.error;
        if (!o.reason.empty()) r.error_message = o.reason;
        return r;
    }
    if (o.duplicate || o.duplicate_appended) stats_.produce_duplicates++;
    if (!o.duplicate) {
        stats_.produce_batches_appended++;
        count_bytes_in(pd.records->size(), o.last_offset.value() - o.base_offset.value() + 1);
    }
    replicas_.changed(*p);
    r.base_offset = o.base_offset.value();
    r.log_append_time_ms = o.log_append_time_ms;
    r.log_start_offset = p->log_start().value();
    last_offset = o.last_offset;
    return r;
}

// Kafka's DelayedProduce for one partition: done when the high watermark passes the batch
// (then NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below min ISR meanwhile), when
// leadership moved (NOT_LEADER_OR_FOLLOWER), or at the deadline (REQUEST_TIMED_OUT).
void BrokerServer::await_acks(const std::string& topic, ProduceResponse::PartitionProduceResponse& r,
                              Offset last_offset, LeaderEpoch epoch, Instant deadline) {
    if (replicas_.config().bugs.ack_before_isr) {
        if (auto p = replicas_.partition_ref({topic, r.index.value()})) replicas_.acks_all_answered(*p, last_offset);
        return;
    }
    while (true) {
        std::shared_ptr<Partition> p = replicas_.partition_ref({topic, r.index.value()});
        if (p == nullptr || p->role() != ReplicaRole::leader || p->leader_epoch() != epoch) {
            r.error_code = ErrorCode::not_leader_or_follower;
            return;
        }
        if (p->high_watermark() > last_offset) {
            if (static_cast<int32_t>(p->isr().size()) < replicas_.min_insync_replicas(topic)) {
                r.error_code = ErrorCode::not_enough_replicas_after_append;
            } else {
                replicas_.acks_all_answered(*p, last_offset);
            }
            return;
        }
        if (replicas_.env().now() >= deadline || replicas_.failed()) {
            stats_.acks_all_timeouts++;
            r.error_code = ErrorCode::request_timed_out;
            return;
        }
        if (p->wait_change(deadline) == env::WakeReason::dying) {
            r.error_code = ErrorCode::request_timed_out;
            return;
        }
    }
}

}  // namespace keel::broker
