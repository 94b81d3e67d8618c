// TopicAdmin: what Kafka's kafka-topics.sh does, over the wire protocol — create a topic
// (CreateTopics, api 19), delete one (DeleteTopics, api 20), list the topics and describe
// their partitions with leader, replicas and ISR (Metadata, api 3), and grow a topic's
// partition count (CreatePartitions, api 37) where the broker serves it; and what
// kafka-delete-records.sh does (DeleteRecords, api 21, sent to the partition's leader).
//
//   client::TopicAdmin admin(env, {{"localhost", 9092}});
//   KEEL_TRY(admin.create_topic({"orders", 6, 3, {{"cleanup.policy", "compact"}}}));
//   auto names = admin.list_topics();                   // sorted, internal topics left out
//   auto d = admin.describe({"orders"});                // empty list: every topic
//   KEEL_TRY(admin.delete_topic("orders"));
//
// Create and delete go to any broker (a KRaft broker forwards them to the active
// controller and answers after its own metadata shows the outcome). A topic's error is
// the call's error: protocol::status_from of its code, with the broker's error message.
// create_partitions, describe_configs and alter_configs answer Errc::unsupported_version
// ("not supported by this server") when the broker does not list the API in its
// ApiVersions.
//
// Threading: calls from fibers of the env's node, one at a time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/client/connection.h"
#include "core/client/metadata.h"
#include "core/env/env.h"
#include "core/protocol/codec.h"

namespace keel::client {

struct NewTopic {
    std::string name;
    int32_t partitions = -1;          // -1: the broker's num.partitions
    int16_t replication_factor = -1;  // -1: the broker's default.replication.factor
    std::vector<std::pair<std::string, std::string>> configs;  // topic configs (k=v)
};

struct PartitionDescription {
    PartitionIndex partition{0};
    protocol::ErrorCode error = protocol::ErrorCode::none;
    NodeId leader{-1};  // -1: no leader
    LeaderEpoch leader_epoch{-1};
    std::vector<NodeId> replicas;
    std::vector<NodeId> isr;
    std::vector<NodeId> offline;
};

struct TopicDescription {
    std::string name;
    protocol::Uuid topic_id;
    bool internal = false;  // flagged by the broker, or __consumer_offsets/__transaction_state
    protocol::ErrorCode error = protocol::ErrorCode::none;  // UNKNOWN_TOPIC_OR_PARTITION, ...
    std::vector<PartitionDescription> partitions;           // ascending by partition
};

// The cluster as DescribeCluster answers it (KIP-700).
struct ClusterDescription {
    std::string cluster_id;
    NodeId controller{-1};
    std::vector<std::pair<NodeId, env::Address>> brokers;  // ascending by id
};

// One config of a topic as DescribeConfigs answers it.
struct TopicConfigEntry {
    std::string name;
    std::optional<std::string> value;
    // Kafka's ConfigSource: 1 the topic's own (dynamic), 3 a cluster-wide dynamic default,
    // 4 server.properties, 5 the default; 0 unknown (DescribeConfigs v0).
    int8_t source = 0;
    bool is_default = false;
    bool read_only = false;
};

class TopicAdmin {
public:
    TopicAdmin(env::Env& env, std::vector<env::Address> bootstrap, Duration timeout = ms(30'000));
    ~TopicAdmin();
    TopicAdmin(const TopicAdmin&) = delete;
    TopicAdmin& operator=(const TopicAdmin&) = delete;

    // The topic's id on success. Errors: TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, ... as
    // status_from gives them; no broker answered.
    Result<protocol::Uuid> create_topic(const NewTopic& topic, bool validate_only = false);
    Status delete_topic(const std::string& name);
    Result<std::vector<std::string>> list_topics(bool include_internal = false);
    // Topics by name (an unknown one comes back with its error set); empty: every topic.
    // Sorted by name.
    Result<std::vector<TopicDescription>> describe(const std::vector<std::string>& topics);
    // Grows `topic` to `count` partitions.
    Status create_partitions(const std::string& topic, int32_t count);
    // The cluster id, the controller id and the live brokers (DescribeCluster).
    // Errors: unsupported_version (no DescribeCluster), the broker's error code.
    Result<ClusterDescription> describe_cluster();
    // Every config of `topic` with its value and source (DescribeConfigs), sorted by name.
    // Errors: UNKNOWN_TOPIC_OR_PARTITION, unsupported_version (no DescribeConfigs).
    Result<std::vector<TopicConfigEntry>> describe_configs(const std::string& topic);
    // Sets and removes topic configs (IncrementalAlterConfigs), all or none. Errors:
    // INVALID_CONFIG (an unknown name or bad value), UNKNOWN_TOPIC_OR_PARTITION, ...
    Status alter_configs(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& set,
                         const std::vector<std::string>& remove);
    // Deletes the records of one partition below `offset` (-1: below its high watermark):
    // the partition's log then starts there. The low watermark (the smallest log start of
    // its in-sync replicas) on success. Errors: OFFSET_OUT_OF_RANGE (past the high
    // watermark), UNKNOWN_TOPIC_OR_PARTITION, POLICY_VIOLATION (a compact-only topic),
    // REQUEST_TIMED_OUT, unsupported_version (no DeleteRecords); a moved leader is retried.
    Result<int64_t> delete_records(const std::string& topic, int32_t partition, int64_t offset);

private:
    template <typename Resp, typename Req>
    Result<Resp> call_any(const Req& req, int16_t min_version, int16_t max_version, Instant deadline);

    env::Env& env_;
    Duration timeout_;
    ConnectionPool pool_;
    MetadataCache metadata_;
};

}  // namespace keel::client
