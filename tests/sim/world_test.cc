// The simulated world: every process and clock fault takes effect, and the right state
// survives it.
#include <gtest/gtest.h>

#include "core/env/sync.h"
#include "sim/world.h"

namespace keel::sim {
namespace {

// A node that counts its starts on disk (synced) and ticks in memory.
struct Probe {
    int starts = 0;
    int ticks = 0;
    uint64_t durable_starts_seen = 0;
    Instant last_tick{};
    WallTime last_wall{};
};

void probe_main(env::Env& env, Probe& p) {
    p.starts++;
    auto f = env.disk().open("starts", env::OpenMode::create);
    if (f.ok()) {
        auto size = (*f)->size();
        p.durable_starts_seen = size.ok() ? *size : 0;
        (void)(*f)->append(as_bytes("x"));
        (void)(*f)->sync();
        (void)env.disk().sync_dir("");
    }
    while (true) {
        env.executor().sleep_for(100ms);
        p.ticks++;
        p.last_tick = env.clock().monotonic_now();
        p.last_wall = env.clock().wall_now();
    }
}

TEST(World, CrashStopsEveryFiberAndRestartRunsMainAgainOnTheSurvivingDisk) {
    World w({.seed = 1});
    Probe p;
    w.add_node("n1", [&p](env::Env& env) { probe_main(env, p); });
    w.run_for(1s);
    EXPECT_EQ(p.starts, 1);
    int ticks_before = p.ticks;
    EXPECT_GE(ticks_before, 9);
    w.crash("n1");
    EXPECT_FALSE(w.node("n1").running());
    w.run_for(1s);
    EXPECT_EQ(p.ticks, ticks_before) << "a crashed node must not run";
    w.start("n1");
    w.run_for(1s);
    EXPECT_EQ(p.starts, 2);
    EXPECT_EQ(p.durable_starts_seen, 1u) << "the synced file survives the crash";
    EXPECT_EQ(w.faults().crashes, 1u);
    EXPECT_EQ(w.faults().restarts, 1u);
}

TEST(World, WipedDiskReturnsTheNodeEmptyWithTheSameName) {
    World w({.seed = 2});
    Probe p;
    w.add_node("n1", [&p](env::Env& env) { probe_main(env, p); });
    w.run_for(1s);
    w.restart("n1");
    w.run_for(1s);
    EXPECT_EQ(p.durable_starts_seen, 1u);
    w.wipe_disk("n1");
    w.run_for(1s);
    EXPECT_EQ(p.starts, 3);
    EXPECT_EQ(p.durable_starts_seen, 0u) << "after disk loss the node starts from nothing";
    EXPECT_EQ(w.faults().disk_wipes, 1u);
}

TEST(World, PausedNodeRunsNothingAndItsMonotonicClockKeepsGoing) {
    World w({.seed = 3});
    Probe p;
    w.add_node("n1", [&p](env::Env& env) { probe_main(env, p); });
    w.run_for(1s);
    w.pause("n1");
    int ticks = p.ticks;
    w.run_for(5s);
    EXPECT_EQ(p.ticks, ticks);
    w.resume("n1");
    w.run_for(150ms);
    EXPECT_GT(p.ticks, ticks);
    EXPECT_GE(p.last_tick.ns, Duration(6s).count()) << "the stall was real time passing";
    EXPECT_EQ(w.faults().pauses, 1u);
    EXPECT_EQ(w.faults().pause_ns_served, static_cast<uint64_t>(Duration(5s).count()));
}

TEST(World, ClockJumpMovesOnlyTheWallClockOfThatNode) {
    World w({.seed = 4, .clock_skew_max = Duration(0)});
    Probe a, b;
    w.add_node("a", [&a](env::Env& env) { probe_main(env, a); });
    w.add_node("b", [&b](env::Env& env) { probe_main(env, b); });
    w.run_for(1s);
    w.clock_jump("a", -30s);
    w.run_for(1s);
    EXPECT_EQ(b.last_wall.ns - a.last_wall.ns, Duration(30s).count());
    EXPECT_EQ(a.last_tick, b.last_tick) << "monotonic time is untouched by wall-clock jumps";
    EXPECT_EQ(w.faults().clock_jumps, 1u);
}

TEST(World, ControlFiberCanCrashANodeAndContinueAfterItTookEffect) {
    World w({.seed = 5});
    Probe p;
    w.add_node("n1", [&p](env::Env& env) { probe_main(env, p); });
    bool was_running_after = true;
    w.spawn("script", [&] {
        w.sleep(500ms);
        w.crash("n1");
        was_running_after = w.node("n1").running();
        w.sleep(500ms);
        w.start("n1");
    });
    w.run_for(2s);
    EXPECT_FALSE(was_running_after);
    EXPECT_EQ(p.starts, 2);
}

TEST(World, FaultsOnANodeInTheWrongStateAreCountedAsSkipped) {
    World w({.seed = 6});
    Probe p;
    w.add_node("n1", [&p](env::Env& env) { probe_main(env, p); });
    w.run_for(100ms);
    w.resume("n1");  // not paused
    w.crash("n1");
    w.crash("n1");  // already down
    EXPECT_EQ(w.faults().skipped, 2u);
}

uint64_t run_two_node_exchange(uint64_t seed) {
    World w({.seed = seed});
    w.add_node("server", [](env::Env& env) {
        auto l = env.network().listen(env::Address{"server", 7});
        if (!l.ok()) return;
        while (true) {
            auto c = (*l)->accept();
            if (!c.ok()) return;
            auto conn = std::shared_ptr<env::Connection>(std::move(*c));
            env.executor().spawn("echo", [conn, &env] {
                while (true) {
                    auto f = conn->receive();
                    if (!f.ok()) return;
                    env.executor().sleep_for(env.random().uniform(Duration(0), Duration(3ms)));
                    if (!conn->send(std::move(*f)).ok()) return;
                }
            });
        }
    });
    w.add_node("client", [](env::Env& env) {
        for (int k = 0; k < 4; k++) {
            env.executor().spawn("c", [&env] {
                auto c = env.network().connect(env::Address{"server", 7}, env.now() + 5s);
                if (!c.ok()) return;
                for (int i = 0; i < 50; i++) {
                    if (!(*c)->send(Bytes(10, 1)).ok() || !(*c)->receive(env.now() + 5s).ok()) return;
                }
            });
        }
    });
    w.spawn("nemesis", [&w] {
        w.sleep(20ms);
        w.partition("client", "server");
        w.sleep(50ms);
        w.heal_all();
        w.sleep(10ms);
        w.pause("server");
        w.sleep(30ms);
        w.resume("server");
    });
    w.run_for(10s);
    return w.scheduler().hash();
}

TEST(World, SameSeedGivesTheSameTraceHashForManySeeds) {
    for (uint64_t seed = 1; seed <= 40; seed++) {
        EXPECT_EQ(run_two_node_exchange(seed), run_two_node_exchange(seed)) << "seed " << seed;
    }
}

TEST(World, DifferentSeedsGiveDifferentRuns) {
    std::set<uint64_t> hashes;
    for (uint64_t seed = 1; seed <= 40; seed++) hashes.insert(run_two_node_exchange(seed));
    EXPECT_EQ(hashes.size(), 40u);
}

}  // namespace
}  // namespace keel::sim
