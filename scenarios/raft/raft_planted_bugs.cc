// Planted bugs the RaftMonitor must catch (property_tests/negative/). Each is a scripted
// schedule — roles resolved at run time, so a seed replays exactly — that exposes one bug
// when `--param bug=1` (the default) and passes safely with `--param bug=0`.
// A schedule that did not go as planned is a violation, not a pass: a control run
// (bug=0) that never reached the dangerous state proves nothing. `--param disrupt=1`
// breaks the plan on purpose (tests/negative check that this fails).
#include "scenarios/raft/quorum_cluster.h"

using namespace keel;
using namespace std::chrono_literals;

namespace {

std::string name_of(const scenarios::QuorumCluster& c, NodeId id) {
    for (const auto& n : c.controllers()) {
        if (c.id_of(n) == id) return n;
    }
    return "";
}

// Waits for a leader with some commits; its name, or "" (a violation is recorded).
std::string steady_leader(sim::ScenarioContext& ctx, scenarios::QuorumCluster& c) {
    bool steady = ctx.world().run_until(
        [&] { return c.leader() && c.monitor().committed_end().value() > 10; }, 30s);
    if (!steady || !c.leader()) {
        ctx.violation("no steady leader within 30 s");
        return "";
    }
    return *c.leader();
}

// The plan did not happen: a failure, with the reason.
void plan_failed(sim::ScenarioContext& ctx, scenarios::QuorumCluster& c, const std::string& why) {
    ctx.violation("the schedule did not run as planned: " + why);
    c.report();
}

void finish(sim::ScenarioContext& ctx, scenarios::QuorumCluster& c, bool bug) {
    if (!bug) {
        // Without the bug the same schedule is safe, and the quorum recovers.
        ctx.world().heal_all();
        for (const auto& n : c.controllers()) {
            if (!ctx.world().node(n).running()) ctx.world().start(n);
        }
        c.await_quiet_liveness(60s);
    }
    c.report();
}

}  // namespace

KEEL_SCENARIO_SCRIPTED("raft-bug-forget-vote",
              "planted bug (--param bug=1): a voter forgets its persisted vote on restart and votes twice "
              "in one epoch; the monitor must report it") {
    auto& w = ctx.world();
    bool bug = ctx.param_int("bug", 1) != 0;
    scenarios::QuorumOptions o;
    o.brokers = 0;
    o.config.pre_vote = false;
    o.bug_forget_vote = bug;
    // c3 is the voter V of the story: its slow timers mean it never campaigns itself.
    o.tweak = [](const std::string& node, raft::RaftConfig& config) {
        if (node == "c3") config.election_timeout = config.fetch_timeout = config.check_quorum_timeout = 20s;
    };
    auto cluster_ptr = scenarios::QuorumCluster::create(ctx, o);
    auto& c = *cluster_ptr;
    auto& m = c.monitor();
    std::string l = steady_leader(ctx, c);
    if (l.empty()) return c.report();
    QuorumEpoch e = c.status(l)->epoch;
    if (l == "c3") return plan_failed(ctx, c, "c3 leads");
    if (ctx.param_int("disrupt", 0) != 0) w.isolate("c3");  // c3 can vote for no one
    // 1. The leader L dies; the other fast voter B campaigns in epoch e+1 and V (c3) votes for it...
    std::string v = "c3", b = l == "c1" ? "c2" : "c1";
    w.crash(l);
    QuorumEpoch epoch = e + 1;
    auto voted = [&] {
        auto it = m.votes().find({c.id_of(v), epoch});
        return it != m.votes().end() && it->second == c.id_of(b);
    };
    if (!w.run_until(voted, 10s)) {
        return plan_failed(ctx, c, "c3 did not vote for " + b + " in epoch " + std::to_string(epoch.value()));
    }
    ctx.note(v + " voted for " + b + " in epoch " + std::to_string(epoch.value()));
    // 2. ...but the vote never reaches B, and V restarts (forgetting it, with the bug) just
    //    before L, back at its old epoch e, campaigns in epoch e+1 too.
    w.isolate(b);
    w.crash(v);
    w.start(l);
    w.run_for(900ms);
    w.start(v);
    w.run_until([&] { return !m.ok(); }, 10s);
    finish(ctx, c, bug);
}

KEEL_SCENARIO_SCRIPTED("raft-bug-figure8",
              "planted bug (--param bug=1): a leader commits an earlier epoch's entry by counting replicas "
              "(Raft's figure 8, five voters); the monitor must report the lost entry") {
    auto& w = ctx.world();
    bool bug = ctx.param_int("bug", 1) != 0;
    scenarios::QuorumOptions o;
    o.controllers = 5;
    o.brokers = 0;
    o.config.fetch_bytes_max = 1;  // one entry per fetch: a follower can hold part of a tail
    o.config.bug_commit_by_counting_older_epochs = bug;
    auto cluster_ptr = scenarios::QuorumCluster::create(ctx, o);
    auto& c = *cluster_ptr;
    auto& m = c.monitor();
    std::string l1 = steady_leader(ctx, c);
    if (l1.empty()) return c.report();
    QuorumEpoch e = c.status(l1)->epoch;
    auto plan_failed = [&](const std::string& why) { ::plan_failed(ctx, c, why); };
    // 1. L1 is cut off: what it appends now (x) reaches no one.
    w.isolate(l1);
    if (ctx.param_int("disrupt", 0) != 0) {
        for (const auto& n : c.controllers()) w.isolate(n);  // no second leader can be elected
    }
    // 2. The others elect L2; it is cut off the moment it wins, so its epoch's entries stay on it.
    if (!w.run_until([&] { return m.highest_leader_epoch() > e; }, 15s)) return plan_failed("no second leader");
    QuorumEpoch e2 = m.highest_leader_epoch();
    std::string l2 = name_of(c, *m.leader_of(e2));
    w.isolate(l2);
    std::vector<std::string> rest;
    for (const auto& n : c.controllers()) {
        if (n != l1 && n != l2) rest.push_back(n);
    }
    std::string p = rest[0], q = rest[1], r = rest[2];
    // 3. L1 returns with P and Q only: its log is the longest there, so it wins an epoch > e2.
    //    L1's answers to Q are slow (a clog): Q learns each entry 300 ms after P does.
    w.heal_all();
    w.isolate(l2);
    w.isolate(r);
    w.clog(l1, q, 300ms, 30s);
    Offset kx = std::min(c.status(p) ? c.status(p)->log_end : Offset(0), c.status(q) ? c.status(q)->log_end : Offset(0));
    if (!w.run_until([&] { return m.highest_leader_epoch() > e2 && m.leader_of(m.highest_leader_epoch()) == c.id_of(l1); },
                     20s)) {
        return plan_failed(l1 + " did not win the third election");
    }
    // 4. The first commit past what P and Q held. With the bug it comes when Q reports
    //    holding x's first entry; L1's (slow) answer carrying its epoch's LeaderChange is
    //    then still in flight, and L1 dies at once, so Q never gets it. Without the bug the
    //    commit waits until Q has that LeaderChange.
    if (!w.run_until([&] { return m.committed_end() > kx; }, 10s)) return plan_failed("nothing committed past x");
    w.crash(l1);
    ctx.note("L1 " + l1 + " committed past " + std::to_string(kx.value()) + " and crashed; L2 " + l2);
    // 5. L2 returns with R and Q; P (which has L1's newest epoch) stays away.
    std::string away = p;
    w.heal_all();
    w.isolate(away);
    w.run_until([&] { return !m.ok(); }, 20s);
    finish(ctx, c, bug);
}
