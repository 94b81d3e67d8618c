// DescribeQuorum v0-v2 (API 55): round trips at every version, Kafka's layout byte by
// byte (built by hand from DescribeQuorum{Request,Response}.json), and bad frames —
// every truncation, random mutations — rejected with a named reason, never a crash.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/protocol/describe_quorum.h"
#include "core/protocol/frame.h"
#include "tests/protocol/message_gen.h"

namespace keel::protocol {
namespace {

using namespace keel::protocol::testing;
using Response = DescribeQuorumResponse;

DescribeQuorumRequest gen_request() {
    DescribeQuorumRequest m;
    m.topics = gen_vec<DescribeQuorumRequest::TopicData>([] {
        DescribeQuorumRequest::TopicData t;
        t.topic_name = gen_string();
        t.partitions = gen_vec<DescribeQuorumRequest::PartitionData>(
            [] { return DescribeQuorumRequest::PartitionData{i32()}; });
        return t;
    });
    return m;
}

Response::ReplicaState gen_replica_state() {
    return Response::ReplicaState{NodeId(i32()), gen_uuid(), Offset(i64()), i64(), i64()};
}

Response gen_response() {
    Response m;
    m.error_code = gen_error();
    m.error_message = gen_nullable_string();
    m.topics = gen_vec<Response::TopicData>([] {
        Response::TopicData t;
        t.topic_name = gen_string();
        t.partitions = gen_vec<Response::PartitionData>([] {
            Response::PartitionData p;
            p.partition_index = i32();
            p.error_code = gen_error();
            p.error_message = gen_nullable_string();
            p.leader_id = NodeId(i32());
            p.leader_epoch = QuorumEpoch(i32());
            p.high_watermark = Offset(i64());
            p.current_voters = gen_vec<Response::ReplicaState>(gen_replica_state);
            p.observers = gen_vec<Response::ReplicaState>(gen_replica_state);
            return p;
        });
        return t;
    });
    m.nodes = gen_vec<Response::Node>([] {
        Response::Node n;
        n.node_id = NodeId(i32());
        n.listeners = gen_vec<Response::Listener>([] {
            return Response::Listener{gen_string(), gen_string(), *rc::gen::arbitrary<uint16_t>()};
        });
        return n;
    });
    return m;
}

// What a message looks like after a trip through `version`: the fields that version
// lacks are back at their schema defaults.
Response as_seen_at(Response m, int16_t version) {
    auto replica = [&](Response::ReplicaState& s) {
        if (version < 2) s.replica_directory_id = Uuid{};
        if (version < 1) s.last_fetch_timestamp = s.last_caught_up_timestamp = -1;
    };
    if (version < 2) {
        m.error_message.reset();
        m.nodes.clear();
    }
    for (auto& t : m.topics) {
        for (auto& p : t.partitions) {
            if (version < 2) p.error_message.reset();
            for (auto& s : p.current_voters) replica(s);
            for (auto& s : p.observers) replica(s);
        }
    }
    return m;
}

TEST(DescribeQuorumMessages, RequestsRoundTripAtEveryVersion) {
    EXPECT_TRUE(rc::check([] {
        DescribeQuorumRequest m = gen_request();
        for (int16_t v = 0; v <= 2; v++) {
            auto back = decode_body<DescribeQuorumRequest>(encode_body(m, v), v);
            RC_ASSERT(back.ok());
            RC_ASSERT(*back == m);
        }
    }));
}

TEST(DescribeQuorumMessages, ResponsesRoundTripAtEveryVersionKeepingThatVersionsFields) {
    EXPECT_TRUE(rc::check([] {
        Response m = gen_response();
        for (int16_t v = 0; v <= 2; v++) {
            Bytes once = encode_body(m, v);
            auto back = decode_body<Response>(once, v);
            RC_ASSERT(back.ok());
            RC_ASSERT(*back == as_seen_at(m, v));
            RC_ASSERT(encode_body(*back, v) == once);
        }
    }));
}

TEST(DescribeQuorumMessages, OlderVersionsAreShorterByExactlyTheirMissingFields) {
    Response m;
    m.error_message = "boom";  // v2 only: 1 + 4 bytes
    Response::PartitionData p;
    p.current_voters.push_back({NodeId(1), Uuid{1, 2}, Offset(5), 10, 20});
    m.topics.push_back({"t", {p}});
    // v2 adds the message (5), the partition message (1, null), the directory id (16) and
    // Nodes (1, empty); v1 adds the two timestamps (16).
    EXPECT_EQ(encode_body(m, 2).size(), encode_body(m, 1).size() + 5 + 1 + 16 + 1);
    EXPECT_EQ(encode_body(m, 1).size(), encode_body(m, 0).size() + 16);
}

// Written out by hand from Kafka's schemas, not by the Writer under test.
TEST(DescribeQuorumMessages, RequestV0FrameMatchesKafkaLayout) {
    DescribeQuorumRequest m;
    m.topics.push_back({"__cluster_metadata", {{0}}});
    Bytes frame = encode_request(RequestHeader{ApiKey::describe_quorum, 0, 7, std::string("ops")}, m);
    Bytes want = {
        0x00, 0x37,              // api key 55
        0x00, 0x00,              // api version 0
        0x00, 0x00, 0x00, 0x07,  // correlation id
        0x00, 0x03, 'o', 'p', 's',  // client id: classic string, even in header v2
        0x00,                    // header tags (v2: DescribeQuorum is flexible from v0)
        0x02,                    // Topics: compact array of 1
        0x13,                    // TopicName: compact string of 18
        '_', '_', 'c', 'l', 'u', 's', 't', 'e', 'r', '_', 'm', 'e', 't', 'a', 'd', 'a', 't', 'a',
        0x02,                    // Partitions: 1
        0x00, 0x00, 0x00, 0x00,  // PartitionIndex 0
        0x00,                    // partition tags
        0x00,                    // topic tags
        0x00,                    // body tags
    };
    EXPECT_EQ(frame, want);
}

TEST(DescribeQuorumMessages, ResponseV2FrameMatchesKafkaLayout) {
    Response m;
    Response::PartitionData p;
    p.leader_id = NodeId(1);
    p.leader_epoch = QuorumEpoch(5);
    p.high_watermark = Offset(10);
    p.current_voters.push_back({NodeId(1), Uuid{1, 2}, Offset(12), 1'700'000'000'000, -1});
    m.topics.push_back({"__cluster_metadata", {p}});
    m.nodes.push_back({NodeId(1), {{"CONTROLLER", "c1", 9093}}});
    Bytes want = {
        0x00, 0x00, 0x00, 0x2a,  // correlation id 42
        0x00,                    // response header v1 tags
        0x00, 0x00,              // ErrorCode
        0x00,                    // ErrorMessage: null (v2)
        0x02,                    // Topics: 1
        0x13,                    // TopicName: 18 bytes
        '_', '_', 'c', 'l', 'u', 's', 't', 'e', 'r', '_', 'm', 'e', 't', 'a', 'd', 'a', 't', 'a',
        0x02,                    // Partitions: 1
        0x00, 0x00, 0x00, 0x00,  // PartitionIndex
        0x00, 0x00,              // ErrorCode
        0x00,                    // ErrorMessage: null (v2)
        0x00, 0x00, 0x00, 0x01,  // LeaderId
        0x00, 0x00, 0x00, 0x05,  // LeaderEpoch
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,  // HighWatermark
        0x02,                    // CurrentVoters: 1
        0x00, 0x00, 0x00, 0x01,  //   ReplicaId
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  //   ReplicaDirectoryId (v2)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,  //   LogEndOffset 12
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  //   LastFetchTimestamp (v1+)
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //   LastCaughtUpTimestamp -1 (v1+)
        0x00,                    //   replica tags
        0x01,                    // Observers: 0
        0x00,                    // partition tags
        0x00,                    // topic tags
        0x02,                    // Nodes: 1 (v2, not tagged)
        0x00, 0x00, 0x00, 0x01,  //   NodeId
        0x02,                    //   Listeners: 1
        0x0b, 'C', 'O', 'N', 'T', 'R', 'O', 'L', 'L', 'E', 'R',  // Name
        0x03, 'c', '1',          //     Host
        0x23, 0x85,              //     Port 9093 (uint16)
        0x00,                    //     listener tags
        0x00,                    //   node tags
        0x00,                    // body tags
    };
    EXPECT_EQ(encode_response(42, 2, m), want);
    int32_t corr = 0;
    auto back = decode_response<Response>(want, 2, &corr);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(corr, 42);
    EXPECT_EQ(*back, m);
}

// Unknown tagged fields are kept and written back (Kafka relays them the same way).
TEST(DescribeQuorumMessages, UnknownTaggedFieldsAreKept) {
    DescribeQuorumRequest m;
    m.topics.push_back({"__cluster_metadata", {{0}}});
    Bytes body = encode_body(m, 1);
    body.back() = 0x01;  // one tagged field in the body's section:
    for (uint8_t b : Bytes{0x05, 0x02, 0xaa, 0xbb}) body.push_back(b);  // tag 5, 2 bytes
    auto back = decode_body<DescribeQuorumRequest>(body, 1);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->topics, m.topics);
    EXPECT_EQ(back->unknown_tagged_fields, (RawTaggedFields{{5, Bytes{0xaa, 0xbb}}}));
    EXPECT_EQ(encode_body(*back, 1), body);
}

TEST(DescribeQuorumMessages, VersionThreeIsRefusedByName) {
    auto r = decode_body<DescribeQuorumRequest>(Bytes{0x01, 0x00}, 3);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::unsupported_version);
    EXPECT_EQ(r.error().message, "DescribeQuorumRequest v3 is not supported (supported: v0..v2)");
}

void expect_named_rejection(const Status& s) {
    RC_ASSERT(!s.ok());
    RC_ASSERT(s.code() == Errc::invalid_request);
    RC_ASSERT(!s.error().message.empty());
}

Status decode_request_frame_fully(ByteView frame) {
    auto f = decode_request_frame(frame);
    if (!f.ok()) return f.error();
    auto body = decode_request_body<DescribeQuorumRequest>(*f);
    return body.ok() ? ok_status() : Status(body.error());
}

TEST(DescribeQuorumMessages, EveryTruncationOfAValidRequestFrameIsRejected) {
    EXPECT_TRUE(rc::check([] {
        int16_t v = *rc::gen::inRange<int16_t>(0, 3);
        Bytes frame = encode_request(RequestHeader{ApiKey::describe_quorum, v, i32(), gen_nullable_string()},
                                     gen_request());
        RC_ASSERT(decode_request_frame_fully(frame).ok());
        for (size_t n = 0; n < frame.size(); n++) {
            expect_named_rejection(decode_request_frame_fully(ByteView(frame.data(), n)));
        }
    }));
}

TEST(DescribeQuorumMessages, EveryTruncationOfAValidResponseFrameIsRejected) {
    EXPECT_TRUE(rc::check([] {
        int16_t v = *rc::gen::inRange<int16_t>(0, 3);
        Bytes frame = encode_response(i32(), v, gen_response());
        RC_ASSERT(decode_response<Response>(frame, v).ok());
        for (size_t n = 0; n < frame.size(); n++) {
            auto r = decode_response<Response>(ByteView(frame.data(), n), v);
            expect_named_rejection(r.ok() ? ok_status() : Status(r.error()));
        }
    }));
}

TEST(DescribeQuorumMessages, RandomOrMutatedBytesNeverCrashTheDecoders) {
    EXPECT_TRUE(rc::check([] {
        int16_t v = *rc::gen::inRange<int16_t>(0, 3);
        Bytes b = *rc::gen::oneOf(rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>()),
                                  rc::gen::just(encode_body(gen_response(), v)));
        size_t flips = *rc::gen::inRange<size_t>(0, 4);
        for (size_t i = 0; i < flips && !b.empty(); i++) {
            b[*rc::gen::inRange<size_t>(0, b.size())] = *rc::gen::arbitrary<uint8_t>();
        }
        auto resp = decode_body<Response>(b, v);
        if (!resp.ok()) RC_ASSERT(!resp.error().message.empty());
        auto req = decode_body<DescribeQuorumRequest>(b, v);
        if (!req.ok()) RC_ASSERT(!req.error().message.empty());
    }));
}

}  // namespace
}  // namespace keel::protocol
