// Fault efficacy: every fault kind counts what was requested and what took effect, so a
// fault that cannot bite shows as a zero (issue 13). Also: per-cause heals, supervisor
// restarts counted apart from crashes, same-instant ops in spec order, unknown targets,
// the new disk kinds, power loss at an fsync, and the trace hash covering contents.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/exp_draw.h"
#include "sim/nemesis.h"
#include "sim/world.h"

namespace keel::sim {
namespace {

using namespace std::chrono_literals;

void idle(env::Env& env) {
    while (true) env.executor().sleep_for(1s);
}

// n1 listens; n2 connects to n1 and sends a frame every 10 ms (n3 talks to nobody).
void add_talkers(World& w) {
    w.add_node("n1", [](env::Env& env) {
        auto l = env.network().listen(env::Address{"n1", 9000});
        if (!l.ok()) return;
        while (true) {
            auto c = (*l)->accept();
            if (!c.ok()) continue;
            while ((*c)->receive().ok()) {
            }
        }
    });
    w.add_node("n2", [](env::Env& env) {
        while (true) {
            auto c = env.network().connect(env::Address{"n1", 9000}, env.clock().monotonic_now() + 1s);
            if (!c.ok()) {
                env.executor().sleep_for(100ms);
                continue;
            }
            while ((*c)->send(Bytes(64, 7)).ok()) env.executor().sleep_for(10ms);
        }
    });
    w.add_node("n3", idle);
}

KindEfficacy eff(World& w, const char* kind) { return w.efficacy()[kind]; }

TEST(FaultEfficacy, APartitionBetweenNodesThatNeverTalkHoldsNothing) {
    World w({.seed = 1});
    add_talkers(w);
    {
        Nemesis n(w);
        n.install(FaultSchedule::parse("1s partition n2|n3 for 2s; 4s partition n1|n2 for 2s").value());
        w.run_for(8s);
    }
    EXPECT_EQ(eff(w, "partition").requested, 2u);
    EXPECT_EQ(eff(w, "partition").fired, 2u);
    World w2({.seed = 1});
    add_talkers(w2);
    {
        Nemesis n(w2);
        n.install(FaultSchedule::parse("1s partition n2|n3 for 2s").value());
        w2.run_for(4s);
    }
    EXPECT_EQ(eff(w2, "partition").effect, 0u) << "n2 and n3 have no connection: nothing to hold";
    EXPECT_GT(eff(w, "partition").effect, 0u) << "the n1|n2 partition held n2's frames";
}

TEST(FaultEfficacy, IsolateUndoHealsOnlyItsOwnLinks) {
    World w({.seed = 2});
    add_talkers(w);
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s partition n1|n2 for 10s; 2s isolate n3 for 1s").value());
    w.run_for(4s);
    EXPECT_TRUE(w.network().reachable("n3", "n1")) << "the isolate ended";
    EXPECT_FALSE(w.network().reachable("n1", "n2")) << "the partition still has 7 s to go";
    w.run_for(8s);
    EXPECT_TRUE(w.network().reachable("n1", "n2"));
}

TEST(FaultEfficacy, OverlappingPartitionsOfOneLinkKeepItBlockedUntilBothEnd) {
    World w({.seed = 3});
    add_talkers(w);
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s partition n1|n2 for 2s; 2s oneway n2>n1 for 3s").value());
    w.run_for(3500ms);
    EXPECT_FALSE(w.network().reachable("n2", "n1")) << "the one-way cut still holds n2 → n1";
    EXPECT_TRUE(w.network().reachable("n1", "n2"));
    w.run_for(2s);
    EXPECT_TRUE(w.network().reachable("n2", "n1"));
}

TEST(FaultEfficacy, ClogEffectIsFramesDelayedByThatClog) {
    World w({.seed = 4});
    add_talkers(w);
    {
        Nemesis n(w);
        n.install(FaultSchedule::parse("1s clog n2>n1 100ms for 1s; 1s clog n3>n1 100ms for 1s").value());
        w.run_for(3s);
    }
    EXPECT_EQ(eff(w, "clog").requested, 2u);
    EXPECT_GT(eff(w, "clog").effect, 10u) << "n2 sends every 10 ms";
    EXPECT_LT(eff(w, "clog").effect, 200u);
}

TEST(FaultEfficacy, SupervisorRestartsAreNotCountedAsCrashes) {
    World w({.seed = 5});
    w.add_node("n1", idle);
    w.add_node("n2", idle);
    bool first_crash = false, second_crash = true;
    w.spawn("script", [&] {
        w.sleep(1s);
        w.supervisor_restart("n1");
        first_crash = w.crash("n2");
        second_crash = w.crash("n2");
    });
    w.run_for(2s);
    EXPECT_EQ(w.faults().restarts, 0u);
    EXPECT_EQ(w.faults().supervisor_restarts, 1u);
    EXPECT_EQ(w.node("n1").incarnations(), 2u);
    EXPECT_TRUE(first_crash);
    EXPECT_FALSE(second_crash) << "already down: skipped";
    EXPECT_EQ(w.faults().crashes, 1u) << "the supervisor restart is not a crash";
}

TEST(FaultEfficacy, AClockJumpTakesEffectOnlyWhenTheNodeReadsItsWallClock) {
    World w({.seed = 6});
    w.add_node("reader", [](env::Env& env) {
        while (true) {
            (void)env.clock().wall_now();
            env.executor().sleep_for(100ms);
        }
    });
    w.add_node("deaf", idle);
    {
        Nemesis n(w);
        n.install(FaultSchedule::parse("1s clockjump reader -30s; 1s clockjump deaf 30s").value());
        w.run_for(2s);
    }
    EXPECT_EQ(eff(w, "clockjump").requested, 2u);
    EXPECT_EQ(eff(w, "clockjump").effect, 1u) << "only the node that reads wall time saw its jump";
    EXPECT_EQ(w.node("deaf").clock_jumps_observed(), 0u);
}

TEST(FaultEfficacy, SameInstantOpsApplyInSpecOrder) {
    for (uint64_t seed = 1; seed <= 10; seed++) {
        World w({.seed = seed});
        w.add_node("n1", idle);
        w.add_node("n2", idle);
        Nemesis n(w);
        // Spec order: the restart comes after the crash, so n1 ends up running.
        n.install(FaultSchedule::parse("1s crash n1 for 5s; 1s restart n1; 1s restart n2; 1s crash n2 for 5s").value());
        w.run_for(2s);
        EXPECT_TRUE(w.node("n1").running()) << "seed " << seed;
        EXPECT_FALSE(w.node("n2").running()) << "seed " << seed;
    }
}

TEST(FaultEfficacy, UnknownTargetsAreArgumentErrors) {
    World w({.seed = 7});
    w.add_node("n1", idle);
    w.add_node("n2", idle);
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s crash nx for 1s; 1s partition n1|ny for 1s; 1s crash @leader").value());
    w.run_for(3s);
    EXPECT_EQ(n.skipped(), 3u);
    ASSERT_EQ(w.argument_errors().size(), 2u) << "roles resolve later; names must exist now";
    EXPECT_NE(w.argument_errors()[0].find("'nx'"), std::string::npos);
    EXPECT_NE(w.argument_errors()[1].find("'ny'"), std::string::npos);
}

// A node that appends 600 bytes and fsyncs, every 20 ms; it counts fsync errors and
// reads its file back every 100 ms.
struct Writer {
    int sync_errors = 0;
    void operator()(env::Env& env) {
        auto f = env.disk().open("data", env::OpenMode::create);
        if (!f.ok() || !env.disk().sync_dir("").ok()) return;
        for (int i = 0;; i++) {
            (void)(*f)->append(Bytes(600, static_cast<uint8_t>(i)));
            if (!(*f)->sync().ok()) sync_errors++;
            if (i % 5 == 0) (void)(*f)->read(0, 1 << 20);
            env.executor().sleep_for(20ms);
        }
    }
};

TEST(FaultEfficacy, FsyncFailureIsReturnedAndTheUnsyncedDataIsNotDurable) {
    World w({.seed = 8});
    auto writer = std::make_shared<Writer>();
    w.add_node("n1", [writer](env::Env& env) { (*writer)(env); });
    w.add_node("n2", idle);
    {
        Nemesis n(w);
        n.install(FaultSchedule::parse("1s disk-fsync-fail n1 1.0 for 100ms").value());
        w.run_for(1050ms);
        Bytes current = w.node("n1").disk().read_current("data").value();
        Bytes durable = w.node("n1").disk().read_durable("data").value();
        EXPECT_GT(current.size(), durable.size()) << "fsyncgate: the failed sync made nothing durable";
        w.run_for(1s);
        // A later successful sync does not write what the failed one dropped.
        Bytes later = w.node("n1").disk().read_durable("data").value();
        bool hole = false;
        for (size_t i = durable.size(); i < current.size() && i < later.size(); i++) hole |= later[i] != current[i];
        EXPECT_TRUE(hole) << "the dropped pages never reach disk";
    }
    EXPECT_GT(writer->sync_errors, 0);
    EXPECT_EQ(eff(w, "disk-fsync-fail").effect, static_cast<uint64_t>(writer->sync_errors));
}

TEST(FaultEfficacy, EioCorruptionAndSlowDiskEachCountTheirEffect) {
    World w({.seed = 9});
    w.add_node("n1", [](env::Env& env) { Writer{}(env); });
    w.add_node("n2", idle);
    {
        Nemesis n(w);
        n.install(FaultSchedule::parse("1s disk-eio n1 0.5 for 500ms; 2s disk-corrupt n1; 3s disk-slow n1 5ms for 500ms")
                      .value());
        w.run_for(4s);
    }
    EXPECT_GT(eff(w, "disk-eio").effect, 0u);
    EXPECT_GT(eff(w, "disk-corrupt").effect, 0u) << "the writer reads its file back: the damaged byte is read";
    EXPECT_EQ(w.node("n1").disk().counters().corruptions_injected, 1u);
    EXPECT_GT(eff(w, "disk-slow").effect, 0u);
}

TEST(FaultEfficacy, PowerLossAtAnFsyncTearsTheWriteInFlight) {
    uint64_t torn = 0, kept = 0, fired = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        World w({.seed = seed});
        w.add_node("n1", [](env::Env& env) { Writer{}(env); });
        w.add_node("n2", idle);
        {
            Nemesis n(w);
            n.install(FaultSchedule::parse("1s disk-torn n1 1.0 for 3s; 1500ms powerloss n1 200ms for 1s").value());
            w.run_for(5s);
        }
        EXPECT_TRUE(w.node("n1").running()) << "started again after 200 ms";
        fired += eff(w, "powerloss").effect;
        torn += w.node("n1").disk().counters().torn_writes;
        kept += w.node("n1").disk().counters().unsynced_writes_kept;
        EXPECT_EQ(eff(w, "disk-torn").effect, w.node("n1").disk().counters().torn_writes +
                                                   w.node("n1").disk().counters().unsynced_writes_kept);
    }
    EXPECT_EQ(fired, 6u) << "the writer fsyncs every 20 ms: the armed power loss always fires";
    EXPECT_EQ(torn, 6u) << "torn-write probability 1.0 and a write in flight at every power loss";
    (void)kept;
}

// A node that sends one frame (and writes one file) whose content, not size, depends on
// `variant`.
uint64_t hash_of_run(uint8_t frame_byte, uint8_t disk_byte) {
    World w({.seed = 11});
    w.add_node("n1", [](env::Env& env) {
        auto l = env.network().listen(env::Address{"n1", 9000});
        auto c = (*l)->accept();
        if (c.ok()) (void)(*c)->receive();
        idle(env);
    });
    w.add_node("n2", [frame_byte, disk_byte](env::Env& env) {
        auto f = env.disk().open("x", env::OpenMode::create);
        if (f.ok()) (void)(*f)->append(Bytes(32, disk_byte));
        auto c = env.network().connect(env::Address{"n1", 9000}, env.clock().monotonic_now() + 1s);
        if (c.ok()) (void)(*c)->send(Bytes(32, frame_byte));
        idle(env);
    });
    w.run_for(1s);
    return w.scheduler().hash();
}

TEST(TraceHash, CoversFrameAndDiskWriteContents) {
    uint64_t base = hash_of_run(1, 1);
    EXPECT_EQ(base, hash_of_run(1, 1));
    EXPECT_NE(base, hash_of_run(2, 1)) << "same-size frame, different bytes";
    EXPECT_NE(base, hash_of_run(1, 2)) << "same-size disk write, different bytes";
}

TEST(ExpDraw, IntegerLogMatchesTheMathWithinRounding) {
    for (uint64_t x : {1ULL, 2ULL, 1000ULL, 1ULL << 32, 3ULL << 61, ~0ULL, 0x123456789abcdefULL}) {
        double want = -std::log(static_cast<double>(x) / 18446744073709551616.0);
        double got = static_cast<double>(neg_ln_q32(x)) / 4294967296.0;
        EXPECT_NEAR(got, want, 1e-6) << x;
    }
    EXPECT_EQ(neg_ln_q32(0), neg_ln_q32(1));
    env::SeededRandom rng(1);
    double sum = 0;
    for (int i = 0; i < 20000; i++) sum += static_cast<double>(exponential(rng, 1ms).count());
    EXPECT_NEAR(sum / 20000, 1e6, 3e4) << "mean of the exponential";
}

TEST(RandomSchedule, PutsAPowerLossOrCrashInsideMostDiskFaultWindows) {
    size_t windows = 0, bitten = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        env::SeededRandom rng(seed);
        RandomScheduleOptions o;
        o.end = 30s;
        auto s = random_schedule(rng, {"a", "b", "c"}, o);
        for (const auto& w : s.ops) {
            if (w.kind != FaultKind::disk_torn && w.kind != FaultKind::disk_fsyncfail) continue;
            windows++;
            for (const auto& c : s.ops) {
                bool killer = c.kind == FaultKind::crash || c.kind == FaultKind::powerloss;
                if (killer && c.a == w.a && c.at >= w.at && c.at < w.at + w.duration) {
                    bitten++;
                    break;
                }
            }
        }
        EXPECT_LE(s.end(), Duration(30s));
        EXPECT_EQ(FaultSchedule::parse(s.to_string()).value().to_string(), s.to_string()) << "replayable as printed";
    }
    ASSERT_GT(windows, 20u);
    EXPECT_GT(bitten * 10, windows * 6) << bitten << " of " << windows;
}

}  // namespace
}  // namespace keel::sim
