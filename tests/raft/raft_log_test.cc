#include <gtest/gtest.h>

#include "core/log/record_batch.h"
#include "core/raft/entry_codec.h"
#include "core/raft/raft_log.h"
#include "core/raft/raft_wire.h"

namespace keel::raft {
namespace {

LogEntry entry(int64_t offset, int32_t epoch, std::string payload = "p") {
    return LogEntry{Offset(offset), QuorumEpoch(epoch), EntryKind::data, to_bytes(payload)};
}

// Epochs [1 1 4 4 4 6] at offsets 0..5.
RaftLog sample_log() {
    std::vector<LogEntry> entries;
    int epochs[] = {1, 1, 4, 4, 4, 6};
    for (int i = 0; i < 6; i++) entries.push_back(entry(i, epochs[i]));
    return *RaftLog::restore(std::nullopt, std::move(entries));
}

TEST(RaftLog, EndOffsetForEpochIsTheLargestEpochAtOrBelowAndWhereItEnds) {
    RaftLog log = sample_log();
    auto check = [&](int asked, int epoch, int64_t end) {
        RaftLog::EpochEnd e = log.end_offset_for_epoch(QuorumEpoch(asked));
        EXPECT_EQ(e.epoch, QuorumEpoch(epoch)) << "asked " << asked;
        EXPECT_EQ(e.end_offset, Offset(end)) << "asked " << asked;
    };
    check(0, 0, 0);  // the empty prefix
    check(1, 1, 2);
    check(2, 1, 2);  // epoch 2 never had entries here: epoch 1 ends at 2
    check(4, 4, 5);
    check(5, 4, 5);
    check(6, 6, 6);  // the last epoch ends at the log end
    check(9, 6, 6);
}

TEST(RaftLog, SnapshotBoundaryCountsAsTheEpochBeforeTheFirstEntry) {
    std::vector<LogEntry> entries = {entry(10, 5), entry(11, 7)};
    auto log = RaftLog::restore(SnapshotId{Offset(10), QuorumEpoch(4)}, std::move(entries));
    ASSERT_TRUE(log.ok());
    EXPECT_EQ(log->start(), Offset(10));
    EXPECT_EQ(log->epoch_at(Offset(9)), QuorumEpoch(4));
    EXPECT_EQ(log->end_offset_for_epoch(QuorumEpoch(4)).end_offset, Offset(10));
    EXPECT_EQ(log->end_offset_for_epoch(QuorumEpoch(6)).epoch, QuorumEpoch(5));
    EXPECT_EQ(log->end_offset_for_epoch(QuorumEpoch(6)).end_offset, Offset(11));
    log->truncate_to(Offset(10));
    EXPECT_EQ(log->last_epoch(), QuorumEpoch(4));
}

TEST(RaftLog, RestoreRejectsGapsAndDecreasingEpochs) {
    auto gap = RaftLog::restore(std::nullopt, {entry(0, 1), entry(2, 1)});
    ASSERT_FALSE(gap.ok());
    EXPECT_EQ(gap.code(), Errc::corrupt);
    auto back = RaftLog::restore(std::nullopt, {entry(0, 3), entry(1, 2)});
    EXPECT_EQ(back.code(), Errc::corrupt);
    auto wrong_start = RaftLog::restore(SnapshotId{Offset(5), QuorumEpoch(1)}, {entry(4, 1)});
    EXPECT_EQ(wrong_start.code(), Errc::corrupt);
}

TEST(RaftLog, ReadReturnsAtLeastOneEntryWithinTheByteBudget) {
    RaftLog log = sample_log();
    EXPECT_EQ(log.read(Offset(0), 0).size(), 1u);
    EXPECT_EQ(log.read(Offset(0), 2).size(), 2u);
    EXPECT_EQ(log.read(Offset(4), 1000).size(), 2u);
    EXPECT_TRUE(log.read(Offset(6), 1000).empty());
}

TEST(RaftLog, CompactionDropsThePrefixAndRemembersItsEpoch) {
    RaftLog log = sample_log();
    log.compact_to(SnapshotId{Offset(3), QuorumEpoch(4)});
    EXPECT_EQ(log.start(), Offset(3));
    EXPECT_EQ(log.end(), Offset(6));
    EXPECT_EQ(log.epoch_at(Offset(2)), QuorumEpoch(4));
    log.reset_to(SnapshotId{Offset(20), QuorumEpoch(9)});
    EXPECT_EQ(log.start(), Offset(20));
    EXPECT_EQ(log.end(), Offset(20));
    EXPECT_EQ(log.last_epoch(), QuorumEpoch(9));
}

TEST(EntryCodec, RoundTripsAndRejectsDamage) {
    std::vector<LogEntry> entries = {entry(7, 2, "hello"),
                                     LogEntry{Offset(8), QuorumEpoch(3), EntryKind::leader_change, {}}};
    Bytes b = encode_entries(entries);
    auto back = decode_entries(b);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, entries);
    EXPECT_TRUE(decode_entries(Bytes{})->empty());
    Bytes cut(b.begin(), b.end() - 1);
    EXPECT_EQ(decode_entries(cut).code(), Errc::invalid_record);
    Bytes flipped = b;
    flipped[b.size() - 2] ^= 0x40;  // inside the second batch's record: its CRC catches it
    auto r = decode_entries(flipped);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::invalid_record);
    EXPECT_NE(r.error().message.find("batch 1"), std::string::npos) << r.error().message;
    // Kafka's shape: each entry is one RecordBatch v2 whose partitionLeaderEpoch is the
    // entry's epoch; a LeaderChange is a control batch.
    auto first = log::read_batch(b);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->base_offset, Offset(7));
    EXPECT_EQ(first->partition_leader_epoch, LeaderEpoch(2));
    EXPECT_FALSE(first->is_control());
    auto second = log::read_batch(ByteView(b).subspan(first->size_bytes()));
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second->is_control());
}

TEST(RaftWire, MessagesSurviveTheKafkaFraming) {
    protocol::VoteRequest req;
    req.cluster_id = "c";
    req.topics.push_back({std::string(metadata_topic_name),
                          {{0, QuorumEpoch(3), NodeId(1), {}, {}, QuorumEpoch(2), Offset(9), true}}});
    Message m{NodeId(1), NodeId(2), 42, req};
    Bytes frame = encode_message(m, std::string("raft-1"));
    auto back = decode_request_message(NodeId(1), NodeId(2), frame);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->correlation_id, 42);
    EXPECT_EQ(std::get<protocol::VoteRequest>(back->body), req);

    protocol::FetchResponse resp;
    protocol::FetchResponse::PartitionData p;
    p.diverging_epoch = {2, Offset(5)};
    resp.responses.push_back({"", protocol::metadata_topic_id, {p}});
    Message r{NodeId(2), NodeId(1), 42, resp};
    auto rback = decode_response_message(NodeId(2), NodeId(1), protocol::ApiKey::fetch,
                                         encode_message(r, std::nullopt));
    ASSERT_TRUE(rback.ok()) << rback.error().to_string();
    EXPECT_EQ(std::get<protocol::FetchResponse>(rback->body), resp);

    Bytes produce = {0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0xff};  // Produce v3 header, no body
    auto rejected = decode_request_message(NodeId(1), NodeId(2), produce);
    ASSERT_FALSE(rejected.ok());
    EXPECT_EQ(rejected.code(), Errc::invalid_request);
}

}  // namespace
}  // namespace keel::raft
