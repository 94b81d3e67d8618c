// KIP-848's "consumer" group protocol on the coordinator (Kafka 4.0's default): the state
// of a group of type consumer, the server-side assignors and the records that persist it.
// The handlers live in consumer_protocol_heartbeat.cc (ConsumerGroupHeartbeat, session and
// revocation timers, ConsumerGroupDescribe), consumer_protocol_assign.cc (the assignors)
// and consumer_protocol_records.cc (the __consumer_offsets records and loading).
//
// Epochs. The group epoch rises whenever membership, a member's subscription or assignor,
// or the partition count of a subscribed topic changes. The target assignment is then
// recomputed by the group's assignor ("uniform" by default, or "range"; the members'
// server_assignor field, most-voted wins) and stamped with the group epoch (the
// assignment epoch). Each member has a member epoch: it moves to the assignment epoch once
// the member's current assignment is reconciled with its target.
//
// Incremental reconciliation (Kafka's CurrentAssignmentBuilder, simplified): a member
// that owns partitions outside its target is first sent its current assignment minus those
// (state unrevoked, member epoch unchanged); once its heartbeat's owned partitions show
// them gone, it moves to the assignment epoch and gets the target's partitions that no
// other member still owns or is revoking (the rest, "unreleased", follow on a later
// heartbeat). So a partition never has two owners at once.
//
// Persistence (kept in the same __consumer_offsets partition as the group's offsets):
// record key versions 3, 5, 6, 7 and 8 as Kafka numbers them (ConsumerGroupMetadata,
// ConsumerGroupMemberMetadata, ConsumerGroupTargetAssignmentMetadata,
// ConsumerGroupTargetAssignmentMember, ConsumerGroupCurrentMemberAssignment), keys as
// Kafka's (int16 version, group id, member id), values in Keel's own flexible encoding
// with topic NAMES rather than topic ids (not byte-compatible with Kafka's values; the
// partition-metadata record, version 4, is not written). A null value is a tombstone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/group/group_log.h"
#include "core/protocol/codec.h"

namespace keel::group {

// topic name -> partitions
using PartitionSet = std::map<std::string, std::set<int32_t>>;

PartitionSet minus(const PartitionSet& a, const PartitionSet& b);
PartitionSet unite(const PartitionSet& a, const PartitionSet& b);
bool intersects(const PartitionSet& a, const PartitionSet& b);
size_t count(const PartitionSet& a);

enum class CgMemberState : int8_t { stable = 0, unrevoked = 1, unreleased = 2 };

struct CgMember {
    std::string id;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    std::string client_id;
    std::string client_host;
    std::vector<std::string> topics;  // subscribed topic names, sorted
    std::string assignor;             // server_assignor ("" = the default)
    int32_t rebalance_timeout_ms = 300'000;
    int32_t epoch = 0;
    int32_t previous_epoch = -1;
    CgMemberState state = CgMemberState::stable;
    PartitionSet assigned;  // what the member owns (as far as the coordinator knows)
    PartitionSet revoking;  // partitions the member must give up
    Instant session_deadline{};
    Instant revoke_deadline{};
};

struct ConsumerGroupState {
    int32_t group_epoch = 0;
    int32_t assignment_epoch = 0;
    std::map<std::string, CgMember> members;
    std::map<std::string, PartitionSet> target;  // member id -> target assignment
    std::map<std::string, int32_t> topic_partitions;  // subscribed topics' counts at the last epoch
    // Members removed whose tombstones no store has written yet (in memory only): every store
    // writes them until one succeeds. A removal's own store may fail (an expiry's is not even
    // awaited), and the later stores write only the members still there: without this a
    // reload would bring the removed member back, with its old epoch and assignment, beside
    // the members its partitions went to (group-chaos seed 1068).
    std::set<std::string> removed;
};

// The assignors. `topics` holds the partition count of every subscribed topic that exists;
// `previous` the current target (uniform is sticky with it). Deterministic.
std::map<std::string, PartitionSet> assign_uniform(const std::map<std::string, CgMember>& members,
                                                   const std::map<std::string, int32_t>& topics,
                                                   const std::map<std::string, PartitionSet>& previous);
std::map<std::string, PartitionSet> assign_range(const std::map<std::string, CgMember>& members,
                                                 const std::map<std::string, int32_t>& topics);
bool known_assignor(const std::string& name);

// Recomputes the target assignment with the most-voted assignor (ties: the smallest name;
// none: uniform) and stamps it with the group epoch.
void compute_target(ConsumerGroupState& s, const std::map<std::string, int32_t>& topics);

// One reconciliation step of member `m` (see the header comment); `owned` is what its
// heartbeat says it owns (nullopt: not sent). True if the member's state changed.
bool reconcile(ConsumerGroupState& s, CgMember& m, const std::optional<PartitionSet>& owned, Instant now);

// ---- records ----

// The records of one group's state (group epoch, the tombstones of the members in
// `s.removed` that are not members again, every member's metadata, the target assignment,
// every member's current assignment).
std::vector<OffsetsRecord> consumer_group_records(const std::string& group_id, const ConsumerGroupState& s);
// The tombstones of one member's records.
std::vector<OffsetsRecord> consumer_member_tombstones(const std::string& group_id, const std::string& member_id);

// The tombstones of the group's own records (epoch, assignment epoch): DeleteGroups.
std::vector<OffsetsRecord> consumer_group_tombstones(const std::string& group_id);

// Replays records (key versions 3..8) into groups under construction; other versions are
// ignored. A group whose metadata record was deleted disappears.
class ConsumerGroupLoader {
public:
    void apply(const OffsetsRecord& rec);
    // The groups replayed (those with a metadata record); the loader is empty afterwards.
    std::map<std::string, ConsumerGroupState> take();

private:
    std::map<std::string, ConsumerGroupState> groups_;
    std::set<std::string> present_;  // groups with a metadata record
};

}  // namespace keel::group
