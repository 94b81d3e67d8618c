// AllocateProducerIds (API 67) end to end: BrokerLifecycle on the brokers, ControllerService
// on a simulated KRaft quorum (scenarios/controller/controller_cluster.h). Only the active
// controller hands out blocks, each after its ProducerIdsRecord is committed, so no two
// brokers ever hold overlapping ids — also when the active controller fails over while
// they ask.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/controller/rpc.h"
#include "core/protocol/generated/allocate_producer_ids_request.h"
#include "core/protocol/generated/allocate_producer_ids_response.h"
#include "scenarios/controller/controller_cluster.h"

namespace keel::controller {
namespace {

using namespace std::chrono_literals;
using scenarios::ControllerCluster;
using scenarios::ControllerClusterOptions;

struct Sim {
    sim::World world;  // first, so that it (and every fiber holding the cluster) goes last
    sim::RunOptions run;
    sim::ScenarioContext ctx;
    std::shared_ptr<ControllerCluster> cluster;

    explicit Sim(uint64_t seed) : world(sim::WorldOptions{.seed = seed}), ctx(world, run) {
        run.seed = seed;
        ControllerClusterOptions options;
        options.brokers = 2;
        options.noop_interval = Duration(0);
        cluster = ControllerCluster::create(ctx, options);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, 30s));
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

TEST(ProducerIdsCluster, OnlyTheActiveControllerHandsOutABlockAndOnlyForTheCurrentEpoch) {
    std::map<std::string, protocol::AllocateProducerIdsResponse> answers;
    protocol::AllocateProducerIdsResponse stale;
    Sim s(21);
    std::string active = *s.cluster->active_controller();
    const BrokerRegistration* b1 = s.active_image().broker(s.cluster->id_of("b1"));
    ASSERT_NE(b1, nullptr);
    NodeId id = b1->id;
    BrokerEpoch epoch = b1->epoch;
    bool done = false;
    s.world.add_node("probe", [&](env::Env& env) {
        RpcClient client(env, "probe");
        for (const std::string& c : s.cluster->controllers()) {
            protocol::AllocateProducerIdsRequest req;
            req.broker_id = id;
            req.broker_epoch = epoch;
            auto r = client.call<protocol::AllocateProducerIdsResponse>(controller_rpc(c), req, 0, env.now() + 5s);
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            answers[c] = *r;
        }
        protocol::AllocateProducerIdsRequest old;
        old.broker_id = id;
        old.broker_epoch = BrokerEpoch(epoch.value() - 1);
        auto r = client.call<protocol::AllocateProducerIdsResponse>(controller_rpc(active), old, 0, env.now() + 5s);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        stale = *r;
        done = true;
    });
    ASSERT_TRUE(s.world.run_until([&] { return done; }, 30s));
    for (const auto& [c, resp] : answers) {
        if (c == active) {
            EXPECT_EQ(resp.error_code, protocol::ErrorCode::none);
            EXPECT_EQ(resp.producer_id_start, 0);
            EXPECT_EQ(resp.producer_id_len, producer_id_block_size);
        } else {
            EXPECT_EQ(resp.error_code, protocol::ErrorCode::not_controller) << c;
        }
    }
    EXPECT_EQ(stale.error_code, protocol::ErrorCode::stale_broker_epoch);
    // Answered after commit: the active image already holds the block.
    EXPECT_EQ(s.active_image().next_producer_id(), producer_id_block_size);
}

// Both brokers ask for blocks in a loop; the active controller crashes after a few and comes
// back later. A request whose answer was lost may cost a block (never handed out), but no
// id is ever handed to two brokers, and every block lies below the image's next id.
TEST(ProducerIdsCluster, TwoBrokersAllocatingAcrossAControllerFailoverNeverGetOverlappingIds) {
    constexpr size_t kBlocksEach = 10;
    std::map<std::string, std::vector<ProducerIdBlock>> got;
    std::map<std::string, int> failures;
    Sim s(22);
    std::string first = *s.cluster->active_controller();
    for (const std::string& b : s.cluster->brokers()) {
        env::Env& env = s.world.node(b).env();
        env.executor().spawn("producer-ids", [&s, &got, &failures, &env, b] {
            while (got[b].size() < kBlocksEach) {
                BrokerLifecycle* l = s.cluster->lifecycle(b);
                auto r = l != nullptr ? l->allocate_producer_ids() : Result<ProducerIdBlock>(Errc::cancelled);
                if (r.ok()) {
                    got[b].push_back(*r);
                } else {
                    failures[b]++;
                }
                env.executor().sleep_for(ms(20));
            }
        });
    }
    ASSERT_TRUE(s.world.run_until([&] { return got["b1"].size() >= 3 && got["b2"].size() >= 3; }, 30s));
    s.world.crash(first);
    ASSERT_TRUE(s.world.run_until(
        [&] {
            auto a = s.cluster->active_controller();
            return a && *a != first;
        },
        20s));
    s.world.run_for(1s);
    s.world.start(first);
    ASSERT_TRUE(s.world.run_until(
        [&] { return got["b1"].size() >= kBlocksEach && got["b2"].size() >= kBlocksEach; }, 60s));

    std::vector<ProducerIdBlock> all;
    for (const auto& [b, blocks] : got) {
        for (size_t i = 0; i < blocks.size(); i++) {
            EXPECT_EQ(blocks[i].assigned_broker, s.cluster->id_of(b));
            EXPECT_EQ(blocks[i].size, producer_id_block_size);
            if (i > 0) {
                EXPECT_GT(blocks[i].first_id, blocks[i - 1].last_id()) << b;
            }
            all.push_back(blocks[i]);
        }
    }
    std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first_id < y.first_id; });
    for (size_t i = 1; i < all.size(); i++) {
        EXPECT_GT(all[i].first_id, all[i - 1].last_id()) << "blocks " << i - 1 << " and " << i << " overlap";
    }
    EXPECT_GE(s.active_image().next_producer_id(), all.back().next_block_first_id());
    // Every node, the restarted controller included (snapshots every 16 entries), converges
    // on the same image, next producer id included.
    ASSERT_TRUE(s.cluster->await_converged(30s).has_value());
    for (const std::string& n : s.cluster->nodes()) {
        EXPECT_EQ(s.cluster->image(n)->next_producer_id(), s.active_image().next_producer_id()) << n;
    }
    EXPECT_TRUE(s.violations().empty()) << s.violations().front();
}

}  // namespace
}  // namespace keel::controller
