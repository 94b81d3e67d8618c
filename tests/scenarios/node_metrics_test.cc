// A node's metrics (core/node/node_metrics.h) in the simulator: a DataCluster (3
// controllers, 3 brokers), a raw Kafka-protocol client that produces with acks=all and
// fetches, then each node's Prometheus text as `GET /metrics` would serve it.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/broker/broker_server.h"
#include "core/controller/rpc.h"
#include "core/log/record_batch.h"
#include "core/node/keel_node.h"
#include "scenarios/data/data_cluster.h"

namespace keel::node_metrics_scenario {
namespace {

// The value of the sample line `series value` in `text`; NaN when it is absent.
double sample_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return std::nan("");
}

struct MetricsFixture {
    sim::World world{sim::WorldOptions{.seed = 11}};
    sim::RunOptions run;
    sim::ScenarioContext ctx{world, run};
    std::shared_ptr<scenarios::DataCluster> cluster;

    MetricsFixture() {
        scenarios::DataClusterOptions o;
        o.base.broker_config.replica_lag_time_max = ms(3000);
        o.base.broker_config.isr_check_interval = ms(250);
        o.base.controller_config.session_timeout = ms(3000);
        o.base.heartbeat_interval = ms(500);
        cluster = scenarios::DataCluster::create(ctx, o);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, std::chrono::seconds(30)));
        EXPECT_TRUE(cluster->create_topics({{"m", 1, 3, {}}}, std::chrono::seconds(30)));
    }
    std::string leader_of_m() {
        const auto* img = cluster->active_image();
        const auto* t = img ? img->topic_by_name("m") : nullptr;
        if (t == nullptr || !t->partitions.at(PartitionIndex(0)).has_leader()) return "";
        broker::Partition* p = cluster->replica(t->partitions.at(PartitionIndex(0)).leader, t->id, 0);
        return p != nullptr && p->role() == broker::ReplicaRole::leader ? cluster->name_of(p->leader()) : "";
    }
    size_t leader_isr_size() {
        const auto* img = cluster->active_image();
        const auto* t = img ? img->topic_by_name("m") : nullptr;
        if (t == nullptr || !t->partitions.at(PartitionIndex(0)).has_leader()) return 0;
        broker::Partition* p = cluster->replica(t->partitions.at(PartitionIndex(0)).leader, t->id, 0);
        return p != nullptr && p->role() == broker::ReplicaRole::leader ? p->isr().size() : 0;
    }
    std::string metrics_of(const std::string& name) {
        const node::NodeParts* parts = cluster->parts(name);
        return parts != nullptr && parts->node != nullptr ? parts->node->render_metrics() : "";
    }
};

protocol::ProduceRequest produce_request(int i) {
    log::RecordBatchBuilder b;
    b.add(1000 + i, as_bytes("k"), as_bytes("value-" + std::to_string(i)));
    protocol::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 5000;
    protocol::ProduceRequest::PartitionProduceData pd;
    pd.index = PartitionIndex(0);
    pd.records = b.build();
    req.topic_data.push_back({"m", {std::move(pd)}, {}});
    return req;
}

protocol::FetchRequest fetch_request() {
    protocol::FetchRequest req;
    req.max_wait_ms = 0;
    req.min_bytes = 1;
    protocol::FetchRequest::FetchTopic t;
    t.topic = "m";
    protocol::FetchRequest::FetchPartition fp;
    fp.partition = 0;
    fp.fetch_offset = Offset(0);
    fp.partition_max_bytes = 1 << 20;
    t.partitions.push_back(fp);
    req.topics.push_back(t);
    return req;
}

TEST(NodeMetrics, ProduceAndFetchMoveTheCountersAndCaughtUpReplicasAreNotUnderReplicated) {
    MetricsFixture f;
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of_m().empty(); }, std::chrono::seconds(20)));
    std::string leader = f.leader_of_m();
    bool done = false;
    f.world.add_node("client", [&](env::Env& env) {
        controller::RpcClient rpc(env, "metrics-client");
        env::Address to{leader, 9092};
        for (int i = 0; i < 5; i++) {
            auto r = rpc.call<protocol::ProduceResponse>(to, produce_request(i), 9, env.now() + ms(10000));
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            ASSERT_EQ(r->responses.at(0).partition_responses.at(0).error_code, protocol::ErrorCode::none);
        }
        auto fr = rpc.call<protocol::FetchResponse>(to, fetch_request(), 11, env.now() + ms(10000));
        ASSERT_TRUE(fr.ok()) << fr.error().to_string();
        EXPECT_FALSE(fr->responses.at(0).partitions.at(0).records.empty());
        done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return done; }, std::chrono::seconds(60)));
    ASSERT_TRUE(f.cluster->await_replicated(std::chrono::seconds(30)).has_value());
    // The followers are in the ISR once they have fetched up to the leader's log end.
    ASSERT_TRUE(f.world.run_until(
        [&] { return sample_of(f.metrics_of(leader), "keel_broker_under_replicated_partitions") == 0; },
        std::chrono::seconds(30)));

    std::string text = f.metrics_of(leader);
    EXPECT_EQ(sample_of(text, "keel_broker_requests_total{api=\"Produce\"}"), 5) << text;
    EXPECT_EQ(sample_of(text, "keel_broker_request_duration_seconds_count{api=\"Produce\"}"), 5);
    EXPECT_EQ(sample_of(text, "keel_broker_request_duration_seconds_bucket{api=\"Produce\",le=\"+Inf\"}"), 5);
    // acks=all waited for the followers: virtual time passed, so the latency sum is positive.
    EXPECT_GT(sample_of(text, "keel_broker_request_duration_seconds_sum{api=\"Produce\"}"), 0);
    EXPECT_EQ(sample_of(text, "keel_broker_requests_total{api=\"FetchConsumer\"}"), 1);
    EXPECT_GT(sample_of(text, "keel_broker_requests_total{api=\"FetchFollower\"}"), 0);
    EXPECT_EQ(sample_of(text, "keel_broker_messages_in_total"), 5);
    EXPECT_GT(sample_of(text, "keel_broker_bytes_in_total"), 0);
    EXPECT_GT(sample_of(text, "keel_broker_bytes_out_total"), 0);
    EXPECT_GT(sample_of(text, "keel_broker_replication_bytes_out_total"), 0);
    EXPECT_GE(sample_of(text, "keel_broker_leader_partitions"), 1);
    EXPECT_EQ(sample_of(text, "keel_broker_under_min_isr_partitions"), 0);

    // Exactly one controller is active; it sees no offline partition; every node agrees on
    // the quorum's leader.
    int active = 0;
    double quorum_leader = sample_of(f.metrics_of(f.cluster->controllers().at(0)), "keel_raft_current_leader");
    for (const std::string& c : f.cluster->controllers()) {
        std::string ct = f.metrics_of(c);
        if (sample_of(ct, "keel_controller_active") == 1) {
            active++;
            EXPECT_EQ(sample_of(ct, "keel_controller_offline_partitions"), 0);
            EXPECT_EQ(sample_of(ct, "keel_raft_state{state=\"leader\"}"), 1);
            EXPECT_EQ(f.cluster->id_of(c).value(), quorum_leader);
        }
    }
    EXPECT_EQ(active, 1);
    EXPECT_EQ(sample_of(text, "keel_raft_current_leader"), quorum_leader);
    EXPECT_EQ(sample_of(text, "keel_controller_active"), 0);  // a broker-only node
    EXPECT_TRUE(f.ctx.violations().empty()) << f.ctx.violations()[0];
}

TEST(NodeMetrics, AFollowerCrashShrinksTheIsrAndItsReturnExpandsIt) {
    MetricsFixture f;
    ASSERT_TRUE(f.world.run_until([&] { return f.leader_isr_size() == 3; }, std::chrono::seconds(30)));
    std::string leader = f.leader_of_m();
    std::string follower;
    for (const std::string& b : f.cluster->brokers()) {
        if (b != leader) follower = b;
    }
    std::string before = f.metrics_of(leader);
    EXPECT_EQ(sample_of(before, "keel_broker_under_replicated_partitions"), 0);
    EXPECT_EQ(sample_of(before, "keel_broker_isr_shrinks_total"), 0);

    f.world.crash(follower);
    EXPECT_EQ(f.metrics_of(follower), "");  // a node that is down has nothing to render
    ASSERT_TRUE(f.world.run_until([&] { return f.leader_isr_size() == 2; }, std::chrono::seconds(30)));
    std::string shrunk = f.metrics_of(leader);
    EXPECT_EQ(sample_of(shrunk, "keel_broker_under_replicated_partitions"), 1) << shrunk;
    EXPECT_GE(sample_of(shrunk, "keel_broker_isr_shrinks_total"), 1);

    f.world.start(follower);
    ASSERT_TRUE(f.world.run_until([&] { return f.leader_isr_size() == 3; }, std::chrono::seconds(60)));
    std::string expanded = f.metrics_of(leader);
    EXPECT_EQ(sample_of(expanded, "keel_broker_under_replicated_partitions"), 0) << expanded;
    EXPECT_GE(sample_of(expanded, "keel_broker_isr_expands_total"), 1);
    EXPECT_TRUE(f.ctx.violations().empty()) << f.ctx.violations()[0];
}

}  // namespace
}  // namespace keel::node_metrics_scenario
