// truncate_to and truncate_fully_and_start_at: what a diverged follower does.
#include <gtest/gtest.h>

#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::numbered_batch;

TEST(Truncation, RemovesEveryBatchFromTheOffsetOnAcrossSegments) {
    LogWorld w;
    w.config.segment_bytes = 400;
    auto log = w.open();
    for (int i = 0; i < 15; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(i / 5)).ok());
    ASSERT_GE(log->segments().size(), 4u);
    ASSERT_TRUE(log->truncate_to(Offset(12)).ok());
    EXPECT_EQ(log->log_end_offset(), Offset(12));
    EXPECT_EQ(LogWorld::read_all(*log).size(), 12u);
    EXPECT_EQ(log->segments().back().next_offset, Offset(12));
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(0));
    auto a = log->append(numbered_batch(100, 2), LeaderEpoch(3));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->base_offset, Offset(12));
}

TEST(Truncation, AnOffsetInsideABatchRemovesTheWholeBatch) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->append(numbered_batch(5, 5), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->truncate_to(Offset(7)).ok());
    EXPECT_EQ(log->log_end_offset(), Offset(5));
    ASSERT_TRUE(log->truncate_to(Offset(9)).ok());  // past the end: nothing to do
    EXPECT_EQ(log->log_end_offset(), Offset(5));
}

TEST(Truncation, TruncatedRecordsDoNotComeBackAfterACrash) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->append(numbered_batch(5, 5), LeaderEpoch(2)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->truncate_to(Offset(5)).ok());
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(5));
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(1));
    EXPECT_EQ(log->recovery_point(), Offset(5));
}

// A replica that led epoch 2 from its log end without appending, then follows again: the
// leader never saw epoch 2, so its entry must go (data-chaos seed 87 looped 77,301 fetches
// on it). truncate_to at the log end cuts nothing and keeps it; truncate_epochs_at_end
// drops it, durably.
TEST(Truncation, AnEpochLedWithoutAppendingIsDroppedAtTheLogEnd) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->assign_epoch_start_offset(LeaderEpoch(2)).ok());
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(2));
    ASSERT_TRUE(log->truncate_to(Offset(5)).ok());
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(2));
    ASSERT_TRUE(log->truncate_epochs_at_end().ok());
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(1));
    EXPECT_EQ(log->log_end_offset(), Offset(5));
    ASSERT_TRUE(log->truncate_epochs_at_end().ok());  // nothing left to drop
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->leader_epochs().latest()->epoch, LeaderEpoch(1));
    EXPECT_EQ(log->log_end_offset(), Offset(5));
}

TEST(Truncation, NewDataWrittenOverTruncatedBytesIsRecoveredNotTrusted) {
    LogWorld w;
    w.disk.faults().torn_write_probability = 1.0;
    w.disk.faults().crash_keeps_unsynced_probability = 1.0;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 10), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->truncate_to(Offset(0)).ok());
    ASSERT_TRUE(log->append(numbered_batch(50, 3), LeaderEpoch(2)).ok());  // unflushed
    log.reset();
    w.crash();
    log = w.open();  // must not report "corruption below the recovery point"
    EXPECT_TRUE(log->recovery_report().corruption.empty());
    for (const auto& s : LogWorld::read_all(*log)) EXPECT_NE(s.value, "v0");
}

TEST(Truncation, TruncatingFullyRestartsTheLogEmptyAtAnOffset) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->truncate_fully_and_start_at(Offset(1000)).ok());
    EXPECT_EQ(log->log_start_offset(), Offset(1000));
    EXPECT_EQ(log->log_end_offset(), Offset(1000));
    EXPECT_TRUE(log->leader_epochs().entries().empty());
    EXPECT_EQ(log->read(Offset(0), 100).code(), Errc::offset_out_of_range);
    auto a = log->append(numbered_batch(0, 2), LeaderEpoch(3));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->base_offset, Offset(1000));
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->log_start_offset(), Offset(1000));
    auto files = w.files();
    EXPECT_EQ(std::count(files.begin(), files.end(), "00000000000000001000.log"), 1);
    EXPECT_EQ(std::count(files.begin(), files.end(), "00000000000000000000.log"), 0);
}

// DeleteRecords moved the start into a batch; a truncation inside that batch removes the
// whole batch, which would leave the log end below the log start. The log is emptied at
// its start instead, and stays usable (and so across a crash).
TEST(Truncation, InsideTheBatchHoldingTheLogStartEmptiesTheLogAtItsStart) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->append(numbered_batch(5, 5), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->advance_log_start_offset(Offset(7)).ok());
    ASSERT_TRUE(log->truncate_to(Offset(8)).ok());
    EXPECT_EQ(log->log_start_offset(), Offset(7));
    EXPECT_EQ(log->log_end_offset(), Offset(7));
    EXPECT_TRUE(LogWorld::read_all(*log).empty());
    auto a = log->append(numbered_batch(100, 2), LeaderEpoch(2));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->base_offset, Offset(7));
    ASSERT_TRUE(log->flush().ok());
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->log_start_offset(), Offset(7));
    EXPECT_EQ(log->log_end_offset(), Offset(9));
}

}  // namespace
}  // namespace keel::log
