// Keel's Producer and Consumer against librdkafka's mock cluster (a broker someone else
// wrote) over real loopback sockets, inside a prod::ProdNode: what is produced is consumed
// back exactly — keys, values, headers, murmur2 partitions, offsets — also when the
// cluster answers NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT, drops connections, and
// moves partition leaders, with idempotence on.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/client/consumer.h"
#include "core/client/partitioner.h"
#include "core/client/producer.h"
#include "core/compression/batch.h"
#include "core/log/record_batch.h"
#include "core/protocol/fetch.h"
#include "tests/client/mock_cluster_util.h"

namespace keel::client {
namespace {

using testing::MockCluster;
using testing::run_on_prod_node;

constexpr int kPartitions = 4;  // of "orders" and "payments"

ProducerRecord record_number(const std::string& topic, int i) {
    ProducerRecord r;
    r.topic = topic;
    r.key = to_bytes("key-" + std::to_string(i));
    r.value = to_bytes("value-" + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'v'));
    r.headers = {{"idx", to_bytes(std::to_string(i))}, {"nothing", std::nullopt}};
    return r;
}

struct Outcome {
    std::vector<Result<RecordMetadata>> sent;
    std::vector<ConsumerRecord> consumed;
    Status flushed;
    int extra_polled = 0;  // records a final poll found after all were consumed
};

// Sends n records (calling `midway` after half of them), flushes, then consumes every
// partition from the beginning until n records arrived, then polls once more.
void produce_and_consume(env::Env& env, const std::vector<env::Address>& bootstrap, const std::string& topic,
                         int n, ProducerConfig pc, const std::function<void()>& midway, Outcome& out,
                         const std::function<void()>& midway_consuming = [] {}) {
    pc.bootstrap = bootstrap;
    Producer producer(env, pc);
    std::vector<env::Future<RecordMetadata>> futures;
    for (int i = 0; i < n; i++) {
        if (i == n / 2) midway();
        futures.push_back(producer.send(record_number(topic, i)));
    }
    out.flushed = producer.flush(ms(60'000));
    for (auto& f : futures) out.sent.push_back(f.get(env.now() + ms(1000)));
    producer.close();

    ConsumerConfig cc;
    cc.bootstrap = bootstrap;
    cc.auto_offset_reset = OffsetReset::earliest;
    cc.fetch_max_wait = ms(100);
    cc.codec = pc.codec;
    cc.list_offsets_version_max = 3;  // the mock's ListOffsets v4+ answer is malformed
    Consumer consumer(env, cc);
    std::vector<TopicPartitionName> tps;
    for (int p = 0; p < kPartitions; p++) tps.push_back({topic, PartitionIndex(p)});
    consumer.assign(tps);
    Instant deadline = env.now() + ms(60'000);
    bool moved = false;
    while (static_cast<int>(out.consumed.size()) < n && env.now() < deadline) {
        if (!moved && static_cast<int>(out.consumed.size()) >= n / 2) {
            midway_consuming();
            moved = true;
        }
        auto got = consumer.poll(ms(500));
        if (!got.ok()) {
            ADD_FAILURE() << "poll: " << got.error().to_string();
            return;
        }
        for (auto& r : *got) out.consumed.push_back(std::move(r));
    }
    auto more = consumer.poll(ms(300));
    if (more.ok()) out.extra_polled = static_cast<int>(more->size());
}

void expect_exactly_once(const Outcome& out, int n) {
    ASSERT_TRUE(out.flushed.ok()) << out.flushed.error().to_string();
    ASSERT_EQ(static_cast<int>(out.sent.size()), n);
    std::map<std::string, const ConsumerRecord*> by_key;
    for (const auto& r : out.consumed) {
        ASSERT_TRUE(r.key.has_value());
        std::string key(as_chars(*r.key));
        EXPECT_TRUE(by_key.emplace(key, &r).second) << "consumed twice: " << key;
    }
    EXPECT_EQ(static_cast<int>(out.consumed.size()), n) << "every record exactly once";
    EXPECT_EQ(out.extra_polled, 0) << "nothing beyond the n records is in the log";
    std::map<int32_t, std::vector<int64_t>> offsets;
    for (int i = 0; i < n; i++) {
        ASSERT_TRUE(out.sent[static_cast<size_t>(i)].ok()) << i << ": " << out.sent[static_cast<size_t>(i)].error().to_string();
        const RecordMetadata& md = *out.sent[static_cast<size_t>(i)];
        ProducerRecord expected = record_number(md.topic, i);
        EXPECT_EQ(md.partition, partition_for_key(*expected.key, kPartitions)) << "murmur2 partition of record " << i;
        auto it = by_key.find(std::string(as_chars(*expected.key)));
        ASSERT_NE(it, by_key.end()) << "record " << i << " was acknowledged but never consumed";
        const ConsumerRecord& c = *it->second;
        EXPECT_EQ(c.partition, md.partition);
        EXPECT_EQ(c.offset, md.offset) << "the acknowledged offset is where the record is";
        EXPECT_EQ(c.value, expected.value);
        EXPECT_EQ(c.headers, expected.headers);
        offsets[c.partition.value()].push_back(c.offset.value());
    }
    for (auto& [p, list] : offsets) {
        std::sort(list.begin(), list.end());
        for (size_t i = 0; i < list.size(); i++) EXPECT_EQ(list[i], static_cast<int64_t>(i)) << "partition " << p;
    }
}

TEST(ClientOnMockCluster, ProducesAndConsumesEveryRecordExactly) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster.get(), "orders", kPartitions, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    Outcome out;
    ProducerConfig pc;
    pc.client_id = "keel-test";
    pc.batch_size = 1024;  // several batches per partition
    bool finished = run_on_prod_node([&](env::Env& env) {
        produce_and_consume(env, cluster.bootstrap(), "orders", 300, pc, [] {}, out);
    });
    ASSERT_TRUE(finished);
    expect_exactly_once(out, 300);
}

TEST(ClientOnMockCluster, InjectedErrorsAndLeaderMovesStillDeliverExactlyOnce) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    rd_kafka_mock_cluster_t* mc = cluster.get();
    ASSERT_EQ(rd_kafka_mock_topic_create(mc, "payments", kPartitions, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    // The first Produce requests fail: not leader, timed out, dropped connection.
    rd_kafka_mock_push_request_errors(mc, 0, 5, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    // And the first Fetch requests too.
    rd_kafka_mock_push_request_errors(mc, 1, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    Outcome out;
    ProducerConfig pc;
    pc.batch_size = 512;
    pc.retry_backoff = ms(20);
    pc.compression = log::Compression::zstd;
    pc.codec = &compression::batch_codec();
    bool finished = run_on_prod_node([&](env::Env& env) {
        auto midway = [&] {
            // Leaders move while batches are queued and in flight.
            for (int p = 0; p < kPartitions; p++) rd_kafka_mock_partition_set_leader(mc, "payments", p, 1 + (p + 1) % 3);
            rd_kafka_mock_push_request_errors(mc, 0, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
        };
        auto midway_consuming = [&] {
            // Leaders move again while the consumer is half way.
            for (int p = 0; p < kPartitions; p++) rd_kafka_mock_partition_set_leader(mc, "payments", p, 1 + (p + 2) % 3);
            rd_kafka_mock_push_request_errors(mc, 1, 1, RD_KAFKA_RESP_ERR__TRANSPORT);
        };
        produce_and_consume(env, cluster.bootstrap(), "payments", 400, pc, midway, out, midway_consuming);
    });
    ASSERT_TRUE(finished);
    expect_exactly_once(out, 400);
}

}  // namespace
}  // namespace keel::client

namespace keel::client {
namespace {

TEST(ClientOnMockCluster, WithoutRetriesInjectedErrorsSurfaceWithTheirKafkaNames) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    rd_kafka_mock_cluster_t* mc = cluster.get();
    ASSERT_EQ(rd_kafka_mock_topic_create(mc, "audit", 1, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_mock_push_request_errors(mc, 0, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    std::optional<Result<RecordMetadata>> first, second;
    bool finished = run_on_prod_node([&](env::Env& env) {
        ProducerConfig pc;
        pc.bootstrap = cluster.bootstrap();
        pc.enable_idempotence = false;
        pc.retries = 0;
        pc.linger = ms(0);
        Producer producer(env, pc);
        first = producer.send(record_number("audit", 1)).get();
        second = producer.send(record_number("audit", 2)).get();
        producer.close();
    });
    ASSERT_TRUE(finished);
    ASSERT_TRUE(first.has_value() && second.has_value());
    ASSERT_FALSE(first->ok()) << "the injected error reaches the caller when retries are off";
    EXPECT_EQ(first->code(), Errc::not_leader);
    EXPECT_EQ(first->error().message.rfind("NOT_LEADER_OR_FOLLOWER", 0), 0u) << first->error().message;
    ASSERT_TRUE(second->ok()) << second->error().to_string();
    EXPECT_EQ(second->value().offset, Offset(0)) << "the failed batch was not written";
}

// A response lost after the broker appended the batch (the answer is delayed past the
// producer's request timeout): the producer retries with the same sequence, and a broker
// that implements idempotence acknowledges the retry without writing it twice.
//
// DISABLED: librdkafka's mock cluster checks producer sequences only for transactional
// producers (rd_kafka_mock_validate_records returns at once when the TransactionalId is
// empty), so it writes the retry a second time; the test fails against it for that reason
// alone. The test below checks the producer's half: both copies carry the same producer id,
// epoch and base sequence, so a real broker would drop the second.
TEST(ClientOnMockCluster, DISABLED_ResponseLostAfterAppendIsRetriedWithTheSameSequence) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    rd_kafka_mock_cluster_t* mc = cluster.get();
    ASSERT_EQ(rd_kafka_mock_topic_create(mc, "ledger", 1, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int32_t broker = 1; broker <= 3; broker++) {
        rd_kafka_mock_broker_push_request_error_rtts(mc, broker, 0, 1, RD_KAFKA_RESP_ERR_NO_ERROR, 3000);
    }
    Outcome out;
    ProducerConfig pc;
    pc.request_timeout = ms(1000);
    pc.delivery_timeout = ms(30'000);
    pc.retry_backoff = ms(20);
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig cc;
        produce_and_consume(env, cluster.bootstrap(), "ledger", 1, pc, [] {}, out);
    });
    ASSERT_TRUE(finished);
    ASSERT_EQ(out.sent.size(), 1u);
    ASSERT_TRUE(out.sent[0].ok()) << out.sent[0].error().to_string();
    EXPECT_EQ(out.consumed.size() + static_cast<size_t>(out.extra_polled), 1u)
        << "the retried batch must not be written twice";
}

}  // namespace
}  // namespace keel::client

namespace keel::client {
namespace {

// Every batch header of one partition, read with raw Fetch requests from its leader.
std::vector<log::BatchHeader> raw_batches(env::Env& env, const std::vector<env::Address>& bootstrap,
                                          const TopicPartitionName& tp) {
    ConnectionPool pool(env, {});
    MetadataOptions mo;
    mo.bootstrap = bootstrap;
    MetadataCache metadata(env, pool, mo);
    metadata.add_topic(tp.topic);
    std::vector<log::BatchHeader> out;
    if (!metadata.refresh(env.now() + ms(5000)).ok()) return out;
    auto leader = metadata.partition(tp);
    if (!leader) return out;
    BrokerConnection& conn = pool.get(*metadata.broker_address(leader->leader));
    Offset next{0};
    for (int round = 0; round < 20; round++) {
        protocol::FetchRequest req;
        req.max_wait_ms = 0;
        req.max_bytes = 1 << 20;
        req.topics.push_back({tp.topic, {}, {{tp.partition.value(), -1, next, -1, Offset(-1), 1 << 20, {}}}});
        auto resp = conn.call<protocol::FetchResponse>(req, 4, 11, env.now() + ms(5000));
        if (!resp.ok() || resp->responses.empty() || resp->responses[0].partitions.empty()) break;
        const Bytes& records = resp->responses[0].partitions[0].records;
        auto h = log::read_batch(records);
        if (!h.ok()) break;
        out.push_back(*h);
        next = h->next_offset();
    }
    return out;
}

TEST(ClientOnMockCluster, LostResponseRetryResendsTheSameProducerIdEpochAndSequence) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    rd_kafka_mock_cluster_t* mc = cluster.get();
    ASSERT_EQ(rd_kafka_mock_topic_create(mc, "ledger", 1, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int32_t broker = 1; broker <= 3; broker++) {
        rd_kafka_mock_broker_push_request_error_rtts(mc, broker, 0, 1, RD_KAFKA_RESP_ERR_NO_ERROR, 3000);
    }
    std::optional<Result<RecordMetadata>> sent;
    std::vector<log::BatchHeader> batches;
    bool finished = run_on_prod_node([&](env::Env& env) {
        ProducerConfig pc;
        pc.bootstrap = cluster.bootstrap();
        pc.request_timeout = ms(1000);
        pc.delivery_timeout = ms(30'000);
        pc.retry_backoff = ms(20);
        Producer producer(env, pc);
        sent = producer.send(record_number("ledger", 7)).get();
        producer.close();
        batches = raw_batches(env, cluster.bootstrap(), {"ledger", PartitionIndex(0)});
    });
    ASSERT_TRUE(finished);
    ASSERT_TRUE(sent.has_value() && sent->ok()) << (sent ? sent->error().to_string() : "no result");
    // The delayed answer made the producer retry; the mock (no sequence checks without a
    // transactional id) wrote the retry too, which shows what the retry carried.
    ASSERT_GE(batches.size(), 2u) << "the first attempt's answer was delayed past request_timeout: a retry happened";
    for (const auto& h : batches) {
        EXPECT_GE(h.producer_id, 0);
        EXPECT_EQ(h.producer_id, batches[0].producer_id);
        EXPECT_EQ(h.producer_epoch, batches[0].producer_epoch);
        EXPECT_EQ(h.base_sequence, 0) << "a retry keeps its sequence";
        EXPECT_EQ(h.crc, batches[0].crc) << "a retry resends the same bytes";
    }
}

}  // namespace
}  // namespace keel::client

namespace keel::client {
namespace {

TEST(ClientOnMockCluster, AcksZeroIsFireAndForgetWithUnknownOffsets) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster.get(), "metrics", kPartitions, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    Outcome out;
    ProducerConfig pc;
    pc.enable_idempotence = false;
    pc.acks = 0;
    bool finished = run_on_prod_node([&](env::Env& env) {
        produce_and_consume(env, cluster.bootstrap(), "metrics", 50, pc, [] {}, out);
    });
    ASSERT_TRUE(finished);
    ASSERT_EQ(out.sent.size(), 50u);
    for (const auto& r : out.sent) {
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->offset, Offset(-1)) << "acks=0: the broker says nothing, so no offset";
    }
    // On loopback nothing is lost: every record arrives once.
    EXPECT_EQ(out.consumed.size(), 50u);
    std::set<std::string> keys;
    for (const auto& c : out.consumed) keys.insert(std::string(as_chars(*c.key)));
    EXPECT_EQ(keys.size(), 50u);
}

}  // namespace
}  // namespace keel::client
