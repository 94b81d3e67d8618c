// ProducerIdManager (core/broker/producer_id_manager.h) on the fiber scheduler in virtual
// time, with a fake controller in place of the AllocateProducerIds RPC: ids are unique and
// increasing across blocks, the next block is fetched at 90%, and while no block is there
// the answer is "try again" (COORDINATOR_LOAD_IN_PROGRESS), with a backoff after failures.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/broker/producer_id_manager.h"
#include "core/env/sync.h"
#include "core/protocol/error_codes.h"
#include "runtime/scheduler.h"

namespace keel::broker {
namespace {

using controller::ProducerIdBlock;

struct Fixture {
    fiber::Scheduler s{fiber::SchedulerOptions{.virtual_time = true, .seed = 3}};
    fiber::GroupId g = s.create_group("b1");
    fiber::GroupExecutor ex{s, g};
    void run() { s.run_while([] { return true; }); }
};

// Hands out consecutive blocks of `size` ids, as the controller does; each call takes
// `latency`, and the first `failures` calls fail with NOT_CONTROLLER.
struct FakeController {
    explicit FakeController(env::Executor& e) : ex(e) {}
    env::Executor& ex;
    int32_t size = 1000;
    Duration latency{0};
    int failures = 0;
    int64_t next = 0;
    int calls = 0;
    std::vector<ProducerIdBlock> handed_out;

    Result<ProducerIdBlock> allocate() {
        calls++;
        if (latency > Duration(0)) ex.sleep_for(latency);
        if (failures > 0) {
            failures--;
            return Error{Errc::not_controller, "the quorum is electing"};
        }
        ProducerIdBlock b{NodeId(1), next, size};
        next += size;
        handed_out.push_back(b);
        return b;
    }
    ProducerIdManager::FetchBlock fetch() {
        return [this] { return allocate(); };
    }
};

// Takes ids until `count` were handed out, retrying "try again" answers after `pause`.
std::vector<int64_t> take_ids(env::Executor& ex, ProducerIdManager& m, size_t count, Duration pause,
                              int* not_ready = nullptr) {
    std::vector<int64_t> ids;
    while (ids.size() < count) {
        Result<int64_t> id = m.generate_producer_id();
        if (id.ok()) {
            ids.push_back(*id);
            continue;
        }
        EXPECT_EQ(id.code(), Errc::coordinator_load_in_progress) << id.error().to_string();
        if (not_ready != nullptr) (*not_ready)++;
        ex.sleep_for(pause);
    }
    return ids;
}

TEST(ProducerIdManager, HandsOutUniqueIncreasingIdsAcrossManyBlocks) {
    Fixture t;
    FakeController c(t.ex);
    c.size = 10;
    c.latency = ms(3);
    ProducerIdManager m(t.ex, c.fetch());
    std::vector<int64_t> ids;
    t.ex.spawn("init-producer-id", [&] { ids = take_ids(t.ex, m, 95, ms(1)); });
    t.run();
    ASSERT_EQ(ids.size(), 95u);
    for (size_t i = 1; i < ids.size(); i++) EXPECT_LT(ids[i - 1], ids[i]) << i;
    // Every id comes from a block the controller handed to this broker.
    for (int64_t id : ids) {
        bool in_a_block = false;
        for (const ProducerIdBlock& b : c.handed_out) in_a_block = in_a_block || b.contains(id);
        EXPECT_TRUE(in_a_block) << id;
    }
    EXPECT_GE(c.handed_out.size(), 10u);  // 95 ids need ten blocks of ten
    EXPECT_EQ(m.stats().ids_generated, 95u);
}

TEST(ProducerIdManager, TheFirstCallSaysTryAgainAndStartsTheFetch) {
    Fixture t;
    FakeController c(t.ex);
    c.latency = ms(20);
    ProducerIdManager m(t.ex, c.fetch());
    Result<int64_t> first(Errc::unknown);
    Result<int64_t> later(Errc::unknown);
    t.ex.spawn("init-producer-id", [&] {
        first = m.generate_producer_id();
        EXPECT_TRUE(m.fetch_in_flight());
        t.ex.sleep_for(ms(25));
        later = m.generate_producer_id();
    });
    t.run();
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.code(), Errc::coordinator_load_in_progress);
    // The broker answers InitProducerId with Kafka's retriable code.
    EXPECT_EQ(protocol::to_error_code(first.code()), protocol::ErrorCode::coordinator_load_in_progress);
    ASSERT_TRUE(later.ok()) << later.error().to_string();
    EXPECT_EQ(*later, 0);
    EXPECT_EQ(c.calls, 1);
}

TEST(ProducerIdManager, PrefetchesTheNextBlockOnceNinetyPercentIsUsed) {
    Fixture t;
    FakeController c(t.ex);
    c.latency = ms(1);
    ProducerIdManager m(t.ex, c.fetch());
    int calls_after_900 = -1;
    int calls_after_901 = -1;
    bool reserve_before_switch = false;
    int not_ready_after_start = 0;
    std::vector<int64_t> ids;
    t.ex.spawn("init-producer-id", [&] {
        m.prefetch();
        t.ex.sleep_for(ms(5));  // the first block arrives
        ids = take_ids(t.ex, m, 900, ms(1), &not_ready_after_start);
        t.ex.sleep_for(ms(5));
        calls_after_900 = c.calls;  // ids 0..899 used: below the threshold
        ids.push_back(*m.generate_producer_id());  // id 900 reaches it
        t.ex.sleep_for(ms(5));
        calls_after_901 = c.calls;
        reserve_before_switch = m.next_block().has_value();
        std::vector<int64_t> more = take_ids(t.ex, m, 200, ms(1), &not_ready_after_start);
        ids.insert(ids.end(), more.begin(), more.end());
    });
    t.run();
    EXPECT_EQ(calls_after_900, 1);
    EXPECT_EQ(calls_after_901, 2);
    EXPECT_TRUE(reserve_before_switch);
    // The reserve was there before the first block ran out: never a "try again".
    EXPECT_EQ(not_ready_after_start, 0);
    ASSERT_EQ(ids.size(), 1101u);
    for (size_t i = 0; i < ids.size(); i++) EXPECT_EQ(ids[i], static_cast<int64_t>(i));
    ASSERT_TRUE(m.current_block().has_value());
    EXPECT_EQ(m.current_block()->first_id, 1000);
}

TEST(ProducerIdManager, AFailedFetchIsRetriedOnlyAfterTheBackoff) {
    Fixture t;
    FakeController c(t.ex);
    c.failures = 2;
    ProducerIdManagerOptions o;
    o.retry_backoff = ms(50);
    ProducerIdManager m(t.ex, c.fetch(), o);
    Result<int64_t> during_backoff(Errc::unknown);
    int calls_during_backoff = -1;
    std::vector<int64_t> ids;
    t.ex.spawn("init-producer-id", [&] {
        (void)m.generate_producer_id();  // starts fetch 1, which fails
        t.ex.sleep_for(ms(10));
        during_backoff = m.generate_producer_id();
        calls_during_backoff = c.calls;
        ids = take_ids(t.ex, m, 3, ms(10));
    });
    t.run();
    ASSERT_FALSE(during_backoff.ok());
    EXPECT_EQ(during_backoff.code(), Errc::coordinator_load_in_progress);
    EXPECT_NE(during_backoff.error().message.find("not_controller"), std::string::npos)
        << during_backoff.error().message;
    EXPECT_EQ(calls_during_backoff, 1);
    EXPECT_EQ(m.stats().fetch_failures, 2u);
    EXPECT_EQ(c.calls, 3);
    EXPECT_EQ(ids, (std::vector<int64_t>{0, 1, 2}));
}

TEST(ProducerIdManager, RefusesABlockThatIsNotAboveTheLastOne) {
    Fixture t;
    int call = 0;
    // The second block overlaps the first; the later ones are fine.
    ProducerIdManager m(t.ex, [&]() -> Result<ProducerIdBlock> {
        call++;
        if (call == 1) return ProducerIdBlock{NodeId(1), 100, 2};
        if (call == 2) return ProducerIdBlock{NodeId(1), 101, 2};
        return ProducerIdBlock{NodeId(1), 100 * call, 2};
    });
    std::vector<int64_t> ids;
    t.ex.spawn("init-producer-id", [&] { ids = take_ids(t.ex, m, 4, ms(20)); });
    t.run();
    EXPECT_EQ(ids, (std::vector<int64_t>{100, 101, 300, 301}));
    EXPECT_EQ(m.stats().fetch_failures, 1u);
}

TEST(ProducerIdManager, StopWaitsForTheFetchInFlightAndStartsNoOther) {
    Fixture t;
    FakeController c(t.ex);
    c.latency = ms(100);
    ProducerIdManager m(t.ex, c.fetch());
    Instant stopped_at{};
    bool in_flight_after_stop = true;
    Result<int64_t> after_stop(Errc::unknown);
    t.ex.spawn("broker-main", [&] {
        m.prefetch();
        t.ex.yield();  // the fetch fiber starts and blocks in the "RPC"
        m.stop();
        stopped_at = t.ex.now();
        in_flight_after_stop = m.fetch_in_flight();
        after_stop = m.generate_producer_id();  // the block that landed is still used
        (void)m.generate_producer_id();
    });
    t.run();
    EXPECT_GE(stopped_at.ns, Duration(ms(100)).count());
    EXPECT_FALSE(in_flight_after_stop);
    ASSERT_TRUE(after_stop.ok());
    EXPECT_EQ(*after_stop, 0);
    EXPECT_EQ(c.calls, 1);
}

}  // namespace
}  // namespace keel::broker
