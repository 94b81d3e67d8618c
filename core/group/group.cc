#include "core/group/group.h"

#include <algorithm>
#include <set>

namespace keel::group {

std::string_view state_name(GroupState s) {
    switch (s) {
        case GroupState::empty: return "Empty";
        case GroupState::preparing_rebalance: return "PreparingRebalance";
        case GroupState::completing_rebalance: return "CompletingRebalance";
        case GroupState::stable: return "Stable";
        case GroupState::dead: return "Dead";
    }
    return "Dead";
}

const Bytes* Member::metadata(const std::string& protocol) const {
    for (const auto& [name, meta] : protocols) {
        if (name == protocol) return &meta;
    }
    return nullptr;
}

bool Member::same_protocols(const std::vector<std::pair<std::string, Bytes>>& other) const {
    return protocols == other;
}

Member* Group::member(const std::string& member_id) {
    auto it = members.find(member_id);
    return it == members.end() ? nullptr : it->second.get();
}

bool Group::fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const {
    if (!instance_id) return false;
    auto it = instances.find(*instance_id);
    return it != instances.end() && it->second != member_id;
}

bool Group::all_joined() const {
    if (!pending_members.empty()) return false;
    return std::all_of(members.begin(), members.end(), [](const auto& m) { return m.second->awaiting_join(); });
}

int32_t Group::max_rebalance_timeout_ms() const {
    int32_t t = 0;
    for (const auto& [mid, m] : members) t = std::max(t, m->rebalance_timeout_ms);
    return t;
}

namespace {

// The protocols every member supports (Kafka's candidateProtocols).
std::set<std::string> candidates(const std::map<std::string, std::unique_ptr<Member>>& members) {
    std::set<std::string> out;
    bool first = true;
    for (const auto& [mid, m] : members) {
        std::set<std::string> mine;
        for (const auto& p : m->protocols) mine.insert(p.first);
        if (first) {
            out = std::move(mine);
            first = false;
            continue;
        }
        std::set<std::string> both;
        std::set_intersection(out.begin(), out.end(), mine.begin(), mine.end(), std::inserter(both, both.end()));
        out = std::move(both);
    }
    return out;
}

}  // namespace

bool Group::supports(const std::string& type, const std::vector<std::pair<std::string, Bytes>>& protos) const {
    if (members.empty()) return !type.empty() && !protos.empty();
    if (!protocol_type || *protocol_type != type) return false;
    std::set<std::string> cands = candidates(members);
    return std::any_of(protos.begin(), protos.end(), [&](const auto& p) { return cands.count(p.first) != 0; });
}

std::optional<std::string> Group::select_protocol() const {
    std::set<std::string> cands = candidates(members);
    if (cands.empty()) return std::nullopt;
    std::map<std::string, int> votes;
    std::vector<std::string> order;  // first vote order breaks ties deterministically
    for (const auto& [mid, m] : members) {
        for (const auto& p : m->protocols) {
            if (cands.count(p.first) == 0) continue;
            if (votes[p.first]++ == 0) order.push_back(p.first);
            break;
        }
    }
    std::string best;
    int best_votes = -1;
    for (const auto& name : order) {
        if (votes[name] > best_votes) {
            best = name;
            best_votes = votes[name];
        }
    }
    return best;
}

GroupMetadataValue Group::to_record() const {
    GroupMetadataValue v;
    v.protocol_type = protocol_type.value_or("");
    v.generation = generation;
    v.protocol = protocol;
    v.leader = leader;
    v.current_state_timestamp_ms = state_timestamp_ms;
    for (const auto& [mid, m] : members) {
        GroupMemberRecord r;
        r.member_id = m->id;
        r.group_instance_id = m->instance_id;
        r.client_id = m->client_id;
        r.client_host = m->client_host;
        r.rebalance_timeout_ms = m->rebalance_timeout_ms;
        r.session_timeout_ms = m->session_timeout_ms;
        if (protocol) {
            if (const Bytes* meta = m->metadata(*protocol)) r.subscription = *meta;
        }
        r.assignment = m->assignment;
        v.members.push_back(std::move(r));
    }
    return v;
}

}  // namespace keel::group
