// RaftStorage on a simulated disk: its file formats, what survives a power loss, and
// that damaged files are detected rather than trusted.
#include <gtest/gtest.h>

#include "core/raft/entry_codec.h"
#include "core/raft/raft_storage.h"
#include "runtime/scheduler.h"
#include "sim/sim_disk.h"
#include "tests/raft_driver/sim_fixture.h"

namespace keel::raft {
namespace {

// A disk mounted outside fibers (no latency), with power loss on demand.
struct DiskWorld {
    fiber::Scheduler sched{fiber::SchedulerOptions{.virtual_time = true, .seed = 3}};
    fiber::GroupId group = sched.create_group("c1");
    fiber::GroupExecutor ex{sched, group};
    env::SeededRandom rng{7};
    sim::SimDisk disk{"c1"};
    std::unique_ptr<env::Disk> mount = disk.mount(ex, rng);
    testing::FixedClock clock;

    std::unique_ptr<RaftStorage> open() {
        RaftStorageOptions o;
        o.disk = mount.get();
        o.clock = &clock;
        o.segment_bytes = 1024;  // a few entries per segment, so deletion is visible
        auto s = RaftStorage::open(o);
        KEEL_ASSERT_MSG(s.ok(), s.ok() ? "" : s.error().to_string().c_str());
        return std::move(s).value();
    }
    Restored recover(RaftStorage& s, RecoveryInfo& info) {
        auto r = s.recover(info);
        KEEL_ASSERT_MSG(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        return std::move(r).value();
    }
    void power_loss() {
        disk.crash(rng);
        mount = disk.mount(ex, rng);
    }
};

LogEntry data(int64_t offset, int32_t epoch, const std::string& payload) {
    return LogEntry{Offset(offset), QuorumEpoch(epoch), EntryKind::data, to_bytes(payload)};
}

std::vector<LogEntry> entries(int64_t from, int64_t to, int32_t epoch) {
    std::vector<LogEntry> out;
    for (int64_t o = from; o < to; o++) out.push_back(data(o, epoch, "record-" + std::to_string(o)));
    return out;
}

TEST(RaftStorageFormat, QuorumStateRoundTripsAndRejectsAnyDamage) {
    QuorumState qs{QuorumEpoch(7), NodeId(2), NodeId(3), true};
    std::string text = encode_quorum_state(qs);
    EXPECT_EQ(text.substr(0, text.find('\n')),
              R"({"leaderEpoch":7,"leaderId":3,"votedId":2,"catchingUp":true,"data_version":0})");
    auto back = decode_quorum_state(text);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, qs);
    for (size_t cut = 0; cut < text.size(); cut++) {
        EXPECT_FALSE(decode_quorum_state(text.substr(0, cut)).ok()) << "torn at " << cut;
    }
    for (size_t i = 0; i < text.size(); i++) {
        std::string flipped = text;
        flipped[i] ^= 0x04;
        EXPECT_FALSE(decode_quorum_state(flipped).ok()) << "bit flip at " << i;
    }
}

TEST(RaftStorageFormat, SnapshotFilesAreNamedLikeKafkasAndChecksummed) {
    SnapshotId id{Offset(1200), QuorumEpoch(4)};
    EXPECT_EQ(snapshot_file_name(id), "00000000000000001200-0000000004.checkpoint");
    EXPECT_EQ(parse_snapshot_file_name(snapshot_file_name(id)), id);
    EXPECT_FALSE(parse_snapshot_file_name("00000000000000001200.log").has_value());
    EXPECT_FALSE(parse_snapshot_file_name("0000000000000000120x-0000000004.checkpoint").has_value());
    Snapshot s{id, to_bytes("state")};
    Bytes file = encode_snapshot_file(s);
    ASSERT_TRUE(decode_snapshot_file(file).ok());
    EXPECT_EQ(*decode_snapshot_file(file), s);
    for (size_t i = 0; i < file.size(); i++) {
        Bytes flipped = file;
        flipped[i] ^= 0x10;
        EXPECT_FALSE(decode_snapshot_file(flipped).ok()) << "bit flip at " << i;
    }
    EXPECT_FALSE(decode_snapshot_file(ByteView(file).subspan(0, file.size() - 1)).ok());
}

TEST(RaftStorageFormat, EntriesAreRecordBatchesWithTheEpochAsPartitionLeaderEpoch) {
    LogEntry lc{Offset(5), QuorumEpoch(3), EntryKind::leader_change, to_bytes("lc")};
    Bytes batch = encode_entry_batch(lc, 1'700'000'000'000LL);
    auto h = log::read_batch(batch);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->base_offset, Offset(5));
    EXPECT_EQ(h->partition_leader_epoch, LeaderEpoch(3));
    EXPECT_TRUE(h->is_control());
    EXPECT_EQ(*decode_entry_batch(batch), lc);
    LogEntry d = data(6, 3, "hello");
    EXPECT_EQ(*decode_entry_batch(encode_entry_batch(d, 0)), d);
    Bytes bad = encode_entry_batch(d, 0);
    bad.back() ^= 1;  // the CRC catches it
    EXPECT_EQ(decode_entry_batch(bad).code(), Errc::invalid_record);
}

TEST(RaftStorage, EverythingSyncedSurvivesAPowerLoss) {
    DiskWorld w;
    {
        auto s = w.open();
        ASSERT_TRUE(format_storage(*w.mount, "", MetaProperties{NodeId(1), "cluster"}).ok());
        ASSERT_TRUE(s->save_quorum_state(QuorumState{QuorumEpoch(2), NodeId(1), std::nullopt, false}).ok());
        ASSERT_TRUE(s->append(entries(0, 10, 1)).ok());
        ASSERT_TRUE(s->append(entries(10, 12, 2)).ok());
    }
    w.power_loss();
    auto s = w.open();
    RecoveryInfo info;
    Restored r = w.recover(*s, info);
    EXPECT_TRUE(info.formatted);
    EXPECT_TRUE(info.quorum_state_found);
    ASSERT_TRUE(r.quorum_state.has_value());
    EXPECT_EQ(r.quorum_state->epoch, QuorumEpoch(2));
    EXPECT_EQ(r.quorum_state->voted_for, NodeId(1));
    ASSERT_EQ(r.log.size(), 12u);
    EXPECT_EQ(r.log[11], data(11, 2, "record-11"));
    EXPECT_FALSE(r.snapshot.has_value());
    auto meta = read_meta_properties(*w.mount, "");
    ASSERT_TRUE(meta.ok() && meta->has_value());
    EXPECT_EQ(**meta, (MetaProperties{NodeId(1), "cluster"}));
}

TEST(RaftStorage, TruncationIsDurable) {
    DiskWorld w;
    {
        auto s = w.open();
        ASSERT_TRUE(s->append(entries(0, 10, 1)).ok());
        ASSERT_TRUE(s->truncate_to(Offset(6)).ok());
        ASSERT_TRUE(s->append(entries(6, 8, 2)).ok());
    }
    w.power_loss();
    auto s = w.open();
    RecoveryInfo info;
    Restored r = w.recover(*s, info);
    ASSERT_EQ(r.log.size(), 8u);
    EXPECT_EQ(r.log[5].epoch, QuorumEpoch(1));
    EXPECT_EQ(r.log[6], data(6, 2, "record-6"));
}

TEST(RaftStorage, ACorruptQuorumStateIsReportedNotTrusted) {
    DiskWorld w;
    {
        auto s = w.open();
        ASSERT_TRUE(s->save_quorum_state(QuorumState{QuorumEpoch(9), NodeId(3), std::nullopt, false}).ok());
    }
    // Rot inside the epoch digits: a plausible-looking but wrong file.
    ASSERT_TRUE(w.disk.corrupt("__cluster_metadata-0/quorum-state", 16, 1).ok());
    auto s = w.open();
    RecoveryInfo info;
    Restored r = w.recover(*s, info);
    EXPECT_TRUE(info.quorum_state_corrupt);
    EXPECT_FALSE(info.quorum_state_found);
    EXPECT_FALSE(r.quorum_state.has_value());
    ASSERT_FALSE(info.notes.empty());
    EXPECT_NE(info.notes[0].find("checksum"), std::string::npos) << info.notes[0];
}

TEST(RaftStorage, ASnapshotLetsTheLogBeforeItGoAndRecoveryStartsThere) {
    DiskWorld w;
    {
        auto s = w.open();
        for (int64_t o = 0; o < 40; o++) ASSERT_TRUE(s->append(entries(o, o + 1, 1)).ok());  // a Ready each
        ASSERT_TRUE(s->save_snapshot(Snapshot{SnapshotId{Offset(10), QuorumEpoch(1)}, to_bytes("s10")}).ok());
        ASSERT_TRUE(s->delete_before(Offset(10)).ok());
        ASSERT_TRUE(s->save_snapshot(Snapshot{SnapshotId{Offset(30), QuorumEpoch(1)}, to_bytes("s30")}).ok());
        ASSERT_TRUE(s->delete_before(Offset(30)).ok());
        EXPECT_GT(s->log_start(), Offset(0));
    }
    w.power_loss();
    auto names = w.mount->list("__cluster_metadata-0");
    ASSERT_TRUE(names.ok());
    int snapshots = 0;
    for (const auto& n : *names) {
        snapshots += parse_snapshot_file_name(n).has_value() ? 1 : 0;
        EXPECT_NE(n, "00000000000000000000.log") << "the first segment lies wholly below the snapshot";
    }
    EXPECT_EQ(snapshots, 1) << "older snapshots are deleted";
    auto s = w.open();
    RecoveryInfo info;
    Restored r = w.recover(*s, info);
    ASSERT_TRUE(r.snapshot.has_value());
    EXPECT_EQ(r.snapshot->id.end_offset, Offset(30));
    EXPECT_EQ(r.snapshot->data, to_bytes("s30"));
    ASSERT_EQ(r.log.size(), 10u);
    EXPECT_EQ(r.log.front().offset, Offset(30));
}

TEST(RaftStorage, AnInstalledSnapshotRestartsTheLogAtItsEnd) {
    DiskWorld w;
    {
        auto s = w.open();
        ASSERT_TRUE(s->append(entries(0, 5, 1)).ok());
        ASSERT_TRUE(s->install_snapshot(Snapshot{SnapshotId{Offset(100), QuorumEpoch(3)}, to_bytes("leader")}).ok());
        ASSERT_TRUE(s->append(entries(100, 103, 3)).ok());
    }
    w.power_loss();
    auto s = w.open();
    RecoveryInfo info;
    Restored r = w.recover(*s, info);
    ASSERT_TRUE(r.snapshot.has_value());
    EXPECT_EQ(r.snapshot->id, (SnapshotId{Offset(100), QuorumEpoch(3)}));
    ASSERT_EQ(r.log.size(), 3u);
    EXPECT_EQ(r.log.front().offset, Offset(100));
}

TEST(RaftStorage, AMissingSnapshotUnderATrimmedLogIsCorruption) {
    DiskWorld w;
    {
        auto s = w.open();
        ASSERT_TRUE(s->append(entries(0, 40, 1)).ok());
        ASSERT_TRUE(s->save_snapshot(Snapshot{SnapshotId{Offset(30), QuorumEpoch(1)}, to_bytes("s30")}).ok());
        ASSERT_TRUE(s->delete_before(Offset(30)).ok());
    }
    ASSERT_TRUE(w.mount->remove("__cluster_metadata-0/00000000000000000030-0000000001.checkpoint").ok());
    auto s = w.open();
    RecoveryInfo info;
    auto r = s->recover(info);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::corrupt);
    EXPECT_NE(r.error().message.find("no snapshot covers"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace keel::raft
