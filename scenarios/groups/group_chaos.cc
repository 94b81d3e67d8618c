// group-chaos: consumer groups under every fault. The data-chaos cluster (3 KRaft
// controllers, 4 brokers; "orders" with 6 partitions, RF 3, min ISR 2; __consumer_offsets
// with 10 partitions, RF 3) and one idempotent acks=all producer; four groups of three
// members each (Keel's client library):
//   eager   range assignor, commit_sync after each poll (eager rebalances)
//   coop    cooperative-sticky (KIP-429 incremental rebalances), commit_sync after each poll
//   static  static members (group.instance.id), roundrobin, auto-commit (plus OffsetFetch
//           reads now and then so that a lost commit shows)
//   kip848  KIP-848's consumer protocol (server-side uniform assignor, member epochs,
//           incremental reconciliation), commit_sync after each poll
// Members close and rejoin, crash and restart, and pause (past their session timeout: a
// zombie the group must fence) while generated faults hit controllers and brokers. Then
// the faults heal, the producer stops, and every group must commit up to each partition's
// high watermark (liveness: the groups make progress again), and the members close.
//
// Checked: the group history (sim/checkers/group_checker.h): one owner per partition per
// generation, committed offsets never regress, every acknowledged record below the final
// committed offset processed by some member (at-least-once under process-then-commit),
// no commit from a stale generation accepted; the data-plane checkers as in data-chaos.
// Metrics (sweep JSON): rebalances (generations seen), commits (ok), processed, duplicates.
// Params: brokers (4), fault_seconds (40), rate (50 records/s), members (3 per group),
// session_ms (6000), group_bug = none | commit-without-fencing (a planted coordinator bug the
// group checker must catch: property_tests/negative/group_bugs.cc).
#include <algorithm>

#include "scenarios/data/data_chaos.h"
#include "scenarios/groups/group_workload.h"

namespace keel::scenarios {

namespace {

GroupWorkloadOptions group_options(sim::ScenarioContext& ctx) {
    GroupWorkloadOptions o;
    int members = static_cast<int>(std::clamp<int64_t>(ctx.param_int("members", 3), 1, 6));
    o.groups = {
        GroupSpec{"eager", members, {"range"}, false, GroupSpec::Commit::sync},
        GroupSpec{"coop", members, {"cooperative-sticky"}, false, GroupSpec::Commit::sync},
        GroupSpec{"static", members, {"roundrobin"}, true, GroupSpec::Commit::auto_commit},
    };
    // KIP-848's consumer protocol: server-side assignment (uniform), member epochs,
    // incremental reconciliation; commit_sync after each poll.
    GroupSpec kip848{"kip848", members, {}, false, GroupSpec::Commit::sync};
    kip848.protocol = "consumer";
    o.groups.push_back(kip848);
    client::ConsumerConfig& c = o.consumer;
    c.auto_offset_reset = client::OffsetReset::earliest;
    c.fetch_max_wait = ms(100);
    c.request_timeout = ms(5000);
    c.metadata_max_age = ms(5000);
    c.session_timeout = ms(ctx.param_int("session_ms", 6000));
    c.heartbeat_interval = ms(1000);
    c.max_poll_interval = ms(20'000);
    c.auto_commit_interval = ms(1000);
    return o;
}

DataClusterOptions group_cluster_options(sim::ScenarioContext& ctx, const DataChaosConfig& c) {
    DataClusterOptions o = data_cluster_options(c);
    apply_group_bug_param(ctx, o.base.group_config);
    o.base.broker_config.offsets_topic_num_partitions = 10;
    o.base.broker_config.offsets_topic_replication_factor = 3;
    // The safe configuration for __consumer_offsets too: commits need two in-sync replicas
    // (min.insync.replicas) and every append is fsynced (log.flush.interval.messages=1), as
    // "orders" is, so that a power loss of several brokers loses no acknowledged commit.
    o.base.broker_config.min_insync_replicas = 2;
    o.base.broker_config.log_defaults.flush_messages = 1;
    o.base.group_config.initial_rebalance_delay = ms(500);
    o.base.group_config.min_session_timeout = ms(1000);
    o.base.group_config.consumer_session_timeout = ms(6000);  // KIP-848: the server's, not the member's
    o.base.group_config.consumer_heartbeat_interval = ms(1000);
    return o;
}

void report_groups(sim::ScenarioContext& ctx, const sim::GroupCheckResult& r, const sim::GroupHistory& h) {
    ctx.metric("rebalances", static_cast<double>(r.generations));
    ctx.metric("commits", static_cast<double>(r.commits_ok));
    ctx.metric("commits_failed", static_cast<double>(r.commits_fail));
    ctx.metric("processed", static_cast<double>(r.processed));
    ctx.metric("duplicates_processed", static_cast<double>(r.duplicates_processed));
    ctx.metric("stale_commits_sent", static_cast<double>(r.stale_commits_sent));
    ctx.metric("group_anomalies", static_cast<double>(r.anomaly_total()));
    for (const auto& [kind, n] : r.anomaly_counts) ctx.metric("group_anomaly." + kind, static_cast<double>(n));
    for (const sim::GroupReport& a : r.anomalies) {
        std::string line = a.kind + " in group " + a.group + " " + a.partition.str() + ": " + a.explanation;
        for (size_t i = 0; i < a.events.size() && i < 4; i++) line += "\n      " + h.describe(a.events[i]);
        ctx.violation(line);
    }
    ctx.expect(r.generations > 0, "liveness: groups completed rebalances");
    ctx.expect(r.commits_ok > 0, "liveness: members committed offsets");
}

void run_group_chaos(sim::ScenarioContext& ctx) {
    auto& w = ctx.world();
    DataChaosConfig c = data_chaos_config(ctx);
    c.rate = std::clamp<int64_t>(ctx.param_int("rate", 50), 1, 10000);
    auto cluster = DataCluster::create(ctx, group_cluster_options(ctx, c));
    Duration fault_start = std::chrono::seconds(15);
    Duration fault_end = fault_start + std::chrono::seconds(c.fault_seconds);
    auto schedule = ctx.faults_or(data_chaos_schedule(w, *cluster, fault_start, fault_end));
    ctx.expect(w.run_until([&] { return cluster->brokers_unfenced(); }, std::chrono::seconds(30)),
               "every broker registers and is unfenced within 30 s of a calm start");
    DataTopic topic = data_topic(c);
    topic.partitions = 6;
    ctx.expect(cluster->create_topics({topic}, std::chrono::seconds(30)), "the topic is created within 30 s");
    WorkloadOptions wo = data_workload(c);
    wo.producers = 1;
    wo.consumers = 0;
    wo.partitions = topic.partitions;
    wo.send_interval = Duration(1'000'000'000LL / c.rate);
    auto producer = Workload::create(*cluster, wo);
    producer->start();
    auto groups = GroupWorkload::create(*cluster, group_options(ctx));
    groups->start(fault_end);
    sim::Nemesis nemesis(w, cluster->resolver());
    nemesis.install(schedule);
    Duration quiet = std::max(schedule.end(), fault_end);
    w.run_for(std::max(Duration(0), Duration(quiet.count() - w.now().ns)) + std::chrono::seconds(2));
    w.heal_all();
    ctx.expect(producer->stop_producers(std::chrono::seconds(60)), "the producer finishes within 60 s of the heal");
    auto replicated = cluster->await_replicated(std::chrono::seconds(90));
    ctx.expect(replicated.has_value(), "the cluster re-replicates within 90 s of the heal");
    std::string missing;
    bool drained = groups->drain(std::chrono::seconds(120), missing);  // fills `missing` first
    ctx.expect(drained, "every group commits up to each partition's high watermark within 120 s (behind: " + missing +
                            ")");
    ctx.expect(groups->stop(std::chrono::seconds(60)), "the members close within 60 s");
    sim::GroupHistory& gh = groups->history();
    gh.acked_from(producer->history());
    sim::GroupCheckOptions go;
    go.process_then_commit_groups = {"eager", "coop", "static", "kip848"};
    report_groups(ctx, sim::check_group_history(gh, go), gh);
    cluster->report();
    const GroupWorkloadStats& s = groups->stats();
    ctx.metric("member_crashes", static_cast<double>(s.crashes));
    ctx.metric("member_pauses", static_cast<double>(s.pauses));
    ctx.metric("faults_fired", static_cast<double>(nemesis.fired()));
    ctx.note("groups: " + std::to_string(s.lives) + " member lives, " + std::to_string(s.polls) + " polls (" +
             std::to_string(s.poll_errors) + " failed), " + std::to_string(s.processed) + " records processed, " +
             std::to_string(s.commits_ok) + " commits");
}

}  // namespace
}  // namespace keel::scenarios

KEEL_SCENARIO("group-chaos",
              "3 consumer groups (eager range, cooperative-sticky, static members) with member crashes, pauses and "
              "restarts under every cluster fault: one owner per partition per generation, commits never regress, "
              "at-least-once, progress after the heal") {
    keel::scenarios::run_group_chaos(ctx);
}
