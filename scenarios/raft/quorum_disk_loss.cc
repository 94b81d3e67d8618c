// quorum-disk-loss: KIP-853's hazard, by hand. A voter that loses its disk and comes back
// under the same id must not vote before it has caught up: otherwise it can help elect a
// leader that lacks entries it had itself acknowledged — a committed entry is lost.
//
// The schedule (roles resolved at run time, so it is deterministic for a seed):
//   1. the leader L commits with one follower F while the other follower X is isolated;
//   2. at once: X comes back, L is isolated, and F's disk is wiped (F restarts empty);
//   3. F and X alone: with protection (default) F refuses to vote until it catches up, so
//      no leader is elected without L; with --param protect=0 F bootstraps, votes for X,
//      and X leads without the entries L and F committed: the monitor reports it.
//   4. heal; with protection the quorum must become live again.
#include "scenarios/raft/quorum_cluster.h"

using namespace keel;
using namespace std::chrono_literals;

KEEL_SCENARIO_SCRIPTED("quorum-disk-loss",
              "a voter loses its disk and returns with the same id (KIP-853): with protection it catches up "
              "before voting; with --param protect=0 a committed entry is lost and the monitor reports it") {
    auto& w = ctx.world();
    scenarios::QuorumOptions o;
    o.brokers = 1;
    o.protect_empty_disk = ctx.param_int("protect", 1) != 0;
    auto cluster_ptr = scenarios::QuorumCluster::create(ctx, o);
    scenarios::QuorumCluster& cluster = *cluster_ptr;
    auto& m = cluster.monitor();

    bool steady = w.run_until([&] { return cluster.leader() && m.committed_end().value() > 10; }, 30s);
    auto leader = cluster.leader();
    if (!steady || !leader) {
        ctx.violation("no steady leader within 30 s");
        cluster.report();
        return;
    }
    std::string l = *leader;
    std::vector<std::string> followers;
    for (const auto& c : cluster.controllers()) {
        if (c != l) followers.push_back(c);
    }
    std::string f = followers[0], x = followers[1];
    ctx.note("leader " + l + ", follower kept " + f + ", follower isolated " + x);

    // 1. L commits with F alone.
    w.isolate(x);
    Offset x_end = cluster.status(x) ? cluster.status(x)->log_end : Offset(0);
    if (!w.run_until([&] { return m.committed_end() > x_end + 20; }, 20s)) {
        // A control run that never committed past X's log proves nothing: a failure.
        ctx.violation("the schedule did not run as planned: nothing committed past " + x + "'s log end " +
                      std::to_string(x_end.value()) + " within 20 s");
        cluster.report();
        return;
    }
    ctx.note("committed up to " + std::to_string(m.committed_end().value()) + " while " + x + " held " +
             std::to_string(x_end.value()));
    // 2. X back, L away, F's disk gone.
    w.heal_all();
    w.isolate(l);
    w.wipe_disk(f);
    // 3. F and X alone for a while. Unprotected, the run stops at the monitor's first
    // report: replicas that hold the lost entries would next trip RaftNode's own
    // assertion ("divergence below the high watermark") when they meet the new leader.
    w.run_until([&] { return !m.ok(); }, 15s);
    auto newest = m.leader_of(m.highest_leader_epoch());
    ctx.metric("leader_elected_without_old_leader", newest && *newest != cluster.id_of(l) ? 1 : 0);
    if (!m.ok()) {
        ctx.note("the monitor caught the lost entry; stopping before the replicas that hold it meet the new leader");
        cluster.report();
        return;
    }
    // 4. Heal.
    w.heal_all();
    if (o.protect_empty_disk) {
        auto recovered = cluster.await_quiet_liveness(60s);
        if (recovered) ctx.metric("recover_ms", static_cast<double>(to_ms(*recovered)));
    } else {
        w.run_for(10s);
    }
    cluster.report();
}
