// TopicAdmin (what `keel topics` runs) and GroupAdmin::reset_offsets (`keel groups
// --reset-offsets`) against Keel's own brokers in the simulator: a DataCluster of 3 KRaft
// controllers and 3 brokers, a client node on the same world. Create (with defaults, with
// configs, twice), describe (leader among the replicas, the full ISR), list, delete, the
// refused CreatePartitions; a group's offsets reset to earliest, latest and a clamped offset.
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

        Status more = admin.create_partitions("orders", 6);
        ASSERT_FALSE(more.ok());
        EXPECT_EQ(more.error().code, Errc::unsupported_version);
        EXPECT_NE(more.error().message.find("not supported by this server"), std::string::npos);
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
