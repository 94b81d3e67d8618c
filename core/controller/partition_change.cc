#include "core/controller/partition_change.h"

#include <algorithm>

namespace keel::controller {

PartitionChangeBuilder::PartitionChangeBuilder(const Uuid& topic_id, PartitionIndex partition,
                                               const PartitionState& current, Acceptable acceptable)
    : topic_id_(topic_id), partition_(partition), current_(current), acceptable_(std::move(acceptable)) {}

PartitionChangeBuilder& PartitionChangeBuilder::set_target_isr(std::vector<NodeId> isr) {
    target_isr_ = std::move(isr);
    return *this;
}

PartitionChangeBuilder& PartitionChangeBuilder::set_election(Election e) {
    election_ = e;
    return *this;
}

PartitionChangeBuilder& PartitionChangeBuilder::set_target_leader_recovery_state(int8_t state) {
    target_recovery_ = state;
    return *this;
}

bool PartitionChangeBuilder::valid_leader(NodeId r, const std::vector<NodeId>& target_isr) const {
    return r.value() >= 0 && std::find(target_isr.begin(), target_isr.end(), r) != target_isr.end() &&
           acceptable_(r);
}

PartitionChangeBuilder::ElectionResult PartitionChangeBuilder::elect(const std::vector<NodeId>& target_isr) const {
    if (valid_leader(current_.leader, target_isr)) return {current_.leader, false};
    for (NodeId r : current_.replicas) {
        if (valid_leader(r, target_isr)) return {r, false};
    }
    if (election_ == Election::unclean) {
        for (NodeId r : current_.replicas) {
            if (acceptable_(r)) return {r, true};
        }
    }
    return {NodeId(no_leader), false};
}

std::optional<PartitionChangeRecord> PartitionChangeBuilder::build() const {
    std::vector<NodeId> target = target_isr_.value_or(current_.isr);
    // Last replica standing: never empty the ISR.
    if (target.empty()) target = current_.isr;

    PartitionChangeRecord record;
    record.topic_id = topic_id_;
    record.partition_id = partition_;
    bool changed = false;

    ElectionResult e = elect(target);
    if (e.leader != current_.leader) {
        record.leader = e.leader;
        changed = true;
        if (e.unclean) {
            // The new leader's log becomes the truth: it alone is in sync with itself.
            record.isr = std::vector<NodeId>{e.leader};
            if (current_.leader_recovery_state != leader_recovering) record.leader_recovery_state = leader_recovering;
        }
    }
    if (!record.isr && target != current_.isr) {
        record.isr = target;
        changed = true;
    }
    if (target_recovery_ && record.leader_recovery_state == -1 && *target_recovery_ != current_.leader_recovery_state) {
        record.leader_recovery_state = *target_recovery_;
        changed = true;
    }
    if (!changed) return std::nullopt;
    return record;
}

}  // namespace keel::controller
