// KRaft's cluster-metadata records, in the shape of Kafka's schemas
// (metadata/src/main/resources/common/metadata/*.json): the only things ever written to the
// __cluster_metadata log. Field names are Kafka's in snake_case; "(vN+)" marks fields that
// exist only from version N; "tag N" marks tagged fields. Every record type is flexible from
// v0 (compact strings and arrays, a tagged-field section at the end of every struct).
//
// One framed record (Kafka's AbstractApiMessageSerde):
//   uvarint frame_version (= 1) | uvarint record type (the schema's apiKey) | uvarint version
//   | the record's fields
// One metadata batch (the payload of one Raft entry; Kafka puts the framed records of one
// atomic batch into one RecordBatch):
//   uvarint record count | per record: uvarint length | framed record
// A batch is atomic: a controller command that needs several records (a topic and its
// partitions, a fence and the ISR changes it causes) writes them as one batch, so a
// failover can never commit half of it.
//
// Decoding never trusts its input: malformed bytes give Errc::corrupt naming the record
// type, version, reason and byte position. Encoding asserts its preconditions (a version
// the type has, strings ≤ 32767 bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/random.h"
#include "core/protocol/codec.h"

namespace keel::controller {

using protocol::Uuid;

// The metadata record types Keel writes and reads (Kafka's numbers).
enum class RecordType : int16_t {
    register_broker = 0,
    topic = 2,
    partition = 3,
    config = 4,
    partition_change = 5,
    fence_broker = 7,
    unfence_broker = 8,
    broker_registration_change = 17,
    no_op = 20,
};
std::string_view record_type_name(RecordType t);  // "RegisterBrokerRecord", ...

inline constexpr uint64_t record_frame_version = 1;  // Kafka's DEFAULT_FRAME_VERSION

// Kafka's ConfigResource.Type values used in ConfigRecord.resource_type.
inline constexpr int8_t config_resource_topic = 2;
inline constexpr int8_t config_resource_broker = 4;  // resource_name "" = cluster default

// LeaderRecoveryState (KIP-704): a leader chosen by an unclean election is RECOVERING
// until it tells the controller (AlterPartition) that it has recovered.
inline constexpr int8_t leader_recovered = 0;
inline constexpr int8_t leader_recovering = 1;

// PartitionChangeRecord.leader: -2 = no change, -1 = no leader now.
inline constexpr int32_t no_leader_change = -2;
inline constexpr int32_t no_leader = -1;

struct BrokerEndpoint {
    std::string name;  // the listener name, e.g. "PLAINTEXT"
    std::string host;
    uint16_t port = 0;
    int16_t security_protocol = 0;  // 0 = PLAINTEXT
    bool operator==(const BrokerEndpoint&) const = default;
};

struct BrokerFeature {
    std::string name;
    int16_t min_supported_version = 0;
    int16_t max_supported_version = 0;
    bool operator==(const BrokerFeature&) const = default;
};

// A broker (re)registered: a new incarnation with a new broker epoch. Replaces any older
// registration of the same id. Versions 0-3.
struct RegisterBrokerRecord {
    static constexpr RecordType type = RecordType::register_broker;
    static constexpr int16_t version_max = 3;
    NodeId broker_id{-1};
    bool is_migrating_zk_broker = false;  // (v2+) always false in Keel
    Uuid incarnation_id;
    BrokerEpoch broker_epoch{-1};
    std::vector<BrokerEndpoint> endpoints;
    std::vector<BrokerFeature> features;
    std::optional<std::string> rack;
    bool fenced = true;
    bool in_controlled_shutdown = false;  // (v1+)
    std::vector<Uuid> log_dirs;           // tag 0 (v3+)

    void encode(protocol::Writer& w, int16_t version) const;
    static RegisterBrokerRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const RegisterBrokerRecord&) const = default;
};

// A topic exists. Version 0.
struct TopicRecord {
    static constexpr RecordType type = RecordType::topic;
    static constexpr int16_t version_max = 0;
    std::string name;
    Uuid topic_id;

    void encode(protocol::Writer& w, int16_t version) const;
    static TopicRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const TopicRecord&) const = default;
};

// The full state of one partition (written at creation and in snapshots). Versions 0-2;
// Keel writes v0 (no directories, no ELR).
struct PartitionRecord {
    static constexpr RecordType type = RecordType::partition;
    static constexpr int16_t version_max = 2;
    PartitionIndex partition_id{-1};
    Uuid topic_id;
    std::vector<NodeId> replicas;  // in preferred order
    std::vector<NodeId> isr;
    std::vector<NodeId> removing_replicas;
    std::vector<NodeId> adding_replicas;
    NodeId leader{no_leader};
    int8_t leader_recovery_state = leader_recovered;  // tag 0
    LeaderEpoch leader_epoch{-1};
    PartitionEpoch partition_epoch{-1};
    std::vector<Uuid> directories;                                  // (v1+)
    std::optional<std::vector<NodeId>> eligible_leader_replicas;    // tag 1 (v2+)
    std::optional<std::vector<NodeId>> last_known_elr;              // tag 2 (v2+)

    void encode(protocol::Writer& w, int16_t version) const;
    static PartitionRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const PartitionRecord&) const = default;
};

// A dynamic config was set (value) or removed (nullopt). Version 0.
struct ConfigRecord {
    static constexpr RecordType type = RecordType::config;
    static constexpr int16_t version_max = 0;
    int8_t resource_type = config_resource_topic;
    std::string resource_name;
    std::string name;
    std::optional<std::string> value;

    void encode(protocol::Writer& w, int16_t version) const;
    static ConfigRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const ConfigRecord&) const = default;
};

// A change to one partition. Absent fields (nullopt, leader -2, recovery -1) mean "no
// change". The epochs are implicit, as in Kafka: applying the record bumps the partition
// epoch by one, and the leader epoch by one whenever `leader` is not -2 (even if it names
// the same leader). Every field after topic_id is tagged. Versions 0-2; Keel writes v0.
struct PartitionChangeRecord {
    static constexpr RecordType type = RecordType::partition_change;
    static constexpr int16_t version_max = 2;
    PartitionIndex partition_id{-1};
    Uuid topic_id;
    std::optional<std::vector<NodeId>> isr;                          // tag 0
    NodeId leader{no_leader_change};                                 // tag 1
    std::optional<std::vector<NodeId>> replicas;                     // tag 2
    std::optional<std::vector<NodeId>> removing_replicas;            // tag 3
    std::optional<std::vector<NodeId>> adding_replicas;              // tag 4
    int8_t leader_recovery_state = -1;                               // tag 5
    std::optional<std::vector<NodeId>> eligible_leader_replicas;     // tag 6 (v2+)
    std::optional<std::vector<NodeId>> last_known_elr;               // tag 7 (v2+)
    std::optional<std::vector<Uuid>> directories;                    // tag 8 (v1+)

    void encode(protocol::Writer& w, int16_t version) const;
    static PartitionChangeRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const PartitionChangeRecord&) const = default;
};

// The broker lost its session (or asked to be fenced): out of every ISR, not a leader.
// Version 0. Kafka's fields are named Id and Epoch.
struct FenceBrokerRecord {
    static constexpr RecordType type = RecordType::fence_broker;
    static constexpr int16_t version_max = 0;
    NodeId id{-1};
    BrokerEpoch epoch{-1};

    void encode(protocol::Writer& w, int16_t version) const;
    static FenceBrokerRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const FenceBrokerRecord&) const = default;
};

// The broker caught up with the metadata log and is heartbeating: it may lead and join
// ISRs again. Version 0.
struct UnfenceBrokerRecord {
    static constexpr RecordType type = RecordType::unfence_broker;
    static constexpr int16_t version_max = 0;
    NodeId id{-1};
    BrokerEpoch epoch{-1};

    void encode(protocol::Writer& w, int16_t version) const;
    static UnfenceBrokerRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const UnfenceBrokerRecord&) const = default;
};

// A change of a registration's state. Versions 0-2.
//   fenced: -1 unfenced, 0 no change, 1 fenced (tag 0)
//   in_controlled_shutdown: 0 no change, 1 entered controlled shutdown (tag 1, v1+)
struct BrokerRegistrationChangeRecord {
    static constexpr RecordType type = RecordType::broker_registration_change;
    static constexpr int16_t version_max = 2;
    NodeId broker_id{-1};
    BrokerEpoch broker_epoch{-1};
    int8_t fenced = 0;                  // tag 0
    int8_t in_controlled_shutdown = 0;  // tag 1 (v1+)
    std::vector<Uuid> log_dirs;         // tag 2 (v2+)

    void encode(protocol::Writer& w, int16_t version) const;
    static BrokerRegistrationChangeRecord decode(protocol::Reader& r, int16_t version);
    bool operator==(const BrokerRegistrationChangeRecord&) const = default;
};

// Written periodically by the active controller so that replicas see the log advance.
struct NoOpRecord {
    static constexpr RecordType type = RecordType::no_op;
    static constexpr int16_t version_max = 0;

    void encode(protocol::Writer&, int16_t) const {}
    static NoOpRecord decode(protocol::Reader&, int16_t) { return {}; }
    bool operator==(const NoOpRecord&) const = default;
};

using MetadataRecord =
    std::variant<RegisterBrokerRecord, TopicRecord, PartitionRecord, ConfigRecord,
                 PartitionChangeRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                 BrokerRegistrationChangeRecord, NoOpRecord>;

RecordType record_type(const MetadataRecord& r);
// The version Keel writes for a record type (the newest, except PartitionRecord and
// PartitionChangeRecord: v0, since Keel has neither directories nor ELR).
int16_t written_version(RecordType t);
int16_t max_version(RecordType t);

// One framed record. Requires version <= max_version(type); the default is written_version.
Bytes encode_record(const MetadataRecord& r);
Bytes encode_record(const MetadataRecord& r, int16_t version);
// Errors: Errc::corrupt (bad frame version, unknown type, unsupported version, truncated,
// malformed, trailing bytes) with the reason.
Result<MetadataRecord> decode_record(ByteView framed);

// A metadata batch (the payload of one Raft entry). Requires a non-empty batch.
Bytes encode_batch(const std::vector<MetadataRecord>& records);
// Errors: Errc::corrupt, naming the record index that failed.
Result<std::vector<MetadataRecord>> decode_batch(ByteView payload);

// One line for traces and test failures, e.g. "PartitionChange(t=..., p=0, leader=2, isr=[2,3])".
std::string describe(const MetadataRecord& r);
std::string uuid_to_string(const Uuid& u);  // 32 hex digits
std::string ids_text(const std::vector<NodeId>& ids);  // "[1,2,3]"

// A random version-4 UUID, never zero nor the metadata topic's id (Kafka's
// Uuid.randomUuid); drawn from env::Random so a seed decides every topic id.
Uuid random_uuid(env::Random& random);

}  // namespace keel::controller
