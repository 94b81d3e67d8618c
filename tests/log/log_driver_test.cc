// LogDriver on fibers in virtual time: flush.ms, retention checks, and a cleaner that
// never keeps appends waiting for a whole pass.
#include <gtest/gtest.h>

#include "core/log/log_driver.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::numbered_batch;

// A clock that reads the scheduler's virtual time (wall = epoch + virtual time).
class SchedulerClock final : public env::Clock {
public:
    explicit SchedulerClock(fiber::Scheduler& s) : s_(s) {}
    Instant monotonic_now() const override { return s_.now(); }
    WallTime wall_now() const override { return WallTime{1'700'000'000'000LL * 1'000'000 + s_.now().ns}; }

private:
    fiber::Scheduler& s_;
};

struct DriverWorld : LogWorld {
    SchedulerClock sched_clock{sched};
    PartitionLogOptions fiber_options() {
        PartitionLogOptions o = options();
        o.clock = &sched_clock;
        o.executor = &ex;
        return o;
    }
};

TEST(LogDriver, FlushesOnceFlushMsHasPassed) {
    DriverWorld w;
    w.config.flush_ms = 2000;
    auto log = std::move(PartitionLog::open(w.fiber_options())).value();
    LogDriver driver(*log, w.ex, {.flush_check_interval = 500ms});
    driver.start();
    w.ex.spawn("producer", [&] { ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok()); });
    w.sched.run_until(Instant{Duration(1s).count()});
    EXPECT_EQ(log->recovery_point(), Offset(0));
    w.sched.run_until(Instant{Duration(3s).count()});
    EXPECT_EQ(log->recovery_point(), Offset(3));
    driver.stop();
    w.sched.run_until(Instant{Duration(4s).count()});
    EXPECT_FALSE(driver.running());
}

TEST(LogDriver, AppliesRetentionOnItsInterval) {
    DriverWorld w;
    w.config.retention_ms = 1000;
    w.config.segment_bytes = 200;
    auto log = std::move(PartitionLog::open(w.fiber_options())).value();
    for (int i = 0; i < 10; i++) ASSERT_TRUE(log->append(numbered_batch(i * 2, 2, 1'700'000'000'000LL), LeaderEpoch(0)).ok());
    LogDriver driver(*log, w.ex, {.retention_check_interval = 10s});
    driver.start();
    w.sched.run_until(Instant{Duration(11s).count()});
    EXPECT_EQ(log->segments().size(), 1u);
    EXPECT_EQ(log->log_start_offset(), log->segments()[0].base_offset);
    driver.stop();
    w.sched.run_until(Instant{Duration(12s).count()});
}

TEST(LogDriver, CompactsInStepsWhileAProducerKeepsAppending) {
    DriverWorld w;
    w.config.cleanup_compact = true;
    w.config.cleanup_delete = false;
    w.config.segment_bytes = 400;
    w.config.cleaner_step_bytes = 256;
    w.config.min_cleanable_dirty_ratio = 0.1;
    w.disk.faults().latency_min = 50us;  // every disk call parks the calling fiber
    w.disk.faults().latency_max = 200us;
    auto log = std::move(PartitionLog::open(w.fiber_options())).value();
    LogDriver driver(*log, w.ex, {.cleaner_backoff = 100ms});
    driver.start();
    int appended = 0;
    Duration worst_append{0};
    w.ex.spawn("producer", [&] {
        for (int i = 0; i < 300; i++) {
            Instant t0 = w.ex.now();
            auto r = log->append(testing::make_batch({{"k" + std::to_string(i % 7), std::to_string(i),
                                                       w.sched_clock.wall_now().ms()}}),
                                 LeaderEpoch(0));
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            worst_append = std::max(worst_append, w.ex.now() - t0);
            appended++;
            w.ex.sleep_for(2ms);
        }
    });
    w.sched.run_until(Instant{Duration(5s).count()});
    EXPECT_EQ(appended, 300);
    EXPECT_GT(driver.clean_steps(), 10u);
    EXPECT_FALSE(driver.last_error().has_value()) << driver.last_error()->to_string();
    // An append waits at most for one bounded step (plus its own I/O), never a whole pass.
    EXPECT_LT(worst_append, 100ms);
    auto seen = LogWorld::read_all(*log);
    EXPECT_LT(seen.size(), 150u);
    std::map<std::string, std::string> last;
    for (const auto& s : seen) last[*s.key] = *s.value;
    for (int k = 0; k < 7; k++) {
        int latest = 299 - ((299 - k) % 7);
        EXPECT_EQ(last["k" + std::to_string(k)], std::to_string(latest));
    }
    driver.stop();
    w.sched.run_until(Instant{Duration(6s).count()});
}

}  // namespace
}  // namespace keel::log
