// DescribeQuorum (API key 55): an operator asks the KRaft leader how its quorum stands
// (kafka-metadata-quorum.sh describe --status / --replication). Shape of Kafka's JSON
// schemas (clients/src/main/resources/common/message/DescribeQuorum{Request,Response}.json);
// field names are Kafka's in snake_case, "(vN+)" marks fields that exist only from
// version N.
//
// Versions implemented: v0-v2, all flexible (every struct ends with a tagged-field
// section; neither message defines a tagged field, unknown tags are skipped).
//   v1 (KIP-836): ReplicaState.LastFetchTimestamp, ReplicaState.LastCaughtUpTimestamp
//   v2 (KIP-853): top-level and partition ErrorMessage (nullable), ReplicaState.
//                 ReplicaDirectoryId, top-level Nodes[] { NodeId, Listeners[] { Name,
//                 Host, Port (uint16) } } — Nodes is a regular field, not a tagged one.
// The request is the same in every version. Fields absent from the version being written
// are not encoded (Kafka drops its "ignorable" ones the same way) and decode to their
// schema defaults: timestamps -1, directory id zero, error messages null, no nodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/types.h"
#include "core/protocol/api_keys.h"
#include "core/protocol/codec.h"
#include "core/protocol/error_codes.h"

namespace keel::protocol {

struct DescribeQuorumRequest {
    static constexpr ApiKey api_key = ApiKey::describe_quorum;
    static constexpr std::string_view name = "DescribeQuorumRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 2;

    struct PartitionData {
        int32_t partition_index = 0;
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    std::vector<TopicData> topics;

    void encode(Writer& w, int16_t version) const;
    static DescribeQuorumRequest decode(Reader& r, int16_t version);
    bool operator==(const DescribeQuorumRequest&) const = default;
};

struct DescribeQuorumResponse {
    static constexpr ApiKey api_key = ApiKey::describe_quorum;
    static constexpr std::string_view name = "DescribeQuorumResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 2;

    // What the leader knows of one replica. Timestamps are the leader's wall clock in ms.
    struct ReplicaState {
        NodeId replica_id{-1};
        Uuid replica_directory_id;           // (v2+)
        Offset log_end_offset{-1};           // -1: unknown
        int64_t last_fetch_timestamp = -1;   // (v1+) -1: unknown
        int64_t last_caught_up_timestamp = -1;  // (v1+) -1: unknown
        bool operator==(const ReplicaState&) const = default;
    };
    struct PartitionData {
        int32_t partition_index = 0;
        ErrorCode error_code = ErrorCode::none;
        std::optional<std::string> error_message;  // (v2+)
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{-1};
        Offset high_watermark{-1};
        std::vector<ReplicaState> current_voters;
        std::vector<ReplicaState> observers;
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };
    struct Listener {
        std::string name;
        std::string host;
        uint16_t port = 0;
        bool operator==(const Listener&) const = default;
    };
    struct Node {
        NodeId node_id{-1};
        std::vector<Listener> listeners;
        bool operator==(const Node&) const = default;
    };

    ErrorCode error_code = ErrorCode::none;
    std::optional<std::string> error_message;  // (v2+)
    std::vector<TopicData> topics;
    std::vector<Node> nodes;  // (v2+)

    void encode(Writer& w, int16_t version) const;
    static DescribeQuorumResponse decode(Reader& r, int16_t version);
    bool operator==(const DescribeQuorumResponse&) const = default;
};

}  // namespace keel::protocol
