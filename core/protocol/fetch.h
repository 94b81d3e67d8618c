// Fetch (api key 1), versions 4-17, in the shape of Kafka's FetchRequest.json /
// FetchResponse.json. The same messages serve consumers, partition followers and KRaft
// replicas (KIP-595 pull replication: FetchOffset acknowledges everything below it,
// LastFetchedEpoch lets the leader detect divergence and answer DivergingEpoch).
//
// Version notes (kafka-wire.md §3.5 and the schemas): v5 LogStartOffset, v7 sessions and
// forgotten topics, v9 CurrentLeaderEpoch, v11 RackId and PreferredReadReplica, v12
// flexible + LastFetchedEpoch + DivergingEpoch/CurrentLeader/SnapshotId tags, v13 topic ids
// replace names, v15 ReplicaState tag replaces ReplicaId, v16 NodeEndpoints tag, v17
// ReplicaDirectoryId tag.
//
// Epoch fields are int32: for partitions they are LeaderEpochs, for the KRaft metadata
// partition QuorumEpochs; the caller converts. Records are RecordBatch v2 bytes, opaque
// here; a null Records field decodes as empty (Kafka clients want empty, not null).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/types.h"
#include "core/protocol/api_keys.h"
#include "core/protocol/codec.h"
#include "core/protocol/error_codes.h"

namespace keel::protocol {

struct FetchRequest {
    static constexpr ApiKey api_key = ApiKey::fetch;
    static constexpr std::string_view name = "FetchRequest";
    static constexpr int16_t version_min = 4;
    static constexpr int16_t version_max = 17;

    struct FetchPartition {
        int32_t partition = 0;
        int32_t current_leader_epoch = -1;  // (v9+)
        Offset fetch_offset{0};
        int32_t last_fetched_epoch = -1;    // (v12+)
        Offset log_start_offset{-1};        // (v5+)
        int32_t partition_max_bytes = 0;
        Uuid replica_directory_id;          // tag 0 (v17+)
        bool operator==(const FetchPartition&) const = default;
    };
    struct FetchTopic {
        std::string topic;  // (v4-v12)
        Uuid topic_id;      // (v13+)
        std::vector<FetchPartition> partitions;
        bool operator==(const FetchTopic&) const = default;
    };
    struct ForgottenTopic {
        std::string topic;  // (v7-v12)
        Uuid topic_id;      // (v13+)
        std::vector<int32_t> partitions;
        bool operator==(const ForgottenTopic&) const = default;
    };

    std::optional<std::string> cluster_id;  // tag 0 (v12+)
    NodeId replica_id{-1};   // (v4-v14 as a field, v15+ inside the ReplicaState tag 1)
    int64_t replica_epoch = -1;  // (v15+, ReplicaState tag 1) broker epoch, -1 if none
    int32_t max_wait_ms = 0;
    int32_t min_bytes = 0;
    int32_t max_bytes = 0x7fffffff;
    int8_t isolation_level = 0;
    int32_t session_id = 0;      // (v7+)
    int32_t session_epoch = -1;  // (v7+)
    std::vector<FetchTopic> topics;
    std::vector<ForgottenTopic> forgotten_topics_data;  // (v7+)
    std::string rack_id;                                // (v11+)

    void encode(Writer& w, int16_t version) const;
    static FetchRequest decode(Reader& r, int16_t version);
    bool operator==(const FetchRequest&) const = default;
};

struct FetchResponse {
    static constexpr ApiKey api_key = ApiKey::fetch;
    static constexpr std::string_view name = "FetchResponse";
    static constexpr int16_t version_min = 4;
    static constexpr int16_t version_max = 17;

    struct EpochEndOffset {
        int32_t epoch = -1;
        Offset end_offset{-1};
        bool operator==(const EpochEndOffset&) const = default;
        bool present() const { return epoch != -1 || end_offset.value() != -1; }
    };
    struct LeaderIdAndEpoch {
        NodeId leader_id{-1};
        int32_t leader_epoch = -1;
        bool operator==(const LeaderIdAndEpoch&) const = default;
        bool present() const { return leader_id.value() != -1 || leader_epoch != -1; }
    };
    struct SnapshotId {
        Offset end_offset{-1};
        int32_t epoch = -1;
        bool operator==(const SnapshotId&) const = default;
        bool present() const { return epoch != -1 || end_offset.value() != -1; }
    };
    struct AbortedTransaction {
        int64_t producer_id = 0;
        Offset first_offset{0};
        bool operator==(const AbortedTransaction&) const = default;
    };
    struct PartitionData {
        int32_t partition_index = 0;
        ErrorCode error_code = ErrorCode::none;
        Offset high_watermark{-1};
        Offset last_stable_offset{-1};  // (v4+)
        Offset log_start_offset{-1};    // (v5+)
        EpochEndOffset diverging_epoch;  // tag 0 (v12+)
        LeaderIdAndEpoch current_leader; // tag 1 (v12+)
        SnapshotId snapshot_id;          // tag 2 (v12+)
        std::optional<std::vector<AbortedTransaction>> aborted_transactions;  // (v4+)
        NodeId preferred_read_replica{-1};  // (v11+)
        Bytes records;
        bool operator==(const PartitionData&) const = default;
    };
    struct FetchableTopicResponse {
        std::string topic;  // (v4-v12)
        Uuid topic_id;      // (v13+)
        std::vector<PartitionData> partitions;
        bool operator==(const FetchableTopicResponse&) const = default;
    };
    struct NodeEndpoint {
        NodeId node_id{-1};
        std::string host;
        int32_t port = 0;
        std::optional<std::string> rack;
        bool operator==(const NodeEndpoint&) const = default;
    };

    int32_t throttle_time_ms = 0;
    ErrorCode error_code = ErrorCode::none;  // (v7+)
    int32_t session_id = 0;                  // (v7+)
    std::vector<FetchableTopicResponse> responses;
    std::vector<NodeEndpoint> node_endpoints;  // tag 0 (v16+)

    void encode(Writer& w, int16_t version) const;
    static FetchResponse decode(Reader& r, int16_t version);
    bool operator==(const FetchResponse&) const = default;
};

}  // namespace keel::protocol
