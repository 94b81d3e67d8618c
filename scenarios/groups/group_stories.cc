// The consumer-group stories of kafka-semantics.md (SC-27, SC-28 and the issue's
// "static restart" and "coordinator failover"), each a scripted scenario with a fixed
// schedule that narrates what happened and why (`keel sim run sc-27`). They share
// group-chaos's cluster (3 controllers, 3 brokers), producer and checkers; no random churn.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "scenarios/data/data_chaos.h"
#include "scenarios/groups/group_story.h"

namespace keel::scenarios {

using namespace std::chrono_literals;

GroupStory start_group_story(sim::ScenarioContext& ctx, std::vector<GroupSpec> specs, int32_t partitions,
                             Duration session) {
    DataChaosConfig c;
    c.brokers = 3;
    DataClusterOptions co = data_cluster_options(c);
    co.base.broker_config.offsets_topic_num_partitions = 10;
    // The safe configuration for __consumer_offsets too: commits need two in-sync replicas
    // (min.insync.replicas) and every append is fsynced (log.flush.interval.messages=1), as
    // "orders" is, so that a power loss of several brokers loses no acknowledged commit.
    co.base.broker_config.min_insync_replicas = 2;
    co.base.broker_config.log_defaults.flush_messages = 1;
    co.base.group_config.initial_rebalance_delay = 500ms;
    co.base.group_config.min_session_timeout = 1s;
    apply_group_bug_param(ctx, co.base.group_config);
    GroupStory s{ctx, ctx.world(), DataCluster::create(ctx, co), nullptr, nullptr};
    ctx.expect(s.w.run_until([&] { return s.cluster->brokers_unfenced(); }, 30s), "brokers registered");
    DataTopic t = data_topic(c);
    t.partitions = partitions;
    ctx.expect(s.cluster->create_topics({t}, 30s), "topic created");
    WorkloadOptions wo = data_workload(c);
    wo.partitions = partitions;
    wo.producers = 1;
    wo.consumers = 0;
    wo.send_interval = 20ms;
    s.producer = Workload::create(*s.cluster, wo);
    s.producer->start();
    GroupWorkloadOptions go;
    go.partitions = partitions;
    go.groups = std::move(specs);
    go.life_max = Duration(0);
    go.churn = false;
    go.consumer.auto_offset_reset = client::OffsetReset::earliest;
    go.consumer.fetch_max_wait = 100ms;
    go.consumer.request_timeout = 5s;
    go.consumer.metadata_max_age = 5s;
    go.consumer.session_timeout = session;
    go.consumer.heartbeat_interval = 1s;
    go.consumer.max_poll_interval = 60s;
    s.groups = GroupWorkload::create(*s.cluster, go);
    s.groups->start(Duration(0));
    return s;
}

// Heals, stops the producer, drains every group to the high watermarks, closes the members
// and runs the checkers; the group checker's measures become metrics.
sim::GroupCheckResult finish_group_story(GroupStory& s) {
    s.w.heal_all();
    s.ctx.expect(s.producer->stop_producers(60s), "the producer finishes");
    s.ctx.expect(s.cluster->await_replicated(90s).has_value(), "the cluster re-replicates");
    std::string missing;
    bool drained = s.groups->drain(120s, missing);  // fills `missing` first
    s.ctx.expect(drained, "every group commits up to the high watermarks (behind: " + missing + ")");
    s.ctx.expect(s.groups->stop(60s), "the members close");
    sim::GroupHistory& gh = s.groups->history();
    gh.acked_from(s.producer->history());
    sim::GroupCheckOptions o;
    for (const sim::GroupEvent& e : gh.events()) o.process_then_commit_groups.insert(e.group);
    sim::GroupCheckResult r = sim::check_group_history(gh, o);
    for (const sim::GroupReport& a : r.anomalies) s.ctx.violation(a.kind + " in " + a.group + ": " + a.explanation);
    s.ctx.metric("rebalances", static_cast<double>(r.generations));
    s.ctx.metric("commits", static_cast<double>(r.commits_ok));
    s.ctx.metric("duplicates_processed", static_cast<double>(r.duplicates_processed));
    s.ctx.metric("stale_commits_sent", static_cast<double>(r.stale_commits_sent));
    s.cluster->report();
    s.say("checked: " + std::to_string(r.processed) + " records processed (" + std::to_string(r.duplicates_processed) +
          " redelivered), " + std::to_string(r.commits_ok) + " commits, " + std::to_string(r.generations) +
          " generations; group checker " + (r.valid() ? "clean" : "FAILED"));
    return r;
}

}  // namespace keel::scenarios

using keel::scenarios::GroupSpec;
using keel::sim::GroupEventKind;
using keel::sim::OpType;
using namespace std::chrono_literals;

KEEL_SCENARIO("sc-27",
              "SC-27: a member stops (a long GC pause); after its session timeout the coordinator removes it and its "
              "partitions move, with redelivery of what it had not committed; when it wakes, the zombie's commit is "
              "refused and it rejoins") {
    auto s = keel::scenarios::start_group_story(ctx, {GroupSpec{"billing", 2, {"range"}}}, 4);
    s.w.run_for(12s);
    s.say("billing-m1 owns " + s.assignment("billing-m1") + ", billing-m2 owns " + s.assignment("billing-m2"));
    size_t mark = s.now_index();
    int32_t before = s.groups->generation_of("billing");
    s.say("billing-m1 freezes (a long stop-the-world pause; session.timeout.ms is 6 s)");
    s.w.pause("billing-m1");
    auto paused_at = s.w.now();
    bool moved = s.w.run_until([&] { return s.owned("billing-m2") == 4; }, 14s);
    s.say(moved ? "the coordinator expired billing-m1: billing-m2 now owns " + s.assignment("billing-m2")
                : "billing-m2 did not take over billing-m1's partitions");
    ctx.expect(moved, "the paused member's partitions move to the other member within the pause");
    s.w.run_for(3s);
    s.w.resume("billing-m1");
    char took[64];
    std::snprintf(took, sizeof took, "after %.1f s ", static_cast<double>(s.w.now().ns - paused_at.ns) / 1e9);
    s.say("billing-m1 wakes up " + std::string(took) + "believing it still owns " + s.assignment("billing-m1"));
    s.w.run_for(10s);
    size_t refused = s.count(GroupEventKind::commit, "billing-m1", mark, OpType::fail) +
                     s.count(GroupEventKind::lost, "billing-m1", mark);
    s.say("billing-m1: " + std::to_string(refused) + " refused commit(s) or lost assignment(s) since the pause; now " +
          s.assignment("billing-m1") + ", billing-m2 " + s.assignment("billing-m2"));
    ctx.expect(refused > 0, "the zombie is fenced: its commit is refused or it finds its partitions lost");
    ctx.expect(s.groups->generation_of("billing") > before, "the group moved to a new generation");
    auto r = keel::scenarios::finish_group_story(s);
    ctx.metric("generations_after_pause", static_cast<double>(s.groups->generation_of("billing") - before));
}

KEEL_SCENARIO("sc-27-static",
              "A static member (group.instance.id) crashes and is restarted within its session timeout: it gets its "
              "partitions back in the same generation, without a rebalance; a longer outage does rebalance") {
    auto s = keel::scenarios::start_group_story(ctx, {GroupSpec{"static", 3, {"range"}, true}}, 6, 10s);
    s.w.run_for(12s);
    int32_t gen = s.groups->generation_of("static");
    std::string before = s.assignment("static-m2");
    s.say("static-m2 owns " + before + "; kill -9, restarted 3 s later (session.timeout.ms is 10 s)");
    s.w.crash("static-m2");
    s.w.run_for(3s);
    s.w.start("static-m2");
    s.w.run_for(8s);
    s.say("after the restart static-m2 owns " + s.assignment("static-m2") + "; the group's generation is " +
          std::to_string(s.groups->generation_of("static")));
    ctx.expect(s.groups->generation_of("static") == gen && s.assignment("static-m2") == before,
               "a static member restarted within its session keeps its assignment without a rebalance");
    s.say("static-m2 is killed again and stays down for 15 s");
    s.w.crash("static-m2");
    s.w.run_for(15s);
    s.say("the group moved on: generation " + std::to_string(s.groups->generation_of("static")) + ", static-m1 owns " +
          s.assignment("static-m1") + ", static-m3 owns " + s.assignment("static-m3"));
    ctx.expect(s.groups->generation_of("static") > gen, "an outage past the session timeout rebalances");
    s.w.start("static-m2");
    keel::scenarios::finish_group_story(s);
}

namespace keel::scenarios {
namespace {

struct RebalanceCost {
    size_t revoked = 0;                // partitions revoked from existing members
    std::set<int32_t> moved;           // the partitions revoked
    Instant settled{};                 // the last assignment: the rebalance(s) completed
    std::map<int32_t, Duration> gap;   // per partition: the longest pause that began before `settled`
};

// What a member joining at event `mark` (at `from`) cost `group`: the rebalance lasts until
// the group's last assignment since then (a cooperative group needs two); per partition,
// the longest pause in processing that began within it (later pauses, e.g. a leader
// election, are no rebalance's doing).
RebalanceCost rebalance_cost(const sim::GroupHistory& h, const std::string& group, size_t mark, Instant from) {
    RebalanceCost c;
    c.settled = from;
    for (size_t i = mark; i < h.events().size(); i++) {
        const sim::GroupEvent& e = h.events()[i];
        if (e.group == group && e.kind == sim::GroupEventKind::assignment) c.settled = std::max(c.settled, e.at);
    }
    std::map<int32_t, Instant> last;
    for (size_t i = mark; i < h.events().size(); i++) {
        const sim::GroupEvent& e = h.events()[i];
        if (e.group != group) continue;
        if (e.kind == sim::GroupEventKind::revoked) {
            c.revoked += e.partitions.size();
            for (const auto& p : e.partitions) c.moved.insert(p.partition);
        }
        if (e.kind != sim::GroupEventKind::processed) continue;
        Instant prev = last.count(e.partition.partition) ? last[e.partition.partition] : from;
        Duration g = Duration(e.at.ns - prev.ns);
        if (prev <= c.settled && g > c.gap[e.partition.partition]) c.gap[e.partition.partition] = g;
        last[e.partition.partition] = e.at;
    }
    return c;
}

std::string gaps_text(const RebalanceCost& c, Duration& total) {
    std::string s;
    total = Duration(0);
    for (const auto& [p, g] : c.gap) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%sp%d %.1fs", s.empty() ? "" : ", ", p, static_cast<double>(g.count()) / 1e9);
        s += buf;
        total += g;
    }
    return s;
}

// The mean of the longest pauses of the partitions that moved (moved = true) or stayed.
double mean_pause_s(const RebalanceCost& c, bool moved) {
    double sum = 0;
    int n = 0;
    for (const auto& [p, g] : c.gap) {
        if (c.moved.contains(p) != moved) continue;
        sum += static_cast<double>(g.count()) / 1e9;
        n++;
    }
    return n == 0 ? 0.0 : sum / n;
}

}  // namespace
}  // namespace keel::scenarios

KEEL_SCENARIO("sc-28",
              "SC-28: a third member joins an eager group (range) and a cooperative one (cooperative-sticky) at the "
              "same moment; the eager group stops every partition for the rebalance, the cooperative one only the "
              "partitions that move (KIP-429): revocations and the pause per partition during the rebalances "
              "measured") {
    using keel::scenarios::GroupSpec;
    GroupSpec eager{"eager", 3, {"range"}};
    eager.late = 1;
    GroupSpec coop{"coop", 3, {"cooperative-sticky"}};
    coop.late = 1;
    auto s = keel::scenarios::start_group_story(ctx, {eager, coop}, 6);
    s.w.run_for(15s);
    s.say("eager-m1 " + s.assignment("eager-m1") + ", eager-m2 " + s.assignment("eager-m2") + "; coop-m1 " +
          s.assignment("coop-m1") + ", coop-m2 " + s.assignment("coop-m2"));
    size_t mark = s.now_index();
    auto from = s.w.now();
    s.say("eager-m3 and coop-m3 start");
    s.w.start("eager-m3");
    s.w.start("coop-m3");
    s.w.run_for(20s);
    auto e = keel::scenarios::rebalance_cost(s.groups->history(), "eager", mark, from);
    auto c = keel::scenarios::rebalance_cost(s.groups->history(), "coop", mark, from);
    keel::Duration te{0}, tc{0};
    std::string eg = keel::scenarios::gaps_text(e, te), cg = keel::scenarios::gaps_text(c, tc);
    s.say("eager: " + std::to_string(e.revoked) + " partitions revoked; longest pause per partition: " + eg);
    s.say("coop: " + std::to_string(c.revoked) + " partitions revoked; longest pause per partition: " + cg);
    s.say("eager-m3 " + s.assignment("eager-m3") + "; coop-m3 " + s.assignment("coop-m3"));
    ctx.metric("eager_revoked", static_cast<double>(e.revoked));
    ctx.metric("coop_revoked", static_cast<double>(c.revoked));
    ctx.metric("eager_pause_sum_ms", static_cast<double>(te.count()) / 1e6);
    ctx.metric("coop_pause_sum_ms", static_cast<double>(tc.count()) / 1e6);
    ctx.expect(s.owned("eager-m3") > 0 && s.owned("coop-m3") > 0, "both new members got partitions");
    ctx.expect(e.revoked >= 6, "the eager group revoked every partition");
    ctx.expect(c.revoked < e.revoked, "the cooperative group revoked fewer partitions than the eager one");
    // The point of KIP-429: a cooperative member keeps processing the partitions it keeps
    // while the rebalance runs (its poll returns their records between the JoinGroup and the
    // SyncGroup), so they pause no longer than usual, while a partition that moves waits for
    // both rebalances. Compared within the cooperative group, as means over partitions: its
    // two kinds of partitions lived through the same rebalance and the same cluster, so the
    // comparison does not depend on how long the eager group's single rebalance happened to
    // take (here often barely longer than the usual gap between records: its members notice
    // the rebalance at the same heartbeat) or on one partition's unrelated hiccup.
    double stayed = keel::scenarios::mean_pause_s(c, false), moved = keel::scenarios::mean_pause_s(c, true);
    char pauses[160];
    std::snprintf(pauses, sizeof pauses,
                  "coop: the partitions that stayed paused %.2f s on average, those that moved %.2f s; eager: %.2f s",
                  stayed, moved, keel::scenarios::mean_pause_s(e, true));
    s.say(pauses);
    ctx.metric("coop_stayed_pause_mean_ms", stayed * 1e3);
    ctx.metric("coop_moved_pause_mean_ms", moved * 1e3);
    ctx.expect(!c.moved.empty() && c.moved.size() < c.gap.size() && stayed < moved,
               "the cooperative group's partitions that did not move paused less than those that moved: its "
               "members kept processing them during the rebalance");
    keel::scenarios::finish_group_story(s);
}

KEEL_SCENARIO("group-coordinator-failover",
              "A member joins (a rebalance starts) and the group's coordinator broker is killed in the middle of it: "
              "the members find the new coordinator (the new leader of the group's __consumer_offsets partition), "
              "which loads the group and finishes the rebalance; no committed offset goes back") {
    using keel::scenarios::GroupSpec;
    GroupSpec g{"payments", 3, {"range"}};
    g.late = 1;
    auto s = keel::scenarios::start_group_story(ctx, {g}, 6);
    s.w.run_for(15s);
    std::string coord = s.coordinator("payments");
    int32_t gen = s.groups->generation_of("payments");
    s.say("payments is in generation " + std::to_string(gen) + "; its coordinator is " + coord);
    s.say("payments-m3 starts (JoinGroup: a rebalance begins) and 100 ms later " + coord + " is killed");
    s.w.start("payments-m3");
    s.w.run_for(100ms);
    bool mid = s.groups->generation_of("payments") == gen;
    s.say(mid ? "the rebalance has not completed: generation " + std::to_string(gen) + " is still the latest"
              : "the rebalance already completed");
    if (!coord.empty()) s.w.crash(coord);
    bool done = s.w.run_until(
        [&] {
            std::string now = s.coordinator("payments");
            return !now.empty() && now != coord && s.owned("payments-m1") > 0 && s.owned("payments-m2") > 0 &&
                   s.owned("payments-m3") > 0 &&
                   s.groups->assignment_of("payments-m3").first == s.groups->generation_of("payments");
        },
        60s);
    s.say("new coordinator " + s.coordinator("payments") + "; payments-m1 " + s.assignment("payments-m1") +
          ", payments-m2 " + s.assignment("payments-m2") + ", payments-m3 " + s.assignment("payments-m3"));
    ctx.expect(!coord.empty(), "the group had a coordinator");
    ctx.expect(mid, "the coordinator died in the middle of the rebalance");
    ctx.expect(done, "the rebalance completes on the new coordinator with all three members");
    if (!coord.empty()) s.w.start(coord);
    keel::scenarios::finish_group_story(s);
}
