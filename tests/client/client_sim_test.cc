// The client library in the simulator: Producer and Consumer on a simulated node, against
// a small fake broker (tests/client/fake_broker.h) whose faults the test arms. Covers what
// librdkafka's mock cluster cannot show: a lost answer after the append is retried with
// its sequence and written once (and, as a control, duplicated without idempotence), the
// producer-id reset after a failed batch, batching under linger, OFFSET_OUT_OF_RANGE, and
// that a seed replays the same run.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/client/consumer.h"
#include "core/client/partitioner.h"
#include "core/client/producer.h"
#include "core/controller/rpc.h"
#include "sim/world.h"
#include "tests/client/sim_harness.h"

namespace keel::client {
namespace {

using testing::FakeBroker;
using testing::kBroker;
using testing::SimRun;

ProducerRecord keyed(int i) {
    return ProducerRecord{"t", std::nullopt, to_bytes("k" + std::to_string(i)), to_bytes("v" + std::to_string(i)),
                          {{"i", to_bytes(std::to_string(i))}}, std::nullopt};
}

ProducerConfig config(bool idempotence) {
    ProducerConfig c;
    c.bootstrap = {kBroker};
    c.enable_idempotence = idempotence;
    c.request_timeout = ms(2000);
    c.delivery_timeout = ms(60'000);
    c.batch_size = 256;
    return c;
}

std::vector<Result<RecordMetadata>> send_all(Producer& p, int n) {
    std::vector<env::Future<RecordMetadata>> fs;
    for (int i = 0; i < n; i++) fs.push_back(p.send(keyed(i)));
    std::vector<Result<RecordMetadata>> out;
    for (auto& f : fs) out.push_back(f.get());
    return out;
}

std::vector<ConsumerRecord> consume_all(env::Env& env, int partitions, size_t want) {
    ConsumerConfig cc;
    cc.bootstrap = {kBroker};
    cc.auto_offset_reset = OffsetReset::earliest;
    cc.fetch_max_wait = ms(50);
    Consumer c(env, cc);
    std::vector<TopicPartitionName> tps;
    for (int32_t p = 0; p < partitions; p++) tps.push_back({"t", PartitionIndex(p)});
    c.assign(tps);
    std::vector<ConsumerRecord> out;
    for (int round = 0; round < 200 && out.size() < want; round++) {
        auto got = c.poll(ms(200));
        if (!got.ok()) break;
        for (auto& r : *got) out.push_back(std::move(r));
    }
    return out;
}

TEST(ClientInSim, LostAnswersAreRetriedWithTheirSequenceAndWrittenOnce) {
    SimRun run(11);
    run.broker.lose_produce_answers = 3;
    std::vector<Result<RecordMetadata>> sent;
    std::vector<ConsumerRecord> consumed;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        Producer p(env, config(true));
        sent = send_all(p, 60);
        p.close();
        consumed = consume_all(env, 3, 60);
    }));
    for (size_t i = 0; i < sent.size(); i++) {
        EXPECT_TRUE(sent[i].ok()) << i << ": " << sent[i].error().to_string();
    }
    EXPECT_EQ(run.broker.lose_produce_answers, 0) << "every planned loss happened";
    EXPECT_EQ(run.records_in_log("t", 3), 60) << "no retry was written twice";
    ASSERT_EQ(consumed.size(), 60u);
    std::map<std::string, ConsumerRecord> by_key;
    for (auto& r : consumed) by_key[std::string(as_chars(*r.key))] = r;
    for (int i = 0; i < 60; i++) {
        ASSERT_TRUE(sent[static_cast<size_t>(i)].ok()) << sent[static_cast<size_t>(i)].error().to_string();
        const auto& md = *sent[static_cast<size_t>(i)];
        const ConsumerRecord& c = by_key.at("k" + std::to_string(i));
        EXPECT_EQ(md.partition, partition_for_key(as_bytes("k" + std::to_string(i)), 3));
        EXPECT_EQ(c.partition, md.partition);
        EXPECT_EQ(c.offset, md.offset) << "a deduplicated retry reports the original offset";
    }
}

TEST(ClientInSim, WithoutIdempotenceALostAnswerWritesTheBatchTwice) {
    SimRun run(12);
    run.broker.lose_produce_answers = 1;
    std::vector<Result<RecordMetadata>> sent;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        Producer p(env, config(false));
        sent = send_all(p, 20);
        p.close();
    }));
    for (const auto& r : sent) ASSERT_TRUE(r.ok());
    EXPECT_GT(run.records_in_log("t", 3), 20) << "SC-19: the retry of an appended batch duplicates it";
}

TEST(ClientInSim, AFailedBatchFailsWithItsKafkaNameAndTheProducerTakesANewId) {
    SimRun run(13);
    run.broker.produce_errors = {protocol::ErrorCode::not_enough_replicas, protocol::ErrorCode::message_too_large};
    std::optional<Result<RecordMetadata>> first, later;
    int64_t first_id = -1, later_id = -1;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ProducerConfig c = config(true);
        c.linger = ms(0);
        Producer p(env, c);
        first = p.send(keyed(1)).get();  // NOT_ENOUGH_REPLICAS (retried), then MESSAGE_TOO_LARGE
        first_id = p.producer_id();
        later = p.send(keyed(2)).get();
        later_id = p.producer_id();
        p.close();
    }));
    ASSERT_TRUE(first.has_value() && !first->ok());
    EXPECT_EQ(first->error().message.rfind("MESSAGE_TOO_LARGE", 0), 0u) << first->error().message;
    EXPECT_EQ(first->code(), Errc::message_too_large);
    ASSERT_TRUE(later.has_value() && later->ok()) << later->error().to_string();
    EXPECT_NE(later_id, first_id) << "a sent batch that failed leaves a sequence gap: a new producer id";
    EXPECT_EQ(run.records_in_log("t", 3), 1);
}

TEST(ClientInSim, RecordsWithinLingerShareOneBatchAndOneRequest) {
    SimRun run(14, {{"t", 1}});
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ProducerConfig c = config(true);
        c.linger = ms(50);
        c.batch_size = 16384;
        Producer p(env, c);
        auto sent = send_all(p, 10);
        for (const auto& r : sent) EXPECT_TRUE(r.ok());
        p.close();
    }));
    const auto* part = run.broker.partition("t", 0);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(part->batches.size(), 1u) << "ten records sent within linger form one batch";
    EXPECT_EQ(run.broker.produce_requests, 1);
    // Versions: min(ours, the broker's) from ApiVersions — Produce 11 vs 9, Metadata 12 vs 12.
    EXPECT_EQ(run.broker.last_version[protocol::ApiKey::produce], 9);
    EXPECT_EQ(run.broker.last_version[protocol::ApiKey::metadata], 12);
    EXPECT_EQ(run.broker.last_version[protocol::ApiKey::api_versions], 3);
}

TEST(ClientInSim, OffsetOutOfRangeFollowsAutoOffsetReset) {
    SimRun run(15, {{"t", 1}});
    std::vector<ConsumerRecord> reset_earliest;
    std::optional<Status> with_none;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        Producer p(env, config(true));
        (void)send_all(p, 5);
        p.close();
        TopicPartitionName tp{"t", PartitionIndex(0)};
        ConsumerConfig cc;
        cc.bootstrap = {kBroker};
        cc.auto_offset_reset = OffsetReset::earliest;
        Consumer c(env, cc);
        c.assign({tp});
        EXPECT_TRUE(c.seek(tp, Offset(1000)).ok());
        for (int i = 0; i < 20 && reset_earliest.size() < 5; i++) {
            auto got = c.poll(ms(100));
            if (got.ok()) reset_earliest.insert(reset_earliest.end(), got->begin(), got->end());
        }
        cc.auto_offset_reset = OffsetReset::none;
        Consumer strict(env, cc);
        strict.assign({tp});
        EXPECT_TRUE(strict.seek(tp, Offset(1000)).ok());
        auto r = strict.poll(ms(500));
        with_none = r.ok() ? ok_status() : Status(r.error());
    }));
    ASSERT_EQ(reset_earliest.size(), 5u);
    EXPECT_EQ(reset_earliest.front().offset, Offset(0));
    ASSERT_TRUE(with_none.has_value());
    ASSERT_FALSE(with_none->ok());
    EXPECT_EQ(with_none->code(), Errc::offset_out_of_range);
}

TEST(ClientInSim, ATruncatedLogIsDetectedThroughTheLeaderEpochAndReadingResumesAtTheDivergence) {
    SimRun run(16, {{"t", 1}});
    std::vector<ConsumerRecord> before, after;
    uint64_t truncations = 0;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ProducerConfig c = config(true);
        c.batch_size = 64;  // one record per batch: the log can be cut after any record
        {
            Producer p(env, c);
            (void)send_all(p, 10);
            p.close();
        }
        ConsumerConfig cc;
        cc.bootstrap = {kBroker};
        cc.auto_offset_reset = OffsetReset::earliest;
        Consumer consumer(env, cc);
        consumer.assign({{"t", PartitionIndex(0)}});
        for (int i = 0; i < 50 && before.size() < 10; i++) {
            auto got = consumer.poll(ms(100));
            if (got.ok()) before.insert(before.end(), got->begin(), got->end());
        }
        // An unclean leader change: offsets 6.. are replaced by other records in epoch 1.
        run.broker.truncate_and_bump_epoch("t", 0, 6);
        {
            Producer p(env, c);
            for (int i = 0; i < 8; i++) {
                (void)p.send({"t", std::nullopt, to_bytes("new-" + std::to_string(i)), to_bytes("x"), {}, {}}).get();
            }
            p.close();
        }
        for (int i = 0; i < 50 && after.size() < 8; i++) {
            auto got = consumer.poll(ms(100));
            if (got.ok()) after.insert(after.end(), got->begin(), got->end());
        }
        truncations = consumer.truncations_detected();
    }));
    ASSERT_EQ(before.size(), 10u);
    EXPECT_EQ(before.back().leader_epoch, LeaderEpoch(0));
    EXPECT_EQ(truncations, 1u) << "the leader answered DivergingEpoch for the consumer's last epoch";
    ASSERT_EQ(after.size(), 8u) << "nothing of the new history is skipped";
    EXPECT_EQ(after.front().offset, Offset(6)) << "reading resumes where epoch 0 ends on the new leader";
    EXPECT_EQ(as_chars(*after.front().key), "new-0");
    EXPECT_EQ(after.front().leader_epoch, LeaderEpoch(1));
}

// KIP-320, as Kafka's Metadata: a broker whose image is behind names an older leader epoch;
// the cache keeps what it knew instead of going back (data-chaos seed 1677).
TEST(ClientInSim, MetadataNamingAnOlderLeaderEpochIsIgnored) {
    SimRun run(17, {{"t", 2}});
    std::vector<int32_t> epochs;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ConnectionPool pool(env, {});
        MetadataCache metadata(env, pool, MetadataOptions{.bootstrap = {kBroker}});
        metadata.add_topic("t");
        auto epoch_of_0 = [&] {
            EXPECT_TRUE(metadata.refresh(env.now() + ms(2000)).ok());
            auto p = metadata.partition({"t", PartitionIndex(0)});
            epochs.push_back(p ? p->leader_epoch.value() : -2);
        };
        run.broker.metadata_leader_epoch = 3;
        epoch_of_0();
        run.broker.metadata_leader_epoch = 1;  // a deposed leader's view
        epoch_of_0();
        run.broker.metadata_leader_epoch = 4;
        epoch_of_0();
    }));
    EXPECT_EQ(epochs, (std::vector<int32_t>{3, 3, 4}));
}

TEST(ClientInSim, AnUnreachableBrokerFailsRecordsAtDeliveryTimeoutAndCloseReturns) {
    SimRun run(17);
    std::optional<Result<RecordMetadata>> first, cut_off, no_metadata;
    Duration closing{0};
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ProducerConfig c = config(true);
        c.request_timeout = ms(1000);
        c.delivery_timeout = ms(5000);
        c.max_block = ms(3000);
        Producer p(env, c);
        first = p.send(keyed(1)).get();
        run.world.partition("c1", "b1");  // never healed
        cut_off = p.send(keyed(2)).get();  // queued, retried, expired
        Instant before = env.now();
        p.close();
        closing = env.now() - before;
        Producer fresh(env, c);
        no_metadata = fresh.send(keyed(3)).get();  // no metadata: send fails after max_block
    }));
    ASSERT_TRUE(first.has_value() && first->ok());
    ASSERT_TRUE(cut_off.has_value());
    ASSERT_FALSE(cut_off->ok());
    EXPECT_EQ(cut_off->code(), Errc::timeout) << cut_off->error().to_string();
    ASSERT_TRUE(no_metadata.has_value());
    ASSERT_FALSE(no_metadata->ok());
    EXPECT_EQ(no_metadata->code(), Errc::timeout) << no_metadata->error().to_string();
    EXPECT_LE(closing, ms(5000 + 1000)) << "close is bounded by delivery_timeout + request_timeout (virtual time)";
}

TEST(ClientInSim, NullKeyRecordsStickToOnePartitionPerBatchAndSpreadAcrossBatches) {
    SimRun run(18, {{"t", 4}});
    std::vector<Result<RecordMetadata>> sent;
    ASSERT_TRUE(run.client([&](env::Env& env) {
        ProducerConfig c = config(true);
        c.batch_size = 400;  // a few records per batch
        c.linger = ms(20);
        Producer p(env, c);
        std::vector<env::Future<RecordMetadata>> fs;
        for (int i = 0; i < 80; i++) fs.push_back(p.send({"t", std::nullopt, std::nullopt, to_bytes("v" + std::to_string(i)), {}, {}}));
        for (auto& f : fs) sent.push_back(f.get());
        p.close();
    }));
    std::set<int32_t> used;
    size_t batches = 0;
    for (const auto& r : sent) {
        ASSERT_TRUE(r.ok());
        used.insert(r->partition.value());
    }
    for (int32_t p = 0; p < 4; p++) {
        if (const auto* part = run.broker.partition("t", p)) batches += part->batches.size();
    }
    EXPECT_GT(used.size(), 1u) << "the sticky partition moves when a batch is complete";
    // Consecutive null-key records share a partition until their batch closes: far fewer
    // batches than records (round-robin would make one batch per record).
    EXPECT_LT(batches, sent.size() / 2);
}

TEST(ClientInSim, ASeedReplaysTheSameRun) {
    auto hash_of = [](uint64_t seed) {
        SimRun run(seed);
        run.broker.lose_produce_answers = 2;
        EXPECT_TRUE(run.client([&](env::Env& env) {
            Producer p(env, config(true));
            (void)send_all(p, 30);
            p.close();
            (void)consume_all(env, 3, 30);
        }));
        return run.world.scheduler().hash();
    };
    EXPECT_EQ(hash_of(21), hash_of(21));
    EXPECT_NE(hash_of(21), hash_of(22));
}

}  // namespace
}  // namespace keel::client
