// Producer-state snapshots: Kafka's `.snapshot` layout byte for byte, round trips, corrupt
// files reported and never trusted, retention of the newest two, and recovery (rebuild).
#include <gtest/gtest.h>

#include "core/broker/producer_state.h"
#include "core/log/checkpoint.h"
#include "tests/broker/broker_test_util.h"

namespace keel::broker {
namespace {

using testing::DiskWorld;
using testing::header;
using testing::kT0;

Bytes from_hex(std::string_view hex) {
    Bytes out;
    std::string digits;
    for (char c : hex) {
        if (std::isxdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    }
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

std::vector<ProducerSnapshotEntry> example_entries() {
    return {
        {.producer_id = 1,
         .producer_epoch = 2,
         .last_sequence = 9,
         .last_offset = 19,
         .offset_delta = 4,
         .timestamp_ms = kT0},
        {.producer_id = 300, .producer_epoch = 0},  // an epoch without batches
    };
}

TEST(ProducerSnapshot, TheFileLayoutIsKafkasByteForByte) {
    // Hand-laid-out; the CRC-32C (0xe0b91769, of bytes 6..end) was computed with an
    // independent bit-at-a-time CRC-32C (check value crc32c("123456789") = 0xe3069283).
    Bytes expected = from_hex(
        "0001"              // version 1
        "e0b91769"          // crc
        "00000002"          // 2 entries
        "0000000000000001"  // producer_id 1
        "0002"              // epoch 2
        "00000009"          // last_sequence 9
        "0000000000000013"  // last_offset 19
        "00000004"          // offset_delta 4
        "0000018bcfe56800"  // timestamp 1700000000000
        "ffffffff"          // coordinator_epoch -1
        "ffffffffffffffff"  // current_txn_first_offset -1
        "000000000000012c"  // producer_id 300
        "0000"              // epoch 0
        "ffffffff"          // last_sequence -1
        "ffffffffffffffff"  // last_offset -1
        "00000000"          // offset_delta 0
        "ffffffffffffffff"  // timestamp -1
        "ffffffff"          // coordinator_epoch -1
        "ffffffffffffffff"  // current_txn_first_offset -1
    );
    ASSERT_EQ(expected.size(), kProducerSnapshotHeaderSize + 2 * kProducerSnapshotEntrySize);
    EXPECT_EQ(encode_producer_snapshot(example_entries()), expected);
    auto back = decode_producer_snapshot(expected);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, example_entries());
}

TEST(ProducerSnapshot, FileNamesAreTwentyDigitOffsets) {
    EXPECT_EQ(producer_snapshot_file_name(Offset(1234)), "00000000000000001234.snapshot");
    EXPECT_EQ(parse_producer_snapshot_file_name("00000000000000001234.snapshot"), Offset(1234));
    EXPECT_FALSE(
        parse_producer_snapshot_file_name("00000000000000001234.snapshot.tmp").has_value());
    EXPECT_FALSE(parse_producer_snapshot_file_name("00000000000000001234.log").has_value());
    EXPECT_FALSE(parse_producer_snapshot_file_name("0000000000000000123x.snapshot").has_value());
    EXPECT_FALSE(parse_producer_snapshot_file_name("1234.snapshot").has_value());
}

TEST(ProducerSnapshot, AnythingButASoundVersionOneFileIsCorrupt) {
    Bytes good = encode_producer_snapshot(example_entries());
    auto corrupt_code = [](const Bytes& b) {
        auto r = decode_producer_snapshot(b);
        return r.ok() ? Errc::unknown : r.code();
    };
    for (size_t i = 0; i < good.size(); i++) {
        Bytes flipped = good;
        flipped[i] ^= 0x10;
        EXPECT_EQ(corrupt_code(flipped), Errc::corrupt) << "byte " << i;
    }
    EXPECT_EQ(corrupt_code(Bytes(good.begin(), good.end() - 1)), Errc::corrupt);
    EXPECT_EQ(corrupt_code(Bytes(good.begin(), good.begin() + 5)), Errc::corrupt);
    Bytes trailing = good;
    trailing.push_back(0);
    EXPECT_EQ(corrupt_code(trailing), Errc::corrupt);
    auto twice = example_entries();
    twice[1].producer_id = 1;
    EXPECT_EQ(corrupt_code(encode_producer_snapshot(twice)), Errc::corrupt);
    auto negative_delta = example_entries();
    negative_delta[0].offset_delta = -1;
    EXPECT_EQ(corrupt_code(encode_producer_snapshot(negative_delta)), Errc::corrupt);
    EXPECT_TRUE(decode_producer_snapshot(encode_producer_snapshot({})).ok());
}

// A leader that wrote: producer 1 batches of 2 at sequences 0..9, producer 2 one batch.
ProducerStateManager example_state() {
    ProducerStateManager s;
    int64_t at = 0;
    for (int i = 0; i < 5; i++, at += 2) s.update(header(1, 0, 2 * i, 2, 0, kT0 + i), Offset(at));
    s.update(header(2, 7, 100, 3, 0, kT0 + 9), Offset(at));
    return s;
}

TEST(ProducerSnapshot, ARoundTripKeepsEachProducersLastBatchAsKafkaDoes) {
    ProducerStateManager s = example_state();
    auto entries = s.snapshot_entries();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].producer_id, 1);
    EXPECT_EQ(entries[0].last_sequence, 9);
    EXPECT_EQ(entries[0].last_offset, 9);
    EXPECT_EQ(entries[0].offset_delta, 1);
    EXPECT_EQ(entries[0].timestamp_ms, kT0 + 4);
    auto decoded = decode_producer_snapshot(encode_producer_snapshot(entries));
    ASSERT_TRUE(decoded.ok());
    ProducerStateManager loaded;
    loaded.load_snapshot({Offset(13), *decoded}, kT0);
    EXPECT_EQ(loaded.map_end_offset(), Offset(13));
    const ProducerEntry* e = loaded.find(1);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->batches.size(), 1u);
    EXPECT_EQ(e->batches.front(), s.find(1)->batches.back());
    EXPECT_EQ(loaded.find(2)->batches.front(), s.find(2)->batches.back());
    // The last batch is still recognised; the older ones are not (only the last is kept).
    EXPECT_EQ(loaded.check(1, 0, 8, 2, true).outcome, SequenceOutcome::duplicate);
    EXPECT_EQ(loaded.check(1, 0, 6, 2, true).outcome, SequenceOutcome::out_of_order_sequence);
    EXPECT_TRUE(loaded.check(1, 0, 10, 1, true).accepted());
    EXPECT_EQ(loaded.check(2, 6, 0, 1, true).outcome, SequenceOutcome::invalid_producer_epoch);
}

TEST(ProducerSnapshot, LoadingSkipsProducersAlreadyExpired) {
    ProducerStateManager s(ProducerStateConfig{.producer_id_expiration_ms = 1000});
    s.update(header(1, 0, 0, 1, 0, kT0), Offset(0));
    s.update(header(2, 0, 0, 1, 0, kT0 + 5000), Offset(1));
    ProducerStateManager loaded(ProducerStateConfig{.producer_id_expiration_ms = 1000});
    loaded.load_snapshot({Offset(2), s.snapshot_entries()}, kT0 + 5500);
    EXPECT_EQ(loaded.find(1), nullptr);
    EXPECT_NE(loaded.find(2), nullptr);
}

TEST(ProducerSnapshot, WritingKeepsTheNewestTwoFiles) {
    DiskWorld w;
    ProducerStateManager s = example_state();
    for (int64_t at : {10, 20, 30}) ASSERT_TRUE(s.write_snapshot(*w.mount, w.dir, Offset(at)).ok());
    auto names = w.mount->list(w.dir);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"00000000000000000020.snapshot",
                                                "00000000000000000030.snapshot"}));
    w.crash();  // written durably: both survive power loss
    auto loaded = load_latest_snapshot(*w.mount, w.dir);
    ASSERT_TRUE(loaded.ok());
    ASSERT_TRUE(loaded->snapshot.has_value());
    EXPECT_EQ(loaded->snapshot->offset, Offset(30));
    EXPECT_EQ(loaded->snapshot->entries, s.snapshot_entries());
    EXPECT_TRUE(loaded->rejected.empty());
}

TEST(ProducerSnapshot, ACorruptNewestSnapshotIsReportedDeletedAndTheOlderOneUsed) {
    DiskWorld w;
    ProducerStateManager older = example_state();
    ASSERT_TRUE(older.write_snapshot(*w.mount, w.dir, Offset(12)).ok());
    ProducerStateManager newer = example_state();
    newer.update(header(3, 0, 0, 1), Offset(13));
    ASSERT_TRUE(newer.write_snapshot(*w.mount, w.dir, Offset(14)).ok());
    std::string path = w.dir + "/" + producer_snapshot_file_name(Offset(14));
    auto bytes = log::read_whole_file(*w.mount, path);
    ASSERT_TRUE(bytes.ok() && bytes->has_value());
    Bytes rotten = **bytes;
    rotten[20] ^= 0x04;  // bit rot inside an entry
    ASSERT_TRUE(log::write_file_atomically(*w.mount, path, rotten).ok());

    auto loaded = load_latest_snapshot(*w.mount, w.dir);
    ASSERT_TRUE(loaded.ok());
    ASSERT_TRUE(loaded->snapshot.has_value());
    EXPECT_EQ(loaded->snapshot->offset, Offset(12));
    EXPECT_EQ(loaded->snapshot->entries, older.snapshot_entries());
    ASSERT_EQ(loaded->rejected.size(), 1u);
    EXPECT_NE(loaded->rejected[0].find("CRC"), std::string::npos) << loaded->rejected[0];
    auto exists = w.mount->exists(path);
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists);
}

TEST(ProducerSnapshot, SnapshotsAboveTheLogEndAreIgnoredAndDeleted) {
    DiskWorld w;
    ProducerStateManager s = example_state();
    ASSERT_TRUE(s.write_snapshot(*w.mount, w.dir, Offset(5)).ok());
    ASSERT_TRUE(s.write_snapshot(*w.mount, w.dir, Offset(13)).ok());
    auto loaded = load_latest_snapshot(*w.mount, w.dir, Offset(8));  // the log was truncated to 8
    ASSERT_TRUE(loaded.ok());
    ASSERT_TRUE(loaded->snapshot.has_value());
    EXPECT_EQ(loaded->snapshot->offset, Offset(5));
    EXPECT_EQ(loaded->rejected.size(), 1u);
    auto none = load_latest_snapshot(*w.mount, "data/missing");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->snapshot.has_value());
}

TEST(ProducerSnapshot, SnapshotsBelowANewLogStartOffsetCanBeDeleted) {
    DiskWorld w;
    ProducerStateManager s = example_state();
    ASSERT_TRUE(s.write_snapshot(*w.mount, w.dir, Offset(5)).ok());
    ASSERT_TRUE(s.write_snapshot(*w.mount, w.dir, Offset(13)).ok());
    ASSERT_TRUE(delete_snapshots_before(*w.mount, w.dir, Offset(13)).ok());
    auto names = w.mount->list(w.dir);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, std::vector<std::string>{"00000000000000000013.snapshot"});
}

// A log of producer batches, read by offset as the partition log would serve them.
struct FakeLog {
    std::vector<log::BatchHeader> batches;
    int64_t end = 0;
    int reads = 0;

    void append(int64_t pid, int16_t epoch, int32_t seq, int32_t n) {
        batches.push_back(header(pid, epoch, seq, n, end, kT0 + end));
        end += n;
    }
    LogBatchReader reader() {
        return [this](Offset from, const BatchHeaderVisitor& visit) -> Status {
            reads++;
            for (const log::BatchHeader& h : batches) {
                if (h.last_offset() >= from) visit(h);
            }
            return ok_status();
        };
    }
};

TEST(ProducerSnapshot, RebuildLoadsTheSnapshotThenReplaysOnlyTheLogAfterIt) {
    DiskWorld w;
    FakeLog log;
    ProducerStateManager live;
    auto append = [&](int64_t pid, int16_t epoch, int32_t seq, int32_t n) {
        log.append(pid, epoch, seq, n);
        live.update(log.batches.back(), log.batches.back().base_offset);
    };
    for (int i = 0; i < 4; i++) append(1, 0, i, 1);
    ASSERT_TRUE(live.write_snapshot(*w.mount, w.dir, Offset(log.end)).ok());
    append(2, 0, 0, 3);
    append(1, 0, 4, 2);

    ProducerStateManager recovered;
    auto report = recovered.rebuild(*w.mount, w.dir, Offset(0), Offset(log.end), kT0, log.reader());
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->snapshot_offset, Offset(4));
    EXPECT_EQ(report->batches_replayed, 2);
    EXPECT_EQ(recovered.map_end_offset(), Offset(log.end));
    EXPECT_EQ(recovered.snapshot_entries(), live.snapshot_entries());
    EXPECT_EQ(recovered.check(1, 0, 4, 2, true).outcome, SequenceOutcome::duplicate);
    EXPECT_EQ(recovered.check(2, 0, 0, 3, true).outcome, SequenceOutcome::duplicate);
    EXPECT_TRUE(recovered.check(1, 0, 6, 1, true).accepted());
}

TEST(ProducerSnapshot, RebuildWithACorruptSnapshotReplaysTheWholeLogInstead) {
    DiskWorld w;
    FakeLog log;
    ProducerStateManager live;
    for (int i = 0; i < 7; i++) {
        log.append(1, 0, i, 1);
        live.update(log.batches.back(), log.batches.back().base_offset);
    }
    ASSERT_TRUE(live.write_snapshot(*w.mount, w.dir, Offset(log.end)).ok());
    std::string path = w.dir + "/" + producer_snapshot_file_name(Offset(log.end));
    ASSERT_TRUE(log::write_file_atomically(*w.mount, path, as_bytes("garbage")).ok());

    ProducerStateManager recovered;
    auto report = recovered.rebuild(*w.mount, w.dir, Offset(0), Offset(log.end), kT0, log.reader());
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->snapshot_offset.has_value());
    EXPECT_EQ(report->rejected_snapshots.size(), 1u);
    EXPECT_EQ(report->batches_replayed, 7);
    // The whole log replayed: all five cached batches are back, not just the last.
    ASSERT_NE(recovered.find(1), nullptr);
    EXPECT_EQ(recovered.find(1)->batches, live.find(1)->batches);
    EXPECT_EQ(recovered.check(1, 0, 2, 1, true).outcome, SequenceOutcome::duplicate);
}

TEST(ProducerSnapshot, RebuildDropsProducersExpiredByNow) {
    DiskWorld w;
    FakeLog log;
    log.append(1, 0, 0, 1);
    ProducerStateManager recovered(ProducerStateConfig{.producer_id_expiration_ms = 1000});
    auto report =
        recovered.rebuild(*w.mount, w.dir, Offset(0), Offset(log.end), kT0 + 10'000, log.reader());
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(recovered.producer_count(), 0u);
    EXPECT_EQ(log.reads, 1);
}

}  // namespace
}  // namespace keel::broker
