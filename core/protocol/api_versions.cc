#include "core/protocol/api_versions.h"

#include <algorithm>
#include <array>

#include "core/protocol/controller_messages.h"
#include "core/protocol/describe_quorum.h"
#include "core/protocol/fetch.h"
#include "core/protocol/generated/allocate_producer_ids_request.h"
#include "core/protocol/generated/alter_configs_request.h"
#include "core/protocol/generated/consumer_group_describe_request.h"
#include "core/protocol/generated/create_partitions_request.h"
#include "core/protocol/generated/consumer_group_heartbeat_request.h"
#include "core/protocol/generated/delete_groups_request.h"
#include "core/protocol/generated/delete_records_request.h"
#include "core/protocol/generated/delete_topics_request.h"
#include "core/protocol/generated/describe_cluster_request.h"
#include "core/protocol/generated/describe_configs_request.h"
#include "core/protocol/generated/describe_groups_request.h"
#include "core/protocol/generated/find_coordinator_request.h"
#include "core/protocol/generated/heartbeat_request.h"
#include "core/protocol/generated/incremental_alter_configs_request.h"
#include "core/protocol/generated/join_group_request.h"
#include "core/protocol/generated/leave_group_request.h"
#include "core/protocol/generated/list_groups_request.h"
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/sync_group_request.h"
#include "core/protocol/generated/init_producer_id_request.h"
#include "core/protocol/generated/list_offsets_request.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/produce_request.h"
#include "core/protocol/kraft_messages.h"

namespace keel::protocol {
namespace {

template <typename Request>
constexpr ApiVersionRange range_of() {
    return {Request::api_key, Request::version_min, Request::version_max};
}

// Sorted by api key, as Kafka lists them.
constexpr std::array raft_apis{
    range_of<FetchRequest>(),           range_of<ApiVersionsRequest>(),
    range_of<VoteRequest>(),            range_of<BeginQuorumEpochRequest>(),
    range_of<EndQuorumEpochRequest>(),  range_of<DescribeQuorumRequest>(),
    range_of<FetchSnapshotRequest>(),
};

constexpr std::array controller_apis{
    range_of<ApiVersionsRequest>(),
    range_of<CreateTopicsRequest>(),
    range_of<DeleteTopicsRequest>(),
    range_of<AlterConfigsRequest>(),
    range_of<CreatePartitionsRequest>(),
    range_of<IncrementalAlterConfigsRequest>(),
    range_of<AlterPartitionRequest>(),
    range_of<BrokerRegistrationRequest>(),
    range_of<BrokerHeartbeatRequest>(),
    range_of<AllocateProducerIdsRequest>(),
};

// The broker's client listener (the data plane). Produce is listed from v0 because
// librdkafka gates features on v0, v3 and v7 being in range (docs/kafka-apis.md); batches
// older than magic 2 are refused per partition (UNSUPPORTED_FOR_MESSAGE_FORMAT).
// The group APIs (8-16, 42) are the classic protocol's, 68-69 KIP-848's consumer protocol,
// all served by the group coordinator. DeleteRecords (21) moves the leaders' log starts.
// CreateTopics, DeleteTopics (19-20), AlterConfigs (33),
// CreatePartitions (37) and IncrementalAlterConfigs (44) are forwarded to the active
// controller, as KRaft brokers do; DescribeConfigs (32) is answered from the broker's image.
constexpr std::array broker_apis{
    range_of<ProduceRequest>(),                 range_of<FetchRequest>(),
    range_of<ListOffsetsRequest>(),             range_of<MetadataRequest>(),
    range_of<OffsetCommitRequest>(),            range_of<OffsetFetchRequest>(),
    range_of<FindCoordinatorRequest>(),         range_of<JoinGroupRequest>(),
    range_of<HeartbeatRequest>(),               range_of<LeaveGroupRequest>(),
    range_of<SyncGroupRequest>(),               range_of<DescribeGroupsRequest>(),
    range_of<ListGroupsRequest>(),              range_of<ApiVersionsRequest>(),
    range_of<CreateTopicsRequest>(),            range_of<DeleteTopicsRequest>(),
    range_of<DeleteRecordsRequest>(),           range_of<InitProducerIdRequest>(),
    range_of<DescribeConfigsRequest>(),         range_of<AlterConfigsRequest>(),
    range_of<CreatePartitionsRequest>(),        range_of<DeleteGroupsRequest>(),
    range_of<IncrementalAlterConfigsRequest>(), range_of<DescribeClusterRequest>(),
    range_of<ConsumerGroupHeartbeatRequest>(),  range_of<ConsumerGroupDescribeRequest>(),
};

}  // namespace

std::span<const ApiVersionRange> raft_listener_api_versions() { return raft_apis; }
std::span<const ApiVersionRange> broker_listener_api_versions() { return broker_apis; }
std::span<const ApiVersionRange> controller_listener_api_versions() { return controller_apis; }

std::optional<ApiVersionRange> served_range(std::span<const ApiVersionRange> table, ApiKey key) {
    auto it = std::find_if(table.begin(), table.end(), [&](const ApiVersionRange& r) { return r.key == key; });
    if (it == table.end()) return std::nullopt;
    return *it;
}

bool serves(std::span<const ApiVersionRange> table, ApiKey key, int16_t version) {
    auto r = served_range(table, key);
    return r && version >= r->min && version <= r->max;
}

ApiVersionsResponse api_versions_response(std::span<const ApiVersionRange> table) {
    ApiVersionsResponse resp;
    for (const ApiVersionRange& r : table) {
        resp.api_keys.push_back({static_cast<int16_t>(r.key), r.min, r.max});
    }
    return resp;
}

Bytes answer_api_versions(const RequestFrame& frame, std::span<const ApiVersionRange> table) {
    ApiVersionsResponse resp = api_versions_response(table);
    int16_t version = frame.header.api_version;
    if (version < ApiVersionsResponse::version_min || version > ApiVersionsResponse::version_max) {
        resp.error_code = ErrorCode::unsupported_version;
        return encode_response(frame.header.correlation_id, 0, resp);
    }
    if (!decode_request_body<ApiVersionsRequest>(frame).ok()) resp.error_code = ErrorCode::invalid_request;
    return encode_response(frame.header.correlation_id, version, resp);
}

std::optional<int16_t> negotiate_version(const ApiVersionsResponse& peer, ApiKey key, int16_t ours_min,
                                         int16_t ours_max) {
    for (const auto& k : peer.api_keys) {
        if (k.api_key != static_cast<int16_t>(key)) continue;
        int16_t lo = std::max(ours_min, k.min_version);
        int16_t hi = std::min(ours_max, k.max_version);
        if (lo > hi) return std::nullopt;
        return hi;
    }
    return std::nullopt;
}

ApiVersionsRequest keel_api_versions_request() {
    ApiVersionsRequest r;
    r.client_software_name = "keel";
    r.client_software_version = "0";
    return r;
}

}  // namespace keel::protocol
