// GroupStory: what the consumer-group stories share (scenarios/groups/group_stories.cc and
// the other story files): a DataCluster of 3 controllers and 3 brokers with the safe
// configuration (min ISR 2, fsync per append, __consumer_offsets with 10 partitions), a
// topic "orders", one idempotent producer at 50 records/s, and a GroupWorkload without
// random churn whose members live until the story ends; narration with virtual time.
//
//   auto s = start_group_story(ctx, {GroupSpec{"billing", 2, {"range"}}}, 4);
//   s.w.run_for(12s);
//   s.say("billing-m1 owns " + s.assignment("billing-m1"));
//   s.w.pause("billing-m1"); ...
//   finish_group_story(s);  // heal, drain to the high watermarks, close, check
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/group/offsets_records.h"
#include "scenarios/data/workload.h"
#include "scenarios/groups/group_workload.h"

namespace keel::scenarios {

struct GroupStory {
    sim::ScenarioContext& ctx;
    sim::World& w;
    std::shared_ptr<DataCluster> cluster;
    std::shared_ptr<Workload> producer;
    std::shared_ptr<GroupWorkload> groups;

    void say(const std::string& line) {
        char t[32];
        std::snprintf(t, sizeof t, "t=%.1fs ", static_cast<double>(w.now().ns) / 1e9);
        ctx.note(t + line);
    }
    std::string assignment(const std::string& member) {
        auto [gen, parts] = groups->assignment_of(member);
        std::string s = "generation " + std::to_string(gen) + " [";
        for (size_t i = 0; i < parts.size(); i++) s += (i ? "," : "") + std::to_string(parts[i].partition);
        return s + "]";
    }
    size_t owned(const std::string& member) { return groups->assignment_of(member).second.size(); }
    // The broker leading the group's __consumer_offsets partition (its coordinator).
    std::string coordinator(const std::string& group) {
        const controller::MetadataImage* img = cluster->active_image();
        const controller::TopicState* t = img ? img->topic_by_name(std::string(group::kOffsetsTopic)) : nullptr;
        if (t == nullptr) return "";
        int32_t p = group::partition_for_group(group, static_cast<int32_t>(t->partitions.size()));
        auto it = t->partitions.find(PartitionIndex(p));
        return it != t->partitions.end() && it->second.has_leader() ? cluster->name_of(it->second.leader) : "";
    }
    // Events of `kind` recorded for `process` since event index `from`.
    size_t count(sim::GroupEventKind kind, const std::string& process, size_t from, sim::OpType type = sim::OpType::ok) {
        size_t n = 0;
        const auto& ev = groups->history().events();
        for (size_t i = from; i < ev.size(); i++) n += ev[i].kind == kind && ev[i].process == process && ev[i].type == type;
        return n;
    }
    size_t now_index() { return groups->history().events().size(); }
};

GroupStory start_group_story(sim::ScenarioContext& ctx, std::vector<GroupSpec> specs, int32_t partitions,
                             Duration session = ms(6000));
// Heals, stops the producer, drains every group to the high watermarks, closes the members
// and runs the group checker (every group as process-then-commit); its measures become
// metrics (rebalances, commits, duplicates_processed), its anomalies violations.
sim::GroupCheckResult finish_group_story(GroupStory& s);

}  // namespace keel::scenarios
