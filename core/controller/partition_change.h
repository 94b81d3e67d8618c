// PartitionChangeBuilder: from a partition's current state and a wanted ISR, the one
// PartitionChangeRecord (or none) that gets there, electing a leader when the current one
// may no longer lead. Kafka's PartitionChangeBuilder without ELR (KIP-966) and without
// reassignment.
//
// Election, in order:
//   1. keep the current leader if it is in the target ISR and acceptable;
//   2. else the first replica (in replica order) that is in the target ISR and acceptable;
//   3. else, if the election is unclean (unclean.leader.election.enable), the first
//      acceptable replica, in or out of the ISR: the ISR becomes just that replica and the
//      leader is marked RECOVERING (KIP-704) — records only it had may be lost;
//   4. else no leader (-1): the partition is offline until an ISR member returns.
// A target ISR that would be empty leaves the ISR unchanged: Kafka never empties an ISR
// without ELR, so its last member can be elected cleanly when it comes back ("last replica
// standing").
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "core/controller/metadata_image.h"
#include "core/controller/metadata_records.h"

namespace keel::controller {

enum class Election : uint8_t { clean, unclean };

class PartitionChangeBuilder {
public:
    using Acceptable = std::function<bool(NodeId)>;

    // `acceptable` says who may lead (usually: active, and not the broker being removed).
    PartitionChangeBuilder(const Uuid& topic_id, PartitionIndex partition, const PartitionState& current,
                           Acceptable acceptable);

    PartitionChangeBuilder& set_target_isr(std::vector<NodeId> isr);
    PartitionChangeBuilder& set_election(Election e);
    PartitionChangeBuilder& set_target_leader_recovery_state(int8_t state);

    // The record, or nullopt if nothing would change.
    std::optional<PartitionChangeRecord> build() const;

    struct ElectionResult {
        NodeId leader{no_leader};
        bool unclean = false;
    };
    // The leader `build` would choose for this target ISR.
    ElectionResult elect(const std::vector<NodeId>& target_isr) const;

private:
    bool valid_leader(NodeId r, const std::vector<NodeId>& target_isr) const;

    Uuid topic_id_;
    PartitionIndex partition_;
    const PartitionState& current_;
    Acceptable acceptable_;
    std::optional<std::vector<NodeId>> target_isr_;
    Election election_ = Election::clean;
    std::optional<int8_t> target_recovery_;
};

}  // namespace keel::controller
