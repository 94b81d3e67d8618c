// Compaction (cleanup.policy=compact): latest record per key, offsets and order kept,
// tombstones until delete.retention.ms, min.compaction.lag.ms, bounded steps.
#include <gtest/gtest.h>

#include <map>

#include "core/log/partition_log.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::LogWorld;
using testing::make_batch;
using testing::Rec;
using testing::Seen;

struct Compacted {
    LogWorld w;
    std::unique_ptr<PartitionLog> log;
    std::map<int64_t, Seen> appended;  // offset -> record, as appended

    explicit Compacted(int64_t segment_bytes = 300) {
        w.config.cleanup_compact = true;
        w.config.cleanup_delete = false;
        w.config.segment_bytes = segment_bytes;
        w.config.min_cleanable_dirty_ratio = 0.01;
        w.config.delete_retention_ms = 60'000;
    }
    void open() { log = w.open(); }
    void put(const std::string& key, std::optional<std::string> value, Compression c = Compression::none) {
        int64_t ts = w.clock.wall_now().ms();
        auto a = log->append(make_batch({{key, value, ts}}, c), LeaderEpoch(0));
        KEEL_ASSERT(a.ok());
        appended[a->base_offset.value()] = Seen{a->base_offset.value(), key, value, ts};
    }
    // Runs steps until the cleaner has nothing to do; returns how many steps it took.
    int clean_fully() {
        int steps = 0;
        while (true) {
            auto p = log->clean_step();
            KEEL_ASSERT_MSG(p.ok(), p.ok() ? "" : p.error().to_string().c_str());
            if (!p->did_work) return steps;
            steps++;
            KEEL_ASSERT(steps < 10000);
        }
    }
    std::map<std::string, std::optional<std::string>> latest_appended() const {
        std::map<std::string, std::optional<std::string>> m;
        for (const auto& [off, s] : appended) m[*s.key] = s.value;
        return m;
    }
};

// Every surviving record is the one appended at its offset, in order.
void expect_offsets_and_order_kept(const std::vector<Seen>& seen, const std::map<int64_t, Seen>& appended) {
    int64_t last = -1;
    for (const Seen& s : seen) {
        EXPECT_GT(s.offset, last);
        last = s.offset;
        auto it = appended.find(s.offset);
        ASSERT_NE(it, appended.end()) << "offset " << s.offset;
        EXPECT_EQ(s, it->second);
    }
}

TEST(Compaction, KeepsTheLatestRecordOfEveryKeyWithOffsetsAndOrderUnchanged) {
    Compacted c;
    c.open();
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 5; k++) c.put("key" + std::to_string(k), "r" + std::to_string(round));
    }
    size_t before = c.log->size_bytes();
    Offset end = c.log->log_end_offset();
    EXPECT_GT(c.clean_fully(), 0);
    EXPECT_LT(c.log->size_bytes(), before / 2);
    EXPECT_EQ(c.log->log_end_offset(), end);
    auto seen = LogWorld::read_all(*c.log);
    expect_offsets_and_order_kept(seen, c.appended);
    // Below the cleaner point each key appears once: its latest value.
    std::map<std::string, int> count;
    for (const Seen& s : seen) {
        if (s.offset < c.log->cleaner_point().value()) count[*s.key]++;
    }
    for (const auto& [k, n] : count) EXPECT_EQ(n, 1) << k;
    std::map<std::string, std::optional<std::string>> last;
    for (const Seen& s : seen) last[*s.key] = s.value;
    EXPECT_EQ(last, c.latest_appended());
}

TEST(Compaction, TheActiveSegmentIsNeverCleaned) {
    Compacted c(1 << 20);
    c.open();
    for (int i = 0; i < 50; i++) c.put("same", std::to_string(i));
    EXPECT_EQ(c.clean_fully(), 0);
    EXPECT_EQ(LogWorld::read_all(*c.log).size(), 50u);
}

TEST(Compaction, TombstonesStayForDeleteRetentionMsThenGo) {
    Compacted c;
    c.open();
    c.put("gone", "value");
    c.put("gone", std::nullopt);  // tombstone
    for (int i = 0; i < 30; i++) c.put("other" + std::to_string(i % 3), std::to_string(i));
    c.clean_fully();
    auto seen = LogWorld::read_all(*c.log);
    std::vector<Seen> gone;
    for (const Seen& s : seen) {
        if (s.key == "gone") gone.push_back(s);
    }
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_FALSE(gone[0].value.has_value());  // the value went, the tombstone stays
    c.w.clock.advance(std::chrono::milliseconds(c.w.config.delete_retention_ms + 1));
    c.clean_fully();  // the horizon has passed: a pass runs even with nothing dirty
    for (const Seen& s : LogWorld::read_all(*c.log)) EXPECT_NE(s.key, "gone");
}

TEST(Compaction, RecordsYoungerThanMinCompactionLagStayDirty) {
    Compacted c;
    c.w.config.min_compaction_lag_ms = 3'600'000;
    c.open();
    for (int i = 0; i < 40; i++) c.put("k" + std::to_string(i % 2), std::to_string(i));
    c.clean_fully();
    EXPECT_EQ(LogWorld::read_all(*c.log).size(), 40u);
    c.w.clock.advance(2h);
    c.put("k0", "late");  // the new segment is young; the old ones are now cleanable
    c.clean_fully();
    EXPECT_LT(LogWorld::read_all(*c.log).size(), 20u);
}

TEST(Compaction, StepsAreBoundedAndAppendsRunBetweenThem) {
    Compacted c;
    c.w.config.cleaner_step_bytes = 200;
    c.open();
    for (int i = 0; i < 60; i++) c.put("k" + std::to_string(i % 4), std::to_string(i));
    int steps = 0;
    while (true) {
        auto p = c.log->clean_step();
        ASSERT_TRUE(p.ok()) << p.error().to_string();
        if (!p->did_work) break;
        EXPECT_LE(p->bytes_read, 200u + 100u);  // the budget, plus at most one batch
        if (steps < 30) c.put("k" + std::to_string(steps % 4), "during" + std::to_string(steps));
        steps++;
        ASSERT_LT(steps, 1000);
    }
    EXPECT_GT(steps, 10);
    auto seen = LogWorld::read_all(*c.log);
    expect_offsets_and_order_kept(seen, c.appended);
    std::map<std::string, std::optional<std::string>> last;
    for (const Seen& s : seen) last[*s.key] = s.value;
    EXPECT_EQ(last, c.latest_appended());
}

TEST(Compaction, CompressedBatchesAreCompactedThroughTheCodec) {
    Compacted c;
    c.open();
    for (int i = 0; i < 30; i++) c.put("k" + std::to_string(i % 3), std::to_string(i), Compression::lz4);
    c.clean_fully();
    auto seen = LogWorld::read_all(*c.log);
    EXPECT_LT(seen.size(), 15u);
    expect_offsets_and_order_kept(seen, c.appended);
    auto r = c.log->read(c.log->log_start_offset(), 1 << 20);
    EXPECT_EQ(read_batch(r->records)->compression(), Compression::lz4);
}

TEST(Compaction, TruncationDuringAPassAbortsItAndLeavesNoCleanedFiles) {
    Compacted c;
    c.w.config.cleaner_step_bytes = 100;
    c.open();
    for (int i = 0; i < 40; i++) c.put("k" + std::to_string(i % 2), std::to_string(i));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(c.log->clean_step().ok());
    ASSERT_TRUE(c.log->truncate_to(Offset(20)).ok());
    for (const std::string& f : c.w.files()) EXPECT_EQ(f.find(".cleaned"), std::string::npos) << f;
    c.appended.erase(c.appended.lower_bound(20), c.appended.end());
    c.clean_fully();
    expect_offsets_and_order_kept(LogWorld::read_all(*c.log), c.appended);
}

TEST(Compaction, ACrashAtAnyStepLeavesEveryKeysLatestValue) {
    for (int crash_after = 0; crash_after < 25; crash_after += 2) {
        Compacted c;
        c.w.config.cleaner_step_bytes = 150;
        c.w.disk.faults().crash_keeps_unsynced_probability = 0.5;
        c.w.disk.faults().torn_write_probability = 0.5;
        c.open();
        for (int i = 0; i < 50; i++) c.put("k" + std::to_string(i % 5), std::to_string(i));
        ASSERT_TRUE(c.log->close().ok());
        for (int s = 0; s < crash_after; s++) ASSERT_TRUE(c.log->clean_step().ok());
        c.log.reset();
        c.w.crash();
        c.open();
        auto seen = LogWorld::read_all(*c.log);
        expect_offsets_and_order_kept(seen, c.appended);
        std::map<std::string, std::optional<std::string>> last;
        for (const Seen& s : seen) last[*s.key] = s.value;
        EXPECT_EQ(last, c.latest_appended()) << "crash after " << crash_after;
        c.clean_fully();
        expect_offsets_and_order_kept(LogWorld::read_all(*c.log), c.appended);
    }
}

// A cleaned segment whose last records were superseded keeps its offset range up to the
// next segment; truncating into that emptied tail (after the later segments went) must
// end the log at the last record the segment still holds, not trip an assertion.
TEST(Compaction, TruncatingIntoTheEmptiedTailOfACleanedSegmentEndsAtItsLastRecord) {
    Compacted c(300);
    c.open();
    // Every 5th record has a key of its own (it stays); the others are overwritten later.
    for (int i = 0; i < 60; i++) c.put(i % 5 == 0 ? "u" + std::to_string(i) : "k" + std::to_string(i % 3), std::to_string(i));
    ASSERT_GE(c.log->segments().size(), 3u);
    EXPECT_GT(c.clean_fully(), 0);
    // The first segment's last record was superseded later: find an offset in a gap
    // at the end of a cleaned segment.
    auto segs = c.log->segments();
    std::vector<Seen> seen = LogWorld::read_all(*c.log);
    std::optional<int64_t> gap;
    for (size_t i = 0; i + 1 < segs.size() && !gap; i++) {
        int64_t last_held = -1;
        for (const Seen& s : seen) {
            if (s.offset >= segs[i].base_offset.value() && s.offset < segs[i + 1].base_offset.value()) last_held = s.offset;
        }
        if (last_held >= 0 && last_held + 1 < segs[i + 1].base_offset.value()) gap = last_held + 1;
    }
    ASSERT_TRUE(gap.has_value()) << "no cleaned segment with an emptied tail";
    ASSERT_TRUE(c.log->truncate_to(Offset(*gap)).ok());
    EXPECT_LE(c.log->log_end_offset(), Offset(*gap));
    std::vector<Seen> after = LogWorld::read_all(*c.log);
    ASSERT_FALSE(after.empty());
    EXPECT_EQ(c.log->log_end_offset(), Offset(after.back().offset + 1));
    Offset end = c.log->log_end_offset();
    c.put("after", "truncation");
    EXPECT_EQ(c.log->log_end_offset(), end + 1);
}

}  // namespace
}  // namespace keel::log
