// BrokerConfig: what a broker's data plane needs to know, by Kafka's property names where
// one exists. Filled in by the node assembly (core/node/) from the simulator's scenario or
// from `server.properties`.
//
// The "old behaviour" switches replay bugs Kafka fixed (docs/replication.md); the planted
// bugs exist for the negative tests (property_tests/negative/), which check that the
// simulator's checkers catch each of them. All are off by default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/types.h"
#include "core/log/log_config.h"

namespace keel::broker {

struct PlantedDataBugs {
    bool hw_leader_alone = false;          // the leader advances the high watermark to its own log end
    bool ack_before_isr = false;           // acks=all answered right after the leader's append
    bool skip_divergence_truncation = false;  // a follower ignores a DivergingEpoch answer
    bool ignore_idempotence_window = false;   // duplicates of a producer's batches are appended again
    bool any() const {
        return hw_leader_alone || ack_before_isr || skip_divergence_truncation || ignore_idempotence_window;
    }
};

// One server property as DescribeConfigs shows it for a BROKER resource.
struct BrokerProperty {
    std::string name;
    std::optional<std::string> value;  // nullopt: unset and without a default
    bool is_set = false;               // set in server.properties (else Keel's default)
    std::string doc;
};

struct BrokerConfig {
    NodeId id{-1};
    std::string log_dir;                     // log.dirs (one), relative to the node's disk root
    log::LogConfig log_defaults;             // log.* defaults; topic configs override them
    int32_t min_insync_replicas = 1;         // min.insync.replicas (default of every topic)
    int32_t message_max_bytes = 1048588;     // message.max.bytes
    // auto.create.topics.enable: Kafka's default is true (`keel server` uses it); off here so
    // that a simulated cluster only has the topics its scenario creates.
    bool auto_create_topics_enable = false;
    bool delete_topic_enable = true;  // delete.topic.enable: DeleteTopics is served
    Duration replica_lag_time_max = ms(30000);  // replica.lag.time.max.ms
    Duration replica_fetch_wait_max = ms(500);  // replica.fetch.wait.max.ms
    int32_t replica_fetch_max_bytes = 1 << 20;  // replica.fetch.max.bytes
    Duration replica_fetch_backoff = ms(1000);  // replica.fetch.backoff.ms
    Duration isr_check_interval = ms(1000);     // how often a leader looks at its followers
    Duration retention_check_interval = ms(300000);  // log.retention.check.interval.ms
    // log.segment.delete.delay.ms, the broker default of the log config file.delete.delay.ms
    // that Kafka's LogManager uses for deleted logs: a deleted replica's renamed `-delete`
    // directory is removed this long after the rename (0: at once); a restart removes
    // leftovers at once.
    Duration file_delete_delay = ms(60000);
    Duration request_timeout = ms(30000);       // inter-broker requests
    int64_t producer_id_expiration_ms = 86400000;  // producer.id.expiration.ms
    // __consumer_offsets, created by the first FindCoordinator for a group.
    int32_t offsets_topic_num_partitions = 50;        // offsets.topic.num.partitions
    int16_t offsets_topic_replication_factor = 3;     // offsets.topic.replication.factor
    int32_t offsets_topic_segment_bytes = 104857600;  // offsets.topic.segment.bytes
    // Old behaviours (off: today's Kafka).
    bool kip101_off = false;  // followers truncate to their high watermark on becoming follower
    bool kip279_off = false;  // divergence answered without the epoch qualification (KIP-279)
    PlantedDataBugs bugs;
    // What DescribeConfigs answers for this broker (resource type BROKER), and which topic
    // config defaults server.properties set (their source is then STATIC_BROKER_CONFIG):
    // filled by `keel server` (node/server_config.cc); empty in the simulator.
    std::vector<BrokerProperty> properties;
};

}  // namespace keel::broker
