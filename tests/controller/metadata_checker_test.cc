// Every check of the MetadataChecker, fed the anomaly it exists to catch (and a healthy
// history it must accept).
#include <gtest/gtest.h>

#include "sim/checkers/metadata_checker.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;
using sim::ImageView;
using sim::MetadataChecker;

const TopicPartition kTp{Uuid{1, 1}, PartitionIndex(0)};

ImageView healthy(int64_t offset = 10) {
    ImageView v;
    v.end_offset = Offset(offset);
    for (int b = 1; b <= 3; b++) v.brokers[NodeId(b)] = {BrokerEpoch(b), false, false};
    v.partitions[kTp] = {"t", ids({1, 2, 3}), ids({1, 2, 3}), NodeId(1), LeaderEpoch(0), PartitionEpoch(0), false};
    v.digest = 100 + static_cast<uint64_t>(offset);
    return v;
}

bool reported(const MetadataChecker& c, const std::string& prefix) {
    for (const auto& v : c.violations()) {
        if (v.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

Instant t(int64_t ms_) { return Instant{0} + ms(ms_); }

TEST(MetadataChecker, AcceptsAHealthyHistoryFromRealImages) {
    LogModel m;
    MetadataChecker c;
    m.image().set_observer([&](const MetadataImage& img, bool restored) { c.on_image("n1", img, restored, t(0)); });
    m.start_brokers(1, 3);
    Uuid topic = m.create_topic("t", 3, 3);
    m.fence(m.partition(topic, 0).leader.value());
    m.heartbeat(1);
    EXPECT_TRUE(c.violations().empty()) << c.violations().front();
    EXPECT_GE(c.elections(), 1u);
    EXPECT_EQ(c.unclean_elections(), 0u);
}

TEST(MetadataChecker, ReportsTwoNodesWithDifferentImagesAtTheSameOffset) {
    MetadataChecker c;
    ImageView a = healthy();
    ImageView b = healthy();
    b.digest ^= 1;
    c.on_image("c1", a, false, t(0));
    c.on_image("b1", b, false, t(0));
    EXPECT_TRUE(reported(c, "same-prefix"));
}

TEST(MetadataChecker, ReportsAFencedBrokerInAnIsrWithOthers) {
    MetadataChecker c;
    ImageView v = healthy();
    v.brokers[NodeId(3)].fenced = true;
    c.on_image("c1", v, false, t(0));
    EXPECT_TRUE(reported(c, "isr"));
}

TEST(MetadataChecker, AcceptsAFencedBrokerAsTheLastMemberOfALeaderlessIsr) {
    MetadataChecker c;
    ImageView v = healthy();
    v.brokers[NodeId(1)].fenced = true;
    v.partitions[kTp].isr = ids({1});
    v.partitions[kTp].leader = NodeId(-1);
    c.on_image("c1", v, false, t(0));
    EXPECT_TRUE(c.violations().empty());
}

TEST(MetadataChecker, ReportsAFencedOrShuttingDownLeader) {
    MetadataChecker c;
    ImageView v = healthy();
    v.brokers[NodeId(1)].in_controlled_shutdown = true;
    v.partitions[kTp].isr = ids({1});
    c.on_image("c1", v, false, t(0));
    EXPECT_TRUE(reported(c, "isr"));
}

TEST(MetadataChecker, ReportsALeaderOutsideItsIsr) {
    MetadataChecker c;
    ImageView v = healthy();
    v.partitions[kTp].isr = ids({2, 3});
    c.on_image("c1", v, false, t(0));
    EXPECT_TRUE(reported(c, "leader-in-isr"));
}

TEST(MetadataChecker, ReportsEpochsGoingDownOrALeaderChangeWithoutABump) {
    MetadataChecker c;
    ImageView a = healthy(10);
    a.partitions[kTp].leader_epoch = LeaderEpoch(5);
    a.partitions[kTp].partition_epoch = PartitionEpoch(7);
    ImageView b = healthy(11);
    b.partitions[kTp].leader_epoch = LeaderEpoch(4);
    b.partitions[kTp].partition_epoch = PartitionEpoch(8);
    c.on_image("b1", a, false, t(0));
    c.on_image("b1", b, false, t(1));
    EXPECT_TRUE(reported(c, "epochs"));

    MetadataChecker d;
    ImageView e = healthy(10);
    ImageView f = healthy(11);
    f.partitions[kTp].leader = NodeId(2);
    f.partitions[kTp].partition_epoch = PartitionEpoch(1);
    d.on_image("b1", e, false, t(0));
    d.on_image("b1", f, false, t(1));
    EXPECT_TRUE(reported(d, "epochs"));
}

TEST(MetadataChecker, ReportsAnUncleanElectionWhileDisabledButNotWhileEnabled) {
    for (bool allowed : {false, true}) {
        MetadataChecker c;
        ImageView a = healthy(10);
        a.partitions[kTp].isr = ids({1});
        a.partitions[kTp].unclean_allowed = allowed;
        ImageView b = a;
        b.end_offset = Offset(11);
        b.digest++;
        b.partitions[kTp].leader = NodeId(2);
        b.partitions[kTp].isr = ids({2});
        b.partitions[kTp].leader_epoch = LeaderEpoch(1);
        b.partitions[kTp].partition_epoch = PartitionEpoch(1);
        b.brokers[NodeId(1)].fenced = true;
        c.on_image("b1", a, false, t(0));
        c.on_image("b1", b, false, t(1));
        EXPECT_EQ(c.unclean_elections(), 1u);
        EXPECT_EQ(reported(c, "unclean"), !allowed);
    }
}

TEST(MetadataChecker, ReportsASilentBrokerLeftUnfencedOnlyOnceTheControllerHadTime) {
    MetadataChecker c;  // timeout 9 s, grace 3 s
    c.on_activated(t(0));
    c.on_heartbeat(NodeId(1), t(1000));
    c.on_heartbeat(NodeId(2), t(1000));
    c.on_heartbeat(NodeId(3), t(1000));
    ImageView v = healthy();
    c.check_sessions(v, t(10'100));  // every session expired: the offset is noted
    c.check_sessions(v, t(12'500));
    EXPECT_FALSE(reported(c, "session"));  // silent 11.5 s: within timeout + grace
    c.on_heartbeat(NodeId(1), t(12'000));
    c.on_heartbeat(NodeId(2), t(12'000));
    c.check_sessions(v, t(13'100));
    EXPECT_FALSE(reported(c, "session")) << "no commits since the expiry: a slow controller, not a wrong one";
    v.end_offset = Offset(v.end_offset.value() + 3);  // three NoOps later
    c.check_sessions(v, t(13'200));
    EXPECT_TRUE(reported(c, "session"));  // broker 3: silent 12.2 s, unfenced while committing
    EXPECT_EQ(c.violation_count(), 1u);
    // A recent failover gives the new controller a full session first.
    MetadataChecker d;
    d.on_activated(t(10'000));
    d.check_sessions(v, t(20'000));
    EXPECT_TRUE(d.violations().empty());
}

TEST(MetadataChecker, ReportsASessionFenceBeforeTheTimeoutAndMeasuresLatency) {
    MetadataChecker c;
    c.on_session_fence(NodeId(1), t(0), t(9'100));
    EXPECT_TRUE(c.violations().empty());
    ASSERT_EQ(c.fence_latencies().size(), 1u);
    EXPECT_EQ(to_ms(c.fence_latencies()[0]), 9'100);
    c.on_session_fence(NodeId(2), t(0), t(4'000));
    EXPECT_TRUE(reported(c, "session"));
}

TEST(MetadataChecker, ReportsANodeThatDidNotConvergeAfterHealing) {
    MetadataChecker c;
    ImageView ref = healthy(20);
    std::map<std::string, ImageView> nodes{{"b1", healthy(20)}, {"b2", healthy(19)}};
    c.check_converged("c1", ref, nodes);
    EXPECT_TRUE(reported(c, "converged"));
    EXPECT_EQ(c.violation_count(), 1u);
}

TEST(MetadataChecker, ReportsAnIsrChangeWithoutAPartitionEpochBump) {
    MetadataChecker c;
    ImageView a = healthy(10);
    ImageView b = healthy(11);
    b.partitions[kTp].isr = ids({1, 2});  // 3 left the ISR, the partition epoch stayed 0
    c.on_image("b1", a, false, t(0));
    c.on_image("b1", b, false, t(1));
    EXPECT_TRUE(reported(c, "partition-epoch: b1 at offset 11: t-0 changed (isr [1,2,3] → [1,2], leader 1 → 1)"));
    b.partitions[kTp].partition_epoch = PartitionEpoch(1);
    MetadataChecker d;
    d.on_image("b1", a, false, t(0));
    d.on_image("b1", b, false, t(1));
    EXPECT_EQ(d.violation_count(), 0u) << d.violations()[0];
}

TEST(MetadataChecker, ReportsALeaderEpochBumpBeyondThePartitionEpochBump) {
    MetadataChecker c;
    ImageView a = healthy(10);
    ImageView b = healthy(40);  // from a snapshot: two elections, one partition-epoch bump
    b.partitions[kTp].leader = NodeId(2);
    b.partitions[kTp].leader_epoch = LeaderEpoch(2);
    b.partitions[kTp].partition_epoch = PartitionEpoch(1);
    c.on_image("b1", a, false, t(0));
    c.on_image("b1", b, true, t(1));
    EXPECT_TRUE(reported(c, "partition-epoch: b1 at offset 40: t-0's leader epoch went up by 2 but its partition "
                            "epoch only by 1"));
}

TEST(MetadataChecker, ReportsAnImageOffsetGoingBackWithinAnIncarnation) {
    MetadataChecker c;
    c.on_image("b1#1", healthy(10), false, t(0));
    c.on_image("b1#1", healthy(12), false, t(1));
    c.on_image("b1#1", healthy(11), false, t(2));
    EXPECT_TRUE(reported(c, "image-offset: b1#1 at offset 11 went back from offset 12 within one incarnation"));
    EXPECT_EQ(c.violation_count(), 1u);
}

TEST(MetadataChecker, ReportsARestartBelowASnapshotAnEarlierIncarnationLoaded) {
    MetadataChecker c;
    c.on_image("c1#1", healthy(30), true, t(0));   // loads a snapshot at 30
    c.on_image("c1#1", healthy(31), false, t(1));
    c.on_image("c1#2", healthy(12), true, t(2));   // restarts from an older snapshot
    EXPECT_TRUE(reported(c, "image-offset: c1#2 at offset 12 starts below the snapshot at offset 30 an earlier "
                            "incarnation of c1 loaded"));
    // Replaying below the offset it had applied (but not snapshotted) is how a restart goes.
    MetadataChecker d;
    d.on_image("c1#1", healthy(30), true, t(0));
    d.on_image("c1#1", healthy(40), false, t(1));
    d.on_image("c1#2", healthy(30), true, t(2));
    d.on_image("c1#2", healthy(31), false, t(3));
    EXPECT_EQ(d.violation_count(), 0u) << d.violations()[0];
}

TEST(MetadataChecker, ExcusesARestartBelowAnOldSnapshotAfterDiskDamage) {
    MetadataChecker c;
    uint64_t damage = 0;
    std::string asked;
    c.set_disk_damage_probe([&](const std::string& node) {
        asked = node;
        return damage;
    });
    c.on_image("c1#1", healthy(30), true, t(0));
    damage = 1;  // c1's disk was wiped: it starts over from nothing
    c.on_image("c1#2", healthy(1), false, t(1));
    EXPECT_EQ(c.violation_count(), 0u) << c.violations()[0];
    EXPECT_EQ(asked, "c1");
    c.on_image("c1#3", healthy(0), false, t(2));  // no snapshot loaded since: nothing to go below
    EXPECT_EQ(c.violation_count(), 0u) << c.violations()[0];
}

}  // namespace
}  // namespace keel::controller
