// MetadataImage: the in-memory table of the controller pattern (command → replicated log →
// in-memory table → reconciling backend). Every controller and every broker holds one and
// feeds it the committed metadata log, in order, through raft::StateMachine; all of them
// therefore hold the same image at the same offset.
//
// A RemoveTopicRecord takes a topic out whole: its partitions and its topic configs (Kafka's
// replay of it deletes the topic's configs too); its name is free for a new topic (with a
// new id) from then on.
//
// Contents: broker registrations (epoch, incarnation, endpoints, fenced, in controlled
// shutdown), topics and their partitions (replicas, ISR, leader, leader epoch, partition
// epoch, leader recovery state), dynamic configs, and the next producer id (the first id
// of the next block the controller will hand out; ProducerIdsRecord). Iteration order is
// deterministic (std::map everywhere).
//
// The log is the truth: a record that does not apply cleanly is a bug in the controller
// that wrote it, so apply() asserts (KEEL_ASSERT, with check_record's reason). The
// invariants checked after every record:
//   - ISR ⊆ replicas, no duplicates, never empty; replicas are registered brokers.
//   - leader = -1, or the leader is in the ISR and active (unfenced, not in controlled
//     shutdown).
//   - an inactive broker is in an ISR only as its last member, and then the partition has
//     no leader (Kafka's "last replica standing": without ELR the controller never empties
//     an ISR, so the broker that may hold every committed record can be elected cleanly
//     when it returns).
//   - broker epochs of one broker id only increase; partition and leader epochs only
//     increase (implied by PartitionChangeRecord's semantics).
//
// Snapshots: take_snapshot() writes the image as one metadata batch — ConfigRecords,
// RegisterBrokerRecords (with their fenced / controlled-shutdown state), then per topic a
// TopicRecord and its PartitionRecords, then (once any block was handed out) a
// ProducerIdsRecord with broker id and epoch -1. restore_snapshot() of those bytes yields an image
// equal (operator==) to the one that wrote them; tests check that a snapshot at any offset
// plus the rest of the log equals replaying the whole log.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/controller/metadata_records.h"
#include "core/raft/state_machine.h"

namespace keel::controller {

struct BrokerRegistration {
    NodeId id{-1};
    Uuid incarnation_id;
    BrokerEpoch epoch{-1};
    std::vector<BrokerEndpoint> endpoints;
    std::vector<BrokerFeature> features;
    std::optional<std::string> rack;
    bool fenced = true;
    bool in_controlled_shutdown = false;

    // May lead and join ISRs: neither fenced nor shutting down (KIP-841).
    bool active() const { return !fenced && !in_controlled_shutdown; }
    bool operator==(const BrokerRegistration&) const = default;
};

struct PartitionState {
    std::vector<NodeId> replicas;  // preferred order; replicas[0] is the preferred leader
    std::vector<NodeId> isr;
    NodeId leader{no_leader};
    int8_t leader_recovery_state = leader_recovered;
    LeaderEpoch leader_epoch{0};
    PartitionEpoch partition_epoch{0};

    bool has_leader() const { return leader.value() >= 0; }
    bool in_isr(NodeId b) const;
    bool is_replica(NodeId b) const;
    bool operator==(const PartitionState&) const = default;
};

struct TopicState {
    std::string name;
    Uuid id;
    std::map<PartitionIndex, PartitionState> partitions;
    bool operator==(const TopicState&) const = default;
};

struct TopicPartition {
    Uuid topic_id;
    PartitionIndex partition{0};
    auto operator<=>(const TopicPartition&) const = default;
};

// (ConfigRecord.resource_type, resource_name)
using ConfigResource = std::pair<int8_t, std::string>;

inline constexpr std::string_view unclean_leader_election_config = "unclean.leader.election.enable";

class MetadataImage final : public raft::StateMachine {
public:
    // --- raft::StateMachine
    // Decodes the entry as a metadata batch and applies its records in order. Asserts that
    // it decodes, that offset >= end_offset(), and that every record applies cleanly.
    void apply(Offset offset, QuorumEpoch epoch, ByteView record) override;
    Bytes take_snapshot(Offset end_offset) override;
    // Errors: Errc::corrupt (the bytes do not decode, or a record in them does not apply
    // cleanly); the image is then unchanged.
    Status restore_snapshot(Offset end_offset, ByteView data) override;

    // --- The same, on decoded records.
    void apply_batch(Offset offset, const std::vector<MetadataRecord>& records);
    // Asserts check_record(r).ok().
    void apply_record(const MetadataRecord& r);
    // OK iff `r` applies cleanly to this image; else Errc::invalid_record saying why.
    Status check_record(const MetadataRecord& r) const;
    // Whether the image holds its invariants (see the header comment); each violation as a
    // sentence. Always empty for an image built by apply_record (a test aid and a checker).
    std::vector<std::string> invariant_violations() const;

    // The image as records (the snapshot's content).
    std::vector<MetadataRecord> to_records() const;

    // --- Queries.
    Offset end_offset() const { return end_offset_; }  // one past the last applied entry
    const std::map<NodeId, BrokerRegistration>& brokers() const { return brokers_; }
    const BrokerRegistration* broker(NodeId id) const;
    // Test-only: plants the skipped partition-epoch bump (see bug_skip_partition_epoch_bump_).
    void plant_bug_skip_partition_epoch_bump(bool on) { bug_skip_partition_epoch_bump_ = on; }
    // Test-only: apply records unchecked (see trust_log_).
    void set_trust_log(bool on) { trust_log_ = on; }
    bool is_active(NodeId id) const;  // registered, unfenced, not in controlled shutdown
    const std::map<Uuid, TopicState>& topics() const { return topics_; }
    const TopicState* topic(const Uuid& id) const;
    const TopicState* topic_by_name(std::string_view name) const;
    const PartitionState* partition(const Uuid& topic_id, PartitionIndex p) const;
    const PartitionState* partition(const TopicPartition& tp) const {
        return partition(tp.topic_id, tp.partition);
    }
    const std::map<ConfigResource, std::map<std::string, std::string>>& configs() const {
        return configs_;
    }
    std::optional<std::string> config(int8_t resource_type, const std::string& resource_name,
                                      std::string_view name) const;
    // The topic's unclean.leader.election.enable, else the cluster default (broker resource
    // ""), else false (Kafka's default since 0.11).
    bool unclean_leader_election_enabled(const std::string& topic_name) const;

    std::vector<TopicPartition> partitions_led_by(NodeId b) const;
    std::vector<TopicPartition> partitions_with_isr_member(NodeId b) const;
    std::vector<TopicPartition> leaderless_partitions() const;
    size_t partition_count() const;
    // The first id of the next producer id block (0 before any block was handed out).
    int64_t next_producer_id() const { return next_producer_id_; }

    bool operator==(const MetadataImage& o) const {
        return end_offset_ == o.end_offset_ && brokers_ == o.brokers_ && topics_ == o.topics_ &&
               configs_ == o.configs_ && next_producer_id_ == o.next_producer_id_;
    }
    // Multi-line text (test failures and scenario notes).
    std::string describe() const;

    // Called after every applied entry (restored = false) and after every snapshot restore
    // (restored = true). For checkers; not part of the state (not compared, not copied).
    using Observer = std::function<void(const MetadataImage&, bool restored)>;
    void set_observer(Observer o) { observer_.fn = std::move(o); }


private:
    Status check(const RegisterBrokerRecord& r) const;
    Status check(const TopicRecord& r) const;
    Status check(const PartitionRecord& r) const;
    Status check(const ConfigRecord& r) const;
    Status check(const PartitionChangeRecord& r) const;
    Status check(const FenceBrokerRecord& r) const;
    Status check(const UnfenceBrokerRecord& r) const;
    Status check(const BrokerRegistrationChangeRecord& r) const;
    Status check(const NoOpRecord&) const { return ok_status(); }
    Status check(const ProducerIdsRecord& r) const;
    Status check(const RemoveTopicRecord& r) const;
    Status check_partition_state(const PartitionState& p) const;
    Status check_inactive_broker(NodeId b) const;
    Status check_epoch(NodeId id, BrokerEpoch epoch) const;

    void put(const RegisterBrokerRecord& r);
    void put(const TopicRecord& r);
    void put(const PartitionRecord& r);
    void put(const ConfigRecord& r);
    void put(const PartitionChangeRecord& r);
    void put(const FenceBrokerRecord& r);
    void put(const UnfenceBrokerRecord& r);
    void put(const BrokerRegistrationChangeRecord& r);
    void put(const NoOpRecord&) {}
    void put(const ProducerIdsRecord& r) { next_producer_id_ = r.next_producer_id; }
    void put(const RemoveTopicRecord& r);

    Offset end_offset_{0};
    std::map<NodeId, BrokerRegistration> brokers_;
    std::map<Uuid, TopicState> topics_;
    std::map<std::string, Uuid, std::less<>> topic_ids_;  // by name; derived from topics_
    std::map<ConfigResource, std::map<std::string, std::string>> configs_;
    int64_t next_producer_id_ = 0;
    // Planted bug for the simulator's negative tests (never set in production): a
    // PartitionChangeRecord that keeps the leader leaves the partition epoch as it was, so
    // an ISR change is invisible to AlterPartition's epoch check. The MetadataChecker's
    // partition-epoch rule must report it.
    bool bug_skip_partition_epoch_bump_ = false;
    // Test-only: apply records without checking them first, as Kafka's MetadataDelta
    // replays its log. A planted controller bug then reaches every image (and the
    // MetadataChecker) instead of stopping every node at apply_record's assertion.
    bool trust_log_ = false;
    // Copies of an image do not inherit its observer.
    struct ObserverSlot {
        Observer fn;
        ObserverSlot() = default;
        ObserverSlot(const ObserverSlot&) {}
        ObserverSlot& operator=(const ObserverSlot&) { return *this; }
    };
    ObserverSlot observer_;
};

// The state a partition has after `change` is applied to `p` (Kafka's
// PartitionRegistration.merge): absent fields keep their value, the partition epoch goes
// up by one, the leader epoch by one when `change.leader` is not -2.
PartitionState merge(const PartitionState& p, const PartitionChangeRecord& change);

std::string describe(const PartitionState& p);

}  // namespace keel::controller
