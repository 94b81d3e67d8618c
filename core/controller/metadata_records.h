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
#include "core/protocol/generated/broker_registration_change_record.h"
#include "core/protocol/generated/config_record.h"
#include "core/protocol/generated/fence_broker_record.h"
#include "core/protocol/generated/no_op_record.h"
#include "core/protocol/generated/partition_change_record.h"
#include "core/protocol/generated/partition_record.h"
#include "core/protocol/generated/producer_ids_record.h"
#include "core/protocol/generated/register_broker_record.h"
#include "core/protocol/generated/remove_topic_record.h"
#include "core/protocol/generated/topic_record.h"
#include "core/protocol/generated/unfence_broker_record.h"

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
    remove_topic = 9,
    producer_ids = 15,
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

// The records themselves are generated from core/protocol/schemas/*Record.json (Kafka's
// schemas; see docs/protocol.md). Defaults are Kafka's: e.g. PartitionRecord.leader -1,
// PartitionChangeRecord.leader -2 (no change) and leader_recovery_state -1 (no change),
// RegisterBrokerRecord.fenced true; integers without a schema default are 0. Tagged fields
// the schema does not know at the version read are kept and written back.
//
// RegisterBrokerRecord (v0-3): a broker (re)registered, a new incarnation with a new broker
//   epoch; replaces any older registration of the same id.
// TopicRecord (v0): a topic exists.
// RemoveTopicRecord (v0): the topic is deleted (DeleteTopics): it, its partitions and its
//   topic configs leave the image; brokers stop and delete its replicas. Its name may be
//   used again by a new TopicRecord, with a new topic id.
// PartitionRecord (v0-2): the full state of one partition (creation and snapshots); Keel
//   writes v0 (no directories, no ELR).
// ConfigRecord (v0): a dynamic config was set (value) or removed (nullopt).
// PartitionChangeRecord (v0-2): a change to one partition. Absent fields (nullopt, leader
//   -2, recovery -1) mean "no change". Applying it bumps the partition epoch by one, and the
//   leader epoch by one whenever `leader` is not -2. Keel writes v0.
// FenceBrokerRecord / UnfenceBrokerRecord (v0): the broker lost its session (out of every
//   ISR, not a leader) / caught up and heartbeats again.
// BrokerRegistrationChangeRecord (v0-2): fenced -1 unfenced, 0 no change, 1 fenced (tag 0);
//   in_controlled_shutdown 0 no change, 1 entered (tag 1, v1+).
// ProducerIdsRecord (v0): the controller gave broker `broker_id` (at `broker_epoch`) a block
//   of producer ids; `next_producer_id` is the first id of the next block, so every id
//   below it is taken for good (KIP-730). It only increases. Snapshots write it with broker
//   id and epoch -1, as Kafka's ProducerIdsImage does.
// NoOpRecord (v0): written periodically so replicas see the log advance. Kafka writes it as
//   `01 14 00 00` (frame, type, version, empty tagged section); Keel before the generated
//   codec wrote `01 14 00`, which decode_record still accepts.
using RegisterBrokerRecord = protocol::RegisterBrokerRecord;
using BrokerEndpoint = protocol::RegisterBrokerRecord::BrokerEndpoint;
using BrokerFeature = protocol::RegisterBrokerRecord::BrokerFeature;
using TopicRecord = protocol::TopicRecord;
using RemoveTopicRecord = protocol::RemoveTopicRecord;
using PartitionRecord = protocol::PartitionRecord;
using ConfigRecord = protocol::ConfigRecord;
using PartitionChangeRecord = protocol::PartitionChangeRecord;
using FenceBrokerRecord = protocol::FenceBrokerRecord;
using UnfenceBrokerRecord = protocol::UnfenceBrokerRecord;
using BrokerRegistrationChangeRecord = protocol::BrokerRegistrationChangeRecord;
using NoOpRecord = protocol::NoOpRecord;
using ProducerIdsRecord = protocol::ProducerIdsRecord;

using MetadataRecord =
    std::variant<RegisterBrokerRecord, TopicRecord, PartitionRecord, ConfigRecord,
                 PartitionChangeRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                 BrokerRegistrationChangeRecord, NoOpRecord, ProducerIdsRecord, RemoveTopicRecord>;

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
