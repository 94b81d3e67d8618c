// The "cooperative-sticky" assignor (KIP-429, Kafka's CooperativeStickyAssignor; see
// assignor.h). One assignment is computed in four steps, all in sorted order so the
// result depends only on the input:
//
//   1. keep: every partition a member claims in owned_partitions stays with it if the
//      member is still subscribed to its topic; when several members claim it, the one
//      with the highest generation keeps it (ties: the smallest member id).
//   2. fill: the other partitions, those with the fewest eligible members first, each go
//      to the eligible member with the fewest partitions.
//   3. balance: while a member holds a partition that a member with at least two fewer
//      partitions could take, move it there (freshly filled partitions before kept ones).
//      Each move lowers the sum of squared counts, so this ends; at the end members with
//      the same subscription differ by at most one partition.
//   4. cooperate: a partition given to a member that did not claim it, while some other
//      member claims it, is left out of this round: its owner revokes it (it is missing
//      from the owner's assignment) and the follow-up rebalance assigns it.
//
// The generation of a member is its subscription's generation_id, or else (older
// clients) the int32 at the start of its user data, as Kafka's assignor encodes it.
#include <algorithm>
#include <set>

#include "core/client/assignor.h"

namespace keel::client {
namespace {

using TP = TopicPartitionName;

int32_t generation_of(const Subscription& s) {
    if (s.generation_id >= 0) return s.generation_id;
    if (s.user_data && s.user_data->size() >= 4) {
        ByteReader r(*s.user_data);
        return r.i32();
    }
    return -1;
}

struct Plan {
    std::map<std::string, std::set<std::string>> subs;       // member → subscribed existing topics
    std::map<std::string, std::vector<std::string>> eligible;  // topic → members subscribed
    std::map<std::string, std::set<TP>> assigned;             // member → partitions
    std::set<TP> kept;                                         // partitions kept from step 1

    size_t count(const std::string& m) const { return assigned.at(m).size(); }
};

Plan make_plan(const std::map<std::string, int32_t>& parts, const std::map<std::string, Subscription>& members) {
    Plan plan;
    for (const auto& [id, sub] : members) {
        auto& topics = plan.subs[id];
        for (const auto& t : sub.topics) {
            auto it = parts.find(t);
            if (it != parts.end() && it->second > 0) topics.insert(t);
        }
        for (const auto& t : topics) plan.eligible[t].push_back(id);
        plan.assigned[id];
    }
    return plan;
}

// Step 1: the valid claim with the highest generation wins each partition.
void keep_owned(Plan& plan, const std::map<std::string, int32_t>& parts,
                const std::map<std::string, Subscription>& members) {
    std::map<TP, std::pair<int32_t, std::string>> winner;  // partition → (generation, member)
    for (const auto& [id, sub] : members) {
        const int32_t gen = generation_of(sub);
        for (const auto& tp : sub.owned_partitions) {
            if (!plan.subs[id].contains(tp.topic)) continue;
            if (tp.partition.value() < 0 || tp.partition.value() >= parts.at(tp.topic)) continue;
            auto [it, inserted] = winner.try_emplace(tp, gen, id);
            if (!inserted && gen > it->second.first) it->second = {gen, id};
        }
    }
    for (const auto& [tp, w] : winner) {
        plan.assigned[w.second].insert(tp);
        plan.kept.insert(tp);
    }
}

// The eligible member with the fewest partitions (ties: smallest id).
const std::string& lightest(const Plan& plan, const std::string& topic) {
    const auto& candidates = plan.eligible.at(topic);
    const std::string* best = &candidates.front();
    for (const auto& m : candidates) {
        if (plan.count(m) < plan.count(*best)) best = &m;
    }
    return *best;
}

// Step 2.
void fill(Plan& plan, const std::map<std::string, int32_t>& parts) {
    std::vector<std::pair<size_t, TP>> todo;  // (eligible members, partition)
    for (const auto& [topic, ids] : plan.eligible) {
        for (int32_t p = 0; p < parts.at(topic); p++) {
            TP tp{topic, PartitionIndex(p)};
            if (!plan.kept.contains(tp)) todo.push_back({ids.size(), tp});
        }
    }
    std::sort(todo.begin(), todo.end());
    for (const auto& [n, tp] : todo) plan.assigned[lightest(plan, tp.topic)].insert(tp);
}

// One move of step 3 from `from`, if any: freshly filled partitions first.
bool move_one(Plan& plan, const std::string& from) {
    for (bool moving_kept : {false, true}) {
        for (const auto& tp : plan.assigned[from]) {
            if (plan.kept.contains(tp) != moving_kept) continue;
            const std::string& to = lightest(plan, tp.topic);
            if (plan.count(to) + 2 > plan.count(from)) continue;
            const TP moved = tp;
            plan.assigned[from].erase(moved);
            plan.assigned[to].insert(moved);
            plan.kept.erase(moved);
            return true;
        }
    }
    return false;
}

// Step 3: the most loaded members give first.
void balance(Plan& plan) {
    for (;;) {
        std::vector<std::pair<size_t, std::string>> order;
        for (const auto& [id, tps] : plan.assigned) order.push_back({tps.size(), id});
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        bool moved = false;
        for (const auto& [n, id] : order) {
            if (move_one(plan, id)) {
                moved = true;
                break;
            }
        }
        if (!moved) return;
    }
}

// Step 4.
std::map<std::string, Assignment> cooperate(const Plan& plan, const std::map<std::string, Subscription>& members) {
    std::map<TP, std::set<std::string>> claimed_by;
    for (const auto& [id, sub] : members) {
        for (const auto& tp : sub.owned_partitions) claimed_by[tp].insert(id);
    }
    std::map<std::string, Assignment> out;
    for (const auto& [id, tps] : plan.assigned) {
        auto& partitions = out[id].partitions;
        for (const auto& tp : tps) {
            auto it = claimed_by.find(tp);
            const bool taken_from_owner = it != claimed_by.end() && !it->second.contains(id);
            if (!taken_from_owner) partitions.push_back(tp);
        }
    }
    return out;
}

class CooperativeStickyAssignor final : public Assignor {
public:
    std::string_view name() const override { return "cooperative-sticky"; }
    RebalanceProtocol protocol() const override { return RebalanceProtocol::cooperative; }

    std::map<std::string, Assignment> assign(const std::map<std::string, int32_t>& parts,
                                             const std::map<std::string, Subscription>& members) const override {
        Plan plan = make_plan(parts, members);
        keep_owned(plan, parts, members);
        fill(plan, parts);
        balance(plan);
        return cooperate(plan, members);
    }
};

}  // namespace

std::unique_ptr<Assignor> make_cooperative_sticky_assignor() { return std::make_unique<CooperativeStickyAssignor>(); }

}  // namespace keel::client
