// The ControllerService and BrokerLifecycle wired over a real RaftDriver quorum in the
// simulator (scenarios/controller/controller_cluster.h), driven step by step.
#include <gtest/gtest.h>

#include <memory>

#include "core/controller/rpc.h"
#include "scenarios/controller/controller_cluster.h"

namespace keel::controller {
namespace {

using namespace std::chrono_literals;
using scenarios::ControllerCluster;
using scenarios::ControllerClusterOptions;

struct Sim {
    // The World first, so that it (and every fiber holding the cluster) goes last.
    sim::World world;
    sim::RunOptions run;
    sim::ScenarioContext ctx;
    std::shared_ptr<ControllerCluster> cluster;

    explicit Sim(uint64_t seed, ControllerClusterOptions options = {})
        : world(sim::WorldOptions{.seed = seed}), ctx(world, run) {
        run.seed = seed;
        options.noop_interval = Duration(0);  // the log moves only on decisions
        cluster = ControllerCluster::create(ctx, options);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, 30s));
    }

    // Runs `fn` on a fresh node's fiber (RPCs need a node's network) and waits for it.
    void on_probe(const std::string& name, std::function<void(env::Env&)> fn) {
        bool done = false;
        world.add_node(name, [&done, fn](env::Env& env) {
            fn(env);
            done = true;
        });
        EXPECT_TRUE(world.run_until([&] { return done; }, 30s));
    }

    const MetadataImage& active_image() {
        auto a = cluster->active_controller();
        EXPECT_TRUE(a.has_value());
        return *cluster->image(*a);
    }

    std::vector<std::string> violations() {
        std::vector<std::string> v = cluster->checker().violations();
        v.insert(v.end(), ctx.violations().begin(), ctx.violations().end());
        return v;
    }
};

env::Address controller_rpc(const std::string& c) { return env::Address{c, 9094}; }

TEST(ControllerCluster, OnlyTheActiveControllerAnswersTheOthersSayNotController) {
    Sim s(11);
    std::string active = *s.cluster->active_controller();
    const BrokerRegistration* b = s.active_image().broker(s.cluster->id_of("b1"));
    ASSERT_NE(b, nullptr);
    std::map<std::string, protocol::ErrorCode> answers;
    s.on_probe("probe", [&](env::Env& env) {
        RpcClient client(env, "probe");
        for (const std::string& c : s.cluster->controllers()) {
            protocol::BrokerHeartbeatRequest req{b->id, b->epoch.value(), 0, false, false, {}};
            auto r = client.call<protocol::BrokerHeartbeatResponse>(controller_rpc(c), req, 1, env.now() + 5s);
            answers[c] = r.ok() ? r->error_code : protocol::ErrorCode::network_exception;
        }
    });
    for (const auto& [c, code] : answers) {
        EXPECT_EQ(code, c == active ? protocol::ErrorCode::none : protocol::ErrorCode::not_controller) << c;
    }
    EXPECT_TRUE(s.violations().empty());
}

TEST(ControllerCluster, AnswersARegistrationOnlyOnceItsRecordIsCommittedWithItsOffsetAsEpoch) {
    Sim s(12);
    std::string active = *s.cluster->active_controller();
    std::optional<int64_t> epoch;
    bool in_image_when_answered = false;
    Offset end_when_answered{0};
    s.on_probe("probe", [&](env::Env& env) {
        RpcClient client(env, "probe");
        protocol::BrokerRegistrationRequest req;
        req.broker_id = NodeId(999);
        req.cluster_id = "keel-sim-cluster";
        req.incarnation_id = Uuid{9, 9};
        auto r = client.call<protocol::BrokerRegistrationResponse>(controller_rpc(active), req, 4, env.now() + 5s);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->error_code, protocol::ErrorCode::none);
        epoch = r->broker_epoch;
        const MetadataImage* img = s.cluster->image(active);
        in_image_when_answered = img->broker(NodeId(999)) != nullptr;
        end_when_answered = img->end_offset();
    });
    ASSERT_TRUE(epoch.has_value());
    EXPECT_TRUE(in_image_when_answered);
    // Nothing else was written meanwhile: the registration is the last entry applied.
    EXPECT_EQ(end_when_answered, Offset(*epoch + 1));
    EXPECT_EQ(s.active_image().broker(NodeId(999))->epoch, BrokerEpoch(*epoch));
}

TEST(ControllerCluster, BrokersStayUnfencedAcrossAControllerFailover) {
    Sim s(13);
    std::string first = *s.cluster->active_controller();
    s.world.crash(first);
    ASSERT_TRUE(s.world.run_until(
        [&] {
            auto a = s.cluster->active_controller();
            return a && *a != first;
        },
        20s));
    s.world.run_for(20s);
    EXPECT_TRUE(s.cluster->brokers_unfenced());
    EXPECT_TRUE(s.cluster->checker().fence_latencies().empty());  // nobody's session lapsed
    EXPECT_TRUE(s.violations().empty()) << s.violations().front();
}

TEST(ControllerCluster, ASilentBrokerIsFencedAfterTheSessionTimeoutAndUnfencedWhenItReturns) {
    Sim s(14);
    ASSERT_TRUE(s.cluster->create_topics({{"t", 4, 3, {}, {}}}, 20s));
    NodeId b2 = s.cluster->id_of("b2");
    s.world.pause("b2");
    // The controller reports the fence once its write returns, just after the commit.
    ASSERT_TRUE(s.world.run_until([&] { return !s.cluster->checker().fence_latencies().empty(); }, 15s));
    EXPECT_TRUE(s.active_image().broker(b2)->fenced);
    ASSERT_EQ(s.cluster->checker().fence_latencies().size(), 1u);
    Duration latency = s.cluster->checker().fence_latencies()[0];
    EXPECT_GE(latency, 9s);
    EXPECT_LT(latency, 9s + 500ms);
    EXPECT_TRUE(s.active_image().partitions_led_by(b2).empty());
    EXPECT_TRUE(s.active_image().partitions_with_isr_member(b2).empty());
    s.world.resume("b2");
    ASSERT_TRUE(s.world.run_until([&] { return !s.active_image().broker(b2)->fenced; }, 5s));
    EXPECT_TRUE(s.violations().empty()) << s.violations().front();
}

TEST(ControllerCluster, ControlledShutdownMovesLeadershipAwayThenLetsTheBrokerGo) {
    Sim s(15);
    ASSERT_TRUE(s.cluster->create_topics({{"t", 6, 3, {}, {}}}, 20s));
    NodeId b1 = s.cluster->id_of("b1");
    ASSERT_FALSE(s.active_image().partitions_led_by(b1).empty());
    s.cluster->begin_controlled_shutdown("b1");
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->lifecycle("b1")->shut_down(); }, 20s));
    const BrokerRegistration* r = s.active_image().broker(b1);
    EXPECT_TRUE(r->fenced);
    EXPECT_TRUE(r->in_controlled_shutdown);
    EXPECT_TRUE(s.active_image().partitions_led_by(b1).empty());
    EXPECT_TRUE(s.active_image().leaderless_partitions().empty());
    EXPECT_TRUE(s.cluster->checker().fence_latencies().empty());  // not a session fence
    // The operator restarts it: a new incarnation registers and is unfenced.
    s.world.restart("b1");
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->brokers_unfenced(); }, 20s));
    EXPECT_FALSE(s.active_image().broker(b1)->in_controlled_shutdown);
    EXPECT_TRUE(s.violations().empty()) << s.violations().front();
}

TEST(ControllerCluster, AWriteOfUnknownOutcomeRenouncesTheEpochAndAnotherControllerDecides) {
    // The active controller's links to both followers get slow (not cut: it keeps its
    // majority and its followers keep fetching), so a commit takes longer than the
    // service's 300 ms request timeout. The controller must not sit as a leader that
    // answers NOT_CONTROLLER to everything: it renounces the epoch (resigns), and a newer
    // epoch's controller takes the request.
    ControllerClusterOptions o;
    o.request_timeout = ms(300);
    Sim s(17, o);
    std::string first = *s.cluster->active_controller();
    QuorumEpoch first_epoch = s.cluster->driver(first)->status().epoch;
    for (const std::string& c : s.cluster->controllers()) {
        if (c != first) s.world.clog(first, c, ms(800), 6s);
    }
    s.cluster->queue_topics({{"slow", 3, 3, {}, {}}});
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->renounces() > 0; }, 10s));
    ASSERT_TRUE(s.world.run_until(
        [&] {
            auto a = s.cluster->active_controller();
            return a && s.cluster->driver(*a)->status().epoch > first_epoch;
        },
        20s));
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->topic_done("slow"); }, 30s));
    EXPECT_NE(s.active_image().topic_by_name("slow"), nullptr);
    EXPECT_TRUE(s.violations().empty()) << s.violations().front();
}

TEST(ControllerCluster, AGarbledFrameClosesOnlyItsOwnConnection) {
    Sim s(16);
    std::string active = *s.cluster->active_controller();
    bool closed = false;
    bool still_served = false;
    s.on_probe("probe", [&](env::Env& env) {
        auto conn = env.network().connect(controller_rpc(active), env.now() + 1s);
        ASSERT_TRUE(conn.ok());
        ASSERT_TRUE((*conn)->send(Bytes{0, 62, 0, 4, 0xff}).ok());  // a truncated header
        auto r = (*conn)->receive(env.now() + 2s);
        closed = !r.ok() && r.code() == Errc::disconnected;
        RpcClient client(env, "probe");
        protocol::CreateTopicsRequest req;
        req.topics.push_back({"after-garbage", 1, 1, {}, {}});
        auto c = client.call<protocol::CreateTopicsResponse>(controller_rpc(active), req, 7, env.now() + 5s);
        still_served = c.ok() && c->topics.at(0).error_code == protocol::ErrorCode::none;
    });
    EXPECT_TRUE(closed);
    EXPECT_TRUE(still_served);
}

// DeleteTopics on the controller RPC listener (what brokers forward): only the active
// controller deletes; the answer comes once the RemoveTopicRecord is committed.
TEST(ControllerCluster, DeletesATopicOnlyOnTheActiveControllerAndAnswersAfterCommit) {
    Sim s(17);
    ASSERT_TRUE(s.cluster->create_topics({{"t", 2, 2, {}, {}}}, 30s));
    std::string active = *s.cluster->active_controller();
    const TopicState* t = s.active_image().topic_by_name("t");
    ASSERT_NE(t, nullptr);
    Uuid id = t->id;
    std::map<std::string, protocol::ErrorCode> others;
    bool gone_when_answered = false;
    protocol::ErrorCode by_id = protocol::ErrorCode::none, again = protocol::ErrorCode::none;
    s.on_probe("probe", [&](env::Env& env) {
        RpcClient client(env, "probe");
        protocol::DeleteTopicsRequest req;
        req.topics.push_back({std::nullopt, id, {}});
        for (const std::string& c : s.cluster->controllers()) {
            if (c == active) continue;
            auto r = client.call<protocol::DeleteTopicsResponse>(controller_rpc(c), req, 6, env.now() + 5s);
            others[c] = r.ok() ? r->responses.at(0).error_code : protocol::ErrorCode::network_exception;
        }
        auto r = client.call<protocol::DeleteTopicsResponse>(controller_rpc(active), req, 6, env.now() + 5s);
        ASSERT_TRUE(r.ok());
        by_id = r->responses.at(0).error_code;
        EXPECT_EQ(r->responses.at(0).name, "t");
        gone_when_answered = s.cluster->image(active)->topic(id) == nullptr;
        protocol::DeleteTopicsRequest by_name;
        by_name.topic_names = {"t"};
        auto a = client.call<protocol::DeleteTopicsResponse>(controller_rpc(active), by_name, 1, env.now() + 5s);
        ASSERT_TRUE(a.ok());
        again = a->responses.at(0).error_code;
    });
    for (const auto& [c, code] : others) EXPECT_EQ(code, protocol::ErrorCode::not_controller) << c;
    EXPECT_EQ(by_id, protocol::ErrorCode::none);
    EXPECT_TRUE(gone_when_answered);
    EXPECT_EQ(again, protocol::ErrorCode::unknown_topic_or_partition);
    EXPECT_TRUE(s.violations().empty());
}

}  // namespace
}  // namespace keel::controller
