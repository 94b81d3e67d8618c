// PartitionLog: appends, reads, offsets, rolls, indexes, timestamps, flush policy, and
// what bad input and a failing disk do.
#include <gtest/gtest.h>

#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::make_batch;
using testing::numbered_batch;
using testing::Rec;
using testing::Seen;

TEST(PartitionLog, AppendAssignsOffsetsFromTheLogEnd) {
    LogWorld w;
    auto log = w.open();
    EXPECT_EQ(log->log_end_offset(), Offset(0));
    auto a = log->append(numbered_batch(0, 3), LeaderEpoch(1));
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    EXPECT_EQ(a->base_offset, Offset(0));
    EXPECT_EQ(a->last_offset, Offset(2));
    auto b = log->append(numbered_batch(3, 2), LeaderEpoch(1));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->base_offset, Offset(3));
    EXPECT_EQ(log->log_end_offset(), Offset(5));
    auto all = LogWorld::read_all(*log);
    ASSERT_EQ(all.size(), 5u);
    for (int i = 0; i < 5; i++) {
        EXPECT_EQ(all[i].offset, i);
        EXPECT_EQ(all[i].value, "v" + std::to_string(i));
    }
}

TEST(PartitionLog, StoresTheProducersBytesRewritingOnlyBaseOffsetAndEpoch) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 4), LeaderEpoch(2)).ok());
    for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
        Bytes sent = numbered_batch(10, 7, 5000, c);
        auto a = log->append(sent, LeaderEpoch(7));
        ASSERT_TRUE(a.ok()) << a.error().to_string();
        auto r = log->read(a->base_offset, 1 << 20);
        ASSERT_TRUE(r.ok());
        Bytes stored(r->records.begin(), r->records.begin() + static_cast<std::ptrdiff_t>(sent.size()));
        for (size_t i = 0; i < sent.size(); i++) {
            bool rewritten = i < 8 || (i >= 12 && i < 16);
            if (!rewritten) {
                EXPECT_EQ(stored[i], sent[i]) << "byte " << i << " codec " << compression_name(c);
            }
        }
        auto h = read_batch(stored);
        ASSERT_TRUE(h.ok());
        EXPECT_EQ(h->base_offset, a->base_offset);
        EXPECT_EQ(h->partition_leader_epoch, LeaderEpoch(7));
        EXPECT_EQ(h->compression(), c);
    }
}

TEST(PartitionLog, ReadsOutsideTheLogAreOffsetOutOfRangeAndTheEndIsEmpty) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->read(Offset(4), 100).code(), Errc::offset_out_of_range);
    EXPECT_EQ(log->read(Offset(-1), 100).code(), Errc::offset_out_of_range);
    auto end = log->read(Offset(3), 100);
    ASSERT_TRUE(end.ok());
    EXPECT_TRUE(end->records.empty());
    EXPECT_EQ(end->log_end_offset, Offset(3));
}

TEST(PartitionLog, ReadReturnsTheWholeBatchHoldingTheOffsetAndAtLeastOneBatch) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 10), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->append(numbered_batch(10, 10), LeaderEpoch(0)).ok());
    auto r = log->read(Offset(4), 1);  // in the middle of the first batch; 1 byte allowed
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->batch_count, 1u);
    EXPECT_EQ(testing::records_of(r->records).front().offset, 0);
    EXPECT_EQ(r->next_offset, Offset(10));
    auto both = log->read(Offset(0), 1 << 20);
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both->batch_count, 2u);
}

TEST(PartitionLog, ReadStopsBeforeABatchReachingTheHighWatermark) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 5), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->append(numbered_batch(5, 5), LeaderEpoch(0)).ok());
    auto r = log->read(Offset(0), 1 << 20, Offset(7));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->batch_count, 1u);
    EXPECT_EQ(r->next_offset, Offset(5));
    auto none = log->read(Offset(5), 1 << 20, Offset(7));
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->batch_count, 0u);
}

TEST(PartitionLog, ACorruptClientBatchIsRejectedAndNothingIsAppended) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 2), LeaderEpoch(0)).ok());
    uint64_t size_before = log->size_bytes();
    Bytes bad = numbered_batch(2, 2);
    bad[bad.size() - 1] ^= 0x01;
    auto r = log->append(bad, LeaderEpoch(0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::corrupt_record);
    // A good batch followed by a bad one: all or nothing.
    Bytes two = numbered_batch(2, 2);
    two.insert(two.end(), bad.begin(), bad.end());
    EXPECT_EQ(log->append(two, LeaderEpoch(0)).code(), Errc::corrupt_record);
    EXPECT_EQ(log->log_end_offset(), Offset(2));
    EXPECT_EQ(log->size_bytes(), size_before);
    EXPECT_EQ(LogWorld::read_all(*log).size(), 2u);
}

TEST(PartitionLog, MalformedOrForbiddenBatchesAreRejectedWithClearErrors) {
    LogWorld w;
    w.config.max_message_bytes = 200;
    auto log = w.open();
    EXPECT_EQ(log->append(ByteView(), LeaderEpoch(0)).code(), Errc::invalid_record);
    Bytes cut = numbered_batch(0, 2);
    cut.pop_back();
    EXPECT_EQ(log->append(cut, LeaderEpoch(0)).code(), Errc::invalid_record);
    RecordBatchBuilder::Fields control;
    control.control = true;
    control.transactional = true;
    EXPECT_EQ(log->append(make_batch({{"k", "v"}}, Compression::none, control), LeaderEpoch(0)).code(),
              Errc::invalid_record);
    EXPECT_TRUE(log->append(make_batch({{"k", "v"}}, Compression::none, control), LeaderEpoch(0),
                            AppendOrigin::coordinator).ok());
    EXPECT_EQ(log->append(numbered_batch(0, 20), LeaderEpoch(0)).code(), Errc::message_too_large);
    EXPECT_EQ(log->log_end_offset(), Offset(1));
}

TEST(PartitionLog, ACompactedTopicRejectsRecordsWithoutKeys) {
    LogWorld w;
    w.config.cleanup_compact = true;
    auto log = w.open();
    EXPECT_EQ(log->append(make_batch({{"k", "v"}, {std::nullopt, "v"}}), LeaderEpoch(0)).code(),
              Errc::invalid_record);
    EXPECT_TRUE(log->append(make_batch({{"k", "v"}}), LeaderEpoch(0)).ok());
}

TEST(PartitionLog, AnEpochBelowTheLatestIsFencedAndEpochStartsAreRecorded) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 2), LeaderEpoch(1)).ok());
    ASSERT_TRUE(log->append(numbered_batch(2, 3), LeaderEpoch(4)).ok());
    EXPECT_EQ(log->append(numbered_batch(5, 1), LeaderEpoch(3)).code(), Errc::fenced_leader_epoch);
    ASSERT_TRUE(log->assign_epoch_start_offset(LeaderEpoch(6)).ok());
    std::vector<EpochEntry> want = {{LeaderEpoch(1), Offset(0)}, {LeaderEpoch(4), Offset(2)},
                                    {LeaderEpoch(6), Offset(5)}};
    EXPECT_EQ(log->leader_epochs().entries(), want);
    EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(4)), (EpochEntry{LeaderEpoch(4), Offset(5)}));
    log.reset();
    // Reopening keeps the epochs that wrote records; like Kafka's loader it drops an
    // entry starting at the log end (a leader epoch with no surviving records).
    auto again = w.open();
    want.pop_back();
    EXPECT_EQ(again->leader_epochs().entries(), want);
}

TEST(PartitionLog, SegmentsRollBySizeWithKafkaFileNames) {
    LogWorld w;
    w.config.segment_bytes = 1000;
    auto log = w.open();
    for (int i = 0; i < 30; i++) ASSERT_TRUE(log->append(numbered_batch(i * 5, 5), LeaderEpoch(0)).ok());
    auto segs = log->segments();
    ASSERT_GT(segs.size(), 3u);
    for (size_t i = 0; i + 1 < segs.size(); i++) {
        EXPECT_LE(segs[i].size, 1000u);
        EXPECT_EQ(segs[i].next_offset, segs[i + 1].base_offset);
    }
    auto files = w.files();
    EXPECT_NE(std::find(files.begin(), files.end(), "00000000000000000000.log"), files.end());
    std::string second = offset_file_stem(segs[1].base_offset);
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
        EXPECT_NE(std::find(files.begin(), files.end(), second + suffix), files.end()) << suffix;
    }
    // Every offset reads back, across segments.
    auto all = LogWorld::read_all(*log);
    ASSERT_EQ(all.size(), 150u);
    for (int i = 0; i < 150; i++) EXPECT_EQ(all[i].offset, i);
    // Rolled segments are flushed: the recovery point is at least the active segment's base.
    EXPECT_GE(log->recovery_point(), segs.back().base_offset);
}

TEST(PartitionLog, SegmentsRollByAgeOnTheMonotonicClock) {
    LogWorld w;
    w.config.segment_ms = 60'000;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 1), LeaderEpoch(0)).ok());
    w.clock.advance(59s);
    ASSERT_TRUE(log->append(numbered_batch(1, 1), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->segments().size(), 1u);
    w.clock.advance(2s);
    ASSERT_TRUE(log->append(numbered_batch(2, 1), LeaderEpoch(0)).ok());
    ASSERT_EQ(log->segments().size(), 2u);
    EXPECT_EQ(log->segments()[1].base_offset, Offset(2));
}

TEST(PartitionLog, IndexHasAnEntryEveryIndexIntervalBytesAndLookupsUseIt) {
    LogWorld w;
    w.config.index_interval_bytes = 300;
    auto log = w.open();
    for (int i = 0; i < 40; i++) ASSERT_TRUE(log->append(numbered_batch(i * 3, 3), LeaderEpoch(0)).ok());
    // flush() syncs only the active segment's data (its indexes are rebuilt on open);
    // close() writes its indexes too.
    ASSERT_TRUE(log->close().ok());
    auto index = w.disk.read_current(w.dir + "/00000000000000000000.index");
    ASSERT_TRUE(index.ok());
    EXPECT_GT(index->size(), 8u * 5);
    EXPECT_EQ(index->size() % 8, 0u);
    for (int off : {0, 1, 50, 77, 119}) {
        auto r = log->read(Offset(off), 1);
        ASSERT_TRUE(r.ok());
        auto recs = testing::records_of(r->records);
        EXPECT_LE(recs.front().offset, off);
        EXPECT_GE(recs.back().offset, off);
    }
}

TEST(PartitionLog, FindsTheFirstRecordAtOrAfterATimestamp) {
    LogWorld w;
    w.config.segment_bytes = 600;
    w.config.index_interval_bytes = 100;
    auto log = w.open();
    // Batch i holds offsets 4i..4i+3 with timestamps 1000+10i .. +3; batch 5 is zstd.
    for (int i = 0; i < 12; i++) {
        ASSERT_TRUE(log->append(numbered_batch(i * 4, 4, 1000 + 10 * i, i == 5 ? Compression::zstd : Compression::none),
                                LeaderEpoch(0)).ok());
    }
    ASSERT_GT(log->segments().size(), 2u);
    auto at = [&](int64_t ts) { return log->offset_for_timestamp(ts).value(); };
    EXPECT_EQ(at(0)->offset, Offset(0));
    EXPECT_EQ(at(1002)->offset, Offset(2));
    EXPECT_EQ(at(1004)->offset, Offset(4));   // between batches: the next batch's first record
    EXPECT_EQ(at(1052)->offset, Offset(22));  // inside the compressed batch
    EXPECT_EQ(at(1052)->timestamp_ms, 1052);
    EXPECT_EQ(at(1113)->offset, Offset(47));
    EXPECT_FALSE(at(1114).has_value());
}

TEST(PartitionLog, FindsTheFirstRecordWithTheLargestTimestamp) {
    LogWorld w;
    w.config.segment_bytes = 600;
    w.config.index_interval_bytes = 100;
    auto log = w.open();
    EXPECT_FALSE(log->offset_of_max_timestamp().value().has_value());  // empty log
    // Batch i holds offsets 4i..4i+3 with timestamps 1000+10i .. +3, except batch 5 (zstd,
    // offsets 20..23), whose records are stamped 5000, 5003, 5001, 5003, and batch 9
    // (offsets 36..39), which also reaches 5003 but later: the first 5003 wins.
    auto batch_of = [](int i) {
        if (i == 5) {
            return make_batch({{"k20", "v20", 5000}, {"k21", "v21", 5003}, {"k22", "v22", 5001},
                               {"k23", "v23", 5003}},
                              Compression::zstd);
        }
        if (i == 9) return numbered_batch(36, 4, 5000);
        return numbered_batch(i * 4, 4, 1000 + 10 * i);
    };
    for (int i = 0; i < 12; i++) ASSERT_TRUE(log->append(batch_of(i), LeaderEpoch(0)).ok());
    ASSERT_GT(log->segments().size(), 2u);
    auto max = log->offset_of_max_timestamp().value();
    ASSERT_TRUE(max.has_value());
    EXPECT_EQ(max->offset, Offset(21));
    EXPECT_EQ(max->timestamp_ms, 5003);
    // A larger timestamp in a later segment takes over.
    ASSERT_TRUE(log->append(numbered_batch(48, 2, 9000), LeaderEpoch(0)).ok());
    max = log->offset_of_max_timestamp().value();
    EXPECT_EQ(max->offset, Offset(49));
    EXPECT_EQ(max->timestamp_ms, 9001);
}

TEST(PartitionLog, LogAppendTimeStampsTheBrokersClock) {
    LogWorld w;
    w.config.message_timestamp_type = TimestampType::log_append_time;
    auto log = w.open();
    auto a = log->append(numbered_batch(0, 2, 5), LeaderEpoch(0));
    ASSERT_TRUE(a.ok());
    int64_t now = w.clock.wall_now().ms();
    EXPECT_EQ(a->log_append_time_ms, now);
    auto r = log->read(Offset(0), 1000);
    auto h = read_batch(r->records);
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    EXPECT_EQ(h->timestamp_type(), TimestampType::log_append_time);
    EXPECT_EQ(h->max_timestamp, now);
}

TEST(PartitionLog, FlushPolicyEveryNRecordsMovesTheRecoveryPoint) {
    LogWorld w;
    w.config.flush_messages = 5;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->recovery_point(), Offset(0));
    ASSERT_TRUE(log->append(numbered_batch(3, 3), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->recovery_point(), Offset(6));
}

TEST(PartitionLog, FlushPolicyByTimeFlushesOnceFlushMsHasPassed) {
    LogWorld w;
    w.config.flush_ms = 1000;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
    ASSERT_TRUE(log->maybe_flush().ok());
    EXPECT_EQ(log->recovery_point(), Offset(0));
    w.clock.advance(1s);
    ASSERT_TRUE(log->maybe_flush().ok());
    EXPECT_EQ(log->recovery_point(), Offset(3));
}

TEST(PartitionLog, DefaultFlushPolicyNeverFlushesUntilRollOrClose) {
    LogWorld w;
    auto log = w.open();
    for (int i = 0; i < 10; i++) ASSERT_TRUE(log->append(numbered_batch(i, 1), LeaderEpoch(0)).ok());
    EXPECT_EQ(log->recovery_point(), Offset(0));
    ASSERT_TRUE(log->close().ok());
    EXPECT_EQ(log->recovery_point(), Offset(10));
}

TEST(PartitionLog, AFullDiskFailsTheAppendWithNoPartlyVisibleBatch) {
    LogWorld w;
    w.config.flush_messages = 1;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
    w.disk.faults().capacity_bytes = w.disk.used_bytes() + 700;  // room for part of the next one
    Bytes big = numbered_batch(3, 60);
    ASSERT_GT(big.size(), 700u);
    auto r = log->append(big, LeaderEpoch(0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::disk_full);
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    EXPECT_EQ(LogWorld::read_all(*log).size(), 3u);
    // Space comes back: the log goes on as if nothing happened.
    w.disk.faults().capacity_bytes = UINT64_MAX;
    ASSERT_TRUE(log->append(numbered_batch(3, 2), LeaderEpoch(0)).ok());
    log.reset();
    w.crash();
    auto again = w.open();
    EXPECT_TRUE(again->recovery_report().clean()) << again->recovery_report().truncated_bytes;
    auto all = LogWorld::read_all(*again);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[4].value, "v4");
}

TEST(PartitionLog, AnIoErrorIsAnErrorAndAFailedSyncTakesTheLogOffline) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(0)).ok());
    w.disk.faults().io_error_probability = 1.0;
    auto r = log->append(numbered_batch(3, 1), LeaderEpoch(0));
    EXPECT_EQ(r.code(), Errc::io_error);
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    EXPECT_EQ(log->flush().code(), Errc::io_error);
    EXPECT_TRUE(log->offline());
    w.disk.faults().io_error_probability = 0.0;
    EXPECT_EQ(log->append(numbered_batch(3, 1), LeaderEpoch(0)).code(), Errc::io_error);
    EXPECT_TRUE(log->read(Offset(0), 1000).ok());  // reads still work
    log.reset();
    auto again = w.open();  // reopening recovers from what the disk holds
    EXPECT_FALSE(again->offline());
    EXPECT_TRUE(again->append(numbered_batch(3, 1), LeaderEpoch(0)).ok());
}

TEST(PartitionLog, ReplicatedBatchesKeepTheirOffsetsAndEpochs) {
    LogWorld w;
    auto leader = w.open();
    ASSERT_TRUE(leader->append(numbered_batch(0, 3), LeaderEpoch(2)).ok());
    ASSERT_TRUE(leader->append(numbered_batch(3, 3), LeaderEpoch(5)).ok());
    auto fetched = leader->read(Offset(0), 1 << 20);
    ASSERT_TRUE(fetched.ok());
    LogWorld fw;
    fw.dir = "data/orders-0-follower";
    auto follower = fw.open();
    auto a = follower->append_replicated(fetched->records);
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    EXPECT_EQ(follower->log_end_offset(), Offset(6));
    EXPECT_EQ(follower->leader_epochs().entries(), leader->leader_epochs().entries());
    EXPECT_EQ(follower->read(Offset(0), 1 << 20)->records, fetched->records);
    // Batches below the log end are refused; gaps (from compaction) are allowed.
    EXPECT_EQ(follower->append_replicated(fetched->records).code(), Errc::invalid_record);
    Bytes later = numbered_batch(0, 2);
    set_base_offset(later, Offset(20));
    set_partition_leader_epoch(later, LeaderEpoch(5));
    ASSERT_TRUE(follower->append_replicated(later).ok());
    EXPECT_EQ(follower->log_end_offset(), Offset(22));
}

// A failed append leaves no leader-epoch entry behind: the epoch never reached the log,
// so the old epoch's leader may still append (it is not fenced by a ghost epoch).
TEST(PartitionLog, AFailedAppendOfANewEpochLeavesTheEpochCacheAsItWas) {
    LogWorld w;
    auto log = w.open();
    ASSERT_TRUE(log->append(numbered_batch(0, 3), LeaderEpoch(1)).ok());
    std::vector<EpochEntry> before = log->leader_epochs().entries();
    w.disk.faults().capacity_bytes = w.disk.used_bytes() + 700;
    Bytes big = numbered_batch(3, 60);
    auto r = log->append(big, LeaderEpoch(2));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::disk_full);
    EXPECT_EQ(log->leader_epochs().entries(), before);
    w.disk.faults().capacity_bytes = UINT64_MAX;
    EXPECT_TRUE(log->append(numbered_batch(3, 2), LeaderEpoch(1)).ok());
}

}  // namespace
}  // namespace keel::log
