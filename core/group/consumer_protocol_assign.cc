// KIP-848's server-side assignors and partition-set arithmetic (consumer_protocol.h).
//
// uniform: sticky and balanced. Every member keeps the partitions of its previous target
// that it is still subscribed to, up to floor(partitions / members), and (partitions %
// members) of them one more; the remaining partitions go, in topic and partition order, to the eligible member with
// the fewest partitions (ties: the smallest member id).
// range: per topic, the subscribed members in id order get contiguous ranges, the first
// (partitions % members) one partition more (Kafka's RangeAssignor).
#include <algorithm>

#include "core/group/consumer_protocol.h"

namespace keel::group {

PartitionSet minus(const PartitionSet& a, const PartitionSet& b) {
    PartitionSet out;
    for (const auto& [t, ps] : a) {
        auto it = b.find(t);
        for (int32_t p : ps) {
            if (it == b.end() || !it->second.count(p)) out[t].insert(p);
        }
    }
    return out;
}

PartitionSet unite(const PartitionSet& a, const PartitionSet& b) {
    PartitionSet out = a;
    for (const auto& [t, ps] : b) out[t].insert(ps.begin(), ps.end());
    return out;
}

bool intersects(const PartitionSet& a, const PartitionSet& b) {
    for (const auto& [t, ps] : a) {
        auto it = b.find(t);
        if (it == b.end()) continue;
        for (int32_t p : ps) {
            if (it->second.count(p)) return true;
        }
    }
    return false;
}

size_t count(const PartitionSet& a) {
    size_t n = 0;
    for (const auto& [t, ps] : a) n += ps.size();
    return n;
}

bool known_assignor(const std::string& name) { return name.empty() || name == "uniform" || name == "range"; }

namespace {

bool subscribes(const CgMember& m, const std::string& topic) {
    return std::binary_search(m.topics.begin(), m.topics.end(), topic);
}

}  // namespace

namespace {

// The previous target's partitions a member may keep: still subscribed, still existing.
std::vector<std::pair<std::string, int32_t>> keepable(const CgMember& m, const PartitionSet& prev,
                                                      const std::map<std::string, int32_t>& topics) {
    std::vector<std::pair<std::string, int32_t>> out;
    for (const auto& [t, ps] : prev) {
        auto tit = topics.find(t);
        if (tit == topics.end() || !subscribes(m, t)) continue;
        for (int32_t p : ps) {
            if (p < tit->second) out.emplace_back(t, p);
        }
    }
    return out;
}

}  // namespace

std::map<std::string, PartitionSet> assign_uniform(const std::map<std::string, CgMember>& members,
                                                   const std::map<std::string, int32_t>& topics,
                                                   const std::map<std::string, PartitionSet>& previous) {
    std::map<std::string, PartitionSet> out;
    std::map<std::string, size_t> load;
    for (const auto& [id, m] : members) {
        out[id];
        load[id] = 0;
    }
    size_t total = 0;
    for (const auto& [t, n] : topics) total += static_cast<size_t>(n);
    size_t floor = members.empty() ? 0 : total / members.size();
    size_t extras = members.empty() ? 0 : total % members.size();  // members that may hold floor + 1
    std::set<std::pair<std::string, int32_t>> taken;
    for (int round = 0; round < 2; round++) {  // keep up to floor, then one more while extras last
        for (const auto& [id, prev] : previous) {
            auto mit = members.find(id);
            if (mit == members.end()) continue;
            size_t cap = round == 0 ? floor : (extras > 0 ? floor + 1 : floor);
            for (const auto& tp : keepable(mit->second, prev, topics)) {
                if (load[id] >= cap || taken.count(tp)) continue;
                out[id][tp.first].insert(tp.second);
                load[id]++;
                taken.insert(tp);
                if (round == 1) extras--;
            }
        }
    }
    for (const auto& [t, n] : topics) {
        for (int32_t p = 0; p < n; p++) {
            if (taken.count({t, p})) continue;
            const std::string* best = nullptr;
            for (const auto& [id, m] : members) {
                if (!subscribes(m, t)) continue;
                if (best == nullptr || load[id] < load[*best]) best = &id;
            }
            if (best == nullptr) continue;
            out[*best][t].insert(p);
            load[*best]++;
        }
    }
    return out;
}

std::map<std::string, PartitionSet> assign_range(const std::map<std::string, CgMember>& members,
                                                 const std::map<std::string, int32_t>& topics) {
    std::map<std::string, PartitionSet> out;
    for (const auto& [id, m] : members) out[id];
    for (const auto& [t, n] : topics) {
        std::vector<std::string> subs;
        for (const auto& [id, m] : members) {
            if (subscribes(m, t)) subs.push_back(id);
        }
        if (subs.empty()) continue;
        int32_t per = n / static_cast<int32_t>(subs.size());
        int32_t extra = n % static_cast<int32_t>(subs.size());
        int32_t next = 0;
        for (int32_t i = 0; i < static_cast<int32_t>(subs.size()); i++) {
            int32_t len = per + (i < extra ? 1 : 0);
            for (int32_t p = next; p < next + len; p++) out[subs[static_cast<size_t>(i)]][t].insert(p);
            next += len;
        }
    }
    return out;
}

void compute_target(ConsumerGroupState& s, const std::map<std::string, int32_t>& topics) {
    std::map<std::string, int> votes;
    for (const auto& [id, m] : s.members) votes[m.assignor.empty() ? "uniform" : m.assignor]++;
    std::string chosen = "uniform";
    int best = 0;
    for (const auto& [name, n] : votes) {
        if (n > best) {
            best = n;
            chosen = name;
        }
    }
    s.target = chosen == "range" ? assign_range(s.members, topics) : assign_uniform(s.members, topics, s.target);
    s.assignment_epoch = s.group_epoch;
    s.topic_partitions = topics;
}

namespace {

// Partitions other members own or are still revoking.
PartitionSet held_by_others(const ConsumerGroupState& s, const std::string& me) {
    PartitionSet out;
    for (const auto& [id, o] : s.members) {
        if (id != me) out = unite(out, unite(o.assigned, o.revoking));
    }
    return out;
}

}  // namespace

bool reconcile(ConsumerGroupState& s, CgMember& m, const std::optional<PartitionSet>& owned, Instant now) {
    bool changed = false;
    if (m.state == CgMemberState::unrevoked) {
        if (!owned || intersects(*owned, m.revoking)) return false;  // still revoking
        m.revoking.clear();
        m.state = CgMemberState::stable;
        changed = true;
    }
    const PartitionSet& target = s.target[m.id];
    PartitionSet drop = minus(m.assigned, target);
    if (!drop.empty()) {
        m.assigned = minus(m.assigned, drop);
        m.revoking = std::move(drop);
        m.state = CgMemberState::unrevoked;
        m.revoke_deadline = now + ms(m.rebalance_timeout_ms);
        return true;
    }
    PartitionSet want = minus(target, m.assigned);
    PartitionSet free = minus(want, held_by_others(s, m.id));
    if (!free.empty()) {
        m.assigned = unite(m.assigned, free);
        changed = true;
    }
    CgMemberState next = count(free) < count(want) ? CgMemberState::unreleased : CgMemberState::stable;
    if (next != m.state) {
        m.state = next;
        changed = true;
    }
    if (m.epoch != s.assignment_epoch) {
        m.previous_epoch = m.epoch;
        m.epoch = s.assignment_epoch;
        changed = true;
    }
    return changed;
}

}  // namespace keel::group
