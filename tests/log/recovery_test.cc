// Opening a partition directory after a crash: what is cut, what is kept, what is reported.
#include <gtest/gtest.h>

#include "core/log/checkpoint.h"
#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::numbered_batch;

std::string seg(const LogWorld& w, int64_t base, const char* suffix) {
    return w.dir + "/" + offset_file_stem(Offset(base)) + suffix;
}

TEST(Recovery, AReopenedLogHoldsEverythingThatWasClosed) {
    LogWorld w;
    w.config.segment_bytes = 800;
    {
        auto log = w.open();
        for (int i = 0; i < 20; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(1)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    w.crash();
    auto log = w.open();
    EXPECT_TRUE(log->recovery_report().clean());
    EXPECT_EQ(log->recovery_report().segments_scanned, 1u);  // only the active segment
    EXPECT_EQ(log->log_end_offset(), Offset(60));
    EXPECT_EQ(LogWorld::read_all(*log).size(), 60u);
}

TEST(Recovery, ACrashLosesOnlyWhatWasNotFlushed) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->append(numbered_batch(5, 5), LeaderEpoch(0)).ok());
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(5));
    EXPECT_EQ(LogWorld::read_all(*log).size(), 5u);
    ASSERT_TRUE(log->append(numbered_batch(5, 1), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->log_end_offset(), Offset(6));
}

TEST(Recovery, ATornLastWriteIsCutOffAtTheLastWholeBatch) {
    for (uint64_t seed = 1; seed <= 30; seed++) {
        LogWorld w;
        w.rng = env::SeededRandom(seed);
        w.disk.faults().torn_write_probability = 1.0;
        w.disk.faults().crash_keeps_unsynced_probability = 1.0;
        auto log = w.open();
        ASSERT_TRUE(log->append(numbered_batch(0, 4), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->flush().ok());
        for (int i = 1; i < 6; i++) ASSERT_TRUE(log->append(numbered_batch(i * 4, 4), LeaderEpoch(0)).ok());
        log.reset();
        w.crash();
        log = w.open();
        Offset end = log->log_end_offset();
        EXPECT_GE(end, Offset(4)) << "seed " << seed;
        EXPECT_EQ(end.value() % 4, 0) << "seed " << seed;
        auto all = LogWorld::read_all(*log);
        ASSERT_EQ(static_cast<int64_t>(all.size()), end.value());
        for (size_t i = 0; i < all.size(); i++) EXPECT_EQ(all[i].value, "v" + std::to_string(i));
    }
}

TEST(Recovery, DamagePastTheRecoveryPointIsTruncated) {
    LogWorld w;
    w.config.segment_bytes = 600;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 4), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->flush().ok());
    uint64_t synced = log->size_bytes();
    for (int i = 1; i < 4; i++) ASSERT_TRUE(log->append(numbered_batch(i * 4, 4), LeaderEpoch(0)).ok());
    ASSERT_EQ(log->segments().size(), 1u);
    // The process dies (the OS keeps its page cache) and a bit of the unflushed tail rots.
    log.reset();
    ASSERT_TRUE(w.disk.corrupt(seg(w, 0, ".log"), synced + 70, 3).ok());
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(4));
    EXPECT_GT(log->recovery_report().truncated_bytes, 0u);
    EXPECT_TRUE(log->recovery_report().corruption.empty());
}

// Two segments claim the same offsets (a truncation lost to a failed fsync and a power
// loss brought the first segment's old tail back): the log keeps what precedes the overlap
// and drops the rest, as after a torn write (a follower fetches it again). Data-chaos seed
// 926 crash-looped a broker on this: every open failed.
TEST(Recovery, SegmentsOverlappingEachOtherAreCutBeforeTheOverlap) {
    LogWorld w;
    w.config.segment_bytes = 300;
    auto log = w.open();
    for (int i = 0; i < 4; i++) ASSERT_TRUE(log->append(numbered_batch(i * 4, 4), LeaderEpoch(0)).ok());
    ASSERT_GE(log->segments().size(), 2u);
    Offset second = log->segments()[1].base_offset;
    log.reset();
    auto first = w.disk.read_current(seg(w, 0, ".log"));
    auto next = w.disk.read_current(seg(w, second.value(), ".log"));
    ASSERT_TRUE(first.ok() && next.ok());
    auto h = parse_batch_header(*next);
    ASSERT_TRUE(h.ok());
    Bytes grown = *first;
    grown.insert(grown.end(), next->begin(), next->begin() + static_cast<std::ptrdiff_t>(h->size_bytes()));
    ASSERT_TRUE(write_file_atomically(*w.mount, seg(w, 0, ".log"), grown).ok());
    // The recovery point at the log start, so the first segment is scanned (rolling a
    // segment synced it and moved the point to the next base).
    std::string text = encode_offset_checkpoint("orders", 0, Offset(0));
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/" + kRecoveryPointCheckpoint, as_bytes(text)).ok());
    auto reopened = PartitionLog::open(w.options());
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    log = std::move(reopened).value();
    EXPECT_EQ(log->log_end_offset(), second);
    EXPECT_EQ(log->segments().size(), 1u);
    ASSERT_EQ(log->recovery_report().corruption.size(), 1u);
    EXPECT_NE(log->recovery_report().corruption[0].find("overlapping the next segment"), std::string::npos);
    auto records = LogWorld::read_all(*log);
    ASSERT_EQ(records.size(), static_cast<size_t>(second.value()));
    for (size_t i = 0; i < records.size(); i++) EXPECT_EQ(records[i].offset, static_cast<int64_t>(i));
}

TEST(Recovery, CorruptionBelowTheRecoveryPointIsReportedAndNeverServed) {
    LogWorld w;
    w.config.segment_bytes = 500;
    {
        auto log = w.open();
        for (int i = 0; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    // Bit rot in the second batch of the first (sealed, synced) segment...
    uint64_t second = numbered_batch(0, 3).size();
    ASSERT_TRUE(w.disk.corrupt(seg(w, 0, ".log"), second + 65, 0).ok());
    // ...and in the active segment, below the recovery point too.
    auto log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(36));  // nothing was cut
    EXPECT_EQ(log->recovery_report().truncated_bytes, 0u);
    auto r = log->read(Offset(3), 1 << 20);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::corrupt);
    EXPECT_NE(r.error().message.find("position"), std::string::npos) << r.error().message;
    // The batch before it is served, and reading stops short of the damage.
    auto before = log->read(Offset(0), 1 << 20);
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(before->next_offset, Offset(3));
    // Damage in the active segment below the recovery point: kept and reported at open.
    log.reset();
    auto active = w.open()->segments().back();
    ASSERT_TRUE(w.disk.corrupt(seg(w, active.base_offset.value(), ".log"), 70, 1).ok());
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(36));
    ASSERT_EQ(log->recovery_report().corruption.size(), 1u);
    EXPECT_NE(log->recovery_report().corruption[0].find("below the recovery point"), std::string::npos);
    EXPECT_EQ(log->read(active.base_offset, 1 << 20).code(), Errc::corrupt);
}

TEST(Recovery, AnUnreadableHeaderBelowTheRecoveryPointFailsTheOpenLoudly) {
    LogWorld w;
    {
        auto log = w.open();
        for (int i = 0; i < 4; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    uint64_t second = numbered_batch(0, 3).size();
    ASSERT_TRUE(w.disk.corrupt(seg(w, 0, ".log"), second + 16, 2).ok());  // magic byte
    auto log = PartitionLog::open(w.options());
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::corrupt);
    EXPECT_NE(log.error().message.find("refusing"), std::string::npos) << log.error().message;
}

TEST(Recovery, MissingOrDamagedIndexesAreRebuilt) {
    LogWorld w;
    w.config.segment_bytes = 700;
    w.config.index_interval_bytes = 100;
    {
        auto log = w.open();
        for (int i = 0; i < 20; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    auto good_index = w.disk.read_current(seg(w, 0, ".index"));
    ASSERT_TRUE(good_index.ok() && !good_index->empty());
    ASSERT_TRUE(w.mount->remove(seg(w, 0, ".index")).ok());
    auto f = w.mount->open(seg(w, 0, ".timeindex"), env::OpenMode::read_write);
    ASSERT_TRUE((*f)->write(0, as_bytes("garbage!garbage!garbage!")).ok());
    auto log = w.open();
    EXPECT_EQ(log->recovery_report().indexes_rebuilt, 1u);
    EXPECT_EQ(*w.disk.read_current(seg(w, 0, ".index")), *good_index);
    EXPECT_EQ(LogWorld::read_all(*log).size(), 60u);
    EXPECT_EQ(log->offset_for_timestamp(1'700'000'000'001)->value().offset, Offset(1));
}

TEST(Recovery, TheLeaderEpochCheckpointIsRebuiltFromBatchHeadersWhenUnreadable) {
    LogWorld w;
    {
        auto log = w.open();
        ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(1)).ok());
        ASSERT_TRUE(log->append(numbered_batch(3, 3), LeaderEpoch(4)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/leader-epoch-checkpoint", as_bytes("0\n9\nnonsense")).ok());
    auto log = w.open();
    std::vector<EpochEntry> want = {{LeaderEpoch(1), Offset(0)}, {LeaderEpoch(4), Offset(3)}};
    EXPECT_EQ(log->leader_epochs().entries(), want);
    auto text = read_whole_file(*w.mount, w.dir + "/leader-epoch-checkpoint");
    EXPECT_EQ(testing::str(**text), "0\n2\n1 0\n4 3\n");
}

TEST(Recovery, LeftoversOfAnUnfinishedCompactionAreRemoved) {
    LogWorld w;
    {
        auto log = w.open();
        ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    for (const char* name : {"00000000000000000000.log.cleaned", "00000000000000000000.index.swap",
                             "recovery-point-offset-checkpoint.tmp", "00000000000000000099.index"}) {
        auto f = w.mount->open(w.dir + "/" + name, env::OpenMode::create);
        ASSERT_TRUE((*f)->write(0, as_bytes("junk")).ok());
    }
    auto log = w.open();
    for (const std::string& name : w.files()) {
        EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
        EXPECT_EQ(name.find(".swap"), std::string::npos) << name;
        EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
        EXPECT_NE(name, "00000000000000000099.index");
    }
    EXPECT_EQ(LogWorld::read_all(*log).size(), 3u);
}

TEST(Recovery, ACommittedCompactionSwapIsFinishedOnOpen) {
    LogWorld w;
    w.config.segment_bytes = 400;
    {
        auto log = w.open();
        for (int i = 0; i < 6; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    // Simulate a crash after the commit point: the cleaned copy (here: only the first
    // batch of the segment) sits at <base>.log.swap, the indexes already renamed.
    auto old = w.disk.read_current(seg(w, 0, ".log"));
    Bytes first(old->begin(), old->begin() + static_cast<std::ptrdiff_t>(numbered_batch(0, 3).size()));
    auto f = w.mount->open(seg(w, 0, ".log.swap"), env::OpenMode::create);
    ASSERT_TRUE((*f)->write(0, first).ok());
    ASSERT_TRUE(w.mount->remove(seg(w, 0, ".index")).ok());
    auto log = w.open();
    EXPECT_FALSE(w.mount->exists(seg(w, 0, ".log.swap")).value());
    EXPECT_EQ(log->segments()[0].size, first.size());
    auto all = LogWorld::read_all(*log);
    EXPECT_EQ(all.front().offset, 0);
    EXPECT_EQ(all[3].offset, log->segments()[1].base_offset.value());
}

TEST(Recovery, SegmentsBelowTheCheckpointedLogStartAreRemovedOnOpen) {
    LogWorld w;
    w.config.segment_bytes = 400;
    {
        auto log = w.open();
        for (int i = 0; i < 16; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    auto segs = w.open()->segments();
    ASSERT_GE(segs.size(), 3u);
    std::string text = encode_offset_checkpoint("orders", 0, segs[2].base_offset);
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/log-start-offset-checkpoint", as_bytes(text)).ok());
    auto log = w.open();
    EXPECT_EQ(log->log_start_offset(), segs[2].base_offset);
    EXPECT_EQ(log->segments().front().base_offset, segs[2].base_offset);
    EXPECT_FALSE(w.mount->exists(seg(w, 0, ".log")).value());
}

}  // namespace
}  // namespace keel::log

namespace keel::log {
namespace {

// fsyncgate: after a failed fsync the kernel may drop the dirty pages' "dirty" mark; the
// data is readable but no later fsync writes it. Reopening rewrites what it validated.
TEST(Recovery, DataReadBackAfterAFailedSyncIsRewrittenBeforeItIsTrusted) {
    testing::LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(testing::numbered_batch(0, 3), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->append(testing::numbered_batch(3, 3), LeaderEpoch(0)).ok());
    w.disk.faults().io_error_probability = 1.0;
    EXPECT_EQ(log->flush().code(), Errc::io_error);
    w.disk.faults().io_error_probability = 0.0;
    log.reset();  // the process restarts; the machine does not
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(6));
    EXPECT_EQ(log->recovery_point(), Offset(6));
    log.reset();
    w.crash();  // now power fails: what open() called durable must be there
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(6));
}

}  // namespace
}  // namespace keel::log
