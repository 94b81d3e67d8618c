// RapidCheck generators for the protocol messages (shared by the round-trip and fuzz
// tests). Call only inside rc::check properties.
#pragma once

#include <rapidcheck.h>

#include <optional>
#include <string>
#include <vector>

#include "core/protocol/fetch.h"
#include "core/protocol/kraft_messages.h"
#include "tests/protocol/generated/arbitrary.h"

namespace keel::protocol::testing {

inline std::string gen_string() {
    return *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 12),
                                            rc::gen::inRange('a', 'z'));
}
inline std::optional<std::string> gen_nullable_string() {
    if (*rc::gen::inRange(0, 4) == 0) return std::nullopt;
    return gen_string();
}
inline Bytes gen_bytes() {
    return *rc::gen::container<Bytes>(*rc::gen::inRange<size_t>(0, 40),
                                      rc::gen::arbitrary<uint8_t>());
}
inline int32_t i32() { return *rc::gen::arbitrary<int32_t>(); }
inline int64_t i64() { return *rc::gen::arbitrary<int64_t>(); }
inline Uuid gen_uuid() { return Uuid{*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()}; }
inline ErrorCode gen_error() { return static_cast<ErrorCode>(*rc::gen::inRange<int16_t>(-1, 130)); }
template <typename T, typename F>
std::vector<T> gen_vec(F&& one, int max = 3) {
    std::vector<T> v(static_cast<size_t>(*rc::gen::inRange(0, max + 1)));
    for (T& e : v) e = one();
    return v;
}

// The KRaft messages are generated code: their generators are the generated
// rc::Arbitrary specializations (tests/protocol/generated/arbitrary.h).
inline VoteRequest gen_vote_request() { return *rc::gen::arbitrary<VoteRequest>(); }
inline VoteResponse gen_vote_response() { return *rc::gen::arbitrary<VoteResponse>(); }
inline BeginQuorumEpochRequest gen_begin_quorum_epoch_request() {
    return *rc::gen::arbitrary<BeginQuorumEpochRequest>();
}
template <typename R>
R gen_quorum_epoch_response() {
    return *rc::gen::arbitrary<R>();
}
inline EndQuorumEpochRequest gen_end_quorum_epoch_request() {
    return *rc::gen::arbitrary<EndQuorumEpochRequest>();
}
inline FetchSnapshotRequest gen_fetch_snapshot_request() {
    return *rc::gen::arbitrary<FetchSnapshotRequest>();
}
inline FetchSnapshotResponse gen_fetch_snapshot_response() {
    return *rc::gen::arbitrary<FetchSnapshotResponse>();
}

inline FetchRequest gen_fetch_request() {
    FetchRequest m;
    m.cluster_id = gen_nullable_string();
    m.replica_id = NodeId(i32());
    m.replica_epoch = i64();
    m.max_wait_ms = i32();
    m.min_bytes = i32();
    m.max_bytes = i32();
    m.isolation_level = *rc::gen::arbitrary<int8_t>();
    m.session_id = i32();
    m.session_epoch = i32();
    m.topics = gen_vec<FetchRequest::FetchTopic>([] {
        FetchRequest::FetchTopic t;
        t.topic = gen_string();
        t.topic_id = gen_uuid();
        t.partitions = gen_vec<FetchRequest::FetchPartition>([] {
            return FetchRequest::FetchPartition{i32(), i32(), Offset(i64()), i32(),
                                                Offset(i64()), i32(), gen_uuid()};
        });
        return t;
    });
    m.forgotten_topics_data = gen_vec<FetchRequest::ForgottenTopic>([] {
        return FetchRequest::ForgottenTopic{gen_string(), gen_uuid(),
                                            gen_vec<int32_t>([] { return i32(); })};
    });
    m.rack_id = gen_string();
    return m;
}

inline FetchResponse gen_fetch_response() {
    FetchResponse m;
    m.throttle_time_ms = i32();
    m.error_code = gen_error();
    m.session_id = i32();
    m.responses = gen_vec<FetchResponse::FetchableTopicResponse>([] {
        FetchResponse::FetchableTopicResponse t;
        t.topic = gen_string();
        t.topic_id = gen_uuid();
        t.partitions = gen_vec<FetchResponse::PartitionData>([] {
            FetchResponse::PartitionData p;
            p.partition_index = i32();
            p.error_code = gen_error();
            p.high_watermark = Offset(i64());
            p.last_stable_offset = Offset(i64());
            p.log_start_offset = Offset(i64());
            p.diverging_epoch = {i32(), Offset(i64())};
            p.current_leader = {NodeId(i32()), i32()};
            p.snapshot_id = {Offset(i64()), i32()};
            if (*rc::gen::arbitrary<bool>()) {
                p.aborted_transactions = gen_vec<FetchResponse::AbortedTransaction>(
                    [] { return FetchResponse::AbortedTransaction{i64(), Offset(i64())}; });
            }
            p.preferred_read_replica = NodeId(i32());
            p.records = gen_bytes();
            return p;
        });
        return t;
    });
    m.node_endpoints = gen_vec<FetchResponse::NodeEndpoint>([] {
        return FetchResponse::NodeEndpoint{NodeId(i32()), gen_string(), i32(),
                                           gen_nullable_string()};
    });
    return m;
}

}  // namespace keel::protocol::testing
