// The foundation's proof, as scenarios: a primary–backup counter
// (scenarios/proof/counter_service.h) on three simulated nodes and a client, under every
// fault type the simulator has.
#include "sim/scenario.h"
#include "scenarios/proof/counter_service.h"

namespace keel::scenarios {
namespace {

using sim::FaultKind;

struct CounterCluster {
    proof::CounterConfig config;
    proof::CounterHistory history;
};

// Starts n1 (primary), n2, n3 (backups) and a client "cl" that runs `ops` operations and
// does its final read once the faults are over.
void start_counter(sim::World& w, CounterCluster& c, int ops, Duration quiet_at) {
    c.config.primary = env::Address{"n1", 9000};
    c.config.backups = {env::Address{"n2", 9001}, env::Address{"n3", 9001}};
    w.add_node("n1", [&c](env::Env& env) { proof::run_counter_primary(env, c.config); });
    w.add_node("n2", [&c](env::Env& env) { proof::run_counter_backup(env, c.config.backups[0]); });
    w.add_node("n3", [&c](env::Env& env) { proof::run_counter_backup(env, c.config.backups[1]); });
    // Disk operations take time, so a crash can land between a write and its sync.
    for (const char* n : {"n1", "n2", "n3"}) {
        w.node(n).disk().faults().latency_min = 20us;
        w.node(n).disk().faults().latency_max = 2ms;
    }
    Instant quiet = w.now() + quiet_at;
    w.add_node("cl", [&c, ops, quiet](env::Env& env) {
        proof::run_counter_client(env, c.config, ops, 5ms, quiet, quiet + 60s, c.history);
    });
}

void finish(sim::ScenarioContext& ctx, CounterCluster& c, Duration limit) {
    auto& w = ctx.world();
    bool done = w.run_until([&] { return c.history.final_read.has_value(); }, limit);
    ctx.metric("ops", static_cast<double>(c.history.ops.size()));
    ctx.metric("final_value", static_cast<double>(c.history.final_read.value_or(0)));
    size_t acked = 0;
    for (const auto& op : c.history.ops) acked += op.outcome == proof::CounterOp::Outcome::ok ? 1 : 0;
    ctx.metric("acked_ops", static_cast<double>(acked));
    if (!done) ctx.note("the client did not finish within the run limit");
    // A run in which nothing was acknowledged checked nothing: that is a failure too.
    ctx.expect(acked > 0, "not live: no operation was acknowledged in " + std::to_string(c.history.ops.size()) +
                              " attempts");
    for (auto& v : proof::check_counter_history(c.history)) ctx.violation(v);
}

}  // namespace
}  // namespace keel::scenarios

using keel::scenarios::CounterCluster;
using namespace std::chrono_literals;

KEEL_SCENARIO("counter-chaos",
              "primary-backup counter under random crashes, pauses, partitions, clogs, resets, "
              "torn writes, power loss at fsync, bit flips, EIO, fsync failure, corruption, full and slow "
              "disks, and one disk loss") {
    auto& w = ctx.world();
    CounterCluster c;
    keel::sim::RandomScheduleOptions o;
    o.start = 1s;
    o.end = keel::Duration(std::chrono::seconds(ctx.param_int("fault_seconds", 30)));
    o.mean_gap = 1500ms;
    // The counter service never reads its wall clock: a clock jump could not bite.
    o.exclude = {keel::sim::FaultKind::clockjump};
    auto schedule = ctx.faults_or(keel::sim::random_schedule(w.random(), {"n1", "n2", "n3"}, o));
    keel::Duration quiet = std::max(schedule.end(), o.end) + 2s;
    keel::scenarios::start_counter(w, c, static_cast<int>(ctx.param_int("ops", 1000000)), quiet);
    keel::sim::Nemesis nemesis(w);
    nemesis.install(schedule);
    keel::scenarios::finish(ctx, c, quiet + 90s);
    ctx.metric("faults_fired", static_cast<double>(nemesis.fired()));
}

KEEL_SCENARIO("counter-calm", "primary-backup counter with no faults: every increment is acknowledged") {
    auto& w = ctx.world();
    CounterCluster c;
    auto schedule = ctx.faults_or({});
    keel::scenarios::start_counter(w, c, static_cast<int>(ctx.param_int("ops", 200)), 60s);
    keel::sim::Nemesis nemesis(w);
    nemesis.install(schedule);
    keel::scenarios::finish(ctx, c, 120s);
    size_t acked = 0;
    for (const auto& op : c.history.ops) acked += op.outcome == keel::proof::CounterOp::Outcome::ok ? 1 : 0;
    // Buggify's slow replies can outlast the client's timeout; otherwise nothing may fail.
    bool buggify_fired = false;
    for (const auto& [site, info] : w.buggify().sites()) buggify_fired |= info.fired > 0;
    if (!ctx.options().faults && !buggify_fired) {
        ctx.expect(acked == c.history.ops.size(), "with no faults every operation succeeds");
    }
}

KEEL_SCENARIO("counter-bug-ack-before-persist",
              "planted bug: the primary acknowledges before anything is durable; crashes must expose it") {
    auto& w = ctx.world();
    CounterCluster c;
    c.config.bug_ack_before_persist = true;
    auto schedule = ctx.faults_or(keel::sim::FaultSchedule::parse(
                                      "3s crash n1 for 1s; 6s crash n1 for 1s; 9s crash n1 for 1s")
                                      .value());
    keel::scenarios::start_counter(w, c, 600, 12s);
    keel::sim::Nemesis nemesis(w);
    nemesis.install(schedule);
    keel::scenarios::finish(ctx, c, 120s);
}
