// The dump renderings behind `keel dump-log`: what a learner sees, including damage.
#include <gtest/gtest.h>

#include "core/compression/batch.h"
#include "core/log/dump.h"
#include "core/log/offset_index.h"
#include "core/log/time_index.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Dump, ShowsBatchesAndRecordsLikeKafkaDumpLog) {
    RecordBatchBuilder::Fields f;
    f.base_offset = Offset(40);
    f.partition_leader_epoch = LeaderEpoch(3);
    RecordBatchBuilder b(f);
    RecordBatchBuilder::HeaderInput hdr{"trace", as_bytes("abc")};
    b.add(1700000000000, as_bytes("user-1"), as_bytes("hello"), std::span(&hdr, 1));
    b.add(1700000000005, as_bytes("user-2"), std::nullopt);
    Bytes seg = b.build();
    Bytes second = testing::numbered_batch(0, 2, 5, Compression::gzip);
    set_base_offset(second, Offset(42));
    seg.insert(seg.end(), second.begin(), second.end());
    DumpOptions o;
    o.codec = &compression::batch_codec();
    std::string text = dump_log_segment(seg, Offset(40), o);
    EXPECT_TRUE(has(text, "baseOffset: 40 lastOffset: 41 count: 2")) << text;
    EXPECT_TRUE(has(text, "partitionLeaderEpoch: 3")) << text;
    EXPECT_TRUE(has(text, "compresscodec: none")) << text;
    EXPECT_TRUE(has(text, "isvalid: true")) << text;
    EXPECT_TRUE(has(text, "| offset: 40 CreateTime: 1700000000000 keySize: 6 valueSize: 5")) << text;
    EXPECT_TRUE(has(text, "headerKeys: [trace=abc] key: user-1 payload: hello")) << text;
    EXPECT_TRUE(has(text, "payload: null (tombstone)")) << text;
    EXPECT_TRUE(has(text, "compresscodec: gzip")) << text;
    EXPECT_TRUE(has(text, "| offset: 43")) << text;
    EXPECT_TRUE(has(text, "Batches: 2")) << text;
    EXPECT_TRUE(has(text, "all CRCs valid")) << text;
}

TEST(Dump, MarksABadCrcAndStopsAtAnUnreadableBatch) {
    Bytes seg = testing::numbered_batch(0, 2);
    seg[70] ^= 0x04;
    Bytes torn = testing::numbered_batch(2, 2);
    seg.insert(seg.end(), torn.begin(), torn.begin() + 30);
    std::string text = dump_log_segment(seg, Offset(0), {});
    EXPECT_TRUE(has(text, "isvalid: false")) << text;
    EXPECT_TRUE(has(text, "unreadable batch")) << text;
    EXPECT_TRUE(has(text, "DAMAGED")) << text;
}

TEST(Dump, PrintsBinaryBytesEscapedAndLongValuesCut) {
    EXPECT_EQ(printable(Bytes{'a', 0x00, 0xff, '\\'}, 80), "a\\x00\\xff\\x5c");
    EXPECT_EQ(printable(to_bytes(std::string(10, 'x')), 4), "xxxx...");
}

TEST(Dump, ShowsIndexEntriesAndCheckpoints) {
    OffsetIndex idx(Offset(100));
    idx.append(Offset(110), 4096);
    EXPECT_EQ(dump_offset_index(idx.encode(), Offset(100)), "offset: 110 position: 4096\n");
    TimeIndex t(Offset(100));
    t.maybe_append(1700000000000, Offset(110));
    EXPECT_EQ(dump_time_index(t.encode(), Offset(100)), "timestamp: 1700000000000 offset: 110\n");
    EXPECT_TRUE(has(dump_offset_index(Bytes{0, 0, 0}, Offset(0)), "trailing bytes"));
    EXPECT_EQ(dump_leader_epoch_checkpoint("0\n1\n2 40\n"), "entries: 1\nepoch: 2 startOffset: 40\n");
    EXPECT_TRUE(has(dump_leader_epoch_checkpoint("junk"), "INVALID"));
    EXPECT_EQ(dump_offset_checkpoint("0\n1\norders 0 42\n"), "version: 0\nentries: 1\nentry: orders 0 42\n");
}

}  // namespace
}  // namespace keel::log
