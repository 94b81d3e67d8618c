// The RaftMonitor catches each anomaly it exists for (a checker that never fails is a
// defect), and stays quiet on a clean history.
#include <gtest/gtest.h>

#include "sim/checkers/raft_monitor.h"

namespace keel::sim {
namespace {

using raft::ObservedEntry;

const NodeId n1{1}, n2{2}, n3{3};
const QuorumEpoch e1{1}, e2{2}, e3{3};

ObservedEntry entry(int64_t offset, QuorumEpoch epoch, uint64_t hash, bool control = false) {
    return ObservedEntry{Offset(offset), epoch, hash, control};
}

bool mentions(const RaftMonitor& m, const std::string& what) {
    for (const auto& v : m.violations()) {
        if (v.what.find(what) != std::string::npos) return true;
    }
    return false;
}

std::string all(const RaftMonitor& m) {
    std::string s;
    for (const auto& v : m.violations()) s += v.to_string() + "\n";
    return s;
}

// Node `n` replicates `entries` and reports a high watermark past them.
void replicate(RaftMonitor& m, NodeId n, const std::vector<ObservedEntry>& entries, QuorumEpoch epoch) {
    for (const auto& e : entries) m.on_appended(n, e);
    m.on_high_watermark(n, epoch, entries.back().offset + 1);
}

TEST(RaftMonitor, StaysQuietOnACleanHistory) {
    RaftMonitor m;
    for (NodeId n : {n1, n2, n3}) m.on_recovered(n, Offset(0), QuorumEpoch(0), {});
    m.on_vote_persisted(n1, e1, n1);
    m.on_vote_persisted(n2, e1, n1);
    m.on_became_leader(n1, e1);
    std::vector<ObservedEntry> log{entry(0, e1, 10, true), entry(1, e1, 11), entry(2, e1, 12)};
    for (NodeId n : {n1, n2, n3}) replicate(m, n, log, e1);
    for (NodeId n : {n1, n2, n3}) {
        for (const auto& e : log) m.on_applied(n, e);
    }
    m.on_recovered(n3, Offset(0), QuorumEpoch(0), log);  // n3 restarts and replays
    for (const auto& e : log) m.on_applied(n3, e);
    m.on_vote_persisted(n2, e2, n2);
    m.on_vote_persisted(n3, e2, n2);
    m.on_became_leader(n2, e2);
    EXPECT_TRUE(m.ok()) << all(m);
    EXPECT_EQ(m.elections(), 2u);
    EXPECT_EQ(m.leader_changes(), 1u);
    EXPECT_EQ(m.committed_end(), Offset(3));
}

TEST(RaftMonitor, ReportsTwoLeadersInOneEpoch) {
    RaftMonitor m;
    m.on_became_leader(n1, e2);
    m.on_became_leader(n2, e2);
    EXPECT_TRUE(mentions(m, "election safety: two leaders in epoch 2")) << all(m);
}

TEST(RaftMonitor, ReportsASecondVoteInAnEpochEvenAfterARestart) {
    RaftMonitor m;
    m.on_vote_persisted(n3, e2, n1);
    m.on_recovered(n3, Offset(0), QuorumEpoch(0), {});  // the vote is durable: a restart changes nothing
    m.on_vote_persisted(n3, e2, n1);                     // the same vote again is fine
    EXPECT_TRUE(m.ok());
    m.on_vote_persisted(n3, e2, n2);
    EXPECT_TRUE(mentions(m, "one vote per epoch: node 3 voted for node 1 and then for node 2 in epoch 2")) << all(m);
}

TEST(RaftMonitor, SaysWhenASecondVoteFollowsADiskLoss) {
    RaftMonitor m;
    m.on_appended(n3, entry(0, e1, 10, true));
    m.on_vote_persisted(n3, e2, n3);
    m.on_recovered(n3, Offset(0), QuorumEpoch(0), {});  // back with nothing: the disk is gone
    m.on_vote_persisted(n3, e2, n1);
    EXPECT_TRUE(mentions(m, "one vote per epoch: node 3 voted for node 3 and then for node 1 in epoch 2 "
                            "(it came back with an empty disk in between")) << all(m);
}

TEST(RaftMonitor, ReportsDifferentEntriesAtTheSameOffsetAndEpoch) {
    RaftMonitor m;
    m.on_appended(n1, entry(0, e1, 10));
    m.on_appended(n2, entry(0, e1, 99));
    EXPECT_TRUE(mentions(m, "log matching: node 1 and node 2 hold different entries")) << all(m);
}

TEST(RaftMonitor, ReportsTheSameEntryAfterDifferentPrefixes) {
    RaftMonitor m;
    m.on_appended(n1, entry(0, e1, 10));
    m.on_appended(n1, entry(1, e2, 20));
    m.on_appended(n2, entry(0, e2, 30));
    m.on_appended(n2, entry(1, e2, 20));  // same (offset, epoch, payload), different history
    EXPECT_TRUE(mentions(m, "but not the entry before it")) << all(m);
}

TEST(RaftMonitor, ReportsEpochsThatDecreaseAlongALog) {
    RaftMonitor m;
    m.on_appended(n1, entry(0, e2, 10));
    m.on_appended(n1, entry(1, e1, 11));
    EXPECT_TRUE(mentions(m, "epochs decrease on node 1")) << all(m);
}

TEST(RaftMonitor, ReportsALeaderWithoutACommittedEntry) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10, true), entry(1, e1, 11)}, e1);
    m.on_appended(n2, entry(0, e1, 10, true));  // n2 lacks offset 1
    m.on_became_leader(n2, e2);
    EXPECT_TRUE(mentions(m, "leader completeness: node 2 became leader of epoch 2 without the committed entry "
                            "(offset 1, epoch 1")) << all(m);
}

TEST(RaftMonitor, DoesNotExpectALeaderToHoldEntriesCommittedInItsOwnOrLaterEpochs) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e3, 10, true)}, e3);  // committed by the leader of epoch 3
    m.on_became_leader(n2, e2);                       // a stale, earlier epoch's leader
    EXPECT_TRUE(m.ok()) << all(m);
}

TEST(RaftMonitor, ReportsATruncatedCommittedEntry) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10), entry(1, e1, 11)}, e1);
    m.on_truncated(n1, Offset(1));
    EXPECT_TRUE(mentions(m, "committed durability: node 1 truncated the committed entry (offset 1")) << all(m);
}

TEST(RaftMonitor, ReportsAHighWatermarkOverADifferentCommittedEntry) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10)}, e1);
    replicate(m, n2, {entry(0, e2, 77)}, e2);
    EXPECT_TRUE(mentions(m, "committed durability: node 2 holds")) << all(m);
}

TEST(RaftMonitor, ReportsNodesApplyingDifferentEntriesAtOneOffset) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10)}, e1);
    m.on_applied(n1, entry(0, e1, 10));
    m.on_applied(n2, entry(0, e1, 11));
    EXPECT_TRUE(mentions(m, "state-machine safety: node 2 applied (offset 0, epoch 1, hash 000000000000000b) "
                            "where another node applied")) << all(m);
}

TEST(RaftMonitor, ReportsAnApplyOutOfOrderOrAboveTheHighWatermark) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10), entry(1, e1, 11)}, e1);
    m.on_applied(n1, entry(1, e1, 11));
    EXPECT_TRUE(mentions(m, "node 1 applied offset 1 when it expected 0")) << all(m);
    m.on_applied(n1, entry(2, e1, 12));
    EXPECT_TRUE(mentions(m, "above every reported high watermark")) << all(m);
}

TEST(RaftMonitor, ReportsASnapshotBeyondWhatWasCommitted) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10)}, e1);
    m.on_snapshot_installed(n2, Offset(5), e1);
    EXPECT_TRUE(mentions(m, "installed a snapshot ending at 5, beyond every reported high watermark")) << all(m);
}

TEST(RaftMonitor, KeepsTheFirstViolationWithItsEventNumberAndTime) {
    Instant now{2'500'000'000};
    RaftMonitor m([&] { return now; }, [] { return uint64_t{777}; });
    m.on_appended(n1, entry(0, e1, 10));
    m.on_became_leader(n1, e2);
    m.on_became_leader(n2, e2);
    ASSERT_EQ(m.violations().size(), 1u);
    EXPECT_EQ(m.violations()[0].event, 3u);
    EXPECT_EQ(m.violations()[0].world_event, 777u);
    EXPECT_EQ(m.violations()[0].at, now);
    EXPECT_NE(m.violations()[0].to_string().find("t=2.500s"), std::string::npos);
}

TEST(RaftMonitor, ReportsAHighWatermarkGoingBackWithinAnIncarnation) {
    RaftMonitor m;
    replicate(m, n1, {entry(0, e1, 10, true), entry(1, e1, 11), entry(2, e1, 12)}, e1);  // hw 3
    m.on_high_watermark(n1, e1, Offset(2));
    EXPECT_TRUE(mentions(m, "monotonic high watermark: node 1 reported high watermark 2 after 3 in the same "
                            "incarnation")) << all(m);
}

TEST(RaftMonitor, AcceptsAHighWatermarkStartingLowerAfterARestart) {
    RaftMonitor m;
    std::vector<ObservedEntry> log{entry(0, e1, 10, true), entry(1, e1, 11), entry(2, e1, 12)};
    replicate(m, n1, log, e1);
    m.on_recovered(n1, Offset(0), QuorumEpoch(0), log);  // a restart: the high watermark starts over
    m.on_high_watermark(n1, e1, Offset(1));
    m.on_high_watermark(n1, e1, Offset(3));
    m.on_snapshot_installed(n1, Offset(2), e1);  // a snapshot does not reset it
    m.on_high_watermark(n1, e1, Offset(2));
    EXPECT_TRUE(mentions(m, "reported high watermark 2 after 3")) << all(m);
    EXPECT_EQ(m.violation_count(), 1u) << all(m);
}

TEST(RaftMonitor, ReportsARestartThatLostASyncedEntry) {
    RaftMonitor m;
    std::vector<ObservedEntry> log{entry(0, e1, 10, true), entry(1, e1, 11), entry(2, e1, 12)};
    for (const auto& e : log) m.on_appended(n2, e);  // appended = synced (the driver's contract)
    m.on_recovered(n2, Offset(0), QuorumEpoch(0), {log[0], log[1]});
    EXPECT_TRUE(mentions(m, "synced survives: node 2 restarted with its log ending at 2 but had synced "
                            "(offset 2, epoch 1")) << all(m);
}

TEST(RaftMonitor, ReportsARestartWithADifferentEntryThanItSynced) {
    RaftMonitor m;
    m.on_appended(n2, entry(0, e1, 10, true));
    m.on_appended(n2, entry(1, e1, 11));
    m.on_recovered(n2, Offset(0), QuorumEpoch(0), {entry(0, e1, 10, true), entry(1, e1, 99)});
    EXPECT_TRUE(mentions(m, "synced survives: node 2 restarted holding (offset 1, epoch 1, hash 0000000000000063) "
                            "where it had synced (offset 1")) << all(m);
}

TEST(RaftMonitor, AcceptsARestartAfterTruncationSnapshotOrDiskDamage) {
    RaftMonitor m;
    uint64_t damage = 0;
    m.set_disk_damage_probe([&](NodeId) { return damage; });
    m.on_recovered(n2, Offset(0), QuorumEpoch(0), {});
    for (int64_t o = 0; o < 4; o++) m.on_appended(n2, entry(o, e1, 10 + static_cast<uint64_t>(o), o == 0));
    m.on_truncated(n2, Offset(3));                                 // offset 3 is gone on purpose
    m.on_recovered(n2, Offset(2), e1, {entry(2, e1, 12)});         // a snapshot covers 0..1
    EXPECT_TRUE(m.ok()) << all(m);
    m.on_appended(n2, entry(3, e1, 13));
    damage = 1;                                                    // e.g. a wiped disk
    m.on_recovered(n2, Offset(0), QuorumEpoch(0), {});
    EXPECT_TRUE(m.ok()) << all(m);
    EXPECT_EQ(m.recoveries_excused(), 1u);
}

}  // namespace
}  // namespace keel::sim
