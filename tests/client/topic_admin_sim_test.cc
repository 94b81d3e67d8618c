// TopicAdmin (what `keel topics` runs) and GroupAdmin::reset_offsets (`keel groups
// --reset-offsets`) against Keel's own brokers in the simulator: a DataCluster of 3 KRaft
// controllers and 3 brokers, a client node on the same world. Create (with defaults, with
// configs, twice), describe (leader among the replicas, the full ISR), list, delete, more
// partitions (CreatePartitions) produced to, and the refused increases; a group's offsets reset to earliest, latest and a clamped offset.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "core/client/group_admin.h"
#include "core/client/producer.h"
#include "core/client/topic_admin.h"
#include "scenarios/data/data_cluster.h"

namespace keel::client {
namespace {

using namespace std::chrono_literals;

struct Sim {
    sim::World world{sim::WorldOptions{.seed = 41}};
    sim::RunOptions run;
    sim::ScenarioContext ctx{world, run};
    std::shared_ptr<scenarios::DataCluster> cluster;

    Sim() {
        scenarios::DataClusterOptions o;
        o.base.broker_config.replica_lag_time_max = ms(3000);
        o.base.broker_config.isr_check_interval = ms(250);
        o.base.controller_config.session_timeout = ms(3000);
        o.base.heartbeat_interval = ms(500);
        cluster = scenarios::DataCluster::create(ctx, o);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, 30s));
    }

    // Runs fn on a client node's first fiber and waits for it.
    void client(const std::function<void(env::Env&)>& fn) {
        bool done = false;
        world.add_node("client-" + std::to_string(clients_++), [&done, fn](env::Env& env) {
            fn(env);
            done = true;
        });
        ASSERT_TRUE(world.run_until([&] { return done; }, 300s));
    }
    int clients_ = 0;
};

TEST(TopicAdminSim, CreatesDescribesListsAndDeletesTopics) {
    Sim s;
    s.client([&](env::Env& env) {
        TopicAdmin admin(env, s.cluster->bootstrap(), ms(20'000));
        auto id = admin.create_topic({"orders", 3, 3, {{"min.insync.replicas", "2"}}});
        ASSERT_TRUE(id.ok()) << id.error().to_string();
        EXPECT_FALSE(id->is_zero());
        auto again = admin.create_topic({"orders", 1, 1, {}});
        ASSERT_FALSE(again.ok());
        EXPECT_EQ(again.error().code, Errc::topic_already_exists);
        auto defaults = admin.create_topic({"defaults", -1, -1, {}});
        ASSERT_TRUE(defaults.ok()) << defaults.error().to_string();
        auto bad = admin.create_topic({"bad", 1, 1, {{"retention.ms", "soon"}}});
        ASSERT_FALSE(bad.ok());
        EXPECT_EQ(bad.error().code, Errc::invalid_config);
        auto dry = admin.create_topic({"dry", 2, 2, {}}, /*validate_only=*/true);
        EXPECT_TRUE(dry.ok());

        auto d = admin.describe({"orders", "nosuch"});
        ASSERT_TRUE(d.ok()) << d.error().to_string();
        ASSERT_EQ(d->size(), 2u);
        EXPECT_EQ((*d)[0].name, "nosuch");
        EXPECT_EQ((*d)[0].error, protocol::ErrorCode::unknown_topic_or_partition);
        const TopicDescription& orders = (*d)[1];
        EXPECT_EQ(orders.topic_id, *id);
        ASSERT_EQ(orders.partitions.size(), 3u);
        for (int32_t p = 0; p < 3; p++) {
            const PartitionDescription& pd = orders.partitions[static_cast<size_t>(p)];
            EXPECT_EQ(pd.partition, PartitionIndex(p));
            EXPECT_EQ(pd.replicas.size(), 3u);
            EXPECT_NE(std::find(pd.replicas.begin(), pd.replicas.end(), pd.leader), pd.replicas.end());
            EXPECT_FALSE(pd.isr.empty());
        }

        auto names = admin.list_topics();
        ASSERT_TRUE(names.ok());
        EXPECT_EQ(*names, (std::vector<std::string>{"defaults", "orders"}));  // not dry, bad, internal

        ASSERT_TRUE(admin.delete_topic("defaults").ok());
        auto gone = admin.delete_topic("defaults");
        ASSERT_FALSE(gone.ok());
        EXPECT_EQ(gone.error().code, Errc::unknown_topic_or_partition);
        names = admin.list_topics();
        ASSERT_TRUE(names.ok());
        EXPECT_EQ(*names, (std::vector<std::string>{"orders"}));
    });
}

// CreatePartitions: 3 more, then produced to; no increase, fewer, and an unknown topic are
// refused.
TEST(TopicAdminSim, GrowsATopicThatIsThenProducedToInItsNewPartitions) {
    Sim s;
    s.client([&](env::Env& env) {
        TopicAdmin admin(env, s.cluster->bootstrap(), ms(20'000));
        ASSERT_TRUE(admin.create_topic({"orders", 3, 3, {}}).ok());
        Status more = admin.create_partitions("orders", 6);
        ASSERT_TRUE(more.ok()) << more.error().to_string();
        auto d = admin.describe({"orders"});
        ASSERT_TRUE(d.ok()) << d.error().to_string();
        ASSERT_EQ((*d)[0].partitions.size(), 6u);
        for (const PartitionDescription& pd : (*d)[0].partitions) {
            EXPECT_EQ(pd.replicas.size(), 3u) << pd.partition;
            EXPECT_NE(std::find(pd.isr.begin(), pd.isr.end(), pd.leader), pd.isr.end()) << pd.partition;
        }
        ProducerConfig pc;
        pc.bootstrap = s.cluster->bootstrap();
        Producer producer(env, pc);
        auto sent = producer.send({"orders", PartitionIndex(5), std::nullopt, to_bytes("new"), {}, {}}).get();
        ASSERT_TRUE(sent.ok()) << sent.error().to_string();
        EXPECT_EQ(sent->partition, PartitionIndex(5));
        EXPECT_EQ(sent->offset, Offset(0));
        producer.close();
        Status same = admin.create_partitions("orders", 6);
        ASSERT_FALSE(same.ok());
        EXPECT_EQ(same.error().code, Errc::invalid_partitions);
        EXPECT_NE(same.error().message.find("already has 6 partition(s)"), std::string::npos) << same.error().message;
        Status fewer = admin.create_partitions("orders", 2);
        EXPECT_EQ(fewer.code(), Errc::invalid_partitions);
        Status unknown = admin.create_partitions("nosuch", 2);
        EXPECT_EQ(unknown.code(), Errc::unknown_topic_or_partition);
    });
}

// DescribeConfigs and IncrementalAlterConfigs through TopicAdmin: the defaults and their
// sources, a set and a removal, a refused value; every replica's log then runs the new
// config.
TEST(TopicAdminSim, DescribesAndAltersTopicConfigsAndTheLogsFollow) {
    Sim s;
    protocol::Uuid topic_id;
    s.client([&](env::Env& env) {
        TopicAdmin admin(env, s.cluster->bootstrap(), ms(20'000));
        auto id = admin.create_topic({"events", 2, 3, {{"segment.bytes", "1048576"}}});
        ASSERT_TRUE(id.ok()) << id.error().to_string();
        topic_id = *id;
        auto find = [](const std::vector<TopicConfigEntry>& all, const std::string& name) {
            auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
            return it == all.end() ? TopicConfigEntry{} : *it;
        };
        auto before = admin.describe_configs("events");
        ASSERT_TRUE(before.ok()) << before.error().to_string();
        EXPECT_EQ(find(*before, "segment.bytes").value, "1048576");
        EXPECT_EQ(find(*before, "segment.bytes").source, 1);  // the topic's own
        EXPECT_EQ(find(*before, "retention.ms").source, 5);   // the default
        EXPECT_TRUE(find(*before, "retention.ms").is_default);
        EXPECT_EQ(find(*before, "cleanup.policy").value, "delete");

        ASSERT_TRUE(admin.alter_configs("events", {{"retention.ms", "60000"}}, {"segment.bytes"}).ok());
        auto after = admin.describe_configs("events");
        ASSERT_TRUE(after.ok()) << after.error().to_string();
        EXPECT_EQ(find(*after, "retention.ms").value, "60000");
        EXPECT_EQ(find(*after, "retention.ms").source, 1);
        EXPECT_EQ(find(*after, "segment.bytes").source, 5);

        Status bad = admin.alter_configs("events", {{"retention.ms", "soon"}}, {});
        EXPECT_EQ(bad.code(), Errc::invalid_config);
        Status unknown = admin.alter_configs("events", {{"no.such.config", "1"}}, {});
        EXPECT_EQ(unknown.code(), Errc::invalid_config);
        auto missing = admin.describe_configs("nosuch");
        ASSERT_FALSE(missing.ok());
        EXPECT_EQ(missing.error().code, Errc::unknown_topic_or_partition);
    });
    auto all_follow = [&] {
        for (int32_t b = 101; b <= 103; b++) {
            for (int32_t p = 0; p < 2; p++) {
                broker::Partition* r = s.cluster->replica(NodeId(b), topic_id, p);
                if (r == nullptr || r->log().config().retention_ms != 60000) return false;
                if (r->log().config().segment_bytes != log::LogConfig{}.segment_bytes) return false;
            }
        }
        return true;
    };
    EXPECT_TRUE(s.world.run_until(all_follow, 30s));
}

// DescribeCluster (KIP-700): the cluster's id and its three live brokers, the controller
// id among them as Metadata gives it.
TEST(TopicAdminSim, DescribesTheCluster) {
    Sim s;
    s.client([&](env::Env& env) {
        TopicAdmin admin(env, s.cluster->bootstrap(), ms(20'000));
        auto c = admin.describe_cluster();
        ASSERT_TRUE(c.ok()) << c.error().to_string();
        EXPECT_FALSE(c->cluster_id.empty());
        ASSERT_EQ(c->brokers.size(), 3u);
        EXPECT_EQ(c->brokers[0].first, NodeId(101));
        EXPECT_EQ(c->brokers[2].first, NodeId(103));
        EXPECT_EQ(c->controller, NodeId(101));
        EXPECT_GT(c->brokers[0].second.port, 0);
    });
}

TEST(TopicAdminSim, NoBrokerIsAClearError) {
    Sim s;
    s.client([&](env::Env& env) {
        TopicAdmin admin(env, {{"nowhere", 9092}}, ms(5'000));
        auto names = admin.list_topics();
        ASSERT_FALSE(names.ok());
        auto id = admin.create_topic({"t", 1, 1, {}});
        ASSERT_FALSE(id.ok());
    });
}

// 10 records over 2 partitions; the group "g" (no members) reset to latest, earliest, and
// an offset past the end (clamped).
TEST(GroupAdminSim, ResetOffsetsPlansAndCommitsForAnEmptyGroup) {
    Sim s;
    s.client([&](env::Env& env) {
        TopicAdmin topics(env, s.cluster->bootstrap(), ms(20'000));
        ASSERT_TRUE(topics.create_topic({"events", 2, 3, {}}).ok());
        ProducerConfig pc;
        pc.bootstrap = s.cluster->bootstrap();
        Producer producer(env, pc);
        std::vector<env::Future<RecordMetadata>> sent;
        for (int i = 0; i < 10; i++) {
            sent.push_back(producer.send({"events", PartitionIndex(i % 2), std::nullopt, to_bytes("v"), {}, {}}));
        }
        for (auto& f : sent) ASSERT_TRUE(f.get().ok());
        producer.close();

        GroupAdmin admin(env, s.cluster->bootstrap(), ms(20'000));
        auto dry = admin.reset_offsets("g", {"events", ResetTo::latest, 0}, /*execute=*/false);
        ASSERT_TRUE(dry.ok()) << dry.error().to_string();
        ASSERT_EQ(dry->size(), 2u);
        EXPECT_EQ((*dry)[0].current, Offset(-1));
        EXPECT_EQ((*dry)[0].target, Offset(5));
        auto lag = admin.lag("g");
        ASSERT_TRUE(lag.ok());
        EXPECT_TRUE(lag->empty());  // a dry run commits nothing

        ASSERT_TRUE(admin.reset_offsets("g", {"events", ResetTo::latest, 0}, true).ok());
        lag = admin.lag("g");
        ASSERT_TRUE(lag.ok());
        ASSERT_EQ(lag->size(), 2u);
        EXPECT_EQ((*lag)[0].committed, Offset(5));
        EXPECT_EQ((*lag)[1].lag, 0);

        auto early = admin.reset_offsets("g", {"events", ResetTo::earliest, 0}, true);
        ASSERT_TRUE(early.ok());
        EXPECT_EQ((*early)[1].current, Offset(5));
        EXPECT_EQ((*early)[1].target, Offset(0));
        lag = admin.lag("g");
        ASSERT_TRUE(lag.ok());
        EXPECT_EQ((*lag)[0].lag, 5);

        auto clamped = admin.reset_offsets("g", {"events", ResetTo::offset, 99}, true);
        ASSERT_TRUE(clamped.ok());
        EXPECT_EQ((*clamped)[0].target, Offset(5));

        auto unknown = admin.reset_offsets("g", {"nosuch", ResetTo::earliest, 0}, false);
        ASSERT_FALSE(unknown.ok());
        EXPECT_EQ(unknown.error().code, Errc::unknown_topic_or_partition);
    });
}

}  // namespace
}  // namespace keel::client
