#include <gtest/gtest.h>

#include "sim/nemesis.h"
#include "sim/world.h"

namespace keel::sim {
namespace {

TEST(FaultSchedule, ParsesEveryKindAndPrintsBackTheSameSpec) {
    std::string spec =
        "1s crash n1 for 3s; 1s restart @leader; 2s pause b2 for 1500ms; 3s partition c1,c2|c3 for 4s; "
        "3s oneway c1>c2 for 4s; 3s isolate @leader for 4s; 5s clog c1>c2 200ms for 3s; 5s reset c1-c2; "
        "6s clockjump b1 -30s; 7s wipe c3; 8s disk-torn b1 0.9 for 10s; 8s disk-bitflip b1 0.01 for 5s; "
        "8s disk-full b1 for 5s; 8s disk-slow b1 20ms for 5s; 9s heal";
    auto s = FaultSchedule::parse(spec);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    EXPECT_EQ(s->ops.size(), 15u);
    EXPECT_EQ(s->to_string(), spec);
    auto again = FaultSchedule::parse(s->to_string());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->to_string(), spec);
    EXPECT_EQ(s->end(), Duration(18s));
}

TEST(FaultSchedule, RejectsMalformedSpecsWithAReason) {
    for (const char* bad : {"crash n1", "1s explode n1", "1s partition n1", "1s clog a>b", "x crash n1",
                            "1s disk-torn b1 2.0", "1s crash n1 for", "1s heal n1", "1q crash n1"}) {
        auto s = FaultSchedule::parse(bad);
        EXPECT_FALSE(s.ok()) << bad;
        if (!s.ok()) {
            EXPECT_EQ(s.code(), Errc::invalid_argument);
            EXPECT_FALSE(s.error().message.empty());
        }
    }
}

TEST(RandomSchedule, IsDeterministicPerSeedAndKeepsFaultsInsideTheWindow) {
    RandomScheduleOptions o;
    o.end = 30s;
    env::SeededRandom r1(9), r2(9), r3(10);
    auto a = random_schedule(r1, {"a", "b", "c"}, o);
    auto b = random_schedule(r2, {"a", "b", "c"}, o);
    auto c = random_schedule(r3, {"a", "b", "c"}, o);
    EXPECT_EQ(a.to_string(), b.to_string());
    EXPECT_NE(a.to_string(), c.to_string());
    EXPECT_FALSE(a.ops.empty());
    EXPECT_LE(a.end(), Duration(30s));
    size_t wipes = 0;
    for (const auto& op : a.ops) wipes += op.kind == FaultKind::wipe;
    EXPECT_LE(wipes, 1u);
}

TEST(Nemesis, FiresAtTheScheduledTimesAndUndoesTimedFaults) {
    World w({.seed = 3});
    int starts = 0;
    w.add_node("n1", [&starts](env::Env& env) {
        starts++;
        while (true) env.executor().sleep_for(1s);
    });
    w.add_node("n2", [](env::Env& env) {
        while (true) env.executor().sleep_for(1s);
    });
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s crash n1 for 2s; 2s partition n1|n2 for 1s; 4s pause n2 for 1s").value());
    w.run_for(1500ms);
    EXPECT_FALSE(w.node("n1").running());
    w.run_for(2s);  // t = 3.5s
    EXPECT_TRUE(w.node("n1").running());
    EXPECT_EQ(starts, 2);
    EXPECT_TRUE(w.network().reachable("n1", "n2"));
    w.run_for(1s);  // t = 4.5s
    EXPECT_TRUE(w.node("n2").paused());
    w.run_for(1s);
    EXPECT_FALSE(w.node("n2").paused());
    EXPECT_EQ(n.fired(), 3u);
    EXPECT_EQ(w.faults().crashes, 1u);
    EXPECT_EQ(w.faults().partitions, 1u);
    EXPECT_EQ(w.faults().pauses, 1u);
}

TEST(Nemesis, RoleTargetsAreResolvedWhenTheFaultFires) {
    World w({.seed = 4});
    for (const char* name : {"a", "b"}) {
        w.add_node(name, [](env::Env& env) {
            while (true) env.executor().sleep_for(1s);
        });
    }
    std::string leader = "a";
    Nemesis n(w, [&leader](std::string_view role) -> std::optional<std::string> {
        if (role == "@leader") return leader;
        return std::nullopt;
    });
    n.install(FaultSchedule::parse("2s crash @leader; 3s crash @nobody").value());
    w.run_for(1s);
    leader = "b";  // leadership moved before the fault fired
    w.run_for(3s);
    EXPECT_TRUE(w.node("a").running());
    EXPECT_FALSE(w.node("b").running());
    EXPECT_EQ(n.skipped(), 1u);
}

TEST(Nemesis, DiskFaultsTakeEffectOnTheTargetDisk) {
    World w({.seed = 5});
    w.add_node("n1", [](env::Env& env) {
        auto f = env.disk().open("data", env::OpenMode::create);
        if (!f.ok()) return;
        while (true) {
            (void)(*f)->append(Bytes(4096, 1));
            env.executor().sleep_for(100ms);
        }
    });
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s disk-full n1 for 1s; 3s disk-slow n1 50ms for 1s").value());
    w.run_for(1500ms);
    EXPECT_GT(w.node("n1").disk().counters().enospc_errors, 0u);
    w.run_for(1s);
    EXPECT_EQ(w.node("n1").disk().faults().capacity_bytes, UINT64_MAX) << "undone after its duration";
    w.run_for(1s);
    EXPECT_EQ(w.node("n1").disk().faults().slow_max, Duration(50ms));
}

}  // namespace
}  // namespace keel::sim

namespace keel::sim {
namespace {

// Two overlapping disk faults on one node: when both have ended, the disk is healthy again
// (a regression: the second fault's undo once restored the first fault's setting).
TEST(Nemesis, OverlappingDiskFaultsOnOneNodeAllEnd) {
    World w({.seed = 6});
    w.add_node("n1", [](env::Env& env) {
        while (true) env.executor().sleep_for(1s);
    });
    Nemesis n(w);
    n.install(FaultSchedule::parse("1s disk-full n1 for 2s; 2s disk-full n1 for 3s; 1s disk-slow n1 5ms for 1s; "
                                   "1500ms disk-slow n1 9ms for 3s")
                  .value());
    w.run_for(2500ms);
    EXPECT_NE(w.node("n1").disk().faults().capacity_bytes, UINT64_MAX);
    w.run_for(5s);
    EXPECT_EQ(w.node("n1").disk().faults().capacity_bytes, UINT64_MAX);
    EXPECT_EQ(w.node("n1").disk().faults().slow_max, Duration(0));
}

}  // namespace
}  // namespace keel::sim
