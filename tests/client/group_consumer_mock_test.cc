// Keel's group consumer (classic protocol) against librdkafka's mock cluster: its
// coordinator does FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit and OffsetFetch. Two consumers split a topic and the survivor takes all
// when one closes; a commit is where a new member resumes; auto-commit commits what was
// consumed; cooperative-sticky revokes only what moves.
//
// The mock's rebalances are timer driven: the first join waits 3 s, later ones
// session_timeout - 1 s (so the tests use a 4 s session timeout), and it uses the group
// leader's first protocol for everyone (members must list the same first assignor).
// Everything runs on one ProdNode; each consumer polls on its own fiber.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/client/consumer.h"
#include "core/client/producer.h"
#include "core/env/sync.h"
#include "tests/client/mock_cluster_util.h"

namespace keel::client {
namespace {

using testing::MockCluster;
using testing::run_on_prod_node;

constexpr int kPartitions = 4;
constexpr int kRecords = 40;

ConsumerConfig group_config(const MockCluster& cluster, const std::string& group) {
    ConsumerConfig cc;
    cc.bootstrap = cluster.bootstrap();
    cc.group_id = group;
    cc.auto_offset_reset = OffsetReset::earliest;
    cc.fetch_max_wait = ms(100);
    cc.list_offsets_version_max = 3;  // the mock's ListOffsets v4+ answer is malformed
    cc.session_timeout = ms(4'000);   // the mock's rebalance delay is session_timeout - 1 s
    cc.heartbeat_interval = ms(300);
    cc.max_poll_interval = ms(20'000);
    cc.enable_auto_commit = false;
    return cc;
}

void produce(env::Env& env, const MockCluster& cluster, const std::string& topic, int n) {
    ProducerConfig pc;
    pc.bootstrap = cluster.bootstrap();
    Producer producer(env, pc);
    std::vector<env::Future<RecordMetadata>> futures;
    for (int i = 0; i < n; i++) {
        ProducerRecord r;
        r.topic = topic;
        r.key = to_bytes("key-" + std::to_string(i));
        r.value = to_bytes("value-" + std::to_string(i));
        futures.push_back(producer.send(std::move(r)));
    }
    ASSERT_TRUE(producer.flush(ms(30'000)).ok());
    for (auto& f : futures) ASSERT_TRUE(f.get(env.now() + ms(1000)).ok());
}

void create_topic(MockCluster& cluster, const std::string& topic) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster.get(), topic.c_str(), kPartitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Polls `c` until `done()` or 60 s; records are appended to `out` if given.
bool poll_until(env::Env& env, Consumer& c, const std::function<bool()>& done,
                std::vector<ConsumerRecord>* out = nullptr) {
    Instant deadline = env.now() + ms(60'000);
    while (!done()) {
        if (env.now() >= deadline) return false;
        auto got = c.poll(ms(200));
        if (!got.ok()) {
            ADD_FAILURE() << "poll: " << got.error().to_string();
            return false;
        }
        if (out != nullptr) out->insert(out->end(), got->begin(), got->end());
    }
    return true;
}

// Records what the rebalance callbacks saw, in order.
struct RecordingListener : RebalanceListener {
    std::vector<std::string> events;
    std::vector<std::vector<TopicPartitionName>> revoked;
    void on_partitions_revoked(const std::vector<TopicPartitionName>& p) override {
        events.push_back("revoked " + std::to_string(p.size()));
        revoked.push_back(p);
    }
    void on_partitions_assigned(const std::vector<TopicPartitionName>& p) override {
        events.push_back("assigned " + std::to_string(p.size()));
    }
    void on_partitions_lost(const std::vector<TopicPartitionName>& p) override {
        events.push_back("lost " + std::to_string(p.size()));
    }
};

// Runs `body` for a second consumer on its own fiber until `stop` is set; returns after
// it closed.
struct SecondMember {
    SecondMember(env::Env& env, ConsumerConfig cc, std::vector<std::string> topics, RebalanceListener* l)
        : consumer(env, std::move(cc)), done(env.executor()) {
        EXPECT_TRUE(consumer.subscribe(std::move(topics), l).ok());
        env::spawn_joinable(env.executor(), "second-member", done, [this] {
            while (!stop) {
                auto got = consumer.poll(ms(200));
                if (!got.ok()) failure = got.error().to_string();
                if (!got.ok()) break;
            }
            consumer.close();
        });
    }
    ~SecondMember() { stop_and_close(); }
    SecondMember(const SecondMember&) = delete;
    SecondMember& operator=(const SecondMember&) = delete;
    void stop_and_close() {
        stop = true;
        done.wait();
    }
    Consumer consumer;
    env::Event done;
    bool stop = false;
    std::string failure;
};

std::set<TopicPartitionName> as_set(const std::vector<TopicPartitionName>& v) { return {v.begin(), v.end()}; }

TEST(GroupConsumerOnMockCluster, TwoMembersSplitTheTopicAndTheSurvivorTakesAll) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "events");
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig cc = group_config(cluster, "split");
        Consumer a(env, cc);
        ASSERT_TRUE(a.subscribe({"events"}).ok());
        SecondMember b(env, cc, {"events"}, nullptr);
        bool split = poll_until(env, a, [&] {
            return a.assignment().size() == 2 && b.consumer.assignment().size() == 2 &&
                   a.group_metadata().generation_id == b.consumer.group_metadata().generation_id;
        });
        ASSERT_TRUE(split) << "a has " << a.assignment().size() << ", b has " << b.consumer.assignment().size();
        std::set<TopicPartitionName> all = as_set(a.assignment());
        for (const auto& tp : b.consumer.assignment()) EXPECT_TRUE(all.insert(tp).second) << tp.to_string() << " twice";
        EXPECT_EQ(all.size(), static_cast<size_t>(kPartitions));
        GroupMetadata ga = a.group_metadata();
        EXPECT_EQ(ga.group_id, "split");
        EXPECT_FALSE(ga.member_id.empty());
        EXPECT_NE(ga.member_id, b.consumer.group_metadata().member_id);

        b.stop_and_close();
        EXPECT_EQ(b.failure, "");
        ASSERT_TRUE(poll_until(env, a, [&] { return a.assignment().size() == static_cast<size_t>(kPartitions); }));
        EXPECT_GT(a.group_metadata().generation_id, ga.generation_id);
        a.close();
    });
    ASSERT_TRUE(finished);
}

TEST(GroupConsumerOnMockCluster, ANewMemberResumesFromTheCommittedOffsets) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "ledger");
    bool finished = run_on_prod_node([&](env::Env& env) {
        produce(env, cluster, "ledger", kRecords);
        ConsumerConfig cc = group_config(cluster, "resume");
        OffsetMap committed;
        size_t first_count = 0;
        {
            Consumer a(env, cc);
            ASSERT_TRUE(a.subscribe({"ledger"}).ok());
            std::vector<ConsumerRecord> got;
            ASSERT_TRUE(poll_until(env, a, [&] { return got.size() >= kRecords / 2; }, &got));
            first_count = got.size();
            for (const auto& r : got) committed[{r.topic, r.partition}] = Offset(r.offset.value() + 1);
            ASSERT_TRUE(a.commit_sync(committed).ok());
            auto read_back = a.committed(a.assignment());
            ASSERT_TRUE(read_back.ok()) << read_back.error().to_string();
            EXPECT_EQ(*read_back, committed);
            Status async_outcome(Errc::unknown, "the callback did not run");
            a.commit_async([&](const OffsetMap& offsets, const Status& s) {
                for (const auto& [tp, offset] : committed) {
                    EXPECT_EQ(offsets.count(tp) ? offsets.at(tp).value() : -1, offset.value()) << tp.to_string();
                }
                async_outcome = s;
            });
            a.close();  // waits for commit_async; no auto-commit: only the explicit commits count
            EXPECT_TRUE(async_outcome.ok()) << async_outcome.error().to_string();
        }
        Consumer c(env, cc);
        ASSERT_TRUE(c.subscribe({"ledger"}).ok());
        std::vector<ConsumerRecord> rest;
        ASSERT_TRUE(poll_until(env, c, [&] { return first_count + rest.size() >= kRecords; }, &rest));
        EXPECT_EQ(first_count + rest.size(), static_cast<size_t>(kRecords)) << "nothing consumed twice";
        std::map<TopicPartitionName, int64_t> first_offset;
        for (const auto& r : rest) first_offset.emplace(TopicPartitionName{r.topic, r.partition}, r.offset.value());
        for (const auto& [tp, offset] : first_offset) {
            auto it = committed.find(tp);
            EXPECT_EQ(offset, it == committed.end() ? 0 : it->second.value()) << tp.to_string();
        }
        c.close();
    });
    ASSERT_TRUE(finished);
}

TEST(GroupConsumerOnMockCluster, AutoCommitCommitsWhatWasConsumed) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "metrics");
    bool finished = run_on_prod_node([&](env::Env& env) {
        produce(env, cluster, "metrics", kRecords);
        ConsumerConfig cc = group_config(cluster, "auto");
        cc.enable_auto_commit = true;
        cc.auto_commit_interval = ms(200);
        Consumer a(env, cc);
        ASSERT_TRUE(a.subscribe({"metrics"}).ok());
        std::vector<ConsumerRecord> got;
        ASSERT_TRUE(poll_until(env, a, [&] { return got.size() >= kRecords; }, &got));
        OffsetMap ends;
        for (const auto& r : got) ends[{r.topic, r.partition}] = Offset(r.offset.value() + 1);
        auto assignment = a.assignment();
        bool committed_all = poll_until(env, a, [&] {
            auto c = a.committed(assignment);
            return c.ok() && *c == ends;
        });
        EXPECT_TRUE(committed_all) << "the auto-commit inside poll commits the positions";
        a.close();
    });
    ASSERT_TRUE(finished);
}

TEST(GroupConsumerOnMockCluster, CooperativeStickyRevokesOnlyWhatMoves) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "jobs");
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig cc = group_config(cluster, "coop");
        cc.partition_assignment_strategy = {"cooperative-sticky"};
        RecordingListener la;
        Consumer a(env, cc);
        ASSERT_TRUE(a.subscribe({"jobs"}, &la).ok());
        ASSERT_TRUE(poll_until(env, a, [&] { return a.assignment().size() == static_cast<size_t>(kPartitions); }));
        auto before = as_set(a.assignment());
        RecordingListener lb;
        SecondMember b(env, cc, {"jobs"}, &lb);
        bool balanced = poll_until(env, a, [&] {
            return a.assignment().size() == 2 && b.consumer.assignment().size() == 2;
        });
        ASSERT_TRUE(balanced) << "a has " << a.assignment().size() << ", b has " << b.consumer.assignment().size();
        ASSERT_EQ(la.revoked.size(), 1u) << "one incremental revocation";
        EXPECT_EQ(la.revoked[0].size(), 2u) << "only the two partitions that moved";
        for (const auto& tp : a.assignment()) EXPECT_TRUE(before.contains(tp)) << "a kept what it had";
        EXPECT_EQ(lb.revoked.size(), 0u);
        b.stop_and_close();
        a.close();
    });
    ASSERT_TRUE(finished);
}

// KIP-429 as Java's client does it: while a cooperative rebalance runs (the mock holds it
// for 3 s), poll keeps returning the records of the partitions the member owns; the
// revocation comes only with the poll after the SyncGroup answer.
TEST(GroupConsumerOnMockCluster, CooperativeMemberKeepsConsumingDuringTheRebalance) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "jobs");
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig cc = group_config(cluster, "coop-poll");
        cc.partition_assignment_strategy = {"cooperative-sticky"};
        RecordingListener la;
        Consumer a(env, cc);
        ASSERT_TRUE(a.subscribe({"jobs"}, &la).ok());
        ASSERT_TRUE(poll_until(env, a, [&] { return a.assignment().size() == static_cast<size_t>(kPartitions); }));
        RecordingListener lb;
        SecondMember b(env, cc, {"jobs"}, &lb);
        // a is in its JoinGroup within a heartbeat (300 ms); records produced 1 s in arrive
        // while the mock still holds the rebalance.
        env::Event produced(env.executor());
        env::spawn_joinable(env.executor(), "producer", produced, [&] {
            env.executor().sleep_for(ms(1000));
            produce(env, cluster, "jobs", kRecords);
        });
        size_t before_revocation = 0;
        std::vector<ConsumerRecord> got;
        bool revoked = poll_until(env, a, [&] {
            if (la.revoked.empty()) before_revocation = got.size();
            return !la.revoked.empty();
        }, &got);
        produced.wait();
        ASSERT_TRUE(revoked) << "the rebalance completed";
        EXPECT_GT(before_revocation, 0u) << "records returned by poll while the rebalance ran";
        EXPECT_EQ(la.revoked[0].size(), 2u) << "only the two partitions that moved";
        b.stop_and_close();
        a.close();
    });
    ASSERT_TRUE(finished);
}

TEST(GroupConsumerOnMockCluster, AMemberThatStopsPollingLeavesAndFindsItsPartitionsLost) {
    MockCluster cluster(3);
    ASSERT_TRUE(cluster.ok());
    create_topic(cluster, "slow");
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig cc = group_config(cluster, "slow");
        cc.max_poll_interval = ms(2'000);
        RecordingListener la;
        Consumer a(env, cc);
        ASSERT_TRUE(a.subscribe({"slow"}, &la).ok());
        SecondMember b(env, cc, {"slow"}, nullptr);
        ASSERT_TRUE(poll_until(env, a, [&] { return a.assignment().size() == 2 && b.consumer.assignment().size() == 2; }));
        // a stops polling: its heartbeat fiber leaves the group after max_poll_interval and
        // b, still polling, gets everything.
        Instant deadline = env.now() + ms(60'000);
        while (b.consumer.assignment().size() != static_cast<size_t>(kPartitions) && env.now() < deadline) {
            env.executor().sleep_for(ms(100));
        }
        ASSERT_EQ(b.consumer.assignment().size(), static_cast<size_t>(kPartitions));
        EXPECT_EQ(a.group_metadata().generation_id, -1) << "a left the group";
        auto got = a.poll(ms(10));  // finds the partitions lost, then rejoins
        ASSERT_TRUE(got.ok()) << got.error().to_string();
        ASSERT_FALSE(la.events.empty());
        EXPECT_NE(std::find(la.events.begin(), la.events.end(), "lost 2"), la.events.end());
        EXPECT_EQ(std::find(la.events.begin(), la.events.end(), "revoked 2"), la.events.end()) << "lost, not revoked";
        ASSERT_TRUE(poll_until(env, a, [&] { return a.assignment().size() == 2 && b.consumer.assignment().size() == 2; }));
        b.stop_and_close();
        a.close();
    });
    ASSERT_TRUE(finished);
}

TEST(GroupConsumerConfig, ClearErrorsForUnsupportedSettings) {
    bool finished = run_on_prod_node([&](env::Env& env) {
        ConsumerConfig plain;
        plain.bootstrap = {{"127.0.0.1", 1}};
        Consumer no_group(env, plain);
        EXPECT_EQ(no_group.subscribe({"t"}).code(), Errc::invalid_argument);
        EXPECT_EQ(no_group.commit_sync().code(), Errc::invalid_argument);

        ConsumerConfig kip848 = plain;
        kip848.group_id = "g";
        kip848.group_protocol = "consumer";
        Consumer c848(env, kip848);  // KIP-848 is spoken (consumer_group_848.h); bad input is still refused
        EXPECT_EQ(c848.subscribe({}).code(), Errc::invalid_argument);
        EXPECT_EQ(c848.group_metadata().generation_id, -1);
        ConsumerConfig odd = kip848;
        odd.group_protocol = "eager";
        Consumer codd(env, odd);
        EXPECT_EQ(codd.subscribe({"t"}).code(), Errc::invalid_argument);

        ConsumerConfig bad = plain;
        bad.group_id = "g";
        bad.partition_assignment_strategy = {"sticky-ish"};
        Consumer cbad(env, bad);
        EXPECT_EQ(cbad.subscribe({"t"}).code(), Errc::invalid_argument);
        ConsumerConfig ok_config = plain;
        ok_config.group_id = "g";
        Consumer cok(env, ok_config);
        EXPECT_EQ(cok.subscribe({}).code(), Errc::invalid_argument);
        EXPECT_EQ(cok.pause({{"t", PartitionIndex(0)}}).code(), Errc::invalid_argument);
        EXPECT_EQ(cok.group_metadata().generation_id, -1);
    });
    ASSERT_TRUE(finished);
}

}  // namespace
}  // namespace keel::client
