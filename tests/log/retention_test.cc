// Retention: whole non-active segments by time (largest timestamp) and by size; the log
// start offset only moves forward, also across crashes; DeleteRecords.
#include <gtest/gtest.h>

#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::numbered_batch;

constexpr int64_t kHour = 3600 * 1000;

// Five segments of two batches each; segment s holds timestamps base + s hours.
std::unique_ptr<PartitionLog> five_segments(LogWorld& w, int64_t base_ms) {
    w.config.segment_bytes = 200;
    auto log = w.open();
    for (int s = 0; s < 5; s++) {
        for (int b = 0; b < 2; b++) {
            auto r = log->append(numbered_batch(s * 4 + b * 2, 2, base_ms + s * kHour), LeaderEpoch(0));
            KEEL_ASSERT(r.ok());
        }
    }
    KEEL_ASSERT(log->segments().size() == 5);
    return log;
}

TEST(Retention, DeletesSegmentsWhoseLargestTimestampIsOlderThanRetentionMs) {
    LogWorld w;
    int64_t now = w.clock.wall_now().ms();
    w.config.retention_ms = 3 * kHour + 1;
    auto log = five_segments(w, now - 5 * kHour);  // segments at -5h, -4h, -3h, -2h, -1h
    auto r = log->apply_retention();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->segments_deleted, 2u);
    EXPECT_EQ(log->log_start_offset(), Offset(8));
    EXPECT_EQ(log->read(Offset(7), 100).code(), Errc::offset_out_of_range);
    EXPECT_EQ(LogWorld::read_all(*log).front().offset, 8);
}

TEST(Retention, AFutureTimestampPinsItsSegmentAndEverythingAfter) {
    LogWorld w;
    int64_t now = w.clock.wall_now().ms();
    w.config.retention_ms = kHour;
    w.config.segment_bytes = 200;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 2, now - 10 * kHour), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->append(numbered_batch(2, 2, now + 10 * kHour), LeaderEpoch(0)).ok());  // same segment
    for (int i = 2; i < 8; i++) ASSERT_TRUE(log->append(numbered_batch(i * 2, 2, now - 10 * kHour), LeaderEpoch(0)).ok());
    ASSERT_GE(log->segments().size(), 3u);
    auto r = log->apply_retention();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->segments_deleted, 0u);  // KAFKA-7910: the first segment is pinned
}

TEST(Retention, DeletesOldestSegmentsWhileThePartitionExceedsRetentionBytes) {
    LogWorld w;
    w.config.retention_ms = -1;
    auto log = five_segments(w, w.clock.wall_now().ms());
    auto segs = log->segments();
    log->close().value();
    // Kafka's rule: delete the oldest segment while what remains is still >= the bound, so
    // a bound of "all but two segments" deletes exactly two, and one byte more deletes one.
    w.config.retention_bytes = static_cast<int64_t>(log->size_bytes() - segs[0].size - segs[1].size + 1);
    log.reset();
    log = w.open();
    EXPECT_EQ(log->apply_retention()->segments_deleted, 1u);
    w.config.retention_bytes -= 1;
    log.reset();
    log = w.open();
    auto r = log->apply_retention();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->segments_deleted, 1u);
    EXPECT_EQ(log->segments().size(), 3u);
    EXPECT_EQ(log->size_bytes(), static_cast<uint64_t>(w.config.retention_bytes));
}

TEST(Retention, NeverDeletesTheActiveSegmentNorPastTheHighWatermark) {
    LogWorld w;
    w.config.retention_ms = 0;
    auto log = five_segments(w, 0);
    auto bounded = log->apply_retention(Offset(9));  // only segments wholly below 9
    ASSERT_TRUE(bounded.ok());
    EXPECT_EQ(bounded->segments_deleted, 2u);
    auto r = log->apply_retention();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(log->segments().size(), 1u);
    EXPECT_EQ(log->log_start_offset(), Offset(16));
    EXPECT_EQ(log->log_end_offset(), Offset(20));
}

TEST(Retention, ACompactOnlyTopicIgnoresTimeAndSizeLimits) {
    LogWorld w;
    w.config.retention_ms = 0;
    w.config.retention_bytes = 0;
    w.config.cleanup_delete = false;
    w.config.cleanup_compact = true;
    auto log = five_segments(w, 0);
    EXPECT_EQ(log->apply_retention()->segments_deleted, 0u);
}

TEST(Retention, TheLogStartOffsetOnlyMovesForwardAndSurvivesACrash) {
    LogWorld w;
    auto log = five_segments(w, w.clock.wall_now().ms());
    ASSERT_TRUE(log->advance_log_start_offset(Offset(6)).ok());  // DeleteRecords
    ASSERT_TRUE(log->advance_log_start_offset(Offset(3)).ok());  // no-op
    EXPECT_EQ(log->log_start_offset(), Offset(6));
    EXPECT_EQ(log->advance_log_start_offset(Offset(21)).code(), Errc::offset_out_of_range);
    EXPECT_EQ(log->read(Offset(5), 100).code(), Errc::offset_out_of_range);
    auto r = log->apply_retention();  // removes the segment wholly below 6
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->segments_deleted, 1u);
    EXPECT_EQ(log->log_start_offset(), Offset(6));
    log.reset();
    w.crash();
    log = w.open();
    EXPECT_EQ(log->log_start_offset(), Offset(6));
    EXPECT_EQ(LogWorld::read_all(*log).front().offset, 6);
    EXPECT_EQ(log->offset_for_timestamp(0)->value().offset, Offset(6));
}

}  // namespace
}  // namespace keel::log
