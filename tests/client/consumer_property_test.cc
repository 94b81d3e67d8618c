// Property: a consumer under connection resets, broker restarts and network partitions
// returns every record of its partitions exactly once, in offset order, without skipping
// one (Jepsen's poll-skip and nonmonotonic-poll would catch the opposite), whatever the
// fetch sizes and waits. RapidCheck draws the data, the fetch settings and the faults.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <string>
#include <vector>

#include "core/client/consumer.h"
#include "core/client/producer.h"
#include "tests/client/sim_harness.h"

namespace keel::client {
namespace {

using testing::kBroker;
using testing::SimRun;

constexpr int32_t kPartitions = 2;

void produce(env::Env& env, int n) {
    ProducerConfig c;
    c.bootstrap = {kBroker};
    c.batch_size = 300;
    Producer p(env, c);
    std::vector<env::Future<RecordMetadata>> fs;
    for (int i = 0; i < n; i++) fs.push_back(p.send({"t", std::nullopt, to_bytes("k" + std::to_string(i)), to_bytes("v"), {}, {}}));
    for (auto& f : fs) RC_ASSERT(f.get().ok());
    p.close();
}

void schedule_faults(SimRun& run, const std::vector<int>& resets, const std::vector<int>& restarts) {
    run.world.spawn("resets", [&run, resets] {
        for (int at_ms : resets) {
            run.world.sleep(ms(at_ms));
            run.world.reset_connections("c1", "b1");
        }
    });
    run.world.spawn("restarts", [&run, restarts] {
        for (int at_ms : restarts) {
            run.world.sleep(ms(at_ms));
            run.world.partition("c1", "b1");
            run.world.sleep(ms(at_ms / 2));
            run.world.heal("c1", "b1");
            run.world.restart("b1");
        }
    });
}

void run_case() {
    const auto seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
    const int n = *rc::gen::inRange(1, 200);
    ConsumerConfig cc;
    cc.bootstrap = {kBroker};
    cc.auto_offset_reset = OffsetReset::earliest;
    cc.max_partition_fetch_bytes = *rc::gen::inRange(1, 2000);  // small: partial batches, one per fetch
    cc.fetch_max_wait = ms(*rc::gen::inRange(0, 100));
    cc.request_timeout = ms(2000);
    const int pace_ms = *rc::gen::inRange(0, 30);  // between polls: faults land mid-run
    const auto resets = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<size_t>(0, 4), rc::gen::inRange(1, 40));
    const auto restarts = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<size_t>(0, 3), rc::gen::inRange(1, 60));

    SimRun run(seed, {{"t", kPartitions}});
    std::map<int32_t, std::vector<int64_t>> polled;
    size_t total = 0;
    bool finished = run.client([&](env::Env& env) {
        produce(env, n);
        schedule_faults(run, resets, restarts);
        Consumer consumer(env, cc);
        consumer.assign({{"t", PartitionIndex(0)}, {"t", PartitionIndex(1)}});
        for (int round = 0; round < 2000 && total < static_cast<size_t>(n); round++) {
            auto got = consumer.poll(ms(50));
            RC_ASSERT(got.ok());
            for (const auto& r : *got) polled[r.partition.value()].push_back(r.offset.value());
            total += got->size();
            if (pace_ms > 0) env.executor().sleep_for(ms(pace_ms));
        }
    });
    RC_ASSERT(finished);
    RC_CLASSIFY(run.world.faults().restarts > 0, "broker restarted mid-run");
    RC_CLASSIFY(run.world.faults().connection_resets > 0, "connections reset mid-run");
    RC_ASSERT(total == static_cast<size_t>(n));
    for (int32_t p = 0; p < kPartitions; p++) {
        const auto* part = run.broker.partition("t", p);
        int64_t end = part ? part->next_offset : 0;
        const auto& got = polled[p];
        RC_ASSERT(static_cast<int64_t>(got.size()) == end);
        for (size_t i = 0; i < got.size(); i++) RC_ASSERT(got[i] == static_cast<int64_t>(i));  // no skip, no repeat
    }
}

TEST(ConsumerProperty, ReturnsEveryRecordOnceInOffsetOrderUnderResetsRestartsAndPartitions) {
    EXPECT_TRUE(rc::check("consumer: every record once, in offset order", run_case));
}

}  // namespace
}  // namespace keel::client
