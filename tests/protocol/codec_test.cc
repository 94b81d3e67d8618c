#include <gtest/gtest.h>

#include "core/protocol/api_keys.h"
#include "core/protocol/codec.h"
#include "core/protocol/error_codes.h"
#include "core/protocol/frame.h"

namespace keel::protocol {
namespace {

Bytes b(std::initializer_list<int> v) {
    Bytes out;
    for (int x : v) out.push_back(static_cast<uint8_t>(x));
    return out;
}

TEST(ProtocolCodec, ClassicAndCompactStringsMatchKafkaBytes) {
    Writer classic(false);
    classic.str("ab");
    classic.nullable_str(std::nullopt);
    EXPECT_EQ(classic.take(), b({0, 2, 'a', 'b', 0xff, 0xff}));

    Writer compact(true);
    compact.str("ab");
    compact.nullable_str(std::nullopt);
    compact.str("");
    EXPECT_EQ(compact.take(), b({3, 'a', 'b', 0, 1}));
}

TEST(ProtocolCodec, ArraysUseInt32CountOrUvarintCountPlusOne) {
    std::vector<int32_t> v = {7};
    Writer classic(false);
    classic.array(v, [&](int32_t x) { classic.i32(x); });
    classic.null_array();
    EXPECT_EQ(classic.take(), b({0, 0, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff}));

    Writer compact(true);
    compact.array(v, [&](int32_t x) { compact.i32(x); });
    compact.null_array();
    EXPECT_EQ(compact.take(), b({2, 0, 0, 0, 7, 0}));
}

TEST(ProtocolCodec, TaggedFieldsRoundTripAndUnknownTagsAreSkipped) {
    Writer w(true);
    w.tagged_fields({tagged(1, [](Writer& t) { t.i32(42); }),
                     tagged(7, [](Writer& t) { t.str("unknown to the reader"); })});
    w.i8(9);  // a field after the section
    Bytes bytes = w.take();
    EXPECT_EQ(bytes[0], 2);  // two fields
    Reader r(bytes, true);
    int32_t seen = 0;
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 1) return false;
        seen = t.i32();
        return true;
    });
    EXPECT_EQ(seen, 42);
    EXPECT_EQ(r.i8(), 9);
    EXPECT_TRUE(r.finish("test").ok());
}

TEST(ProtocolCodec, TaggedFieldsOutOfOrderAreRejectedWithAReason) {
    Bytes bytes = b({2, 5, 0, 3, 0});  // tag 5 then tag 3, both empty
    Reader r(bytes, true);
    r.skip_tagged_fields();
    Status s = r.finish("section");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::invalid_request);
    EXPECT_NE(s.error().message.find("out of order"), std::string::npos);
}

TEST(ProtocolCodec, AKnownTagWithLeftoverPayloadIsRejected) {
    Bytes bytes = b({1, 0, 5, 0, 0, 0, 1, 0xee});  // tag 0, 5 bytes, reader takes 4
    Reader r(bytes, true);
    r.tagged_fields([](uint32_t, Reader& t) {
        (void)t.i32();
        return true;
    });
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error().find("trailing"), std::string::npos);
}

TEST(ProtocolCodec, LengthsBeyondTheInputAreRejectedBeforeAllocating) {
    // An array claiming two billion elements in 4 bytes.
    Bytes arr = b({0x7f, 0xff, 0xff, 0xff});
    Reader r(arr, false);
    std::vector<int32_t> out;
    r.array(out, [&](int32_t& x) { x = r.i32(); });
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(out.empty());
    EXPECT_NE(r.error().find("cannot fit"), std::string::npos);

    Bytes bytes = b({0x7f, 0xff, 0xff, 0xf0, 1, 2});
    Reader rb(bytes, false);
    (void)rb.bytes();
    EXPECT_FALSE(rb.ok());
    EXPECT_NE(rb.error().find("exceeds"), std::string::npos);
}

TEST(ProtocolCodec, ReadsAfterAFailureReturnZeroAndKeepTheFirstReason) {
    Bytes bytes = b({0, 1});
    Reader r(bytes, false);
    EXPECT_EQ(r.i32(), 0);
    std::string first = r.error();
    EXPECT_EQ(r.i64(), 0);
    EXPECT_EQ(r.str(), "");
    EXPECT_EQ(r.error(), first);
    EXPECT_NE(first.find("truncated"), std::string::npos);
}

TEST(ProtocolCodec, TrailingBytesFailFinish) {
    Bytes bytes = b({0, 0, 0, 1, 0});
    Reader r(bytes, false);
    EXPECT_EQ(r.i32(), 1);
    Status s = r.finish("Thing v0");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, "Thing v0: 1 trailing bytes");
}

TEST(ProtocolCodec, UuidIsSixteenBigEndianBytes) {
    Writer w;
    w.uuid(metadata_topic_id);
    Bytes bytes = w.take();
    ASSERT_EQ(bytes.size(), 16u);
    EXPECT_EQ(bytes[15], 1);
    Reader r(bytes, false);
    EXPECT_EQ(r.uuid(), metadata_topic_id);
}

TEST(RequestHeader, V1AndV2MatchKafkaLayout) {
    // ApiVersions v0 (not flexible): header v1.
    RequestHeader h{ApiKey::api_versions, 0, 7, std::string("kcat")};
    Writer w(false);
    write_request_header(w, h);
    EXPECT_EQ(w.take(), b({0, 18, 0, 0, 0, 0, 0, 7, 0, 4, 'k', 'c', 'a', 't'}));

    // Vote v0 is flexible: header v2 keeps the classic client id, then tagged fields.
    RequestHeader v{ApiKey::vote, 0, 1, std::nullopt};
    Writer wv(true);
    write_request_header(wv, v);
    EXPECT_EQ(wv.take(), b({0, 52, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0}));
}

TEST(RequestHeader, DecodesAndSplitsOffTheBody) {
    Bytes frame = b({0, 52, 0, 2, 0, 0, 0, 9, 0, 1, 'x', 0, 0xab});
    auto f = decode_request_frame(frame);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    EXPECT_EQ(f->header.api_key, ApiKey::vote);
    EXPECT_EQ(f->header.api_version, 2);
    EXPECT_EQ(f->header.correlation_id, 9);
    EXPECT_EQ(f->header.client_id, "x");
    ASSERT_EQ(f->body.size(), 1u);
    EXPECT_EQ(f->body[0], 0xab);
}

TEST(RequestHeader, UnknownApiKeyIsUnsupportedVersion) {
    Bytes frame = b({0x7f, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff});
    auto f = decode_request_frame(frame);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.code(), Errc::unsupported_version);
    EXPECT_NE(f.error().message.find("unknown api key"), std::string::npos);
    EXPECT_EQ(peek_correlation_id(frame), 1);
}

TEST(RequestHeader, OversizedFramesAreRejected) {
    Bytes frame(64, 0);
    auto f = decode_request_frame(frame, 32);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.code(), Errc::invalid_request);
    EXPECT_NE(f.error().message.find("exceeds"), std::string::npos);
    EXPECT_FALSE(frame_size_from_prefix(b({0x80, 0, 0, 0})).ok());
    EXPECT_FALSE(frame_size_from_prefix(b({0x10, 0, 0, 0}), 1024).ok());
    EXPECT_EQ(*frame_size_from_prefix(b({0, 0, 1, 0})), 256u);
}

TEST(ResponseHeader, ApiVersionsKeepsHeaderV0EvenWhenFlexible) {
    EXPECT_EQ(response_header_version(ApiKey::api_versions, 3), 0);
    EXPECT_EQ(response_header_version(ApiKey::fetch, 11), 0);
    EXPECT_EQ(response_header_version(ApiKey::fetch, 12), 1);
    EXPECT_EQ(request_header_version(ApiKey::fetch, 11), 1);
    EXPECT_EQ(request_header_version(ApiKey::fetch, 12), 2);
    EXPECT_EQ(request_header_version(ApiKey::begin_quorum_epoch, 0), 1);
    EXPECT_EQ(request_header_version(ApiKey::vote, 0), 2);
}

TEST(ApiKeys, CarryKafkaNumbers) {
    EXPECT_EQ(static_cast<int>(ApiKey::api_versions), 18);
    EXPECT_EQ(static_cast<int>(ApiKey::create_topics), 19);
    EXPECT_EQ(static_cast<int>(ApiKey::vote), 52);
    EXPECT_EQ(static_cast<int>(ApiKey::fetch_snapshot), 59);
    EXPECT_EQ(static_cast<int>(ApiKey::broker_heartbeat), 63);
    EXPECT_EQ(api_name(ApiKey::end_quorum_epoch), "EndQuorumEpoch");
    EXPECT_FALSE(api_info(int16_t{200}).has_value());
    EXPECT_FALSE(api_info(int16_t{-1}).has_value());
}

TEST(ErrorCodes, MapEveryErrcToAKafkaCodeAndKnownCodesBack) {
    for (int i = static_cast<int>(Errc::timeout); i <= static_cast<int>(Errc::unknown); i++) {
        Errc e = static_cast<Errc>(i);
        ErrorCode code = to_error_code(e);
        EXPECT_NE(code, ErrorCode::none) << errc_name(e);
    }
    EXPECT_EQ(to_error_code(Errc::not_leader), ErrorCode::not_leader_or_follower);
    EXPECT_EQ(static_cast<int>(to_error_code(Errc::fenced_leader_epoch)), 74);
    EXPECT_EQ(static_cast<int>(to_error_code(Errc::invalid_partition_epoch)), 95);
    EXPECT_EQ(static_cast<int>(to_error_code(Errc::ineligible_replica)), 107);
    EXPECT_EQ(to_errc(ErrorCode::not_leader_or_follower), Errc::not_leader);
    EXPECT_EQ(to_errc(ErrorCode::invalid_update_version), Errc::invalid_partition_epoch);
    EXPECT_EQ(to_errc(static_cast<ErrorCode>(12345)), Errc::unknown);
    EXPECT_TRUE(status_from(ErrorCode::none).ok());
    Status s = status_from(ErrorCode::fenced_leader_epoch, "fetch from node 3");
    EXPECT_EQ(s.code(), Errc::fenced_leader_epoch);
    EXPECT_EQ(s.error().message, "FENCED_LEADER_EPOCH: fetch from node 3");
    EXPECT_EQ(error_code_name(static_cast<ErrorCode>(-7)), "UNKNOWN_ERROR_CODE_-7");
}

// Errc values that round-trip through the wire unchanged: the ones a peer must be able to
// tell apart.
TEST(ErrorCodes, ReplicationErrorsRoundTrip) {
    for (Errc e : {Errc::offset_out_of_range, Errc::not_leader, Errc::fenced_leader_epoch,
                   Errc::unknown_leader_epoch, Errc::not_enough_replicas,
                   Errc::not_enough_replicas_after_append, Errc::unknown_topic_or_partition,
                   Errc::topic_already_exists, Errc::invalid_replication_factor,
                   Errc::not_controller, Errc::stale_broker_epoch, Errc::invalid_partition_epoch,
                   Errc::ineligible_replica, Errc::invalid_request, Errc::unsupported_version,
                   Errc::corrupt_record, Errc::invalid_record, Errc::message_too_large,
                   Errc::timeout}) {
        EXPECT_EQ(to_errc(to_error_code(e)), e) << errc_name(e);
    }
}

}  // namespace
}  // namespace keel::protocol
