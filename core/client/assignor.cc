// The eager assignors "range" and "roundrobin" (see assignor.h) and make_assignor; the
// cooperative-sticky assignor is in sticky_assignor.cc.
#include "core/client/assignor.h"

#include <algorithm>
#include <set>

namespace keel::client {
namespace {

// The topics of a subscription that exist (partition count > 0), without duplicates.
std::set<std::string> existing_topics(const Subscription& s, const std::map<std::string, int32_t>& parts) {
    std::set<std::string> out;
    for (const auto& t : s.topics) {
        auto it = parts.find(t);
        if (it != parts.end() && it->second > 0) out.insert(t);
    }
    return out;
}

std::map<std::string, Assignment> empty_assignments(const std::map<std::string, Subscription>& members) {
    std::map<std::string, Assignment> out;
    for (const auto& [id, sub] : members) out[id];
    return out;
}

// Kafka's RangeAssignor: for each topic, its partitions split into contiguous ranges over
// the members subscribed to it, in member id order; the first (partitions % members)
// members get one partition more.
class RangeAssignor final : public Assignor {
public:
    std::string_view name() const override { return "range"; }
    RebalanceProtocol protocol() const override { return RebalanceProtocol::eager; }

    std::map<std::string, Assignment> assign(const std::map<std::string, int32_t>& parts,
                                             const std::map<std::string, Subscription>& members) const override {
        std::map<std::string, Assignment> out = empty_assignments(members);
        std::map<std::string, std::vector<std::string>> by_topic;  // members sorted by id
        for (const auto& [id, sub] : members) {
            for (const auto& t : existing_topics(sub, parts)) by_topic[t].push_back(id);
        }
        for (const auto& [topic, ids] : by_topic) {
            const int32_t n = parts.at(topic);
            const int32_t count = static_cast<int32_t>(ids.size());
            const int32_t per = n / count;
            const int32_t extra = n % count;
            for (int32_t i = 0; i < count; i++) {
                const int32_t start = per * i + std::min(i, extra);
                const int32_t length = per + (i < extra ? 1 : 0);
                auto& assigned = out[ids[static_cast<size_t>(i)]].partitions;
                for (int32_t p = start; p < start + length; p++) assigned.push_back({topic, PartitionIndex(p)});
            }
        }
        for (auto& [id, a] : out) std::sort(a.partitions.begin(), a.partitions.end());
        return out;
    }
};

// Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by topic
// then partition, dealt in turn to the members sorted by id; a member not subscribed to
// the partition's topic is skipped (the turn passes on).
class RoundRobinAssignor final : public Assignor {
public:
    std::string_view name() const override { return "roundrobin"; }
    RebalanceProtocol protocol() const override { return RebalanceProtocol::eager; }

    std::map<std::string, Assignment> assign(const std::map<std::string, int32_t>& parts,
                                             const std::map<std::string, Subscription>& members) const override {
        std::map<std::string, Assignment> out = empty_assignments(members);
        std::vector<std::string> ids;
        std::vector<std::set<std::string>> subs;
        std::set<std::string> all_topics;
        for (const auto& [id, sub] : members) {
            ids.push_back(id);
            subs.push_back(existing_topics(sub, parts));
            all_topics.insert(subs.back().begin(), subs.back().end());
        }
        size_t next = 0;
        for (const auto& topic : all_topics) {
            for (int32_t p = 0; p < parts.at(topic); p++) {
                // Some member is subscribed to every topic in all_topics: this ends.
                while (!subs[next].contains(topic)) next = (next + 1) % ids.size();
                out[ids[next]].partitions.push_back({topic, PartitionIndex(p)});
                next = (next + 1) % ids.size();
            }
        }
        return out;
    }
};

}  // namespace

std::unique_ptr<Assignor> make_assignor(std::string_view name) {
    if (name == "range") return std::make_unique<RangeAssignor>();
    if (name == "roundrobin") return std::make_unique<RoundRobinAssignor>();
    if (name == "cooperative-sticky") return make_cooperative_sticky_assignor();
    return nullptr;
}

}  // namespace keel::client
