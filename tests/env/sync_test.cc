// The fiber primitives of core/env/sync.h on the scheduler of sim/fiber, in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/env/sync.h"
#include "runtime/scheduler.h"

namespace keel {
namespace {

using fiber::GroupExecutor;
using fiber::Scheduler;
using fiber::SchedulerOptions;

struct Fixture {
    Scheduler s{SchedulerOptions{.virtual_time = true, .seed = 7}};
    fiber::GroupId g = s.create_group("n1");
    GroupExecutor ex{s, g};
};

TEST(Scheduler, SleepAdvancesVirtualTimeExactly) {
    Fixture t;
    Instant woke{};
    t.ex.spawn("sleeper", [&] {
        t.ex.sleep_for(1500ms);
        woke = t.ex.now();
    });
    t.s.run_while([] { return true; });
    EXPECT_EQ(woke.ns, Duration(1500ms).count());
}

TEST(Scheduler, FutureTimesOutAtItsDeadlineAndLaterValueIsSeen) {
    Fixture t;
    env::Promise<int> p(t.ex);
    auto fut = p.future();
    Result<int> first(Errc::unknown), second(Errc::unknown);
    t.ex.spawn("waiter", [&] {
        first = fut.get_for(100ms);
        second = fut.get_for(10s);
    });
    t.ex.spawn("setter", [&] {
        t.ex.sleep_for(250ms);
        p.set(42);
    });
    t.s.run_while([] { return true; });
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.code(), Errc::timeout);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, 42);
}

TEST(Scheduler, BrokenPromiseCancelsTheWaiter) {
    Fixture t;
    auto p = std::make_unique<env::Promise<int>>(t.ex);
    auto fut = p->future();
    Result<int> got(Errc::unknown);
    t.ex.spawn("waiter", [&] { got = fut.get(); });
    t.ex.spawn("dropper", [&] { p.reset(); });
    t.s.run_while([] { return true; });
    EXPECT_EQ(got.code(), Errc::cancelled);
}

TEST(Scheduler, ChannelIsBoundedAndKeepsOrder) {
    Fixture t;
    env::Channel<int> ch(t.ex, 2);
    std::vector<int> got;
    t.ex.spawn("producer", [&] {
        for (int i = 0; i < 10; i++) ASSERT_TRUE(ch.send(i).ok());
        ch.close();
    });
    t.ex.spawn("consumer", [&] {
        while (true) {
            auto v = ch.receive();
            if (!v.ok()) {
                EXPECT_EQ(v.code(), Errc::closed);
                break;
            }
            EXPECT_LE(ch.size(), 2u);
            got.push_back(*v);
        }
    });
    t.s.run_while([] { return true; });
    ASSERT_EQ(got.size(), 10u);
    for (int i = 0; i < 10; i++) EXPECT_EQ(got[i], i);
}

// A crash unwinds every fiber of the node: destructors run, timers are dropped.
TEST(Scheduler, KillingAGroupUnwindsEveryFiberAndDropsItsTimers) {
    Fixture t;
    int destroyed = 0;
    bool timer_ran = false;
    struct Guard {
        int* n;
        ~Guard() { ++*n; }
    };
    for (int i = 0; i < 5; i++) {
        t.ex.spawn("worker", [&] {
            Guard guard{&destroyed};
            auto big = std::make_unique<std::vector<int>>(1000, 1);  // ASan: no leak
            t.ex.sleep_for(1h);
            ADD_FAILURE() << "a killed fiber resumed";
        });
    }
    t.ex.call_after(10s, [&] { timer_ran = true; });
    t.s.run_until(Instant{Duration(1s).count()});
    EXPECT_EQ(t.s.group_fiber_count(t.g), 5u);
    t.s.kill_group(t.g);
    EXPECT_EQ(destroyed, 5);
    EXPECT_EQ(t.s.group_fiber_count(t.g), 0u);
    t.s.run_while([] { return true; });
    EXPECT_FALSE(timer_ran);
}

// Timer handles name a slot that a later timer may reuse: cancelling through an old
// handle must not touch the new timer.
TEST(Scheduler, ACancelledTimerNeverRunsAndItsStaleHandleCancelsNothingLater) {
    Fixture t;
    int first = 0, second = 0, third = 0;
    env::TimerId a = t.ex.call_after(1s, [&] { first++; });
    EXPECT_NE(a, 0u);
    EXPECT_EQ(t.s.pending_timers(), 1u);
    t.ex.cancel_timer(a);
    EXPECT_EQ(t.s.pending_timers(), 0u);
    env::TimerId b = t.ex.call_after(2s, [&] { second++; });  // may reuse a's slot
    EXPECT_NE(b, a);
    t.ex.cancel_timer(a);  // stale: a already cancelled
    env::TimerId c = t.ex.call_after(3s, [&] { third++; });
    t.s.run_until(Instant{Duration(2500ms).count()});
    t.ex.cancel_timer(b);  // stale: b already ran
    EXPECT_EQ(t.s.pending_timers(), 1u);
    t.s.run_while([] { return true; });
    EXPECT_EQ(first, 0);
    EXPECT_EQ(second, 1);
    EXPECT_EQ(third, 1);
    t.ex.cancel_timer(c);  // after it ran: nothing to do
    EXPECT_EQ(t.s.pending_timers(), 0u);
}

// Cancelled timers are dropped from the heap in bulk once they outnumber the live ones;
// the survivors still fire in deadline order.
TEST(Scheduler, TimersThatSurviveManyCancellationsFireInDeadlineOrder) {
    Fixture t;
    std::vector<int> fired;
    std::vector<env::TimerId> doomed;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 40; i++) {
            int deadline_ms = 1000 + (round * 37 + i * 11) % 997;
            env::TimerId id = t.ex.call_after(Duration(deadline_ms * 1'000'000LL),
                                              [&fired, deadline_ms] { fired.push_back(deadline_ms); });
            if (i != 0) doomed.push_back(id);
        }
        for (env::TimerId id : doomed) t.ex.cancel_timer(id);
        doomed.clear();
    }
    EXPECT_EQ(t.s.pending_timers(), 50u);
    t.s.run_while([] { return true; });
    ASSERT_EQ(fired.size(), 50u);
    EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
}

// Stacks of finished fibers are reused; fibers alive at the same time never share one.
TEST(Scheduler, FibersSpawnedAfterOthersFinishedRunOnReusedStacksWithoutSharing) {
    Scheduler s{SchedulerOptions{.virtual_time = true, .seed = 3, .pooled_stacks_max = 4}};
    GroupExecutor ex(s, s.create_group("n"));
    int intact = 0;
    for (int wave = 0; wave < 20; wave++) {
        for (int i = 0; i < 8; i++) {
            int id = wave * 8 + i;
            ex.spawn("worker", [&ex, &intact, id] {
                std::array<volatile int, 512> mine{};  // on this fiber's stack
                for (auto& v : mine) v = id;
                ex.sleep_for(Duration((id % 5 + 1) * 1000));  // the others run meanwhile
                bool same = true;
                for (const auto& v : mine) same = same && v == id;
                intact += same ? 1 : 0;
            });
        }
        s.run_while([] { return true; });
    }
    EXPECT_EQ(intact, 160);
    EXPECT_EQ(s.live_fibers(), 0u);
}

TEST(Scheduler, ASpawnedJoinableFiberSetsItsEventWhenItReturnsOrIsUnwoundOrCannotStart) {
    Fixture t;
    auto other = t.s.create_group("n2");
    GroupExecutor ex2(t.s, other);
    env::Event returned(t.ex), unwound(ex2), refused(ex2);
    env::spawn_joinable(t.ex, "short", returned, [&] { t.ex.sleep_for(1s); });
    env::spawn_joinable(ex2, "long", unwound, [&] { ex2.sleep_for(1h); });
    t.s.run_until(Instant{Duration(2s).count()});
    EXPECT_TRUE(returned.is_set());
    EXPECT_FALSE(unwound.is_set());
    t.s.kill_group(other);  // a crash unwinds the fiber: its event is set
    EXPECT_TRUE(unwound.is_set());
    env::spawn_joinable(ex2, "too-late", refused, [] { ADD_FAILURE() << "a dead node's fiber ran"; });
    EXPECT_TRUE(refused.is_set());
    t.s.run_while([] { return true; });
}

TEST(Scheduler, PausedGroupRunsNothingUntilResumed) {
    Fixture t;
    std::vector<int64_t> ticks;
    t.ex.spawn("ticker", [&] {
        for (int i = 0; i < 5; i++) {
            t.ex.sleep_for(1s);
            ticks.push_back(t.ex.now().ns / 1'000'000'000);
        }
    });
    t.s.run_until(Instant{Duration(1500ms).count()});
    t.s.pause_group(t.g);
    t.s.run_until(Instant{Duration(10s).count()});
    EXPECT_EQ(ticks.size(), 1u);
    t.s.resume_group(t.g);
    t.s.run_while([] { return true; });
    ASSERT_EQ(ticks.size(), 5u);
    EXPECT_EQ(ticks[1], 10);  // the overdue sleep ends at resume
}

TEST(Scheduler, AWatchSeesEverythingDueByItsTimeAndChangesNothing) {
    auto run = [](bool watch, std::vector<std::string>& seen) {
        Scheduler s{SchedulerOptions{.virtual_time = true, .seed = 3}};
        auto g = s.create_group("n");
        GroupExecutor ex(s, g);
        for (int i = 0; i < 4; i++) {
            ex.spawn("f", [&ex, &seen, i] {
                for (int k = 1; k <= 3; k++) {
                    ex.sleep_for(Duration(std::chrono::milliseconds(500 * k + i)));
                    seen.push_back("f" + std::to_string(i) + "@" + std::to_string(ex.now().ns / 1'000'000));
                }
            });
        }
        Instant watched_at{-1};
        size_t seen_then = 0;
        if (watch) {
            s.watch_time(Instant{Duration(1501ms).count()}, [&] {
                watched_at = s.now();
                seen_then = seen.size();
                seen.push_back("watch");
            });
        }
        s.run_while([] { return true; });
        if (watch) {
            EXPECT_EQ(watched_at.ns, Duration(1501ms).count());
            // Due by 1501 ms: each fiber's first wake (500 + i ms) and f0's second
            // (wakes add up: 500 + i + 1000 + i, so f0 at 1500 ms, f1 at 1502 ms).
            EXPECT_EQ(seen_then, 5u);
        }
        return std::make_pair(s.hash(), s.events());
    };
    std::vector<std::string> a, b;
    auto plain = run(false, a);
    auto watched = run(true, b);
    EXPECT_EQ(plain, watched) << "a watch is not an event and is not hashed";
    std::erase(b, "watch");
    EXPECT_EQ(a, b);
}

TEST(Scheduler, SameSeedSameHashDifferentSeedDifferentHash) {
    auto run = [](uint64_t seed) {
        Scheduler s{SchedulerOptions{.virtual_time = true, .seed = seed}};
        auto g = s.create_group("n");
        GroupExecutor ex(s, g);
        for (int i = 0; i < 20; i++) {
            ex.spawn("f", [&ex, i] {
                for (int k = 0; k < 10; k++) {
                    ex.yield();
                    ex.sleep_for(Duration((i * 7 + k) % 3 * 1000));
                }
            });
        }
        s.run_while([] { return true; });
        return s.hash();
    };
    EXPECT_EQ(run(1), run(1));
    EXPECT_NE(run(1), run(2));
}

}  // namespace
}  // namespace keel
