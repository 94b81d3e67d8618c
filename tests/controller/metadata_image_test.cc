#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/controller/metadata_image.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

RegisterBrokerRecord reg(int32_t id, int64_t epoch, bool fenced) {
    RegisterBrokerRecord r;
    r.broker_id = NodeId(id);
    r.incarnation_id = Uuid{1, static_cast<uint64_t>(id)};
    r.broker_epoch = BrokerEpoch(epoch);
    r.fenced = fenced;
    return r;
}

PartitionRecord part(const Uuid& t, int32_t p, std::vector<NodeId> replicas, std::vector<NodeId> isr, int32_t leader) {
    PartitionRecord r;
    r.topic_id = t;
    r.partition_id = PartitionIndex(p);
    r.replicas = std::move(replicas);
    r.isr = std::move(isr);
    r.leader = NodeId(leader);
    r.leader_epoch = LeaderEpoch(0);
    r.partition_epoch = PartitionEpoch(0);
    return r;
}

const Uuid kTopic{10, 20};

// Three unfenced brokers and topic "t" with partition 0 on [1,2,3], ISR [1,2,3], leader 1.
MetadataImage three_brokers_one_partition() {
    MetadataImage m;
    m.apply_batch(Offset(0), {reg(1, 0, false), reg(2, 0, false), reg(3, 0, false)});
    m.apply_batch(Offset(1), {TopicRecord{"t", kTopic}, part(kTopic, 0, ids({1, 2, 3}), ids({1, 2, 3}), 1)});
    return m;
}

TEST(MetadataImage, AppliesRegistrationsTopicsAndPartitionsAndAnswersQueries) {
    MetadataImage m = three_brokers_one_partition();
    EXPECT_EQ(m.end_offset(), Offset(2));
    EXPECT_EQ(m.brokers().size(), 3u);
    EXPECT_TRUE(m.is_active(NodeId(2)));
    ASSERT_NE(m.topic_by_name("t"), nullptr);
    EXPECT_EQ(m.topic_by_name("t")->id, kTopic);
    const PartitionState* p = m.partition(kTopic, PartitionIndex(0));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->leader, NodeId(1));
    EXPECT_EQ(m.partitions_led_by(NodeId(1)).size(), 1u);
    EXPECT_EQ(m.partitions_with_isr_member(NodeId(3)).size(), 1u);
    EXPECT_TRUE(m.leaderless_partitions().empty());
    EXPECT_TRUE(m.invariant_violations().empty());
}

TEST(MetadataImage, APartitionChangeBumpsThePartitionEpochAlwaysAndTheLeaderEpochOnAnyLeaderField) {
    MetadataImage m = three_brokers_one_partition();
    PartitionChangeRecord shrink;
    shrink.topic_id = kTopic;
    shrink.partition_id = PartitionIndex(0);
    shrink.isr = ids({1, 2});
    m.apply_batch(Offset(2), {shrink});
    const PartitionState* p = m.partition(kTopic, PartitionIndex(0));
    EXPECT_EQ(p->partition_epoch, PartitionEpoch(1));
    EXPECT_EQ(p->leader_epoch, LeaderEpoch(0));
    PartitionChangeRecord same_leader = shrink;
    same_leader.isr.reset();
    same_leader.leader = NodeId(1);  // Kafka's way to force a leader-epoch bump
    m.apply_batch(Offset(3), {same_leader});
    EXPECT_EQ(p->partition_epoch, PartitionEpoch(2));
    EXPECT_EQ(p->leader_epoch, LeaderEpoch(1));
    EXPECT_EQ(p->leader, NodeId(1));
}

TEST(MetadataImage, RecordsThatBreakTheInvariantsDoNotApplyCleanly) {
    MetadataImage m = three_brokers_one_partition();
    auto reason = [&](const MetadataRecord& r) {
        Status s = m.check_record(r);
        EXPECT_FALSE(s.ok()) << describe(r);
        return s.ok() ? std::string() : s.error().message;
    };
    // Fencing a broker that is still in an ISR with others.
    EXPECT_NE(reason(FenceBrokerRecord{NodeId(2), BrokerEpoch(0)}).find("still in the ISR"), std::string::npos);
    // Fencing the leader.
    EXPECT_NE(reason(FenceBrokerRecord{NodeId(1), BrokerEpoch(0)}).find("still leads"), std::string::npos);
    // A stale epoch, an unknown broker.
    EXPECT_NE(reason(UnfenceBrokerRecord{NodeId(2), BrokerEpoch(7)}).find("has epoch 0"), std::string::npos);
    EXPECT_NE(reason(FenceBrokerRecord{NodeId(9), BrokerEpoch(0)}).find("not registered"), std::string::npos);
    // A leader outside the ISR; an ISR member that is not a replica; an empty ISR.
    PartitionChangeRecord c;
    c.topic_id = kTopic;
    c.partition_id = PartitionIndex(0);
    c.isr = ids({2, 3});
    EXPECT_NE(reason(c).find("not in the ISR"), std::string::npos);
    c.isr = ids({1, 4});
    EXPECT_NE(reason(c).find("not a replica"), std::string::npos);
    c.isr = std::vector<NodeId>{};
    EXPECT_NE(reason(c).find("empty ISR"), std::string::npos);
    // Unknown partition, duplicate topic, a registration that does not raise the epoch.
    c.partition_id = PartitionIndex(5);
    EXPECT_NE(reason(c).find("unknown partition"), std::string::npos);
    EXPECT_NE(reason(TopicRecord{"t", Uuid{3, 3}}).find("exists"), std::string::npos);
    EXPECT_NE(reason(reg(2, 0, true)).find("does not exceed"), std::string::npos);
}

TEST(MetadataImage, AFencedBrokerMayStayOnlyAsTheLastMemberOfALeaderlessIsr) {
    MetadataImage m = three_brokers_one_partition();
    PartitionChangeRecord c;
    c.topic_id = kTopic;
    c.partition_id = PartitionIndex(0);
    c.isr = ids({1});
    m.apply_batch(Offset(2), {c});
    PartitionChangeRecord offline;
    offline.topic_id = kTopic;
    offline.partition_id = PartitionIndex(0);
    offline.leader = NodeId(no_leader);
    m.apply_batch(Offset(3), {offline, FenceBrokerRecord{NodeId(1), BrokerEpoch(0)}});
    const PartitionState* p = m.partition(kTopic, PartitionIndex(0));
    EXPECT_EQ(p->isr, ids({1}));
    EXPECT_FALSE(p->has_leader());
    EXPECT_TRUE(m.invariant_violations().empty());
}

TEST(MetadataImage, ApplyingARecordThatDoesNotApplyCleanlyIsABug) {
    MetadataImage m = three_brokers_one_partition();
    EXPECT_DEATH(m.apply_batch(Offset(2), {FenceBrokerRecord{NodeId(1), BrokerEpoch(0)}}), "still leads");
}

TEST(MetadataImage, ConfigRecordsSetAndDeleteAndDecideUncleanElection) {
    MetadataImage m = three_brokers_one_partition();
    EXPECT_FALSE(m.unclean_leader_election_enabled("t"));
    m.apply_batch(Offset(2), {ConfigRecord{config_resource_broker, "", "unclean.leader.election.enable", "true"}});
    EXPECT_TRUE(m.unclean_leader_election_enabled("t"));
    m.apply_batch(Offset(3), {ConfigRecord{config_resource_topic, "t", "unclean.leader.election.enable", "false"}});
    EXPECT_FALSE(m.unclean_leader_election_enabled("t"));
    EXPECT_TRUE(m.unclean_leader_election_enabled("other"));
    m.apply_batch(Offset(4), {ConfigRecord{config_resource_topic, "t", "unclean.leader.election.enable", std::nullopt}});
    EXPECT_TRUE(m.unclean_leader_election_enabled("t"));
    EXPECT_EQ(m.configs().size(), 1u);
}

TEST(MetadataImage, ASnapshotRestoresToAnEqualImage) {
    MetadataImage m = three_brokers_one_partition();
    m.apply_batch(Offset(2), {ConfigRecord{config_resource_topic, "t", "retention.ms", "1000"}});
    Bytes snap = m.take_snapshot(Offset(5));  // offsets 3 and 4 were control entries
    EXPECT_EQ(m.end_offset(), Offset(5));
    MetadataImage r;
    ASSERT_TRUE(r.restore_snapshot(Offset(5), snap).ok());
    EXPECT_EQ(r, m) << r.describe() << "\nvs\n" << m.describe();
    EXPECT_EQ(r.topic_by_name("t")->id, kTopic);  // the name index is rebuilt too
}

TEST(MetadataImage, AnEmptyImageSnapshotsAndRestores) {
    MetadataImage m;
    Bytes snap = m.take_snapshot(Offset(0));
    MetadataImage r;
    ASSERT_TRUE(r.restore_snapshot(Offset(0), snap).ok());
    EXPECT_EQ(r, m);
}

TEST(MetadataImage, RestoreRejectsCorruptOrInconsistentSnapshotsAndKeepsItsState) {
    MetadataImage m = three_brokers_one_partition();
    MetadataImage before = m;
    Bytes garbage{1, 2, 3};
    Status s = m.restore_snapshot(Offset(9), garbage);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::corrupt);
    // Decodes fine but a partition names an unregistered broker.
    Bytes bad = encode_batch({TopicRecord{"x", Uuid{5, 5}}, part(Uuid{5, 5}, 0, ids({7}), ids({7}), 7)});
    s = m.restore_snapshot(Offset(9), bad);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("not a registered broker"), std::string::npos) << s.error().message;
    EXPECT_EQ(m, before);
}

TEST(MetadataImage, TheObserverSeesEveryAppliedEntryButIsNotCopied) {
    MetadataImage m;
    std::vector<int64_t> seen;
    m.set_observer([&](const MetadataImage& img, bool restored) {
        seen.push_back(restored ? -img.end_offset().value() : img.end_offset().value());
    });
    m.apply_batch(Offset(0), {reg(1, 0, true)});
    m.apply_batch(Offset(3), {NoOpRecord{}});
    MetadataImage copy = m;
    copy.apply_batch(Offset(4), {NoOpRecord{}});
    ASSERT_TRUE(m.restore_snapshot(Offset(9), copy.take_snapshot(Offset(9))).ok());
    EXPECT_EQ(seen, (std::vector<int64_t>{1, 4, -9}));
}

TEST(MetadataImage, TheStateMachineInterfaceDecodesEntries) {
    MetadataImage m;
    raft::StateMachine& sm = m;
    sm.apply(Offset(0), QuorumEpoch(1), encode_batch({reg(1, 0, true)}));
    EXPECT_NE(m.broker(NodeId(1)), nullptr);
    EXPECT_DEATH(sm.apply(Offset(1), QuorumEpoch(1), Bytes{9, 9}), "does not decode");
}

}  // namespace
}  // namespace keel::controller
