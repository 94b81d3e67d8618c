// controller-brokers: the KRaft controller pattern end to end. Three controllers (the Raft
// voters, each with a ControllerService) and four brokers (observers with a
// BrokerLifecycle) register, heartbeat, and get topics; then crashes, pauses, partitions,
// clogs, resets, clock jumps and disk faults hit controllers and brokers alike, plus two
// scripted long silences (a broker isolated 15 s, another paused 12 s) that must end in a
// session fence, and a rolling restart of b1 through controlled shutdown. Snapshots are
// taken every 16 entries, so restarted and wiped nodes load them. The MetadataChecker
// watches every image every node reaches.
// Params: fault_seconds (50); bug = none | fence-leaves-isr | skip-partition-epoch-bump
// (planted controller bugs the checker must catch: property_tests/negative/).
#include "scenarios/controller/controller_cluster.h"

namespace keel::scenarios {
namespace {

std::vector<TopicSpec> initial_topics() {
    return {
        {"orders", 6, 3, {}, {}},
        {"events", 4, 2, {}, {}},
        {"audit", 2, 1, {}, {}},
        {"risky", 3, 3, {{"unclean.leader.election.enable", "true"}}, {}},
    };
}

// Random faults over c1..c3 and b4 (roles included); on b2 and b3 only, silences longer
// than the session timeout; b1 gets a rolling restart through controlled shutdown.
sim::FaultSchedule default_schedule(sim::World& w, Duration fault_end) {
    sim::RandomScheduleOptions o;
    o.start = ms(8000);
    o.end = fault_end;
    o.mean_gap = ms(1500);
    o.roles = {"@leader", "@broker"};
    // Not repaired from peers yet (tests/sim/findings/raft-persistent-corruption-not-repaired.md,
    // tests/sim/findings/raft-bitflip-on-read-persisted.md).
    o.exclude = {sim::FaultKind::disk_corrupt, sim::FaultKind::disk_bitflip};
    sim::FaultSchedule s = sim::random_schedule(w.random(), {"c1", "c2", "c3", "b4"}, o);
    auto scripted = sim::FaultSchedule::parse("12s isolate b2 for 15s; 30s pause b3 for 12s").value();
    s.ops.insert(s.ops.end(), scripted.ops.begin(), scripted.ops.end());
    std::stable_sort(s.ops.begin(), s.ops.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return s;
}

ControllerClusterOptions options_for(sim::ScenarioContext& ctx) {
    ControllerClusterOptions o;
    std::string bug = ctx.param("bug", "none");
    if (bug == "fence-leaves-isr") {
        o.config.bug_fence_leaves_isr = true;
    } else if (bug == "skip-partition-epoch-bump") {
        o.bug_skip_partition_epoch_bump = true;
    } else if (bug != "none") {
        ctx.violation("unknown --param bug=" + bug + " (none, fence-leaves-isr, skip-partition-epoch-bump)");
    }
    return o;
}

}  // namespace
}  // namespace keel::scenarios

using keel::scenarios::ControllerCluster;
using keel::scenarios::ControllerClusterOptions;
using keel::scenarios::TopicSpec;
using namespace std::chrono_literals;

KEEL_SCENARIO("controller-brokers",
              "3 KRaft controllers + 4 brokers: registration, heartbeats, topics, fencing and elections "
              "under crashes, pauses, partitions and disk faults; every image checked, all converge") {
    auto& w = ctx.world();
    auto cluster = ControllerCluster::create(ctx, keel::scenarios::options_for(ctx));
    keel::Duration fault_end = std::chrono::seconds(ctx.param_int("fault_seconds", 50));
    auto schedule = ctx.faults_or(keel::scenarios::default_schedule(w, fault_end));

    bool up = w.run_until([&] { return cluster->brokers_unfenced(); }, 30s);
    ctx.expect(up, "every broker registers and is unfenced within 30 s of a calm start");
    ctx.metric("startup_ms", static_cast<double>(keel::to_ms(keel::Duration(w.now().ns))));
    bool created = cluster->create_topics(keel::scenarios::initial_topics(), 30s);
    ctx.expect(created, "the initial topics are created within 30 s");

    keel::sim::Nemesis nemesis(w, cluster->resolver());
    keel::Instant installed = w.now();
    nemesis.install(schedule);
    // Topics keep being created while the faults run (each retried until it succeeds).
    std::vector<TopicSpec> more;
    for (int i = 0; i < 6; i++) more.push_back({"t" + std::to_string(i), 2 + i % 3, static_cast<int16_t>(1 + i % 3), {}, {}});
    keel::Duration quiet = std::max(schedule.end(), fault_end) + 2s;
    w.spawn("topic-churn", [&w, cluster, more] {
        for (const auto& t : more) {
            w.sleep(6s);
            cluster->queue_topics({t});  // the admin retries it until it succeeds
        }
    });
    // Rolling restart of b1: controlled shutdown (its leaderships move away, then it is
    // fenced and told to go), then a new incarnation. Asked again every 100 ms, as an
    // operator's script would: a random fault may crash b1 meanwhile, and its next
    // incarnation must be asked again. While faults run nothing bounds how long this takes
    // (each controller failover gives every broker a fresh 9 s session, as in Kafka, so a
    // crashed incarnation may hold its id that long again); once they stop it must finish.
    auto b1_shut_down = std::make_shared<bool>(false);  // the fiber may outlive this function
    w.spawn("rolling-restart", [&w, cluster, b1_shut_down] {
        w.sleep(20s);
        while (!*b1_shut_down) {
            cluster->begin_controlled_shutdown("b1");
            w.sleep(100ms);
            auto* l = cluster->lifecycle("b1");
            *b1_shut_down = l != nullptr && l->shut_down();
        }
        w.restart("b1");
    });
    w.run_for(installed + quiet - w.now());
    w.heal_all();
    keel::Instant healed = w.now();
    ctx.expect(w.run_until([&] { return *b1_shut_down; }, 30s),
               "b1's controlled shutdown completes within 30 s of the faults' end");
    ctx.metric("shutdown_after_heal_ms", static_cast<double>(keel::to_ms(w.now() - healed)));

    auto converged = cluster->await_converged(90s);
    if (converged) ctx.metric("converge_ms", static_cast<double>(keel::to_ms(*converged)));
    cluster->report();
    ctx.metric("faults_fired", static_cast<double>(nemesis.fired()));
}
