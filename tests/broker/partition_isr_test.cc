// Partition's ISR changes while the controller's answer is unknown: the leader keeps the
// change pending (its additions hold the high watermark) and sends the same change again,
// until a settled answer or the image ends it (data-chaos seed 959).
#include <gtest/gtest.h>

#include "core/broker/partition.h"
#include "core/log/record_batch.h"
#include "sim/world.h"

namespace keel::broker {
namespace {

const Uuid kTopic{9, 9};

controller::RegisterBrokerRecord registration(int32_t id) {
    controller::RegisterBrokerRecord r;
    r.broker_id = NodeId(id);
    r.incarnation_id = Uuid{1, static_cast<uint64_t>(id)};
    r.broker_epoch = BrokerEpoch(id);
    r.fenced = false;
    return r;
}

controller::PartitionState led_by_1(std::vector<NodeId> isr, int32_t partition_epoch) {
    controller::PartitionState s;
    s.replicas = {NodeId(1), NodeId(2)};
    s.isr = std::move(isr);
    s.leader = NodeId(1);
    s.leader_epoch = LeaderEpoch(0);
    s.partition_epoch = PartitionEpoch(partition_epoch);
    return s;
}

void produce_n(Partition& p, int n) {
    for (int i = 0; i < n; i++) {
        log::RecordBatchBuilder b;
        b.add(1000, as_bytes("k"), as_bytes("v" + std::to_string(i)));
        ProduceOutcome o = p.append_produce(b.build(), ValidationConfig{});
        ASSERT_EQ(o.error, protocol::ErrorCode::none) << o.reason;
    }
}

// Runs `body` on a simulated node's fiber with a leader of t-0 (broker 1, ISR {1}, broker
// 2 a replica out of the ISR) and an image where both brokers are active.
void with_leader(const std::function<void(env::Env&, Partition&, controller::MetadataImage&)>& body) {
    sim::World w(sim::WorldOptions{.seed = 3});
    bool done = false;
    w.add_node("n", [&](env::Env& env) {
        BrokerConfig config;
        config.id = NodeId(1);
        log::PartitionLogOptions o;
        o.disk = &env.disk();
        o.clock = &env.clock();
        o.dir = "t-0";
        o.topic = "t";
        auto log = log::PartitionLog::open(std::move(o));
        ASSERT_TRUE(log.ok());
        Partition p(env, config, TopicPartitionName{"t", 0}, kTopic, std::move(*log));
        controller::MetadataImage image;
        image.apply_batch(Offset(0), {registration(1), registration(2)});
        ASSERT_TRUE(p.apply(led_by_1({NodeId(1)}, 0), image).ok());
        body(env, p, image);
        done = true;
    });
    ASSERT_TRUE(w.run_until([&] { return done; }, std::chrono::seconds(60)));
}

TEST(PartitionIsr, AnUnansweredExpansionStillHoldsTheHighWatermarkAndIsSentAgainUnchanged) {
    with_leader([](env::Env&, Partition& p, controller::MetadataImage& image) {
        produce_n(p, 3);
        EXPECT_EQ(p.high_watermark(), Offset(3));  // ISR {1}: the leader alone
        p.update_follower(NodeId(2), BrokerEpoch(2), Offset(3));
        std::optional<IsrChange> c = p.isr_change_to_send(image);
        ASSERT_TRUE(c.has_value());
        EXPECT_EQ(c->new_isr, (std::vector<NodeId>{NodeId(1), NodeId(2)}));
        // No answer: the controller may have written it.
        p.isr_change_unknown(*c);
        produce_n(p, 2);
        EXPECT_EQ(p.high_watermark(), Offset(3)) << "broker 2 may be in the ISR: it holds the high watermark";
        std::optional<IsrChange> again = p.isr_change_to_send(image);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->new_isr, c->new_isr);
        EXPECT_EQ(again->partition_epoch, c->partition_epoch);
        EXPECT_FALSE(p.isr_change_to_send(image).has_value()) << "sent once per unknown answer";
        // The image carries the change: it is no longer pending, and broker 2 is in the ISR.
        ASSERT_TRUE(p.apply(led_by_1({NodeId(1), NodeId(2)}, 1), image).ok());
        p.update_follower(NodeId(2), BrokerEpoch(2), Offset(5));
        EXPECT_EQ(p.high_watermark(), Offset(5));
    });
}

TEST(PartitionIsr, ARefusalThatSaysNothingWasAppliedEndsTheChange) {
    with_leader([](env::Env&, Partition& p, controller::MetadataImage& image) {
        produce_n(p, 3);
        p.update_follower(NodeId(2), BrokerEpoch(2), Offset(3));
        std::optional<IsrChange> c = p.isr_change_to_send(image);
        ASSERT_TRUE(c.has_value());
        p.isr_change_refused(*c);  // INELIGIBLE_REPLICA
        produce_n(p, 2);
        EXPECT_EQ(p.high_watermark(), Offset(5)) << "the committed ISR is {1} again";
    });
}

}  // namespace
}  // namespace keel::broker
