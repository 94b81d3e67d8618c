// controller-failover: the active controller is killed at a seeded moment; how long until
// the quorum commits again? Kafka's default timers (fetch timeout 2 s, election timeout
// 1 s randomized in [1 s, 2 s)). Compare (docs/raft.md): in ZooKeeper mode a dead
// controller was noticed only after the ZooKeeper session timeout (6 s, 18 s since 2.5),
// and its successor then reloaded all metadata from ZooKeeper before acting — a time
// that grew with the partition count (KIP-500). A KRaft standby already holds the log.
#include "scenarios/raft/quorum_cluster.h"

using namespace keel;
using namespace std::chrono_literals;

KEEL_SCENARIO_SCRIPTED("controller-failover",
              "kill -9 the active controller at a seeded time; failover_ms = crash to the new "
              "leader's first commit (ZooKeeper mode: 6-18 s session timeout, then a full reload)") {
    auto& w = ctx.world();
    scenarios::QuorumOptions o;
    o.config = scenarios::default_raft_config();
    o.brokers = static_cast<int>(ctx.param_int("brokers", 3));
    auto cluster_ptr = scenarios::QuorumCluster::create(ctx, o);
    scenarios::QuorumCluster& cluster = *cluster_ptr;

    // Steady state: a leader and a stream of commits.
    bool steady = w.run_until([&] { return cluster.leader() && cluster.monitor().committed_end().value() > 20; }, 30s);
    if (!steady) {
        ctx.violation("no steady leader within 30 s");
        cluster.report();
        return;
    }
    w.run_for(w.random().uniform(Duration(1s), Duration(6s)));
    auto leader = cluster.leader();
    if (!leader) {
        ctx.violation("no leader to crash");
        cluster.report();
        return;
    }
    QuorumEpoch old_epoch = cluster.status(*leader)->epoch;
    Instant crashed_at = w.now();
    w.crash(*leader);
    ctx.note("crashed " + *leader + " (leader of epoch " + std::to_string(old_epoch.value()) + ") at " +
             std::to_string(crashed_at.ns / 1'000'000) + " ms");
    auto& m = cluster.monitor();
    bool failed_over = w.run_until([&] { return m.first_data_commit_after_epoch(old_epoch).has_value(); }, 60s);
    if (!failed_over) {
        ctx.violation("no commit by a new leader within 60 s of the crash");
    } else {
        ctx.metric("failover_ms", static_cast<double>((*m.first_commit_after_epoch(old_epoch) - crashed_at).count()) / 1e6);
        ctx.metric("failover_data_ms", static_cast<double>((*m.first_data_commit_after_epoch(old_epoch) - crashed_at).count()) / 1e6);
    }
    w.start(*leader);
    auto recovered = cluster.await_quiet_liveness(30s);
    if (recovered) ctx.metric("rejoin_ms", static_cast<double>(to_ms(*recovered)));
    cluster.report();
}
