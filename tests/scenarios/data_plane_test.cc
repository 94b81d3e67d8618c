// The broker's data plane at the protocol level, in the simulator: a DataCluster (3
// controllers, 3 brokers, every node a KeelNode) and a raw Kafka-protocol client node that
// sends Metadata, Produce and Fetch itself. Checks what a client sees: offsets, acks=all
// waiting for the ISR, min.insync.replicas, NOT_LEADER_OR_FOLLOWER from a follower,
// OFFSET_OUT_OF_RANGE, reads bounded by the high watermark, and replicas byte-identical.
#include <gtest/gtest.h>

#include "core/broker/broker_server.h"
#include "core/controller/rpc.h"
#include "core/log/record_batch.h"
#include "scenarios/data/data_cluster.h"

namespace keel {
namespace {

using protocol::ErrorCode;

Bytes batch_of(const std::vector<std::string>& values, int64_t ts) {
    log::RecordBatchBuilder b;
    for (const std::string& v : values) b.add(ts, as_bytes("k"), as_bytes(v));
    return b.build();
}

struct RawClient {
    env::Env& env;
    controller::RpcClient rpc;
    explicit RawClient(env::Env& e) : env(e), rpc(e, "raw-client") {}

    Result<protocol::MetadataResponse> metadata(const env::Address& to) {
        protocol::MetadataRequest req;
        return rpc.call<protocol::MetadataResponse>(to, req, 12, env.now() + ms(3000));
    }
    Result<protocol::MetadataResponse> metadata_of(const env::Address& to, const std::string& topic,
                                                   bool allow_auto_create) {
        protocol::MetadataRequest req;
        req.topics.emplace();
        req.topics->push_back({protocol::Uuid{}, topic, {}});
        req.allow_auto_topic_creation = allow_auto_create;
        return rpc.call<protocol::MetadataResponse>(to, req, 12, env.now() + ms(10000));
    }
    Result<protocol::ProduceResponse> produce(const env::Address& to, const std::string& topic, int32_t p, Bytes batch,
                                              int16_t acks) {
        protocol::ProduceRequest req;
        req.acks = acks;
        req.timeout_ms = 5000;
        protocol::ProduceRequest::TopicProduceData td;
        td.name = topic;
        protocol::ProduceRequest::PartitionProduceData pd;
        pd.index = PartitionIndex(p);
        pd.records = std::move(batch);
        td.partition_data.push_back(std::move(pd));
        req.topic_data.push_back(std::move(td));
        return rpc.call<protocol::ProduceResponse>(to, req, 9, env.now() + ms(10000));
    }
    Result<protocol::FetchResponse> fetch(const env::Address& to, const std::string& topic, int32_t p, Offset from,
                                          int32_t max_wait_ms = 0) {
        protocol::FetchRequest req;
        req.max_wait_ms = max_wait_ms;
        req.min_bytes = 1;
        protocol::FetchRequest::FetchTopic t;
        t.topic = topic;
        protocol::FetchRequest::FetchPartition fp;
        fp.partition = p;
        fp.fetch_offset = from;
        fp.partition_max_bytes = 1 << 20;
        t.partitions.push_back(fp);
        req.topics.push_back(t);
        return rpc.call<protocol::FetchResponse>(to, req, 11, env.now() + ms(10000));
    }
};

struct Fixture {
    sim::World world{sim::WorldOptions{.seed = 7}};
    sim::RunOptions run;
    sim::ScenarioContext ctx{world, run};
    std::shared_ptr<scenarios::DataCluster> cluster;

    explicit Fixture(bool auto_create_topics = false) {
        scenarios::DataClusterOptions o;
        o.base.broker_config.auto_create_topics_enable = auto_create_topics;
        o.base.broker_config.replica_lag_time_max = ms(3000);
        o.base.broker_config.isr_check_interval = ms(250);
        o.base.controller_config.session_timeout = ms(3000);
        o.base.heartbeat_interval = ms(500);
        cluster = scenarios::DataCluster::create(ctx, o);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, std::chrono::seconds(30)));
        EXPECT_TRUE(cluster->create_topics({{"t", 1, 3, {{"min.insync.replicas", "2"}, {"flush.messages", "1"}}}},
                                           std::chrono::seconds(30)));
    }
    // The leader's name per the active controller's image, once that broker leads it.
    std::string leader_of(const std::string& topic) {
        broker::Partition* p = leader_replica(topic);
        return p == nullptr ? "" : cluster->name_of(p->leader());
    }
    broker::Partition* leader_replica(const std::string& topic) {
        const auto* img = cluster->active_image();
        const auto* t = img ? img->topic_by_name(topic) : nullptr;
        if (t == nullptr || !t->partitions.at(PartitionIndex(0)).has_leader()) return nullptr;
        broker::Partition* p = cluster->replica(t->partitions.at(PartitionIndex(0)).leader, t->id, 0);
        return p != nullptr && p->role() == broker::ReplicaRole::leader ? p : nullptr;
    }
};

TEST(DataPlane, ProduceAcksAllThenFetchBackEverythingInOrder) {
    Fixture f;
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("t").empty(); }, std::chrono::seconds(20)));
    bool done = false;
    std::vector<int64_t> bases;
    std::string fetched;
    f.world.add_node("client", [&](env::Env& env) {
        RawClient c(env);
        std::string leader = f.leader_of("t");
        env::Address to{leader, 9092};
        for (int i = 0; i < 10; i++) {
            auto r = c.produce(to, "t", 0, batch_of({"v" + std::to_string(2 * i), "v" + std::to_string(2 * i + 1)}, 1000 + i), -1);
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            const auto& pr = r->responses.at(0).partition_responses.at(0);
            ASSERT_EQ(pr.error_code, ErrorCode::none) << protocol::error_code_name(pr.error_code);
            bases.push_back(pr.base_offset);
        }
        // A fetch may return fewer batches than asked (buggify's short reads, KIP-74):
        // a reader loops from the next offset until the high watermark.
        Offset next{0};
        for (int round = 0; round < 50 && next < Offset(20); round++) {
            auto fr = c.fetch(to, "t", 0, next);
            ASSERT_TRUE(fr.ok());
            const auto& pd = fr->responses.at(0).partitions.at(0);
            EXPECT_EQ(pd.error_code, ErrorCode::none);
            EXPECT_EQ(pd.high_watermark, Offset(20));
            ByteView rest(pd.records.data(), pd.records.size());
            while (!rest.empty()) {
                auto b = log::decode_batch(rest, nullptr);
                ASSERT_TRUE(b.ok());
                for (const auto& rec : b->records) fetched += std::string(as_chars(*rec.value)) + ",";
                next = b->header.last_offset() + 1;
                rest = rest.subspan(b->header.size_bytes());
            }
        }
        auto oor = c.fetch(to, "t", 0, Offset(21));
        ASSERT_TRUE(oor.ok());
        EXPECT_EQ(oor->responses.at(0).partitions.at(0).error_code, ErrorCode::offset_out_of_range);
        done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return done; }, std::chrono::seconds(60)));
    std::vector<int64_t> want;
    for (int i = 0; i < 10; i++) want.push_back(2 * i);
    EXPECT_EQ(bases, want);
    std::string expect;
    for (int i = 0; i < 20; i++) expect += "v" + std::to_string(i) + ",";
    EXPECT_EQ(fetched, expect);
    ASSERT_TRUE(f.cluster->await_replicated(std::chrono::seconds(30)).has_value());
    f.cluster->check_replicas();
    EXPECT_GT(f.cluster->replication().stats().batches_compared, 0u);
    EXPECT_TRUE(f.cluster->replication().violations().empty()) << f.cluster->replication().violations()[0];
    EXPECT_TRUE(f.ctx.violations().empty()) << f.ctx.violations()[0];
}

// auto.create.topics.enable: Metadata with allow_auto_topic_creation creates an unknown
// topic through the active controller (LEADER_NOT_AVAILABLE until it is led); without the
// client's permission, or with the broker's switch off, the topic stays unknown.
void expect_auto_creation(bool enabled) {
    Fixture f(enabled);
    bool done = false;
    std::vector<ErrorCode> answers;
    f.world.add_node("client", [&](env::Env& env) {
        RawClient c(env);
        env::Address to{"b1", 9092};  // broker 101
        auto refused = c.metadata_of(to, "fresh", false);
        ASSERT_TRUE(refused.ok()) << refused.error().to_string();
        EXPECT_EQ(refused->topics.at(0).error_code, ErrorCode::unknown_topic_or_partition);
        for (int i = 0; i < 100; i++) {
            auto r = c.metadata_of(to, "fresh", true);
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            ErrorCode e = r->topics.at(0).error_code;
            if (answers.empty() || answers.back() != e) answers.push_back(e);
            if (e == ErrorCode::none || e == ErrorCode::unknown_topic_or_partition) break;
            env.executor().sleep_for(ms(200));
        }
        done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return done; }, std::chrono::seconds(60)));
    const auto* img = f.cluster->active_image();
    ASSERT_NE(img, nullptr);
    if (enabled) {
        EXPECT_EQ(answers.front(), ErrorCode::leader_not_available);
        EXPECT_EQ(answers.back(), ErrorCode::none);
        ASSERT_NE(img->topic_by_name("fresh"), nullptr);
        EXPECT_EQ(img->topic_by_name("fresh")->partitions.size(), 1u);  // num.partitions
    } else {
        EXPECT_EQ(answers, std::vector<ErrorCode>{ErrorCode::unknown_topic_or_partition});
        EXPECT_EQ(img->topic_by_name("fresh"), nullptr);
    }
    EXPECT_TRUE(f.ctx.violations().empty()) << f.ctx.violations()[0];
}

TEST(DataPlane, MetadataAutoCreatesAnUnknownTopicWhenTheBrokerAndTheClientAllowIt) { expect_auto_creation(true); }

TEST(DataPlane, MetadataLeavesAnUnknownTopicUnknownWhenAutoCreationIsOff) { expect_auto_creation(false); }

TEST(DataPlane, FollowerRefusesProduceAndMinIsrRefusesAcksAllWhenReplicasAreDown) {
    Fixture f;
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("t").empty(); }, std::chrono::seconds(20)));
    std::string leader = f.leader_of("t");
    std::vector<std::string> others;
    for (const std::string& b : f.cluster->brokers()) {
        if (b != leader) others.push_back(b);
    }
    ErrorCode from_follower = ErrorCode::none;
    bool first_done = false;
    f.world.add_node("client", [&](env::Env& env) {
        RawClient c(env);
        auto r = c.produce(env::Address{others[0], 9092}, "t", 0, batch_of({"x"}, 1), 1);
        if (r.ok()) from_follower = r->responses.at(0).partition_responses.at(0).error_code;
        first_done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return first_done; }, std::chrono::seconds(20)));
    EXPECT_EQ(from_follower, ErrorCode::not_leader_or_follower);
    // Both followers down: the leader shrinks its ISR to itself; acks=all is refused
    // (min.insync.replicas=2), acks=1 is still accepted.
    f.world.crash(others[0]);
    f.world.crash(others[1]);
    ASSERT_TRUE(f.world.run_until(
        [&] {
            broker::Partition* p = f.leader_replica("t");  // the leader's own view
            return p != nullptr && p->isr().size() == 1;
        },
        std::chrono::seconds(30)));
    ErrorCode all = ErrorCode::none, one = ErrorCode::unknown_server_error;
    bool done = false;
    f.world.add_node("client2", [&](env::Env& env) {
        RawClient c(env);
        env::Address to{f.leader_of("t"), 9092};
        auto r = c.produce(to, "t", 0, batch_of({"y"}, 2), -1);
        if (r.ok()) all = r->responses.at(0).partition_responses.at(0).error_code;
        auto r1 = c.produce(to, "t", 0, batch_of({"z"}, 3), 1);
        if (r1.ok()) one = r1->responses.at(0).partition_responses.at(0).error_code;
        done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return done; }, std::chrono::seconds(30)));
    EXPECT_EQ(all, ErrorCode::not_enough_replicas);
    EXPECT_EQ(one, ErrorCode::none);
    // The followers come back, catch up and rejoin the ISR.
    f.world.start(others[0]);
    f.world.start(others[1]);
    ASSERT_TRUE(f.cluster->await_replicated(std::chrono::seconds(60)).has_value()) << f.ctx.violations()[0];
    f.cluster->check_replicas();
    EXPECT_TRUE(f.cluster->replication().violations().empty()) << f.cluster->replication().violations()[0];
}

}  // namespace
}  // namespace keel
