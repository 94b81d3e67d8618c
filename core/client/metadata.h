// MetadataCache: what the client knows about the cluster — brokers (id → address) and, for
// each topic it uses, the partitions with their leader and leader epoch — from Metadata
// requests (api key 3) to any broker it can reach (known brokers first, then the bootstrap
// addresses).
//
// Refreshed when a caller asks (request_refresh, after NOT_LEADER_OR_FOLLOWER,
// UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH, transport errors), when a topic of
// interest is unknown, and when older than max_age (Kafka's metadata.max.age.ms). One refresh
// at a time: concurrent callers wait for the one in progress.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/client/connection.h"
#include "core/client/types.h"
#include "core/env/env.h"
#include "core/protocol/error_codes.h"

namespace keel::client {

struct PartitionMetadata {
    PartitionIndex partition{0};
    protocol::ErrorCode error = protocol::ErrorCode::none;
    NodeId leader{-1};  // -1: no leader known
    LeaderEpoch leader_epoch{-1};
};

struct TopicMetadata {
    protocol::ErrorCode error = protocol::ErrorCode::none;
    std::vector<PartitionMetadata> partitions;  // ascending by partition index
    int32_t partition_count() const { return static_cast<int32_t>(partitions.size()); }
};

struct MetadataOptions {
    std::vector<env::Address> bootstrap;
    Duration max_age = ms(300'000);       // metadata.max.age.ms
    Duration request_timeout = ms(30'000);
    bool allow_auto_topic_creation = true;
};

// Our supported Metadata versions (v1: controller id; v7: leader epochs; v9+: flexible).
inline constexpr int16_t kMetadataVersionMin = 1;
inline constexpr int16_t kMetadataVersionMax = 12;

class MetadataCache {
public:
    MetadataCache(env::Env& env, ConnectionPool& pool, MetadataOptions options);

    // Adds topics whose metadata the cache keeps.
    void add_topic(const std::string& topic);

    // Refreshes now; if another fiber's refresh is in progress, waits for it instead.
    // Errors: no broker answered (the last transport error).
    Status refresh(Instant deadline);
    // Refreshes if asked to, if a topic of interest is unknown or has an error, or if the
    // cache is older than max_age.
    Status refresh_if_needed(Instant deadline);
    void request_refresh() { stale_ = true; }
    bool needs_refresh() const;

    // nullptr if the topic is unknown (never fetched, or the broker reported an error).
    const TopicMetadata* topic(const std::string& name) const;
    // The partition's leader and epoch; nullopt if unknown or leaderless.
    std::optional<PartitionMetadata> partition(const TopicPartitionName& tp) const;
    std::optional<env::Address> broker_address(NodeId id) const;
    // Addresses to try for a request any broker can answer: known brokers, then bootstrap.
    std::vector<env::Address> any_brokers() const;
    uint64_t refreshes() const { return generation_; }

private:
    Status refresh_from(const env::Address& address, Instant deadline);
    // KIP-320, as Kafka's Metadata: a partition's entry from a broker whose image is behind
    // (a leader epoch older than one this cache has seen) is ignored and the previous entry
    // kept: a deposed leader that has not heard of its successor still names itself, and a
    // client sent there fetches at an epoch the deposed leader accepts, from a log that may
    // lack what the client already read (OFFSET_OUT_OF_RANGE, a reset to the log start).
    PartitionMetadata newest_known(const std::string& topic, const protocol::Uuid& topic_id,
                                   const PartitionMetadata& fresh);

    env::Env& env_;
    ConnectionPool& pool_;
    MetadataOptions options_;
    std::set<std::string> topics_wanted_;
    std::map<NodeId, env::Address> brokers_;
    std::map<std::string, TopicMetadata> topics_;
    // The largest leader epoch seen per partition, and the topic id it was seen under (a
    // topic deleted and created again starts over).
    std::map<TopicPartitionName, LeaderEpoch> last_seen_epochs_;
    std::map<std::string, protocol::Uuid> topic_ids_;
    std::optional<Instant> refreshed_at_;
    bool stale_ = false;
    uint64_t generation_ = 0;
    size_t next_broker_ = 0;  // rotates the broker asked first
    env::Mutex mutex_;
};

}  // namespace keel::client
