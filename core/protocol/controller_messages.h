// The controller RPCs of KIP-631/497/841/903 and CreateTopics, in the shape of Kafka's
// JSON schemas (clients/src/main/resources/common/message/{BrokerRegistration,
// BrokerHeartbeat,AlterPartition,CreateTopics}{Request,Response}.json). Field names are
// Kafka's in snake_case; "(vN+)" marks fields that exist only from version N.
//
// Versions implemented (all of Kafka's as of 4.0):
//   BrokerRegistration  v0-v4, flexible from v0 (v1: IsMigratingZkBroker, v2: LogDirs,
//                       v3: PreviousBrokerEpoch, v4: same fields); generated from
//                       core/protocol/schemas/BrokerRegistration{Request,Response}.json
//   BrokerHeartbeat     v0-v1, flexible from v0 (v1: OfflineLogDirs, tag 0); generated from
//                       core/protocol/schemas/BrokerHeartbeat{Request,Response}.json
//   AlterPartition      v0-v3, flexible from v0 (v1: LeaderRecoveryState, v2: topic ids
//                       instead of names, v3: NewIsrWithEpochs instead of NewIsr)
//   CreateTopics        v0-v7, flexible from v5 (v1: validate_only, error messages; v2:
//                       throttle time; v5: result configs; v7: topic ids in the result)
// Fields absent from the version being written are not encoded and decode to defaults.
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
#include "core/protocol/generated/broker_heartbeat_request.h"
#include "core/protocol/generated/broker_heartbeat_response.h"
#include "core/protocol/generated/broker_registration_request.h"
#include "core/protocol/generated/broker_registration_response.h"

namespace keel::protocol {

// -------------------------------------------------------------------- AlterPartition

struct AlterPartitionRequest {
    static constexpr ApiKey api_key = ApiKey::alter_partition;
    static constexpr std::string_view name = "AlterPartitionRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 3;

    struct BrokerState {
        NodeId broker_id{-1};
        int64_t broker_epoch = -1;  // -1: not checked
        bool operator==(const BrokerState&) const = default;
    };
    struct PartitionData {
        int32_t partition_index = 0;
        int32_t leader_epoch = 0;
        std::vector<NodeId> new_isr;                 // (v0-2)
        std::vector<BrokerState> new_isr_with_epochs;  // (v3+)
        int8_t leader_recovery_state = 0;            // (v1+)
        int32_t partition_epoch = 0;
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;  // (v0-1)
        Uuid topic_id;           // (v2+)
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    NodeId broker_id{-1};
    int64_t broker_epoch = -1;
    std::vector<TopicData> topics;

    void encode(Writer& w, int16_t version) const;
    static AlterPartitionRequest decode(Reader& r, int16_t version);
    bool operator==(const AlterPartitionRequest&) const = default;
};

struct AlterPartitionResponse {
    static constexpr ApiKey api_key = ApiKey::alter_partition;
    static constexpr std::string_view name = "AlterPartitionResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 3;

    struct PartitionData {
        int32_t partition_index = 0;
        ErrorCode error_code = ErrorCode::none;
        NodeId leader_id{-1};
        int32_t leader_epoch = -1;
        std::vector<NodeId> isr;
        int8_t leader_recovery_state = 0;  // (v1+)
        int32_t partition_epoch = -1;
        bool operator==(const PartitionData&) const = default;
    };
    struct TopicData {
        std::string topic_name;  // (v0-1)
        Uuid topic_id;           // (v2+)
        std::vector<PartitionData> partitions;
        bool operator==(const TopicData&) const = default;
    };

    int32_t throttle_time_ms = 0;
    ErrorCode error_code = ErrorCode::none;
    std::vector<TopicData> topics;

    void encode(Writer& w, int16_t version) const;
    static AlterPartitionResponse decode(Reader& r, int16_t version);
    bool operator==(const AlterPartitionResponse&) const = default;
};

// ---------------------------------------------------------------------- CreateTopics

struct CreateTopicsRequest {
    static constexpr ApiKey api_key = ApiKey::create_topics;
    static constexpr std::string_view name = "CreateTopicsRequest";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 7;

    struct Assignment {
        int32_t partition_index = 0;
        std::vector<NodeId> broker_ids;
        bool operator==(const Assignment&) const = default;
    };
    struct Config {
        std::string name;
        std::optional<std::string> value;
        bool operator==(const Config&) const = default;
    };
    struct Topic {
        std::string name;
        int32_t num_partitions = -1;
        int16_t replication_factor = -1;
        std::vector<Assignment> assignments;
        std::vector<Config> configs;
        bool operator==(const Topic&) const = default;
    };

    std::vector<Topic> topics;
    int32_t timeout_ms = 60000;
    bool validate_only = false;  // (v1+)

    void encode(Writer& w, int16_t version) const;
    static CreateTopicsRequest decode(Reader& r, int16_t version);
    bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
    static constexpr ApiKey api_key = ApiKey::create_topics;
    static constexpr std::string_view name = "CreateTopicsResponse";
    static constexpr int16_t version_min = 0;
    static constexpr int16_t version_max = 7;

    struct Config {
        std::string name;
        std::optional<std::string> value;
        bool read_only = false;
        int8_t config_source = -1;
        bool is_sensitive = false;
        bool operator==(const Config&) const = default;
    };
    struct Topic {
        std::string name;
        Uuid topic_id;                                // (v7+)
        ErrorCode error_code = ErrorCode::none;
        std::optional<std::string> error_message;     // (v1+)
        ErrorCode topic_config_error_code = ErrorCode::none;  // tag 0 (v5+)
        int32_t num_partitions = -1;                  // (v5+)
        int16_t replication_factor = -1;              // (v5+)
        std::optional<std::vector<Config>> configs;   // (v5+)
        bool operator==(const Topic&) const = default;
    };

    int32_t throttle_time_ms = 0;  // (v2+)
    std::vector<Topic> topics;

    void encode(Writer& w, int16_t version) const;
    static CreateTopicsResponse decode(Reader& r, int16_t version);
    bool operator==(const CreateTopicsResponse&) const = default;
};

}  // namespace keel::protocol
