// The KRaft RPCs of KIP-595/630/853/996, in the shape of Kafka's JSON schemas
// (clients/src/main/resources/common/message/{Vote,BeginQuorumEpoch,EndQuorumEpoch,
// FetchSnapshot}{Request,Response}.json). Field names are Kafka's in snake_case; "(vN+)"
// marks fields that exist only from version N. Fetch, shared with clients, is in fetch.h.
//
// Versions implemented (all of Kafka's as of 4.0):
//   Vote              v0-v2, flexible from v0 (v1: directory ids, v2: PreVote)
//   BeginQuorumEpoch  v0-v1, flexible from v1 (v1: voter key, leader endpoints)
//   EndQuorumEpoch    v0-v1, flexible from v1 (v1: preferred candidates, leader endpoints)
//   FetchSnapshot     v0-v1, flexible from v0 (v1: replica directory id)
// Fields absent from the version being written are not encoded and decode to defaults.
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

// Response tag 0 (v1+) of Vote/BeginQuorumEpoch/EndQuorumEpoch/FetchSnapshot.
struct NodeEndpoint {
    NodeId node_id{-1};
    std::string host;
    uint16_t port = 0;
    bool operator==(const NodeEndpoint&) const = default;
};

// Request field (v1+) of BeginQuorumEpoch/EndQuorumEpoch: the leader's listeners.
struct LeaderEndpoint {
    std::string name;
    std::string host;
    uint16_t port = 0;
    bool operator==(const LeaderEndpoint&) const = default;
};

struct VoteRequest {
    static constexpr ApiKey api_key = ApiKey::vote;
    static constexpr std::string_view name = "VoteRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 2;

    struct PartitionData {
        int32_t partition_index = 0;
        QuorumEpoch candidate_epoch{0};   // the epoch the candidate campaigns in
        NodeId candidate_id{-1};
        Uuid candidate_directory_id;      // (v1+)
        Uuid voter_directory_id;          // (v1+)
        QuorumEpoch last_offset_epoch{0}; // epoch of the candidate's last log entry
        Offset last_offset{0};            // the candidate's log end offset
        bool pre_vote = false;            // (v2+) KIP-996: nothing is persisted
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    std::optional<std::string> cluster_id;
    NodeId voter_id{-1};  // (v1+) the receiving voter
    std::vector<TopicData> topics;

    void encode(Writer& w, int16_t version) const;
    static VoteRequest decode(Reader& r, int16_t version);
    bool operator==(const VoteRequest&) const = default;
};

struct VoteResponse {
    static constexpr ApiKey api_key = ApiKey::vote;
    static constexpr std::string_view name = "VoteResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 2;

    struct PartitionData {
        int32_t partition_index = 0;
        ErrorCode error_code = ErrorCode::none;
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{0};
        bool vote_granted = false;
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    ErrorCode error_code = ErrorCode::none;
    std::vector<TopicData> topics;
    std::vector<NodeEndpoint> node_endpoints;  // tag 0 (v1+)

    void encode(Writer& w, int16_t version) const;
    static VoteResponse decode(Reader& r, int16_t version);
    bool operator==(const VoteResponse&) const = default;
};

struct BeginQuorumEpochRequest {
    static constexpr ApiKey api_key = ApiKey::begin_quorum_epoch;
    static constexpr std::string_view name = "BeginQuorumEpochRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;

    struct PartitionData {
        int32_t partition_index = 0;
        Uuid voter_directory_id;  // (v1+)
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{0};
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    std::optional<std::string> cluster_id;
    NodeId voter_id{-1};  // (v1+)
    std::vector<TopicData> topics;
    std::vector<LeaderEndpoint> leader_endpoints;  // (v1+)

    void encode(Writer& w, int16_t version) const;
    static BeginQuorumEpochRequest decode(Reader& r, int16_t version);
    bool operator==(const BeginQuorumEpochRequest&) const = default;
};

// The response of BeginQuorumEpoch and EndQuorumEpoch (identical schemas).
struct QuorumEpochResponseData {
    struct PartitionData {
        int32_t partition_index = 0;
        ErrorCode error_code = ErrorCode::none;
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{0};
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    ErrorCode error_code = ErrorCode::none;
    std::vector<TopicData> topics;
    std::vector<NodeEndpoint> node_endpoints;  // tag 0 (v1+)

    void encode_fields(Writer& w, int16_t version) const;
    void decode_fields(Reader& r, int16_t version);
    bool operator==(const QuorumEpochResponseData&) const = default;
};

struct BeginQuorumEpochResponse : QuorumEpochResponseData {
    static constexpr ApiKey api_key = ApiKey::begin_quorum_epoch;
    static constexpr std::string_view name = "BeginQuorumEpochResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;
    void encode(Writer& w, int16_t version) const { encode_fields(w, version); }
    static BeginQuorumEpochResponse decode(Reader& r, int16_t version) {
        BeginQuorumEpochResponse m;
        m.decode_fields(r, version);
        return m;
    }
    bool operator==(const BeginQuorumEpochResponse&) const = default;
};

struct EndQuorumEpochRequest {
    static constexpr ApiKey api_key = ApiKey::end_quorum_epoch;
    static constexpr std::string_view name = "EndQuorumEpochRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;

    struct ReplicaInfo {
        NodeId candidate_id{-1};
        Uuid candidate_directory_id;
        bool operator==(const ReplicaInfo&) const = default;
    };
    struct PartitionData {
        int32_t partition_index = 0;
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{0};
        std::vector<NodeId> preferred_successors;      // (v0 only)
        std::vector<ReplicaInfo> preferred_candidates;  // (v1+)
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    std::optional<std::string> cluster_id;
    std::vector<TopicData> topics;
    std::vector<LeaderEndpoint> leader_endpoints;  // (v1+)

    void encode(Writer& w, int16_t version) const;
    static EndQuorumEpochRequest decode(Reader& r, int16_t version);
    bool operator==(const EndQuorumEpochRequest&) const = default;
};

struct EndQuorumEpochResponse : QuorumEpochResponseData {
    static constexpr ApiKey api_key = ApiKey::end_quorum_epoch;
    static constexpr std::string_view name = "EndQuorumEpochResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;
    void encode(Writer& w, int16_t version) const { encode_fields(w, version); }
    static EndQuorumEpochResponse decode(Reader& r, int16_t version) {
        EndQuorumEpochResponse m;
        m.decode_fields(r, version);
        return m;
    }
    bool operator==(const EndQuorumEpochResponse&) const = default;
};

// A snapshot is named by the log end offset it covers and the epoch of the entry just
// before that offset (Kafka's OffsetAndEpoch / SnapshotId).
struct SnapshotIdData {
    Offset end_offset{-1};
    QuorumEpoch epoch{-1};
    bool operator==(const SnapshotIdData&) const = default;
};

struct FetchSnapshotRequest {
    static constexpr ApiKey api_key = ApiKey::fetch_snapshot;
    static constexpr std::string_view name = "FetchSnapshotRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;

    struct PartitionSnapshot {
        int32_t partition = 0;
        QuorumEpoch current_leader_epoch{-1};
        SnapshotIdData snapshot_id;
        int64_t position = 0;          // byte position within the snapshot
        Uuid replica_directory_id;     // tag 0 (v1+)
        bool operator==(const PartitionSnapshot&) const = default;
    };
    struct TopicSnapshot {
        std::string name;
        std::vector<PartitionSnapshot> partitions;
        bool operator==(const TopicSnapshot&) const = default;
    };

    std::optional<std::string> cluster_id;  // tag 0
    NodeId replica_id{-1};
    int32_t max_bytes = 0x7fffffff;
    std::vector<TopicSnapshot> topics;

    void encode(Writer& w, int16_t version) const;
    static FetchSnapshotRequest decode(Reader& r, int16_t version);
    bool operator==(const FetchSnapshotRequest&) const = default;
};

struct FetchSnapshotResponse {
    static constexpr ApiKey api_key = ApiKey::fetch_snapshot;
    static constexpr std::string_view name = "FetchSnapshotResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 1;

    struct LeaderIdAndEpoch {
        NodeId leader_id{-1};
        QuorumEpoch leader_epoch{-1};
        bool operator==(const LeaderIdAndEpoch&) const = default;
    };
    struct PartitionSnapshot {
        int32_t index = 0;
        ErrorCode error_code = ErrorCode::none;
        SnapshotIdData snapshot_id;
        LeaderIdAndEpoch current_leader;  // tag 0
        int64_t size = 0;                 // total size of the snapshot
        int64_t position = 0;             // where unaligned_records starts
        Bytes unaligned_records;
        bool operator==(const PartitionSnapshot&) const = default;
    };
    struct TopicSnapshot {
        std::string name;
        std::vector<PartitionSnapshot> partitions;
        bool operator==(const TopicSnapshot&) const = default;
    };

    int32_t throttle_time_ms = 0;
    ErrorCode error_code = ErrorCode::none;
    std::vector<TopicSnapshot> topics;
    std::vector<NodeEndpoint> node_endpoints;  // tag 0 (v1+)

    void encode(Writer& w, int16_t version) const;
    static FetchSnapshotResponse decode(Reader& r, int16_t version);
    bool operator==(const FetchSnapshotResponse&) const = default;
};

// KRaft's LeaderChange control record value (LeaderChangeMessage.json, version 0,
// flexible), written by every new leader at the start of its epoch. Kafka decodes it with
// its current version; v0 is what Keel writes and reads.
struct LeaderChangeMessage {
    struct Voter {
        NodeId voter_id{-1};
        bool operator==(const Voter&) const = default;
    };
    int16_t version = 0;
    NodeId leader_id{-1};
    std::vector<Voter> voters;
    std::vector<Voter> granting_voters;

    Bytes encode() const;
    static Result<LeaderChangeMessage> decode(ByteView b);
    bool operator==(const LeaderChangeMessage&) const = default;
};

}  // namespace keel::protocol
