// Recovery on damage the fuzzer (fuzz/log_recovery_fuzz.cc) found to crash it: each case
// here aborted on a KEEL_ASSERT before the fix; now the open refuses cleanly. The inputs
// the fuzzer found are kept under fuzz/regressions/fuzz_log_recovery/.
#include <gtest/gtest.h>

#include <limits>

#include "core/log/checkpoint.h"
#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::numbered_batch;

std::string seg0(const LogWorld& w) { return w.dir + "/" + offset_file_stem(Offset(0)) + kLogSuffix; }

// Overwrites bytes of the first segment in place (the page cache; no crash needed).
void overwrite(LogWorld& w, uint64_t at, Bytes bytes) {
    auto f = w.mount->open(seg0(w), env::OpenMode::read_write);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->write(at, bytes).ok());
}

Bytes big_endian(int64_t v, int size) {
    Bytes out;
    for (int i = size - 1; i >= 0; i--) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
    return out;
}

// A synced batch whose CRC fails used to be kept (skipped, never served) whatever its
// offsets said; with a lastOffsetDelta reaching past int32 of the segment base, indexing
// it asserted in OffsetIndex::append. Its offsets cannot be trusted: the open refuses.
TEST(HostileRecovery, ADamagedBatchWhoseOffsetsDoNotFitTheSegmentIsRefusedNotIndexed) {
    LogWorld w;
    w.config.index_interval_bytes = 0;  // index every batch
    {
        auto log = w.open();
        for (int i = 0; i < 4; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    uint64_t second = numbered_batch(0, 3).size();
    overwrite(w, second + batch_format::kLastOffsetDeltaPos, big_endian(INT32_MAX, 4));  // also breaks the CRC
    auto log = PartitionLog::open(w.options());
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::corrupt);
    EXPECT_NE(log.error().message.find("refusing"), std::string::npos) << log.error().message;
}

// With the leader-epoch checkpoint unreadable, epochs were rebuilt from the raw headers
// of trusted segments: a rotted baseOffset (outside the CRC) of -5 reached
// LeaderEpochCache::assign, which asserts. Now they are rebuilt from checked batches only.
TEST(HostileRecovery, ARottedBaseOffsetIsNeverFedToTheEpochCacheWhenEpochsAreRebuilt) {
    LogWorld w;
    w.config.segment_bytes = 500;
    {
        auto log = w.open();
        ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
        for (int i = 1; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(1)).ok());
        ASSERT_TRUE(log->close().ok());
        ASSERT_GT(log->segments().size(), 2u);  // the first segment is trusted on open
    }
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/leader-epoch-checkpoint", as_bytes("0\n1\nrot")).ok());
    overwrite(w, numbered_batch(0, 3).size() + batch_format::kBaseOffsetPos, big_endian(-5, 8));
    auto log = PartitionLog::open(w.options());
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::corrupt);
    EXPECT_NE(log.error().message.find("refusing"), std::string::npos) << log.error().message;
}

// The same rebuild on an undamaged log still finds every epoch (from checked batches).
TEST(HostileRecovery, EpochsRebuiltFromCheckedBatchesOfTrustedSegments) {
    LogWorld w;
    w.config.segment_bytes = 500;
    {
        auto log = w.open();
        ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
        for (int i = 1; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(i < 6 ? 1 : 2)).ok());
        ASSERT_TRUE(log->close().ok());
    }
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/leader-epoch-checkpoint", as_bytes("0\n1\nrot")).ok());
    auto log = w.open();
    std::vector<EpochEntry> want = {{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(1), Offset(3)}, {LeaderEpoch(2), Offset(18)}};
    EXPECT_EQ(log->leader_epochs().entries(), want);
    EXPECT_EQ(LogWorld::read_all(*log).size(), 36u);
}

// A lost segment file under a checkpointed log start inside it: the start offset pointed
// at no data, and read(log start) served nothing although later segments hold batches
// (a consumer at the start would wait forever). The start now moves up to the data.
TEST(HostileRecovery, ALogStartInsideALostSegmentMovesUpToTheNextSegment) {
    LogWorld w;
    w.config.segment_bytes = 500;
    std::vector<SegmentInfo> segs;
    {
        auto log = w.open();
        for (int i = 0; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
        segs = log->segments();
    }
    ASSERT_GT(segs.size(), 2u);
    std::string lost = w.dir + "/" + offset_file_stem(segs[1].base_offset);
    for (const char* suffix : {kLogSuffix, kIndexSuffix, kTimeIndexSuffix}) ASSERT_TRUE(w.mount->remove(lost + suffix).ok());
    ASSERT_TRUE(w.mount->remove(w.dir + "/" + kRecoveryPointCheckpoint).ok());  // every segment is scanned
    Offset inside = segs[1].base_offset + 1;
    ASSERT_TRUE(write_file_atomically(*w.mount, w.dir + "/" + kLogStartOffsetCheckpoint,
                                      as_bytes(encode_offset_checkpoint("orders", 0, inside))).ok());
    auto log = w.open();
    EXPECT_EQ(log->log_start_offset(), segs[2].base_offset);
    auto r = log->read(log->log_start_offset(), 1 << 20);
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r->batch_count, 0u);
    // And a read below the first segment (inside [start, end)) skips up to the data too.
    log.reset();
    EXPECT_EQ(w.open()->read(segs[2].base_offset, 1 << 20)->batch_count, r->batch_count);
}

// A segment file named with the largest base offset (09223372036854775807.log) recovers
// as an empty log ending there; appending to it computed past INT64_MAX (signed overflow,
// caught by UBSan). Appends that would pass the largest offset are now refused.
TEST(HostileRecovery, AppendsThatWouldPassTheLargestOffsetAreRefused) {
    LogWorld w;
    auto log = w.open();
    Offset near_max(std::numeric_limits<int64_t>::max() - 1);
    ASSERT_TRUE(log->truncate_fully_and_start_at(near_max).ok());
    auto a = log->append(numbered_batch(0, 3), LeaderEpoch(0));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.code(), Errc::invalid_record);
    Bytes replicated = numbered_batch(0, 3);
    set_base_offset(replicated, near_max);
    auto r = log->append_replicated(replicated);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::invalid_record);
    EXPECT_TRUE(log->append(numbered_batch(0, 1), LeaderEpoch(0)).ok());  // the last offset still fits
    EXPECT_EQ(log->log_end_offset(), Offset(std::numeric_limits<int64_t>::max()));
}

// A trusted segment is not rescanned on open, so a rotted baseOffset (outside the CRC) far
// beyond the segment reached the cleaner, and appending it to the cleaned segment asserted
// (Segment::append: offsets within int32 of the base). Compaction now stops with corrupt.
TEST(HostileRecovery, CompactionStopsAtABatchOutsideItsSegmentsOffsets) {
    LogWorld w;
    w.config.cleanup_compact = true;
    w.config.cleanup_delete = false;
    w.config.segment_bytes = 300;
    w.config.min_cleanable_dirty_ratio = 0.01;
    {
        auto log = w.open();
        for (int i = 0; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i % 3, 1), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
        ASSERT_GT(log->segments().size(), 2u);
    }
    overwrite(w, batch_format::kBaseOffsetPos, big_endian(int64_t{1} << 40, 8));
    auto log = w.open();
    bool refused = false;
    for (int step = 0; step < 50 && !refused; step++) {
        auto p = log->clean_step();
        if (!p.ok()) {
            EXPECT_EQ(p.code(), Errc::corrupt) << p.error().to_string();
            refused = true;
        } else if (!p->did_work) {
            break;
        }
    }
    EXPECT_TRUE(refused);
}

// baseOffset is outside the CRC and open() does not rescan trusted segments: a rotted
// baseOffset made read() serve offsets out of order. Such a batch is now not served.
TEST(HostileRecovery, ABatchWhoseRottedBaseOffsetGoesBackwardsIsNotServed) {
    LogWorld w;
    w.config.segment_bytes = 500;
    {
        auto log = w.open();
        for (int i = 0; i < 12; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());
        ASSERT_GT(log->segments().size(), 2u);  // the first segment is trusted on open
    }
    overwrite(w, numbered_batch(0, 3).size() + batch_format::kBaseOffsetPos, big_endian(0, 8));
    auto log = w.open();
    auto first = log->read(Offset(0), 1 << 20);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->batch_count, 1u);  // the batch before the damage only
    EXPECT_EQ(first->next_offset, Offset(3));
}

// Reads that return a flipped bit (p = 0.5 per read; storage intact), as after a crash in
// a disk-bitflip window: recovery must neither cut the unflushed tail it reads through
// them nor write a flipped buffer back (it rewrites that tail, see fsyncgate), and reads
// must serve every batch. Before, the open cut the tail at the first flip and the rewrite
// stored flipped bytes for good (tests/sim/findings/raft-bitflip-on-read-persisted.md).
TEST(HostileRecovery, BitsFlippedInReadsAreNeitherCutNorWrittenBack) {
    LogWorld w;
    w.config.index_interval_bytes = 0;
    {
        auto log = w.open();
        for (int i = 0; i < 40; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
        ASSERT_TRUE(log->close().ok());  // the recovery point stays 0: a clean close is not recorded
    }
    Bytes before;
    {
        auto f = w.mount->open(seg0(w), env::OpenMode::read_only);
        ASSERT_TRUE(f.ok());
        before = (*f)->read(0, (*f)->size().value()).value();
    }
    w.disk.faults().bit_flip_on_read_probability = 0.5;
    for (int round = 0; round < 5; round++) {
        auto log = PartitionLog::open(w.options());
        ASSERT_TRUE(log.ok()) << log.error().to_string();
        EXPECT_EQ((*log)->log_end_offset(), Offset(120)) << "round " << round;
        for (Offset at{0}; at < Offset(120);) {
            auto r = (*log)->read(at, 1 << 20);
            ASSERT_TRUE(r.ok()) << "round " << round << " at " << at.value() << ": " << r.error().to_string();
            ASSERT_GT(r->next_offset, at) << "round " << round << ": nothing served at " << at.value();
            at = r->next_offset;
        }
        ASSERT_TRUE((*log)->close().ok());
    }
    EXPECT_GT(w.disk.counters().bit_flips_on_read, 10u) << "the fault never bit";
    w.disk.faults().bit_flip_on_read_probability = 0;
    auto f = w.mount->open(seg0(w), env::OpenMode::read_only);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->read(0, (*f)->size().value()).value(), before) << "a flipped read was written back";
}

}  // namespace
}  // namespace keel::log
