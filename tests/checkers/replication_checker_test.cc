// The ReplicationChecker fed the anomalies it exists to catch, with real Partition replicas
// (PartitionLogs on a simulated disk) in the states a broken broker would leave them in:
// two leaders in one epoch, a leader's high watermark going back within its epoch, a new
// leader without a committed record, an acks=all answer ahead of the ISR, and replicas whose
// bytes differ below the high watermark. And a healthy pair stays clean.
#include <gtest/gtest.h>

#include "core/broker/partition.h"
#include "core/log/record_batch.h"
#include "sim/checkers/replication_checker.h"
#include "sim/world.h"

namespace keel::sim {
namespace {

const broker::Uuid kTopic{7, 7};

Bytes batch(const std::string& v) {
    log::RecordBatchBuilder b;
    b.add(1000, as_bytes("k"), as_bytes(v));
    return b.build();
}

struct Replicas {
    explicit Replicas(env::Env& e) : env(e) {}
    env::Env& env;
    std::map<int32_t, std::unique_ptr<broker::BrokerConfig>> configs;
    std::map<std::pair<int32_t, int>, std::shared_ptr<broker::Partition>> parts;  // (broker, incarnation)

    broker::Partition& make(int32_t broker, int incarnation) {
        auto& cfg = configs[broker];
        if (!cfg) {
            cfg = std::make_unique<broker::BrokerConfig>();
            cfg->id = NodeId(broker);
        }
        log::PartitionLogOptions o;
        o.disk = &env.disk();
        o.clock = &env.clock();
        o.dir = "b" + std::to_string(broker) + "-" + std::to_string(incarnation) + "/t-0";
        o.topic = "t";
        auto log = log::PartitionLog::open(std::move(o));
        EXPECT_TRUE(log.ok());
        auto p = std::make_shared<broker::Partition>(env, *cfg, broker::TopicPartitionName{"t", 0}, kTopic,
                                                     std::move(*log));
        parts[{broker, incarnation}] = p;
        return *p;
    }
    // Applies a partition state: `leader` leads `epoch` with `isr`.
    static void apply(broker::Partition& p, int32_t leader, int32_t epoch, std::vector<NodeId> isr) {
        controller::PartitionState s;
        s.replicas = {NodeId(1), NodeId(2)};
        s.isr = std::move(isr);
        s.leader = NodeId(leader);
        s.leader_epoch = LeaderEpoch(epoch);
        controller::MetadataImage image;
        ASSERT_TRUE(p.apply(s, image).ok());
    }
    static void produce(broker::Partition& p, const std::string& v) {
        broker::ValidationConfig vc;
        broker::ProduceOutcome o = p.append_produce(batch(v), vc);
        ASSERT_EQ(o.error, protocol::ErrorCode::none) << o.reason;
    }
};

// Runs `body` on a simulated node's fiber (the replicas park on the simulated disk).
void on_node(const std::function<void(env::Env&)>& body) {
    World w(WorldOptions{.seed = 5});
    bool done = false;
    w.add_node("n", [&](env::Env& env) {
        body(env);
        done = true;
    });
    ASSERT_TRUE(w.run_until([&] { return done; }, std::chrono::seconds(60)));
}

bool has(const ReplicationChecker& c, const std::string& rule) {
    for (const auto& v : c.violations()) {
        if (v.rfind(rule, 0) == 0) return true;
    }
    return false;
}

// The lookup the checker uses: the newest incarnation of each broker.
ReplicationChecker::ReplicaLookup lookup(Replicas& r) {
    return [&r](NodeId b, const broker::Uuid&, int32_t) -> broker::Partition* {
        broker::Partition* found = nullptr;
        for (auto& [key, p] : r.parts) {
            if (key.first == b.value()) found = p.get();
        }
        return found;
    };
}

TEST(ReplicationChecker, AHealthyLeaderAndFollowerStayClean) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& leader = r.make(1, 0);
        broker::Partition& follower = r.make(2, 0);
        Replicas::apply(leader, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::apply(follower, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::produce(leader, "a");
        auto read = leader.log().read(Offset(0), 1 << 20);
        ASSERT_TRUE(read.ok());
        ASSERT_TRUE(follower.append_as_follower(read->records, leader.high_watermark()).ok());
        leader.update_follower(NodeId(2), BrokerEpoch(1), follower.log_end());
        c.on_change(NodeId(1), leader, env.now());
        c.on_change(NodeId(2), follower, env.now());
        c.on_acks_all(NodeId(1), leader, Offset(0));
        c.check_replicas({{kTopic, 0, "t", NodeId(1), {NodeId(1), NodeId(2)}}});
        EXPECT_TRUE(c.violations().empty()) << c.violations()[0];
        EXPECT_EQ(c.stats().batches_compared, 1u);
    });
}

TEST(ReplicationChecker, TwoLeadersInOneEpochAreCaught) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& a = r.make(1, 0);
        broker::Partition& b = r.make(2, 0);
        Replicas::apply(a, 1, 3, {NodeId(1), NodeId(2)});
        Replicas::apply(b, 2, 3, {NodeId(1), NodeId(2)});  // b believes it leads epoch 3 too
        c.on_change(NodeId(1), a, env.now());
        c.on_change(NodeId(2), b, env.now());
        EXPECT_TRUE(has(c, "one-leader-per-epoch")) << (c.violations().empty() ? "" : c.violations()[0]);
    });
}

TEST(ReplicationChecker, AHighWatermarkGoingBackWithinAnEpochIsCaught) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& before = r.make(1, 0);
        Replicas::apply(before, 1, 0, {NodeId(1)});
        Replicas::produce(before, "a");
        Replicas::produce(before, "b");
        c.on_change(NodeId(1), before, env.now());
        // The broker restarts and leads the same epoch again, its HW back at 0 (the bug a
        // broker acting on its stale metadata log had).
        broker::Partition& after = r.make(1, 1);
        Replicas::apply(after, 1, 0, {NodeId(1)});
        c.on_change(NodeId(1), after, env.now());
        EXPECT_TRUE(has(c, "hw-monotonic")) << (c.violations().empty() ? "" : c.violations()[0]);
    });
}

TEST(ReplicationChecker, ANewLeaderWithoutACommittedRecordIsCaught) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& old_leader = r.make(1, 0);
        Replicas::apply(old_leader, 1, 0, {NodeId(1)});
        Replicas::produce(old_leader, "a");
        c.on_change(NodeId(1), old_leader, env.now());  // HW 1 reached in epoch 0
        broker::Partition& empty = r.make(2, 0);
        Replicas::apply(empty, 2, 1, {NodeId(2)});
        c.on_change(NodeId(2), empty, env.now());
        EXPECT_TRUE(has(c, "leader-has-committed")) << (c.violations().empty() ? "" : c.violations()[0]);
    });
}

// data-chaos seeds 591 and 1894: a broker whose metadata lagged took up the leadership of
// epoch 1 after epoch 2's leader, alone in its ISR, had moved the high watermark one
// record past it. Epoch 1's leader must hold what epochs before it committed, not what a
// later epoch did.
TEST(ReplicationChecker, ALateLeaderOfAnOlderEpochIsHeldToWhatEarlierEpochsCommitted) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& first = r.make(1, 0);
        Replicas::apply(first, 1, 0, {NodeId(1)});
        Replicas::produce(first, "a");
        c.on_change(NodeId(1), first, env.now());  // HW 1 in epoch 0
        broker::Partition& second = r.make(2, 0);
        Replicas::apply(second, 1, 0, {NodeId(1), NodeId(2)});
        auto read = first.log().read(Offset(0), 1 << 20);
        ASSERT_TRUE(read.ok());
        ASSERT_TRUE(second.append_as_follower(read->records, first.high_watermark()).ok());
        Replicas::apply(second, 2, 2, {NodeId(2)});
        Replicas::produce(second, "b");
        c.on_change(NodeId(2), second, env.now());  // HW 2 in epoch 2
        Replicas::apply(first, 1, 1, {NodeId(1)});  // epoch 1, applied late
        c.on_change(NodeId(1), first, env.now());
        EXPECT_FALSE(has(c, "leader-has-committed")) << c.violations()[0];
        // A leader of epoch 3 must hold epoch 2's record.
        Replicas::apply(first, 1, 3, {NodeId(1)});
        c.on_change(NodeId(1), first, env.now());
        EXPECT_TRUE(has(c, "leader-has-committed"));
    });
}

TEST(ReplicationChecker, AnUncleanLossIsCountedNotAViolationWhereAllowed) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c(ReplicationCheckerOptions{[](const std::string&) { return true; }}, lookup(r));
        broker::Partition& old_leader = r.make(1, 0);
        Replicas::apply(old_leader, 1, 0, {NodeId(1)});
        Replicas::produce(old_leader, "a");
        c.on_change(NodeId(1), old_leader, env.now());
        broker::Partition& empty = r.make(2, 0);
        Replicas::apply(empty, 2, 1, {NodeId(2)});
        c.on_change(NodeId(2), empty, env.now());
        EXPECT_TRUE(c.violations().empty());
        EXPECT_EQ(c.stats().unclean_data_loss, 1u);
    });
}

TEST(ReplicationChecker, AnAcksAllAnswerAheadOfTheIsrIsCaught) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& leader = r.make(1, 0);
        broker::Partition& follower = r.make(2, 0);
        Replicas::apply(leader, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::apply(follower, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::produce(leader, "a");  // the follower has not fetched it: HW stays 0
        c.on_acks_all(NodeId(1), leader, Offset(0));
        EXPECT_TRUE(has(c, "acked-on-isr")) << (c.violations().empty() ? "" : c.violations()[0]);
    });
}

TEST(ReplicationChecker, ReplicasDifferingBelowTheHighWatermarkAreCaught) {
    on_node([](env::Env& env) {
        Replicas r(env);
        ReplicationChecker c({}, lookup(r));
        broker::Partition& leader = r.make(1, 0);
        broker::Partition& follower = r.make(2, 0);
        Replicas::apply(leader, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::apply(follower, 1, 0, {NodeId(1), NodeId(2)});
        Replicas::produce(leader, "a");
        // The follower holds another record at offset 0 (it skipped a truncation).
        Bytes other = batch("x");
        log::set_partition_leader_epoch(other, LeaderEpoch(0));
        ASSERT_TRUE(follower.append_as_follower(other, Offset(0)).ok());
        leader.update_follower(NodeId(2), BrokerEpoch(1), follower.log_end());  // "acknowledges" offset 0
        c.check_replicas({{kTopic, 0, "t", NodeId(1), {NodeId(1), NodeId(2)}}});
        EXPECT_TRUE(has(c, "replicas-identical")) << (c.violations().empty() ? "" : c.violations()[0]);
    });
}

}  // namespace
}  // namespace keel::sim
