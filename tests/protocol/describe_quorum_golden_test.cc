// DescribeQuorum v0-v2 golden bytes: the encodings of a few sample messages at every
// version, recorded from the hand-written codec before DescribeQuorum moved onto the
// generator (core/protocol/schemas/DescribeQuorum*.json). They pin the wire format: the
// generated codec must write exactly these bytes and read them back to the same message.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "core/protocol/describe_quorum.h"
#include "core/protocol/frame.h"
#include "tests/protocol/golden_bytes.h"

namespace keel::protocol {
namespace describe_quorum_golden {

using testing::expect_golden;

using Response = DescribeQuorumResponse;

DescribeQuorumRequest sample_request() {
    DescribeQuorumRequest m;
    DescribeQuorumRequest::TopicData t;
    t.topic_name = "__cluster_metadata";
    DescribeQuorumRequest::PartitionData p;
    p.partition_index = 0;
    t.partitions.push_back(p);
    m.topics.push_back(t);
    return m;
}

Response::ReplicaState replica(int32_t id, int64_t leo, int64_t fetch, int64_t caught_up) {
    Response::ReplicaState s;
    s.replica_id = NodeId(id);
    s.replica_directory_id = Uuid{0x0102030405060708ULL, 0x1112131415161718ULL + uint64_t(id)};
    s.log_end_offset = Offset(leo);
    s.last_fetch_timestamp = fetch;
    s.last_caught_up_timestamp = caught_up;
    return s;
}

Response::PartitionData sample_partition() {
    Response::PartitionData p;
    p.partition_index = 0;
    p.error_code = ErrorCode::none;
    p.leader_id = NodeId(1);
    p.leader_epoch = QuorumEpoch(7);
    p.high_watermark = Offset(42);
    p.current_voters = {replica(1, 50, -1, 1700000000000),
                        replica(2, 42, 1700000000100, 1700000000050)};
    p.observers = {replica(4, 10, 1700000000200, -1)};
    return p;
}

Response sample_response() {
    Response m;
    m.error_code = ErrorCode::none;
    Response::TopicData t;
    t.topic_name = "__cluster_metadata";
    t.partitions.push_back(sample_partition());
    m.topics.push_back(t);
    Response::Node n;
    n.node_id = NodeId(1);
    Response::Listener l;
    l.name = "CONTROLLER";
    l.host = "localhost";
    l.port = 9093;
    n.listeners.push_back(l);
    m.nodes.push_back(n);
    return m;
}

Response error_response() {
    Response m;
    m.error_code = ErrorCode::not_leader_or_follower;
    m.error_message = "not the leader";
    Response::TopicData t;
    t.topic_name = "t";
    Response::PartitionData p = sample_partition();
    p.error_code = ErrorCode::not_leader_or_follower;
    p.error_message = "partition error";
    p.leader_id = NodeId(-1);
    p.current_voters.clear();
    p.observers.clear();
    t.partitions.push_back(p);
    m.topics.push_back(t);
    return m;
}

// Fields the version lacks are back at their defaults after a trip through it.
Response as_seen_at(Response m, int16_t version) {
    if (version < 2) {
        m.error_message.reset();
        m.nodes.clear();
    }
    for (auto& t : m.topics) {
        for (auto& p : t.partitions) {
            if (version < 2) p.error_message.reset();
            for (auto* list : {&p.current_voters, &p.observers}) {
                for (auto& s : *list) {
                    if (version < 2) s.replica_directory_id = Uuid{};
                    if (version < 1) s.last_fetch_timestamp = s.last_caught_up_timestamp = -1;
                }
            }
        }
    }
    return m;
}

struct Golden {
    int16_t version;
    std::string_view hex;
};

TEST(DescribeQuorumGolden, Request) {
    const Golden golden[] = {
        {0, "02135f5f636c75737465725f6d657461646174610200000000000000"},
        {1, "02135f5f636c75737465725f6d657461646174610200000000000000"},
        {2, "02135f5f636c75737465725f6d657461646174610200000000000000"},
    };
    for (const auto& g : golden)
        expect_golden(sample_request(), g.version, g.hex, sample_request());
}

TEST(DescribeQuorumGolden, Response) {
    const Golden golden[] = {
        {0,
         "000002135f5f636c75737465725f6d65746164617461020000000000000000000100000007000000"
         "000000002a030000000100000000000000320000000002000000000000002a000200000004000000"
         "000000000a00000000"},
        {1,
         "000002135f5f636c75737465725f6d65746164617461020000000000000000000100000007000000"
         "000000002a03000000010000000000000032ffffffffffffffff0000018bcfe56800000000000200"
         "0000000000002a0000018bcfe568640000018bcfe56832000200000004000000000000000a000001"
         "8bcfe568c8ffffffffffffffff00000000"},
        {2,
         "00000002135f5f636c75737465725f6d657461646174610200000000000000000000010000000700"
         "0000000000002a0300000001010203040506070811121314151617190000000000000032ffffffff"
         "ffffffff0000018bcfe5680000000000020102030405060708111213141516171a00000000000000"
         "2a0000018bcfe568640000018bcfe568320002000000040102030405060708111213141516171c00"
         "0000000000000a0000018bcfe568c8ffffffffffffffff0000000200000001020b434f4e54524f4c"
         "4c45520a6c6f63616c686f73742385000000"},
    };
    for (const auto& g : golden) {
        expect_golden(sample_response(), g.version, g.hex,
                      as_seen_at(sample_response(), g.version));
    }
}

TEST(DescribeQuorumGolden, ErrorResponse) {
    const Golden golden[] = {
        {0, "000602027402000000000006ffffffff00000007000000000000002a0101000000"},
        {1, "000602027402000000000006ffffffff00000007000000000000002a0101000000"},
        {2,
         "00060f6e6f7420746865206c65616465720202740200000000000610706172746974696f6e206572"
         "726f72ffffffff00000007000000000000002a010100000100"},
    };
    for (const auto& g : golden) {
        expect_golden(error_response(), g.version, g.hex, as_seen_at(error_response(), g.version));
    }
}

}  // namespace describe_quorum_golden
}  // namespace keel::protocol
