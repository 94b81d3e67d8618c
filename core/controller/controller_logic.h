// The controller's decisions, as pure functions: given the metadata image (and, where
// noted, the controller's soft state or a Random), which records to write and what to
// answer once they are committed. Nothing here does I/O or reads a clock; the
// ControllerService runs these on the active controller, proposes the records as one
// atomic batch through Raft, and answers after commit.
//
// The records of one result are written in an order that keeps every image invariant
// true after each record (metadata_image.h): ISR and leadership changes that take a broker
// out come before the record that fences it (or shuts it down, or re-registers it fenced);
// the record that unfences a broker comes before the elections it enables.
//
// Broker epochs: Kafka makes a broker's epoch the offset of its RegisterBrokerRecord, so
// epochs are unique and increase with every registration, and "caught up" means the
// broker has applied its own registration (current metadata offset >= broker epoch). Keel
// does the same: register_broker takes the offset the batch will get (`new_epoch`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/controller/metadata_image.h"
#include "core/controller/metadata_records.h"
#include "core/controller/producer_id_block.h"
#include "core/controller/topic_configs.h"
#include "core/env/random.h"

namespace keel::controller {

// Tunables. Defaults are Kafka's where Kafka has one.
struct ControllerConfig {
    std::string cluster_id = "keel-cluster";
    Duration session_timeout = ms(9000);        // broker.session.timeout.ms
    Duration heartbeat_interval = ms(2000);     // broker.heartbeat.interval.ms (brokers)
    int32_t default_num_partitions = 1;         // num.partitions (CreateTopics with -1)
    int16_t default_replication_factor = 1;     // default.replication.factor
    int32_t partitions_per_request_max = 10'000;
    // Planted bug for the simulator's negative tests (never set in production): a session
    // fence writes the FenceBrokerRecord but leaves the broker in every ISR (and leading).
    // The MetadataChecker's isr rule must report it.
    bool bug_fence_leaves_isr = false;
};

// What a command writes and answers. `records` are one atomic batch (empty: nothing to
// write, answer at once).
template <typename Reply>
struct ControllerResult {
    std::vector<MetadataRecord> records;
    Reply reply;
};

// ---------------------------------------------------------------- broker registration

struct RegistrationInput {
    NodeId broker_id{-1};
    std::string cluster_id;
    Uuid incarnation_id;
    std::vector<BrokerEndpoint> listeners;
    std::vector<BrokerFeature> features;
    std::optional<std::string> rack;
};

// A broker (re)registers. The new registration is fenced; if an older one of the same id
// still leads or sits in ISRs, those partitions are changed first (it is not acceptable as
// a leader any more). Requires new_epoch > the old registration's epoch.
// Errors: inconsistent_cluster_id; invalid_request (negative id);
// duplicate_broker_registration (another incarnation of this id is unfenced and has a
// live session; a fenced one has none).
Result<ControllerResult<BrokerEpoch>> register_broker(const MetadataImage& image, const RegistrationInput& in,
                                                      BrokerEpoch new_epoch, bool has_live_session,
                                                      const ControllerConfig& config);

// -------------------------------------------------------------------- broker heartbeat

struct HeartbeatInput {
    NodeId broker_id{-1};
    BrokerEpoch broker_epoch{-1};
    Offset current_metadata_offset{-1};  // the last metadata offset the broker applied
    bool want_fence = false;
    bool want_shut_down = false;
};

struct HeartbeatReply {
    bool is_caught_up = false;
    bool is_fenced = true;
    bool should_shut_down = false;
    bool operator==(const HeartbeatReply&) const = default;
};

// A heartbeat (the caller has refreshed the broker's session). Transitions:
//   fenced, caught up (offset >= epoch), not wanting fence  → unfenced; leaderless
//       partitions it can lead get elections
//   unfenced, want_fence                                    → fenced (as on session expiry)
//   active, want_shut_down                                  → controlled shutdown: it leaves
//       every ISR (but the last-standing ones) and leads nothing
//   in controlled shutdown (its moves committed), want_shut_down → fenced; should_shut_down
//   fenced, want_shut_down                                  → should_shut_down
// Kafka also waits for the broker to apply the controlled-shutdown records before answering
// should_shut_down; here the previous heartbeat's answer came only after they committed,
// one heartbeat interval earlier.
// Errors: broker_not_registered, stale_broker_epoch.
Result<ControllerResult<HeartbeatReply>> broker_heartbeat(const MetadataImage& image, const HeartbeatInput& in);

// The records that fence broker `b` (session expired or asked to be fenced): it leaves
// every ISR (but the last-standing ones), partitions it led elect new leaders, then
// FenceBrokerRecord. Requires `b` registered and unfenced.
std::vector<MetadataRecord> fence_broker(const MetadataImage& image, NodeId b);

// Elections for every leaderless partition that could get a leader now (an ISR member is
// back, or unclean election was enabled). Kafka runs this on unfence and periodically.
std::vector<MetadataRecord> elect_leaderless(const MetadataImage& image);

// ----------------------------------------------------------------------- create topics

struct CreatableTopic {
    std::string name;
    int32_t num_partitions = -1;     // -1: ControllerConfig default (or the assignment's)
    int16_t replication_factor = -1; // -1: ControllerConfig default (or the assignment's)
    std::map<int32_t, std::vector<NodeId>> assignments;  // manual: partition -> replicas
    std::vector<std::pair<std::string, std::optional<std::string>>> configs;
};

struct CreatableTopicResult {
    std::string name;
    Status status;  // ok, or why this topic was not created
    Uuid topic_id;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
};

// Creates topics. Each topic succeeds or fails on its own; the successful ones are written
// as one batch: TopicRecord, its ConfigRecords, its PartitionRecords (ISR = the active
// replicas, leader = the first of them in replica order, epochs 0). Automatic placement
// spreads replicas and leaders evenly over the active brokers (sorted by id), Kafka's
// rack-unaware round robin: partition p's first replica is broker (p + start) mod n, the
// others follow at a shift that grows every n partitions; `start` and the shift are drawn
// from `random`, as Kafka draws them. Topic ids come from `random` too.
// Per-topic errors: invalid_topic (illegal name), invalid_request (duplicated in the
// request; assignments together with a count), topic_already_exists, invalid_partitions,
// invalid_replication_factor (< 1 or more than the active brokers),
// invalid_replica_assignment, invalid_config. validate_only: answer, write nothing.
ControllerResult<std::vector<CreatableTopicResult>> create_topics(const MetadataImage& image,
                                                                  const std::vector<CreatableTopic>& topics,
                                                                  bool validate_only, const ControllerConfig& config,
                                                                  env::Random& random);

// The placement alone: replicas for `partitions` partitions over `brokers` (which must
// hold at least `replication_factor` ids), Kafka's round robin from `start` and `shift`.
std::vector<std::vector<NodeId>> place_replicas(const std::vector<NodeId>& brokers, int32_t partitions,
                                                int16_t replication_factor, size_t start, size_t shift);

// Kafka's topic-name rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
Status validate_topic_name(const std::string& name);
// validate_topic_config (topic_configs.h) checks each config's name and value.

// ----------------------------------------------------------------------- delete topics

struct DeletableTopic {
    std::optional<std::string> name;  // by name (DeleteTopics v0-5, or v6 with a zero id)
    Uuid topic_id;                    // by id (v6, name null)
};

struct DeletableTopicResult {
    std::optional<std::string> name;  // the topic's name (also when deleted by id)
    Uuid topic_id;                    // the topic's id (also when deleted by name)
    Status status;
};

// Kafka's internal topics (Topic.isInternal): __consumer_offsets, __transaction_state.
bool is_internal_topic(std::string_view name);

// Deletes topics (Kafka's ReplicationControlManager.deleteTopics): one RemoveTopicRecord
// per topic, all in one batch; the image then drops each topic with its partitions and
// configs. Each topic succeeds or fails on its own. Per-topic errors:
// unknown_topic_or_partition (no topic of that name), unknown_topic_id (no topic of that
// id), invalid_request (both or neither of name and id; the same topic twice; an internal
// topic, which the group coordinator needs).
ControllerResult<std::vector<DeletableTopicResult>> delete_topics(const MetadataImage& image,
                                                                  const std::vector<DeletableTopic>& topics);

// --------------------------------------------------------------------- create partitions

struct PartitionIncrease {
    std::string name;
    int32_t count = 0;  // the new total number of partitions
    // The replicas of each new partition (count - current entries), or none: placed as
    // create_topics places them.
    std::optional<std::vector<std::vector<NodeId>>> assignments;
};

struct PartitionIncreaseResult {
    std::string name;
    Status status;
};

// Adds partitions to existing topics (CreatePartitions, Kafka's
// ReplicationControlManager.createPartitions): one PartitionRecord per new partition
// (indexes current..count-1; ISR = the active replicas, leader = the first of them, epochs
// 0), with the topic's replication factor (partition 0's replica count). Automatic
// placement is create_topics' round robin, continued from the existing partition count so
// leaders keep spreading. Each topic succeeds or fails on its own; the successful ones are
// one batch. Per-topic errors: unknown_topic_or_partition; invalid_request (the same topic
// twice; an internal topic, whose partition count the group coordinator's mapping of group
// to partition depends on); invalid_partitions (count not above the current count, or
// above the per-request limit); invalid_replica_assignment (not exactly one assignment per
// new partition, a replica count unlike the topic's, an unregistered or duplicate broker,
// every replica fenced); invalid_replication_factor (fewer unfenced brokers than the
// topic's replication factor, automatic placement). validate_only: answer, write nothing.
ControllerResult<std::vector<PartitionIncreaseResult>> create_partitions(const MetadataImage& image,
                                                                         const std::vector<PartitionIncrease>& topics,
                                                                         bool validate_only,
                                                                         const ControllerConfig& config,
                                                                         env::Random& random);

// ------------------------------------------------------------------------ alter configs

// IncrementalAlterConfigs' operations (KIP-339).
enum class ConfigOp : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct ConfigChange {
    std::string name;
    ConfigOp op = ConfigOp::set;
    std::optional<std::string> value;
};

struct ConfigResourceChange {
    int8_t resource_type = config_resource_topic;
    std::string resource_name;
    std::vector<ConfigChange> changes;
    // AlterConfigs (api 33): the changes are the resource's whole dynamic config; every
    // config set now and not named is removed.
    bool replace_all = false;
};

struct ConfigResourceResult {
    int8_t resource_type = config_resource_topic;
    std::string resource_name;
    Status status;
};

// Changes topics' dynamic configs (Kafka's ConfigurationControlManager): one ConfigRecord
// per config whose value changes (a removal writes a null value), all resources' records
// in one batch; each resource succeeds or fails whole, on its own. Append and subtract
// apply to list configs (cleanup.policy), starting from the topic's value or Kafka's
// default. Per-resource errors: unknown_topic_or_partition; invalid_request (a resource
// type other than topic — dynamic broker configs are not supported —, the same resource
// twice, a config named twice, an unknown operation, a set with a null value);
// invalid_config (an unknown config, a bad value, append or subtract on a config that is
// not a list, a list left empty). validate_only: answer, write nothing.
ControllerResult<std::vector<ConfigResourceResult>> alter_configs(const MetadataImage& image,
                                                                  const std::vector<ConfigResourceChange>& resources,
                                                                  bool validate_only);

// ---------------------------------------------------------------------- alter partition

struct IsrMember {
    NodeId broker_id{-1};
    BrokerEpoch broker_epoch{-1};  // -1: do not check (AlterPartition < v3)
};

struct AlterPartitionInput {
    struct Partition {
        PartitionIndex partition{0};
        LeaderEpoch leader_epoch{0};
        std::vector<IsrMember> new_isr;
        int8_t leader_recovery_state = leader_recovered;
        PartitionEpoch partition_epoch{0};
    };
    struct Topic {
        Uuid topic_id;
        std::vector<Partition> partitions;
    };
    NodeId broker_id{-1};
    BrokerEpoch broker_epoch{-1};
    std::vector<Topic> topics;
};

struct AlterPartitionResult {
    struct Partition {
        PartitionIndex partition{0};
        Status status;
        // The partition's state once the change is applied (on success).
        NodeId leader{no_leader};
        LeaderEpoch leader_epoch{-1};
        std::vector<NodeId> isr;
        int8_t leader_recovery_state = leader_recovered;
        PartitionEpoch partition_epoch{-1};
    };
    struct Topic {
        Uuid topic_id;
        std::vector<Partition> partitions;
    };
    std::vector<Topic> topics;
};

// A partition leader proposes a new ISR (KIP-497, KIP-841, KIP-903). Accepted only from
// the current leader at the current leader epoch and partition epoch; the new ISR must be
// replicas, contain the leader, and hold only active brokers whose epochs match.
// Whole-request error: stale_broker_epoch (unknown broker or epoch mismatch). Per
// partition: unknown_topic_id, unknown_topic_or_partition, not_controller (the request has
// newer epochs than this image: this controller is behind), fenced_leader_epoch (older
// leader epoch), invalid_request (not the leader; bad ISR; ISR without the leader; bad
// recovery state), invalid_partition_epoch (INVALID_UPDATE_VERSION: older partition
// epoch), ineligible_replica (a fenced, shutting-down, unknown or stale-epoch member).
Result<ControllerResult<AlterPartitionResult>> alter_partition(const MetadataImage& image,
                                                               const AlterPartitionInput& in);

// ------------------------------------------------------------------ producer id blocks

// A broker asks for a block of producer ids (AllocateProducerIds, KIP-730; Kafka's
// ProducerIdControlManager): the next `producer_id_block_size` ids, [next, next + 1000)
// where next = image.next_producer_id(), and the ProducerIdsRecord that takes them
// (next_producer_id = next + 1000). Fencing does not matter (Kafka does not check it).
// Errors: stale_broker_epoch (the broker is not registered, or at another epoch; Kafka
// answers STALE_BROKER_EPOCH to both), unknown (the int64 ids are exhausted).
Result<ControllerResult<ProducerIdBlock>> allocate_producer_ids(const MetadataImage& image, NodeId broker_id,
                                                                BrokerEpoch broker_epoch);

}  // namespace keel::controller
