// BrokerServer: the broker's client listener — the Kafka APIs of the data plane, for real
// clients, Keel's own client library, and follower brokers (Fetch with a replica id).
//
//   ApiVersions  the listener's table (core/protocol/api_versions.h)
//   Metadata     brokers and partitions from the metadata image; controller id = a live broker
//   Produce      validate, append at the leader epoch, acks 0 / 1 / all with min.insync.replicas;
//                acks=all parks (a bounded purgatory: one request per connection) until the
//                high watermark passes the batch, the ISR falls below min ISR, leadership
//                moves, or the request's timeout
//   Fetch        consumers read below the high watermark; followers up to the log end, with
//                divergence answered as DivergingEpoch; min bytes / max wait honoured (never
//                longer); sessionless (KIP-227 session id 0): a request that asks for a new
//                session gets session id 0 back, which tells the client to keep sending full
//                fetches
//   ListOffsets  earliest, latest (the high watermark), by timestamp
//   FindCoordinator the leader of the group's __consumer_offsets partition (the topic is
//                created on first use: COORDINATOR_NOT_AVAILABLE meanwhile)
//   JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups,
//   ListGroups, DeleteGroups, ConsumerGroupHeartbeat, ConsumerGroupDescribe (KIP-848)
//                the group coordinator (core/group/group_coordinator.h)
//   CreateTopics, DeleteTopics, CreatePartitions  forwarded to the active controller
//                (BrokerLifecycle), which validates and writes TopicRecord and
//                PartitionRecords, RemoveTopicRecords, or the new partitions' PartitionRecords;
//                NOT_CONTROLLER and transport errors are retried on the next controller
//                until the request's timeout; the answer waits (bounded by the timeout) until
//                this broker's image shows the change. DeleteTopics is refused with
//                TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3) when
//                delete.topic.enable is false (broker_server_admin.cc)
//   DescribeCluster  the cluster id, the live brokers and the controller id Metadata gives
//                (endpoint type 1; type 2, the controllers, is MISMATCHED_ENDPOINT_TYPE here)
//   DescribeConfigs  a topic's configs (its own, else the broker's defaults, with sources
//                and synonyms) or this broker's properties (broker_server_configs.cc)
//   IncrementalAlterConfigs, AlterConfigs  topic configs, forwarded to the active controller
//                (ConfigRecords); the partition logs follow the new values
//   InitProducerId  a new producer id (from the controller's blocks, ProducerIdManager),
//                epoch 0, for idempotent producers; transactional ids are refused
//
// Auto topic creation (auto.create.topics.enable, off by default here): Metadata naming an
// unknown topic with allow_auto_topic_creation asks the active controller to create it
// (CreateTopics with the defaults: num.partitions, default.replication.factor) and answers
// LEADER_NOT_AVAILABLE for it, as Kafka does; the client asks again.
//
// Requests on one connection are answered in order, one at a time (Kafka's rule); acks=0
// produces get no response at all.
#pragma once

#include <functional>
#include <memory>

#include "core/base/metrics.h"
#include "core/broker/replica_manager.h"
#include "core/controller/rpc.h"
#include "core/protocol/fetch.h"
#include "core/broker/producer_id_manager.h"
#include "core/group/group_coordinator.h"
#include "core/protocol/generated/alter_configs_request.h"
#include "core/protocol/generated/alter_configs_response.h"
#include "core/protocol/generated/create_partitions_request.h"
#include "core/protocol/generated/create_partitions_response.h"
#include "core/protocol/generated/delete_records_request.h"
#include "core/protocol/generated/delete_records_response.h"
#include "core/protocol/generated/delete_topics_request.h"
#include "core/protocol/generated/delete_topics_response.h"
#include "core/protocol/generated/describe_cluster_request.h"
#include "core/protocol/generated/describe_cluster_response.h"
#include "core/protocol/generated/describe_configs_request.h"
#include "core/protocol/generated/describe_configs_response.h"
#include "core/protocol/generated/incremental_alter_configs_request.h"
#include "core/protocol/generated/incremental_alter_configs_response.h"
#include "core/protocol/generated/find_coordinator_request.h"
#include "core/protocol/generated/find_coordinator_response.h"
#include "core/protocol/generated/init_producer_id_request.h"
#include "core/protocol/generated/init_producer_id_response.h"
#include "core/protocol/generated/list_offsets_request.h"
#include "core/protocol/generated/list_offsets_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"
#include "core/protocol/generated/produce_request.h"
#include "core/protocol/generated/produce_response.h"

namespace keel::broker {

struct BrokerServerOptions {
    env::Address listen;
    std::string cluster_id;
    ProducerIdManager* producer_ids = nullptr;  // InitProducerId answers COORDINATOR_NOT_AVAILABLE without
    group::GroupCoordinator* groups = nullptr;  // the group APIs answer an error without
    controller::RpcServerOptions rpc{"broker", 256, 100 << 20};
    // Per-API request counts and latencies, bytes in and out (docs/operations.md, "Metrics");
    // none without. Must outlive the server.
    metrics::Registry* metrics = nullptr;
};

struct BrokerServerStats {
    uint64_t produce_requests = 0;
    uint64_t produce_batches_appended = 0;
    uint64_t produce_duplicates = 0;  // retries answered with their original offsets
    uint64_t produce_errors = 0;
    uint64_t acks_all_timeouts = 0;
    uint64_t fetch_requests = 0;
    uint64_t follower_fetches = 0;
    uint64_t delayed_fetches = 0;
    uint64_t metadata_requests = 0;
    uint64_t list_offsets_requests = 0;
    uint64_t records_deleted_requests = 0;  // DeleteRecords partitions whose log start moved
    uint64_t topics_auto_created = 0;
    uint64_t producer_ids_issued = 0;
    uint64_t find_coordinator_requests = 0;
    uint64_t topics_created = 0;  // by CreateTopics (not validate_only)
    uint64_t topics_deleted = 0;
};

class BrokerServer {
public:
    BrokerServer(ReplicaManager& replicas, BrokerServerOptions options);
    ~BrokerServer();
    BrokerServer(const BrokerServer&) = delete;
    BrokerServer& operator=(const BrokerServer&) = delete;

    Status run();
    void stop();

    // The handlers, callable in-process (tests).
    protocol::MetadataResponse metadata(const protocol::MetadataRequest& req, int16_t version);
    // nullopt for acks=0 (no response is sent).
    std::optional<protocol::ProduceResponse> produce(const protocol::ProduceRequest& req, int16_t version);
    protocol::FetchResponse fetch(const protocol::FetchRequest& req, int16_t version);
    protocol::ListOffsetsResponse list_offsets(const protocol::ListOffsetsRequest& req, int16_t version);
    protocol::DeleteRecordsResponse delete_records(const protocol::DeleteRecordsRequest& req);
    protocol::InitProducerIdResponse init_producer_id(const protocol::InitProducerIdRequest& req);
    protocol::FindCoordinatorResponse find_coordinator(const protocol::FindCoordinatorRequest& req, int16_t version);
    protocol::CreateTopicsResponse create_topics(const protocol::CreateTopicsRequest& req, int16_t version);
    protocol::DeleteTopicsResponse delete_topics(const protocol::DeleteTopicsRequest& req, int16_t version);
    protocol::CreatePartitionsResponse create_partitions(const protocol::CreatePartitionsRequest& req,
                                                         int16_t version);
    protocol::DescribeClusterResponse describe_cluster(const protocol::DescribeClusterRequest& req);
    protocol::DescribeConfigsResponse describe_configs(const protocol::DescribeConfigsRequest& req,
                                                       int16_t version);
    protocol::IncrementalAlterConfigsResponse incremental_alter_configs(
        const protocol::IncrementalAlterConfigsRequest& req);
    protocol::AlterConfigsResponse alter_configs(const protocol::AlterConfigsRequest& req);

    const BrokerServerStats& stats() const { return stats_; }

private:
    struct ApiMetrics {
        metrics::Counter* requests = nullptr;
        metrics::Counter* errors = nullptr;
        metrics::Histogram* seconds = nullptr;
    };
    // Times dispatch_api (env clock: virtual time in the simulator) and counts it.
    Result<Bytes> dispatch(const protocol::RequestFrame& frame);
    // `follower_fetch` is set for a Fetch from a follower broker (labelled FetchFollower, as
    // Kafka's request metrics do; consumers' are FetchConsumer).
    Result<Bytes> dispatch_api(const protocol::RequestFrame& frame, bool& follower_fetch);
    void record_request(const std::string& api, Duration took, bool ok);
    void count_bytes_in(size_t bytes, int64_t messages);
    void count_bytes_out(const protocol::FetchRequest& req, const protocol::FetchResponse& resp);
    static bool is_group_api(protocol::ApiKey key);
    Result<Bytes> dispatch_group(const protocol::RequestFrame& frame);
    group::TopicSource topic_source();
    // OffsetCommit as Kafka's KafkaApis: partitions this broker's image does not have get
    // UNKNOWN_TOPIC_OR_PARTITION, the rest go to the coordinator.
    protocol::OffsetCommitResponse offset_commit(group::GroupCoordinator& g, const protocol::OffsetCommitRequest& req,
                                                 int16_t version);
    protocol::FindCoordinatorResponse::Coordinator coordinator_for(const std::string& key, int8_t key_type);
    void create_offsets_topic();
    // Parks until `done(image)` holds or the deadline (the admin APIs' answers).
    void await_image(const std::function<bool(const controller::MetadataImage&)>& done, Instant deadline);
    protocol::ErrorCode auto_create_topic(const std::string& name);
    protocol::ProduceResponse::PartitionProduceResponse produce_partition(
        const std::string& topic, const protocol::ProduceRequest::PartitionProduceData& pd, int16_t acks,
        int16_t version, Offset& last_offset);
    void await_acks(const std::string& topic, protocol::ProduceResponse::PartitionProduceResponse& r,
                    Offset last_offset, LeaderEpoch epoch, Instant deadline);
    protocol::FetchResponse::PartitionData fetch_partition(const protocol::FetchRequest& req,
                                                           const std::string& topic, const Uuid& topic_id,
                                                           const protocol::FetchRequest::FetchPartition& fp,
                                                           int32_t& bytes_left, bool& first);
    protocol::FetchResponse fetch_once(const protocol::FetchRequest& req, int16_t version, size_t& bytes);
    // DeleteRecords of one partition: moves the leader's log start, then waits (until the
    // deadline) for the ISR's low watermark to reach it.
    protocol::DeleteRecordsResponse::DeleteRecordsPartitionResult delete_records_partition(
        const std::string& topic, const protocol::DeleteRecordsRequest::DeleteRecordsPartition& dp, Instant deadline);
    protocol::ListOffsetsResponse::ListOffsetsPartitionResponse list_offset(
        const std::string& topic, const protocol::ListOffsetsRequest::ListOffsetsPartition& lp, int8_t isolation);

    ReplicaManager& replicas_;
    BrokerServerOptions options_;
    std::unique_ptr<controller::RpcServer> server_;
    BrokerServerStats stats_;
    std::map<std::string, ApiMetrics, std::less<>> api_metrics_;  // series looked up once per API
};

}  // namespace keel::broker
