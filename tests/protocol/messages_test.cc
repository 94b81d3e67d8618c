#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/protocol/fetch.h"
#include "core/protocol/frame.h"
#include "core/protocol/kraft_messages.h"
#include "tests/protocol/message_gen.h"
#include "tests/protocol/round_trip.h"

namespace keel::protocol {
namespace {

using namespace keel::protocol::testing;

TEST(KraftMessages, VoteRoundTripsAtEveryVersion) {
    check_bytes_round_trip<VoteRequest>(gen_vote_request);
    check_bytes_round_trip<VoteResponse>(gen_vote_response);
    check_value_round_trip<VoteRequest>(2, gen_vote_request, no_projection);
    check_value_round_trip<VoteResponse>(2, gen_vote_response, no_projection);
}

TEST(KraftMessages, QuorumEpochRpcsRoundTripAtEveryVersion) {
    check_bytes_round_trip<BeginQuorumEpochRequest>(gen_begin_quorum_epoch_request);
    check_bytes_round_trip<BeginQuorumEpochResponse>(
        gen_quorum_epoch_response<BeginQuorumEpochResponse>);
    check_bytes_round_trip<EndQuorumEpochRequest>(gen_end_quorum_epoch_request);
    check_bytes_round_trip<EndQuorumEpochResponse>(
        gen_quorum_epoch_response<EndQuorumEpochResponse>);
    check_value_round_trip<BeginQuorumEpochRequest>(1, gen_begin_quorum_epoch_request,
                                                    no_projection);
    check_value_round_trip<EndQuorumEpochRequest>(
        1, gen_end_quorum_epoch_request, [](EndQuorumEpochRequest& m) {
            for (auto& t : m.topics)
                for (auto& p : t.partitions) p.preferred_successors.clear();  // v0 only
        });
    check_value_round_trip<EndQuorumEpochResponse>(
        1, gen_quorum_epoch_response<EndQuorumEpochResponse>, no_projection);
}

TEST(KraftMessages, FetchSnapshotRoundTripsAtEveryVersion) {
    check_bytes_round_trip<FetchSnapshotRequest>(gen_fetch_snapshot_request);
    check_bytes_round_trip<FetchSnapshotResponse>(gen_fetch_snapshot_response);
    check_value_round_trip<FetchSnapshotRequest>(1, gen_fetch_snapshot_request, no_projection);
    check_value_round_trip<FetchSnapshotResponse>(1, gen_fetch_snapshot_response, no_projection);
}

TEST(FetchMessages, RoundTripAtEveryVersionFrom4To17) {
    check_bytes_round_trip<FetchRequest>(gen_fetch_request);
    check_bytes_round_trip<FetchResponse>(gen_fetch_response);
    // v12: flexible, topic names. v17: topic ids, ReplicaState tag, directory ids.
    check_value_round_trip<FetchRequest>(12, gen_fetch_request, [](FetchRequest& m) {
        m.replica_epoch = -1;
        for (auto& t : m.topics) {
            t.topic_id = Uuid{};
            for (auto& p : t.partitions) p.replica_directory_id = Uuid{};
        }
        for (auto& t : m.forgotten_topics_data) t.topic_id = Uuid{};
    });
    check_value_round_trip<FetchRequest>(17, gen_fetch_request, [](FetchRequest& m) {
        for (auto& t : m.topics) t.topic.clear();
        for (auto& t : m.forgotten_topics_data) t.topic.clear();
    });
    check_value_round_trip<FetchResponse>(17, gen_fetch_response, [](FetchResponse& m) {
        for (auto& t : m.responses) t.topic.clear();
    });
}

TEST(FetchMessages, NonFlexibleV11RequestMatchesKafkaLayout) {
    FetchRequest m;
    m.replica_id = NodeId(-1);
    m.max_wait_ms = 500;
    m.min_bytes = 1;
    m.max_bytes = 1024;
    m.isolation_level = 1;
    m.session_epoch = -1;
    m.topics.push_back({"t", Uuid{}, {{0, -1, Offset(5), -1, Offset(-1), 100, Uuid{}}}});
    Bytes got = encode_body(m, 11);
    ByteWriter want;
    want.i32(-1);          // ReplicaId
    want.i32(500);         // MaxWaitMs
    want.i32(1);           // MinBytes
    want.i32(1024);        // MaxBytes
    want.i8(1);            // IsolationLevel
    want.i32(0);           // SessionId
    want.i32(-1);          // SessionEpoch
    want.i32(1);           // Topics count
    want.string("t");
    want.i32(1);           // Partitions count
    want.i32(0);           // Partition
    want.i32(-1);          // CurrentLeaderEpoch
    want.i64(5);           // FetchOffset
    want.i64(-1);          // LogStartOffset
    want.i32(100);         // PartitionMaxBytes
    want.i32(0);           // ForgottenTopicsData count
    want.string("");       // RackId
    EXPECT_EQ(got, want.take());
}

TEST(FetchMessages, DivergingEpochTravelsAsTagZeroOnlyWhenSet) {
    FetchResponse m;
    FetchResponse::PartitionData p;
    p.records = to_bytes("abc");
    m.responses.push_back({"", metadata_topic_id, {p}});
    Bytes plain = encode_body(m, 17);
    m.responses[0].partitions[0].diverging_epoch = {3, Offset(42)};
    Bytes diverged = encode_body(m, 17);
    EXPECT_GT(diverged.size(), plain.size());
    auto back = decode_body<FetchResponse>(diverged, 17);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->responses[0].partitions[0].diverging_epoch.epoch, 3);
    EXPECT_EQ(back->responses[0].partitions[0].diverging_epoch.end_offset, Offset(42));
    EXPECT_EQ(back->responses[0].partitions[0].records, to_bytes("abc"));
}

TEST(KraftMessages, VoteRequestV0MatchesKafkaLayout) {
    VoteRequest m;
    m.cluster_id = std::nullopt;
    m.topics.push_back({"m", {{0, QuorumEpoch(5), NodeId(2), {}, {}, QuorumEpoch(4),
                               Offset(10), false}}});
    ByteWriter want;
    want.uvarint(0);  // ClusterId: compact null
    want.uvarint(2);  // Topics: 1 element
    want.uvarint(2);  // TopicName "m"
    want.raw("m");
    want.uvarint(2);  // Partitions: 1 element
    want.i32(0);
    want.i32(5);
    want.i32(2);
    want.i32(4);
    want.i64(10);
    want.uvarint(0);  // partition tags
    want.uvarint(0);  // topic tags
    want.uvarint(0);  // body tags
    EXPECT_EQ(encode_body(m, 0), want.take());
}

TEST(KraftMessages, UnsupportedVersionsAreNamed) {
    auto r = decode_body<VoteRequest>(Bytes{}, 3);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::unsupported_version);
    EXPECT_EQ(r.error().message, "VoteRequest v3 is not supported (supported: v0..v2)");
    auto f = decode_body<FetchRequest>(Bytes{}, 3);
    EXPECT_EQ(f.code(), Errc::unsupported_version);
}

TEST(Frames, RequestAndResponseFramesRoundTrip) {
    BeginQuorumEpochRequest req;
    req.cluster_id = "c";
    req.topics.push_back({"__cluster_metadata", {{0, {}, NodeId(1), QuorumEpoch(3)}}});
    RequestHeader h{ApiKey::begin_quorum_epoch, 1, 77, std::string("raft-1")};
    Bytes frame = encode_request(h, req);
    auto f = decode_request_frame(frame);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    EXPECT_EQ(f->header, h);
    auto body = decode_request_body<BeginQuorumEpochRequest>(*f);
    ASSERT_TRUE(body.ok()) << body.error().to_string();
    EXPECT_EQ(*body, req);
    EXPECT_FALSE(decode_request_body<VoteRequest>(*f).ok());

    BeginQuorumEpochResponse resp;
    resp.topics.push_back({"__cluster_metadata", {{0, ErrorCode::none, NodeId(1), QuorumEpoch(3)}}});
    Bytes rframe = encode_response(77, 1, resp);
    int32_t corr = 0;
    auto back = decode_response<BeginQuorumEpochResponse>(rframe, 1, &corr);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(corr, 77);
    EXPECT_EQ(*back, resp);
}

// Kafka's FetchSnapshotResponse.CurrentLeader has no defaults: an absent tag reads as
// leader 0, epoch 0 (the hand-written codec used -1, -1), and (0, 0) is not written.
TEST(KraftMessages, FetchSnapshotAbsentCurrentLeaderIsKafkasZeroDefault) {
    FetchSnapshotResponse r;
    r.topics.push_back({"__cluster_metadata", {FetchSnapshotResponse::PartitionSnapshot{}}});
    Bytes without = encode_body(r, 1);
    auto back = decode_body<FetchSnapshotResponse>(without, 1);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    const auto& leader = back->topics[0].partitions[0].current_leader;
    EXPECT_EQ(leader.leader_id, NodeId(0));
    EXPECT_EQ(leader.leader_epoch, QuorumEpoch(0));
    r.topics[0].partitions[0].current_leader = {NodeId(2), QuorumEpoch(7)};
    Bytes with = encode_body(r, 1);
    // tag 0 | size 9 | leader int32 | epoch int32 | the struct's empty tagged section
    EXPECT_EQ(with.size(), without.size() + 11);
    auto back2 = decode_body<FetchSnapshotResponse>(with, 1);
    ASSERT_TRUE(back2.ok());
    EXPECT_EQ(back2->topics[0].partitions[0].current_leader.leader_id, NodeId(2));
}

TEST(KraftMessages, LeaderChangeMessageRoundTrips) {
    LeaderChangeMessage m;
    m.leader_id = NodeId(2);
    m.voters = {{NodeId(1)}, {NodeId(2)}, {NodeId(3)}};
    m.granting_voters = {{NodeId(2)}, {NodeId(3)}};
    auto back = LeaderChangeMessage::decode_from_bytes(m.encode_to_bytes(0), 0);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
    // Kafka's bytes: version int16, leader int32, compact arrays of {voter int32, tags}, tags.
    EXPECT_EQ(m.encode_to_bytes(0), (Bytes{0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0,
                                           3, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0}));
    Bytes cut = m.encode_to_bytes(0);
    cut.pop_back();
    EXPECT_FALSE(LeaderChangeMessage::decode_from_bytes(cut, 0).ok());
}

}  // namespace
}  // namespace keel::protocol
