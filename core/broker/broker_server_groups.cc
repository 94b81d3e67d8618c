// BrokerServer's consumer-group APIs: FindCoordinator here (the leader of the group's
// __consumer_offsets partition, creating that topic on first use as Kafka does), the rest
// handed to the group coordinator (core/group/group_coordinator.h).
#include <algorithm>

#include "core/broker/broker_server.h"
#include "core/group/offsets_records.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::ErrorCode;
using protocol::FindCoordinatorRequest;
using protocol::FindCoordinatorResponse;

namespace {

template <typename Request, typename Handler>
Result<Bytes> answer(const protocol::RequestFrame& frame, Handler&& handler) {
    KEEL_TRY_ASSIGN(Request req, protocol::decode_request_body<Request>(frame));
    const protocol::RequestHeader& h = frame.header;
    return protocol::encode_response(h.correlation_id, h.api_version, handler(req, h.api_version));
}

}  // namespace

bool BrokerServer::is_group_api(protocol::ApiKey key) {
    using protocol::ApiKey;
    switch (key) {
        case ApiKey::find_coordinator:
        case ApiKey::join_group:
        case ApiKey::sync_group:
        case ApiKey::heartbeat:
        case ApiKey::leave_group:
        case ApiKey::offset_commit:
        case ApiKey::offset_fetch:
        case ApiKey::describe_groups:
        case ApiKey::list_groups:
        case ApiKey::delete_groups:
        case ApiKey::consumer_group_heartbeat:
        case ApiKey::consumer_group_describe:
            return true;
        default:
            return false;
    }
}

Result<Bytes> BrokerServer::dispatch_group(const protocol::RequestFrame& frame) {
    using protocol::ApiKey;
    if (frame.header.api_key == ApiKey::find_coordinator) {
        return answer<FindCoordinatorRequest>(frame, [this](const auto& r, int16_t v) { return find_coordinator(r, v); });
    }
    group::GroupCoordinator* g = options_.groups;
    if (g == nullptr) return Error{Errc::unsupported_version, "this broker runs no group coordinator"};
    std::string client_id = frame.header.client_id.value_or("");
    std::string client_host = "/" + frame.peer_host;  // Kafka's form: "/" + the client's address
    switch (frame.header.api_key) {
        case ApiKey::join_group:
            return answer<protocol::JoinGroupRequest>(
                frame, [&](const auto& r, int16_t v) { return g->join_group(r, v, client_id, client_host); });
        case ApiKey::sync_group:
            return answer<protocol::SyncGroupRequest>(frame, [&](const auto& r, int16_t v) { return g->sync_group(r, v); });
        case ApiKey::heartbeat:
            return answer<protocol::HeartbeatRequest>(frame, [&](const auto& r, int16_t v) { return g->heartbeat(r, v); });
        case ApiKey::leave_group:
            return answer<protocol::LeaveGroupRequest>(frame, [&](const auto& r, int16_t v) { return g->leave_group(r, v); });
        case ApiKey::offset_commit:
            return answer<protocol::OffsetCommitRequest>(
                frame, [&](const auto& r, int16_t v) { return offset_commit(*g, r, v); });
        case ApiKey::offset_fetch:
            return answer<protocol::OffsetFetchRequest>(frame,
                                                        [&](const auto& r, int16_t v) { return g->offset_fetch(r, v); });
        case ApiKey::describe_groups:
            return answer<protocol::DescribeGroupsRequest>(
                frame, [&](const auto& r, int16_t v) { return g->describe_groups(r, v); });
        case ApiKey::list_groups:
            return answer<protocol::ListGroupsRequest>(frame, [&](const auto& r, int16_t v) { return g->list_groups(r, v); });
        case ApiKey::delete_groups:
            return answer<protocol::DeleteGroupsRequest>(
                frame, [&](const auto& r, int16_t v) { return g->delete_groups(r, v); });
        case ApiKey::consumer_group_heartbeat:
            if (!g->has_topic_source()) g->set_topic_source(topic_source());
            return answer<protocol::ConsumerGroupHeartbeatRequest>(
                frame, [&](const auto& r, int16_t v) {
                    return g->consumer_group_heartbeat(r, v, client_id, client_host);
                });
        case ApiKey::consumer_group_describe:
            if (!g->has_topic_source()) g->set_topic_source(topic_source());
            return answer<protocol::ConsumerGroupDescribeRequest>(
                frame, [&](const auto& r, int16_t v) { return g->consumer_group_describe(r, v); });
        default:
            return Error{Errc::unsupported_version, "not a group api"};
    }
}

// Kafka checks every partition against its metadata cache before the coordinator sees the
// commit (KafkaApis.handleOffsetCommitRequest): a consumer of a deleted topic cannot commit
// its offsets back after the coordinator purged them. The answer keeps the request's order.
protocol::OffsetCommitResponse BrokerServer::offset_commit(group::GroupCoordinator& g,
                                                           const protocol::OffsetCommitRequest& req, int16_t version) {
    const controller::MetadataImage& image = replicas_.image();
    auto known = [&](const std::string& topic, PartitionIndex p) {
        const controller::TopicState* t = image.topic_by_name(topic);
        return t != nullptr && t->partitions.count(p) != 0;
    };
    protocol::OffsetCommitRequest valid = req;
    valid.topics.clear();
    for (const auto& t : req.topics) {
        auto vt = t;
        vt.partitions.clear();
        for (const auto& p : t.partitions) {
            if (known(t.name, p.partition_index)) vt.partitions.push_back(p);
        }
        if (!vt.partitions.empty()) valid.topics.push_back(std::move(vt));
    }
    protocol::OffsetCommitResponse answered;
    if (!valid.topics.empty()) answered = g.offset_commit(valid, version);
    protocol::OffsetCommitResponse out;
    out.throttle_time_ms = answered.throttle_time_ms;
    for (const auto& t : req.topics) {
        protocol::OffsetCommitResponse::OffsetCommitResponseTopic rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
            protocol::OffsetCommitResponse::OffsetCommitResponsePartition rp;
            rp.partition_index = p.partition_index;
            rp.error_code = ErrorCode::unknown_topic_or_partition;
            for (const auto& at : answered.topics) {
                if (at.name != t.name) continue;
                for (const auto& ap : at.partitions) {
                    if (ap.partition_index == p.partition_index) rp.error_code = ap.error_code;
                }
            }
            rt.partitions.push_back(rp);
        }
        out.topics.push_back(std::move(rt));
    }
    return out;
}

// The KIP-848 coordinator's view of the topics: this broker's metadata image. The
// ReplicaManager outlives the coordinator (keel_node.cc builds it first).
group::TopicSource BrokerServer::topic_source() {
    auto info = [](const controller::TopicState& t) {
        return group::TopicInfo{t.name, t.id, static_cast<int32_t>(t.partitions.size())};
    };
    broker::ReplicaManager* rm = &replicas_;
    group::TopicSource s;
    s.by_name = [rm, info](const std::string& name) -> std::optional<group::TopicInfo> {
        const controller::TopicState* t = rm->image().topic_by_name(name);
        if (t == nullptr) return std::nullopt;
        return info(*t);
    };
    s.by_id = [rm, info](const protocol::Uuid& id) -> std::optional<group::TopicInfo> {
        const controller::TopicState* t = rm->image().topic(id);
        if (t == nullptr) return std::nullopt;
        return info(*t);
    };
    return s;
}

// ------------------------------------------------------------------ FindCoordinator

FindCoordinatorResponse BrokerServer::find_coordinator(const FindCoordinatorRequest& req, int16_t version) {
    stats_.find_coordinator_requests++;
    FindCoordinatorResponse resp;
    std::vector<std::string> keys = version >= 4 ? req.coordinator_keys : std::vector<std::string>{req.key};
    for (const std::string& key : keys) {
        FindCoordinatorResponse::Coordinator c = coordinator_for(key, req.key_type);
        resp.coordinators.push_back(std::move(c));
    }
    if (version < 4 && !resp.coordinators.empty()) {
        const FindCoordinatorResponse::Coordinator& c = resp.coordinators.front();
        resp.error_code = c.error_code;
        resp.error_message = c.error_message;
        resp.node_id = c.node_id;
        resp.host = c.host;
        resp.port = c.port;
        resp.coordinators.clear();
    }
    return resp;
}

// Kafka answers COORDINATOR_NOT_AVAILABLE while the offsets topic is being created or its
// partition has no leader; transaction coordinators (key type 1) are not implemented.
FindCoordinatorResponse::Coordinator BrokerServer::coordinator_for(const std::string& key, int8_t key_type) {
    FindCoordinatorResponse::Coordinator c;
    c.key = key;
    c.node_id = NodeId(-1);
    c.port = -1;
    if (key_type != 0) {
        c.error_code = ErrorCode::coordinator_not_available;
        c.error_message = "transactions are not implemented";
        return c;
    }
    if (key.empty()) {
        c.error_code = ErrorCode::invalid_request;
        c.error_message = "empty group id";
        return c;
    }
    const controller::MetadataImage& image = replicas_.image();
    const controller::TopicState* t = image.topic_by_name(std::string(group::kOffsetsTopic));
    if (t == nullptr || options_.groups == nullptr) {
        if (options_.groups != nullptr) create_offsets_topic();
        c.error_code = ErrorCode::coordinator_not_available;
        return c;
    }
    int32_t partition = group::partition_for_group(key, static_cast<int32_t>(t->partitions.size()));
    auto it = t->partitions.find(PartitionIndex(partition));
    const controller::BrokerRegistration* leader =
        it == t->partitions.end() || !it->second.has_leader() ? nullptr : image.broker(it->second.leader);
    if (leader == nullptr || leader->fenced || leader->endpoints.empty()) {
        c.error_code = ErrorCode::coordinator_not_available;
        return c;
    }
    c.node_id = it->second.leader;
    c.host = leader->endpoints[0].host;
    c.port = leader->endpoints[0].port;
    return c;
}

// offsets.topic.num.partitions partitions, offsets.topic.replication.factor replicas,
// compacted, as Kafka creates it (a missing replication factor is an error there too:
// COORDINATOR_NOT_AVAILABLE until enough brokers are up).
void BrokerServer::create_offsets_topic() {
    const BrokerConfig& bc = replicas_.config();
    protocol::CreateTopicsRequest req;
    protocol::CreateTopicsRequest::Topic t;
    t.name = std::string(group::kOffsetsTopic);
    t.num_partitions = bc.offsets_topic_num_partitions;
    t.replication_factor = bc.offsets_topic_replication_factor;
    t.configs.push_back({"cleanup.policy", "compact"});
    t.configs.push_back({"segment.bytes", std::to_string(bc.offsets_topic_segment_bytes)});
    req.topics.push_back(std::move(t));
    req.timeout_ms = 5000;
    auto r = replicas_.lifecycle().create_topics(req);
    if (r.ok() && r->topics.size() == 1 && r->topics[0].error_code == ErrorCode::none) stats_.topics_auto_created++;
}

}  // namespace keel::broker
