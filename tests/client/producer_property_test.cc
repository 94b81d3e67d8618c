// Property: an idempotent producer, under any mix of lost answers (after the append),
// broker errors, connection resets, broker restarts and network partitions, never writes a
// record twice or out of send order within its partition, and every acknowledged record
// is in the log exactly once, at its acknowledged offset. Failed records (a batch refused
// for good, or one whose outcome a producer-id reset left unknown) are in it at most once.
// RapidCheck draws the workload (records, batch size, linger, in-flight limit) and the
// fault schedule, runs it in the simulator against the fake broker, and shrinks a failure.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <string>
#include <vector>

#include "core/client/partitioner.h"
#include "core/client/producer.h"
#include "core/log/record_batch.h"
#include "tests/client/sim_harness.h"

namespace keel::client {
namespace {

using protocol::ErrorCode;
using testing::kBroker;
using testing::SimRun;

constexpr int32_t kPartitions = 3;

struct LogRecord {
    int index;  // i of key "k<i>"
    Offset offset;
};

std::map<int32_t, std::vector<LogRecord>> read_log(const SimRun& run) {
    std::map<int32_t, std::vector<LogRecord>> out;
    for (int32_t p = 0; p < kPartitions; p++) {
        const auto* part = run.broker.partition("t", p);
        if (part == nullptr) continue;
        for (const Bytes& b : part->batches) {
            auto d = log::decode_batch(b, nullptr);
            RC_ASSERT(d.ok());
            for (const auto& r : d->records) {
                std::string key(as_chars(*r.key));
                out[p].push_back({std::stoi(key.substr(1)), r.offset});
            }
        }
    }
    return out;
}

// Acknowledged records: exactly once, at their offset. Failed ones (a producer-id reset
// can fail records whose outcome is unknown): at most once. Per partition, send order.
void check_log(const SimRun& run, const std::vector<Result<RecordMetadata>>& sent) {
    std::map<int, int> copies;
    for (const auto& [p, records] : read_log(run)) {
        int previous = -1;
        for (const LogRecord& r : records) {
            copies[r.index]++;
            RC_ASSERT(r.index > previous);  // send order within the partition, no duplicate
            previous = r.index;
            const auto& result = sent[static_cast<size_t>(r.index)];
            if (!result.ok()) continue;
            RC_ASSERT(result->partition.value() == p);
            RC_ASSERT(result->offset == r.offset);  // the acknowledged offset is where it is
        }
    }
    int acknowledged = 0;
    for (size_t i = 0; i < sent.size(); i++) {
        if (!sent[i].ok()) continue;
        acknowledged++;
        RC_ASSERT(copies[static_cast<int>(i)] == 1);  // acknowledged: not lost, not twice
    }
    RC_TAG(acknowledged == static_cast<int>(sent.size()) ? "all acknowledged" : "some failed");
}

void run_case() {
    const auto seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
    const int n = *rc::gen::inRange(1, 150);
    ProducerConfig c;
    c.bootstrap = {kBroker};
    c.batch_size = *rc::gen::inRange<size_t>(100, 3000);
    c.linger = ms(*rc::gen::inRange(0, 30));
    c.max_in_flight = *rc::gen::inRange(1, 6);
    c.request_timeout = ms(2000);
    c.delivery_timeout = ms(600'000);
    c.retry_backoff = ms(*rc::gen::inRange(1, 50));
    const int pace_ms = *rc::gen::inRange(0, 12);  // between sends: faults land mid-run
    const int losses = *rc::gen::inRange(0, 6);
    // Mostly retriable errors; sometimes one that fails its batch (and forces a new
    // producer id): MESSAGE_TOO_LARGE, UNKNOWN_PRODUCER_ID.
    const auto errors = *rc::gen::container<std::vector<int>>(
        *rc::gen::inRange<size_t>(0, 6), rc::gen::weightedElement<int>({{8, 0}, {8, 1}, {8, 2}, {8, 3}, {1, 4}, {1, 5}}));
    const auto resets = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<size_t>(0, 4), rc::gen::inRange(1, 300));
    // Broker restarts (its log survives, as on disk) and network partitions (healed later).
    const auto restarts = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<size_t>(0, 3), rc::gen::inRange(1, 500));
    const auto cuts = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<size_t>(0, 3), rc::gen::inRange(1, 5000));

    SimRun run(seed, {{"t", kPartitions}});
    run.broker.lose_produce_answers = losses;
    const ErrorCode injected[] = {ErrorCode::not_leader_or_follower, ErrorCode::request_timed_out,
                                  ErrorCode::not_enough_replicas,    ErrorCode::network_exception,
                                  ErrorCode::message_too_large,      ErrorCode::unknown_producer_id};
    for (int e : errors) run.broker.produce_errors.push_back(injected[e]);
    run.world.spawn("resets", [&run, resets] {
        for (int at_ms : resets) {
            run.world.sleep(ms(at_ms));
            run.world.reset_connections("c1", "b1");
        }
    });
    run.world.spawn("restarts", [&run, restarts] {
        for (int at_ms : restarts) {
            run.world.sleep(ms(at_ms));
            run.world.restart("b1");
        }
    });
    run.world.spawn("partitions", [&run, cuts] {
        for (int length_ms : cuts) {
            run.world.sleep(ms(length_ms / 3));
            run.world.partition("c1", "b1");
            run.world.sleep(ms(length_ms));
            run.world.heal("c1", "b1");
        }
    });
    std::vector<Result<RecordMetadata>> sent;
    bool finished = run.client([&](env::Env& env) {
        Producer p(env, c);
        std::vector<env::Future<RecordMetadata>> fs;
        for (int i = 0; i < n; i++) {
            fs.push_back(p.send({"t", std::nullopt, to_bytes("k" + std::to_string(i)), to_bytes("v"), {}, {}}));
            if (pace_ms > 0) env.executor().sleep_for(ms(pace_ms));
        }
        for (auto& f : fs) sent.push_back(f.get());
        p.close();
    });
    RC_ASSERT(finished);
    RC_CLASSIFY(run.world.faults().restarts > 0, "broker restarted mid-run");
    RC_CLASSIFY(run.world.faults().partitions > 0, "network partition mid-run");
    RC_CLASSIFY(run.world.faults().connection_resets > 0, "connections reset mid-run");
    check_log(run, sent);
}

TEST(ProducerProperty, IdempotentProducerWritesEachRecordOnceInOrderUnderLostAnswersErrorsResetsRestartsAndPartitions) {
    EXPECT_TRUE(rc::check("idempotent producer: exactly once, in order, at the acknowledged offset", run_case));
}

}  // namespace
}  // namespace keel::client
