// The nemesis's fault plan (prod/nemesis_schedule.h): seeded and reproducible, never more
// than max_down nodes out, every fault healed (by the matching action) before the end.
#include "prod/nemesis_schedule.h"

#include <gtest/gtest.h>

#include <map>

namespace keel::prod {
namespace {

NemesisPlanOptions options(uint64_t seed) {
    NemesisPlanOptions o;
    o.seed = seed;
    o.duration_ms = 60'000;
    o.nodes = {1, 2, 3};
    return o;
}

TEST(NemesisSchedule, TheSameSeedGivesTheSamePlanAndAnotherSeedAnother) {
    auto a = plan_nemesis(options(7));
    auto b = plan_nemesis(options(7));
    auto c = plan_nemesis(options(8));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_NE(*a, *c);
    EXPECT_GT(a->size(), 10u);  // 60 s of faults 0.5-3 s apart, each 1-5 s long
}

TEST(NemesisSchedule, AtMostMaxDownAndEveryFaultHealedInOrderBeforeTheEnd) {
    for (uint64_t seed = 0; seed < 200; seed++) {
        for (int max_down : {1, 2}) {
            NemesisPlanOptions o = options(seed);
            o.max_down = max_down;
            o.nodes = {1, 2, 3, 4, 5};
            auto plan = plan_nemesis(o);
            ASSERT_TRUE(plan.ok());
            std::map<int32_t, FaultKind> down;
            int64_t last = 0;
            for (const FaultStep& s : *plan) {
                ASSERT_GE(s.at_ms, last) << "seed " << seed;
                last = s.at_ms;
                if (begins_fault(s.action)) {
                    ASSERT_FALSE(down.count(s.node)) << "seed " << seed << ": node " << s.node << " faulted twice";
                    down[s.node] = s.fault;
                    ASSERT_LE(static_cast<int>(down.size()), max_down) << "seed " << seed;
                } else {
                    ASSERT_TRUE(down.count(s.node)) << "seed " << seed << ": heals a node that is up";
                    EXPECT_EQ(down[s.node], s.fault);
                    StepAction heal = s.fault == FaultKind::pause ? StepAction::resume
                                      : s.fault == FaultKind::partition || s.fault == FaultKind::slow ? StepAction::heal
                                                                                                      : StepAction::start;
                    EXPECT_EQ(s.action, heal);
                    down.erase(s.node);
                }
            }
            EXPECT_TRUE(down.empty()) << "seed " << seed << ": not healed at the end";
            EXPECT_LT(last, o.duration_ms);
        }
    }
}

TEST(NemesisSchedule, ALoneKillOverlapsNoOtherFaultAndIsOptIn) {
    int lone = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        NemesisPlanOptions o = options(seed);
        o.faults = {FaultKind::kill, FaultKind::pause, FaultKind::lone_kill};
        auto plan = plan_nemesis(o);
        ASSERT_TRUE(plan.ok());
        int down = 0;
        bool lone_active = false;
        for (const FaultStep& s : *plan) {
            if (s.action == StepAction::lone_kill) {
                ASSERT_EQ(down, 0) << "seed " << seed << ": a lone kill while a node is down";
                lone_active = true;
                lone++;
            } else if (s.action == StepAction::kill || s.action == StepAction::pause) {
                ASSERT_FALSE(lone_active) << "seed " << seed << ": a fault during a lone kill";
            } else if (s.fault == FaultKind::lone_kill) {
                EXPECT_EQ(s.action, StepAction::start);
                lone_active = false;
            }
            bool begins = s.action == StepAction::kill || s.action == StepAction::pause || s.action == StepAction::lone_kill;
            down += begins ? 1 : -1;
        }
        EXPECT_EQ(down, 0);
        auto defaults = plan_nemesis(options(seed));
        for (const FaultStep& s : *defaults) EXPECT_NE(s.fault, FaultKind::lone_kill);
    }
    EXPECT_GT(lone, 50);
}

TEST(NemesisSchedule, PartitionAndSlowAreDefaultsWithSeededDelaysAndNetworkHeals) {
    std::map<FaultKind, int> begun;
    std::set<int32_t> delays;
    for (uint64_t seed = 0; seed < 200; seed++) {
        auto plan = plan_nemesis(options(seed));
        ASSERT_TRUE(plan.ok());
        std::map<int32_t, FaultStep> open;  // node → the step that began its fault
        for (const FaultStep& s : *plan) {
            if (begins_fault(s.action)) {
                begun[s.fault]++;
                open[s.node] = s;
                if (s.fault == FaultKind::partition) {
                    EXPECT_EQ(s.action, StepAction::isolate);
                }
                if (s.fault == FaultKind::slow) {
                    EXPECT_EQ(s.action, StepAction::slow);
                    EXPECT_GE(s.delay_ms, 50) << "seed " << seed;
                    EXPECT_LE(s.delay_ms, 300) << "seed " << seed;
                    delays.insert(s.delay_ms);
                } else {
                    EXPECT_EQ(s.delay_ms, 0);
                }
                continue;
            }
            const FaultStep& b = open.at(s.node);
            EXPECT_EQ(s.fault, b.fault);
            EXPECT_EQ(s.delay_ms, b.delay_ms);  // the heal names what it heals
            if (s.fault == FaultKind::partition || s.fault == FaultKind::slow) {
                EXPECT_EQ(s.action, StepAction::heal);
            }
            open.erase(s.node);
        }
        EXPECT_TRUE(open.empty()) << "seed " << seed;
    }
    for (FaultKind k : default_fault_kinds()) EXPECT_GT(begun[k], 200) << name_of(k);  // ~20 faults per plan
    EXPECT_EQ(begun.count(FaultKind::lone_kill), 0u);
    EXPECT_GT(delays.size(), 100u);  // seeded, spread over 50-300 ms
}

TEST(NemesisSchedule, PlansWithoutNetworkFaultsAreThoseOfBefore) {
    // The slow delay is drawn only for slow faults: a plan of the old kinds is unchanged.
    NemesisPlanOptions o = options(4);
    o.duration_ms = 15'000;
    o.faults = {FaultKind::kill, FaultKind::pause, FaultKind::restart};
    auto plan = plan_nemesis(o);
    ASSERT_TRUE(plan.ok());
    std::set<StepAction> actions;
    for (const FaultStep& s : *plan) actions.insert(s.action);
    EXPECT_TRUE(actions.count(StepAction::kill) && actions.count(StepAction::pause) && actions.count(StepAction::stop));
}

TEST(NemesisSchedule, OnlyTheChosenFaultKinds) {
    NemesisPlanOptions o = options(3);
    o.faults = {FaultKind::pause};
    auto plan = plan_nemesis(o);
    ASSERT_TRUE(plan.ok());
    for (const FaultStep& s : *plan) {
        EXPECT_EQ(s.fault, FaultKind::pause);
        EXPECT_TRUE(s.action == StepAction::pause || s.action == StepAction::resume);
    }
}

TEST(NemesisSchedule, BadOptionsAreRefused) {
    NemesisPlanOptions o = options(1);
    o.nodes.clear();
    EXPECT_FALSE(plan_nemesis(o).ok());
    o = options(1);
    o.faults.clear();
    EXPECT_FALSE(plan_nemesis(o).ok());
    o = options(1);
    o.max_down = 0;
    EXPECT_FALSE(plan_nemesis(o).ok());
    o = options(1);
    o.duration_ms = 1000;
    EXPECT_FALSE(plan_nemesis(o).ok());
}

TEST(NemesisSchedule, FaultListsAndDurationsParse) {
    auto k = parse_fault_kinds("kill,pause,lone-kill");
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(*k, (std::set<FaultKind>{FaultKind::kill, FaultKind::pause, FaultKind::lone_kill}));
    EXPECT_EQ(*parse_fault_kinds("partition,slow"), (std::set<FaultKind>{FaultKind::partition, FaultKind::slow}));
    EXPECT_EQ(*parse_fault_kinds("kill,pause,restart,partition,slow"), default_fault_kinds());
    EXPECT_FALSE(parse_fault_kinds("kill,flood").ok());
    EXPECT_FALSE(parse_fault_kinds("kill,,pause").ok());
    EXPECT_FALSE(parse_fault_kinds("").ok());
    EXPECT_EQ(*parse_duration_ms("60s"), 60'000);
    EXPECT_EQ(*parse_duration_ms("1500ms"), 1'500);
    EXPECT_EQ(*parse_duration_ms("2m"), 120'000);
    EXPECT_EQ(*parse_duration_ms("15"), 15'000);
    EXPECT_FALSE(parse_duration_ms("").ok());
    EXPECT_FALSE(parse_duration_ms("s").ok());
    EXPECT_FALSE(parse_duration_ms("10h").ok());
    EXPECT_FALSE(parse_duration_ms("-5s").ok());
    EXPECT_FALSE(parse_duration_ms("99999999999s").ok());
}

}  // namespace
}  // namespace keel::prod
