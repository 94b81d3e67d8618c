// The client library's value types: what an application hands the Producer and gets back
// from the Consumer. Plain data, no I/O. Names follow Kafka's Java client (ProducerRecord,
// RecordMetadata, ConsumerRecord, TopicPartition).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/types.h"

namespace keel::client {

// A partition named by its topic's name (the Java client's TopicPartition).
struct TopicPartitionName {
    std::string topic;
    PartitionIndex partition{0};
    auto operator<=>(const TopicPartitionName&) const = default;
    std::string to_string() const { return topic + "-" + std::to_string(partition.value()); }
};

// One record header: a string key and an optional (nullable) value.
struct Header {
    std::string key;
    std::optional<Bytes> value;
    bool operator==(const Header&) const = default;
};

// What the application produces. No partition: the key decides (murmur2), or, for a null
// key, the sticky partitioner. No timestamp: the producer's wall clock at send().
struct ProducerRecord {
    std::string topic;
    std::optional<PartitionIndex> partition;
    std::optional<Bytes> key;    // nullopt: null key
    std::optional<Bytes> value;  // nullopt: null value (a tombstone)
    std::vector<Header> headers;
    std::optional<int64_t> timestamp_ms;
};

// Where an acknowledged record landed. offset is -1 when the broker does not say (acks=0,
// or a duplicate of an earlier send answered DUPLICATE_SEQUENCE_NUMBER).
struct RecordMetadata {
    std::string topic;
    PartitionIndex partition{0};
    Offset offset{-1};
    int64_t timestamp_ms = -1;  // the record's CreateTime, or the broker's LogAppendTime
};

// One consumed record, owning its bytes.
struct ConsumerRecord {
    std::string topic;
    PartitionIndex partition{0};
    Offset offset{0};
    LeaderEpoch leader_epoch{-1};  // the batch's partitionLeaderEpoch
    int64_t timestamp_ms = -1;
    bool log_append_time = false;  // timestamp type of its batch
    std::optional<Bytes> key;
    std::optional<Bytes> value;
    std::vector<Header> headers;
};

}  // namespace keel::client
