// Safety under arbitrary schedules: random delivery, loss, duplication and reordering of
// messages among 3-5 voters (plus observers), random time steps, crashes and restarts
// from the persisted state, partitions, disk loss, snapshots, resignations and proposals.
// The harness checks after every event: at most one leader per epoch, never two different
// entries committed at one offset, every new leader holds every committed entry, log
// matching. After the chaos, with faults healed, the cluster must elect a leader and
// commit again (unless as many voters lost their disks as a majority needs, where
// unavailability is the correct outcome). Commands are drawn independently of RapidCheck's
// size, so every fault command takes effect in >= 90% of the cases (asserted).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "tests/raft/raft_harness.h"

namespace keel::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

// Size-independent choices: RapidCheck's inRange scales its range with the size
// parameter, which starts at 0, so small cases would only ever deliver messages. These
// draw from the whole range in every case (and still shrink towards `lo`).
template <typename T>
T uniform(T lo, T hi) {  // [lo, hi)
    return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}

NodeId pick(const std::vector<NodeId>& ids) { return *rc::gen::elementOf(ids); }

std::vector<NodeId> nodes_where(Cluster& c, bool up) {
    std::vector<NodeId> out;
    for (NodeId id : c.ids()) {
        if (c.node(id).up == up) out.push_back(id);
    }
    return out;
}

enum class Cmd { deliver, drop, duplicate, advance, propose, crash, restart, cut, heal, snapshot, resign, wipe };
constexpr size_t kCmds = 12;
const char* const kCmdNames[kCmds] = {"deliver", "drop", "duplicate", "advance", "propose", "crash",
                                      "restart", "cut",  "heal",      "snapshot", "resign", "wipe"};

// Which commands took effect in how many cases (the property's reach, measured).
struct Reach {
    int cases = 0;
    int liveness_checked = 0;  // cases that had to elect and commit again after the chaos
    std::array<int, kCmds> cases_with{};
};
Reach& reach() {
    static Reach r;
    return r;
}

struct Chaos {
    Cluster& c;
    int proposals = 0;
    std::set<NodeId> wiped_voters;
    std::vector<std::string> log;
    std::array<bool, kCmds> done{};

    void step() {
        // Faults are rare per step (1-3%) but the run is long (400-1000 steps), so each
        // appears in nearly every case while the cluster still makes progress between them.
        Cmd cmd = *rc::gen::weightedElement<Cmd>({{130, Cmd::deliver}, {8, Cmd::drop}, {6, Cmd::duplicate},
                                                  {30, Cmd::advance}, {28, Cmd::propose}, {3, Cmd::crash},
                                                  {6, Cmd::restart}, {3, Cmd::cut}, {2, Cmd::heal},
                                                  {6, Cmd::snapshot}, {3, Cmd::resign}, {2, Cmd::wipe}});
        size_t n = c.in_flight();
        log.push_back(std::string(kCmdNames[static_cast<size_t>(cmd)]) + (n > 0 ? " msgs=" + std::to_string(n) : ""));
        if (apply(cmd, n)) done[static_cast<size_t>(cmd)] = true;
    }

    // Returns whether the command did something.
    bool apply(Cmd cmd, size_t n) {
        switch (cmd) {
            case Cmd::deliver: return n > 0 && (c.deliver(uniform<size_t>(0, n)), true);
            case Cmd::drop: return n > 0 && (c.drop(uniform<size_t>(0, n)), true);
            case Cmd::duplicate: return n > 0 && (c.duplicate(uniform<size_t>(0, n)), true);
            case Cmd::advance: c.advance(ms(uniform(1, 400))); return true;
            case Cmd::propose: propose(); return true;
            case Cmd::crash: {
                auto up = nodes_where(c, true);
                return up.size() > 1 && (c.crash(pick(up)), true);
            }
            case Cmd::restart: {
                auto down = nodes_where(c, false);
                return !down.empty() && (c.restart(pick(down)), true);
            }
            case Cmd::cut: {
                NodeId a = pick(c.ids()), b = pick(c.ids());
                return a != b && (c.cut(a, b), true);
            }
            case Cmd::heal: c.heal(); return true;
            case Cmd::snapshot: return snapshot();
            case Cmd::resign: return resign();
            case Cmd::wipe: return wipe();
        }
        return false;
    }

    // A snapshot on a node that has applied something new since its last one, if any.
    bool snapshot() {
        std::vector<NodeId> ready;
        for (NodeId id : nodes_where(c, true)) {
            if (c.node(id).sm.next > c.raft(id).log().start()) ready.push_back(id);
        }
        return !ready.empty() && c.take_snapshot(pick(ready)).ok();
    }

    bool resign() {
        auto l = c.leader();
        if (!l) return false;
        (void)c.raft(*l).resign();
        c.flush(*l);
        return true;
    }

    // Disk loss of observers any time, of one voter only (as often as it comes): a second
    // voter's loss would leave a 3-voter quorum without a majority able to vote for the
    // rest of the case, and the case would check nothing but that.
    bool wipe() {
        NodeId victim = pick(c.ids());
        auto voters = c.voter_ids();
        bool voter = std::find(voters.begin(), voters.end(), victim) != voters.end();
        if (voter && !wiped_voters.empty() && wiped_voters.count(victim) == 0) return false;
        c.wipe_and_restart(victim, EmptyDisk::rejoin);
        if (voter) wiped_voters.insert(victim);
        return true;
    }

    // Unavailability is the right answer only once as many voters lost their disks as a
    // majority needs: with a majority never wiped, the quorum must elect and commit again.
    bool may_be_unavailable() const {
        size_t voters = c.voter_ids().size();
        return wiped_voters.size() > voters - (voters / 2 + 1);
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

void dump(const Chaos& chaos, Cluster& c) {
    for (const auto& line : chaos.log) RC_LOG() << line << "\n";
    RC_LOG() << c.dump();
}

void record_reach(const Chaos& chaos) {
    reach().cases++;
    for (size_t i = 0; i < kCmds; i++) reach().cases_with[i] += chaos.done[i] ? 1 : 0;
}

void run_case() {
    ClusterOptions o;
    o.voters = uniform(3, 6);
    o.observers = uniform(0, 2);
    o.seed = *rc::gen::arbitrary<uint64_t>();
    o.config.pre_vote = *rc::gen::arbitrary<bool>();
    if (*rc::gen::arbitrary<bool>()) o.config.fetch_bytes_max = 1;  // one entry per fetch
    o.config.snapshot_chunk_bytes_max = uniform<size_t>(16, 200);
    Cluster c(o);
    Chaos chaos{c, 0, {}, {}, {}};
    int steps = uniform(400, 1000);
    for (int i = 0; i < steps; i++) {
        chaos.step();
        if (i % 25 == 0) c.check_invariants();
    }
    record_reach(chaos);
    heal_everything(c);
    c.run_for(ms(20'000));
    c.check_invariants();
    if (chaos.may_be_unavailable()) return;
    reach().liveness_checked++;
    auto leader = c.leader();
    if (!leader) dump(chaos, c);
    RC_ASSERT(leader.has_value());
    auto off = c.propose(*leader, "final");
    RC_ASSERT(off.ok());
    c.run_for(ms(2'000));
    try {
        c.expect_state_machines_agree_up_to(*off + 1);
    } catch (const std::exception&) {
        dump(chaos, c);
        throw;
    }
    RC_ASSERT(c.committed().at(*off).payload == to_bytes("final"));
}

TEST(RaftProperty, RandomSchedulesNeverBreakSafety) {
    reach() = Reach{};
    ASSERT_TRUE(rc::check(run_case));
    // Every fault command took effect in at least 90% of the cases (a property whose
    // faults rarely happen is greener than the truth); printed for the record.
    std::string table;
    for (size_t i = 0; i < kCmds; i++) {
        table += std::string(kCmdNames[i]) + "=" + std::to_string(reach().cases_with[i]) + "/" +
                 std::to_string(reach().cases) + " ";
    }
    std::printf("reach: %s(liveness checked in %d)\n", table.c_str(), reach().liveness_checked);
    for (Cmd f : {Cmd::drop, Cmd::duplicate, Cmd::crash, Cmd::restart, Cmd::cut, Cmd::heal, Cmd::wipe}) {
        size_t i = static_cast<size_t>(f);
        EXPECT_GE(reach().cases_with[i] * 10, reach().cases * 9) << kCmdNames[i] << ": " << table;
    }
    // Snapshots and resignations need a node with new commits, a leader: fewer cases.
    for (Cmd f : {Cmd::snapshot, Cmd::resign}) {
        size_t i = static_cast<size_t>(f);
        EXPECT_GE(reach().cases_with[i] * 2, reach().cases) << kCmdNames[i] << ": " << table;
    }
}

}  // namespace
}  // namespace keel::raft
