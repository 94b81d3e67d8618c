// The message bodies Keel decodes, for the protocol fuzz targets, and the round-trip
// oracle they share: a body that decodes must re-encode (at the same version) into bytes
// that decode to the same value.
#pragma once

#include <string>

#include "core/protocol/controller_messages.h"
#include "core/protocol/describe_quorum.h"
#include "core/protocol/fetch.h"
#include "core/protocol/frame.h"
#include "core/protocol/kraft_messages.h"
#include "fuzz/fuzz_check.h"

namespace keel::fuzz {

// Calls f.template operator()<Body>() for every request type (requests = true) or every
// response type; returns false if `index` names none (the list is indexed from 0).
template <typename F>
bool with_body_type(bool requests, size_t index, F&& f) {
    using namespace keel::protocol;
    size_t i = 0;
    bool found = false;
    auto one = [&]<typename B>() {
        if (i++ == index) {
            found = true;
            f.template operator()<B>();
        }
    };
    if (requests) {
        one.template operator()<VoteRequest>();
        one.template operator()<BeginQuorumEpochRequest>();
        one.template operator()<EndQuorumEpochRequest>();
        one.template operator()<FetchSnapshotRequest>();
        one.template operator()<FetchRequest>();
        one.template operator()<DescribeQuorumRequest>();
        one.template operator()<BrokerRegistrationRequest>();
        one.template operator()<BrokerHeartbeatRequest>();
        one.template operator()<AlterPartitionRequest>();
        one.template operator()<CreateTopicsRequest>();
    } else {
        one.template operator()<VoteResponse>();
        one.template operator()<BeginQuorumEpochResponse>();
        one.template operator()<EndQuorumEpochResponse>();
        one.template operator()<FetchSnapshotResponse>();
        one.template operator()<FetchResponse>();
        one.template operator()<DescribeQuorumResponse>();
        one.template operator()<BrokerRegistrationResponse>();
        one.template operator()<BrokerHeartbeatResponse>();
        one.template operator()<AlterPartitionResponse>();
        one.template operator()<CreateTopicsResponse>();
    }
    return found;
}
inline constexpr size_t kBodyTypes = 10;

// The index of the request type for `key`, if Keel decodes it.
inline std::optional<size_t> request_index(protocol::ApiKey key) {
    for (size_t i = 0; i < kBodyTypes; i++) {
        bool match = false;
        with_body_type(true, i, [&]<typename B>() { match = B::api_key == key; });
        if (match) return i;
    }
    return std::nullopt;
}

// Decodes `body` as B at `version`; if that succeeds, re-encodes and decodes again and
// requires the same value. Returns whether the first decode succeeded.
template <typename B>
bool round_trip_body(ByteView body, int16_t version) {
    auto first = protocol::decode_body<B>(body, version);
    if (!first.ok()) {
        FUZZ_CHECK(first.code() == Errc::invalid_request || first.code() == Errc::unsupported_version,
                   first.error().to_string());
        return false;
    }
    Bytes again = protocol::encode_body(*first, version);
    auto second = protocol::decode_body<B>(again, version);
    FUZZ_CHECK(second.ok(), std::string(B::name) + " v" + std::to_string(version) +
                                ": its own encoding does not decode: " + second.error().to_string());
    FUZZ_CHECK(*second == *first, std::string(B::name) + " v" + std::to_string(version) +
                                      ": decode(encode(decode(x))) != decode(x)");
    return true;
}

}  // namespace keel::fuzz
