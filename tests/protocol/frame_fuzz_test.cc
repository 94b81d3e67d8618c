// Frame-level fuzzing: random byte strings and mutated valid frames never crash the
// decoders (the build runs with ASan+UBSan), and every rejection is an Errc with a reason.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <functional>

#include "core/protocol/fetch.h"
#include "core/protocol/frame.h"
#include "core/protocol/kraft_messages.h"
#include "tests/protocol/message_gen.h"

namespace keel::protocol {
namespace {

using namespace keel::protocol::testing;

// Decodes a request frame and, if its header parses, its body for the APIs we implement.
Status decode_any_request(ByteView frame) {
    auto f = decode_request_frame(frame);
    if (!f.ok()) return f.error();
    auto body = [&]<typename B>() -> Status {
        auto r = decode_request_body<B>(*f);
        return r.ok() ? ok_status() : Status(r.error());
    };
    switch (f->header.api_key) {
        case ApiKey::vote: return body.template operator()<VoteRequest>();
        case ApiKey::begin_quorum_epoch: return body.template operator()<BeginQuorumEpochRequest>();
        case ApiKey::end_quorum_epoch: return body.template operator()<EndQuorumEpochRequest>();
        case ApiKey::fetch_snapshot: return body.template operator()<FetchSnapshotRequest>();
        case ApiKey::fetch: return body.template operator()<FetchRequest>();
        default: return Status(Errc::unsupported_version, "not implemented here");
    }
}

// Decodes `frame` as a response of every implemented type and version.
std::vector<Status> decode_as_every_response(ByteView frame) {
    std::vector<Status> out;
    auto each = [&]<typename B>() {
        for (int16_t v = B::version_min; v <= B::version_max; v++) {
            auto r = decode_response<B>(frame, v);
            out.push_back(r.ok() ? ok_status() : Status(r.error()));
        }
    };
    each.template operator()<VoteResponse>();
    each.template operator()<BeginQuorumEpochResponse>();
    each.template operator()<EndQuorumEpochResponse>();
    each.template operator()<FetchSnapshotResponse>();
    each.template operator()<FetchResponse>();
    return out;
}

void expect_named(const Status& s) {
    if (s.ok()) return;
    RC_ASSERT(s.code() == Errc::invalid_request || s.code() == Errc::unsupported_version);
    RC_ASSERT(!s.error().message.empty());
}

// A random valid request frame of one of the implemented APIs.
Bytes gen_valid_request_frame() {
    int which = *rc::gen::inRange(0, 5);
    RequestHeader h;
    h.correlation_id = i32();
    h.client_id = gen_nullable_string();
    auto frame = [&]<typename B>(B body) {
        h.api_key = B::api_key;
        h.api_version = *rc::gen::inRange<int16_t>(B::version_min, B::version_max + 1);
        return encode_request(h, body);
    };
    switch (which) {
        case 0: return frame(gen_vote_request());
        case 1: return frame(gen_begin_quorum_epoch_request());
        case 2: return frame(gen_end_quorum_epoch_request());
        case 3: return frame(gen_fetch_snapshot_request());
        default: return frame(gen_fetch_request());
    }
}

Bytes mutate(Bytes b) {
    int kind = *rc::gen::inRange(0, 4);
    if (b.empty()) return b;
    size_t at = *rc::gen::inRange<size_t>(0, b.size());
    switch (kind) {
        case 0: {  // flip a few bytes
            int n = *rc::gen::inRange(1, 4);
            for (int i = 0; i < n; i++) {
                size_t pos = *rc::gen::inRange<size_t>(0, b.size());
                b[pos] = *rc::gen::arbitrary<uint8_t>();
            }
            break;
        }
        case 1: b.resize(at); break;  // truncate
        case 2: {                     // insert garbage
            Bytes junk = gen_bytes();
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), junk.begin(), junk.end());
            break;
        }
        default: b[at] = 0xff; break;  // a length or count turned into -1 / huge
    }
    return b;
}

TEST(FrameFuzz, RandomBytesNeverCrashTheRequestDecoder) {
    EXPECT_TRUE(rc::check([] {
        Bytes b = *rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>());
        expect_named(decode_any_request(b));
    }));
}

TEST(FrameFuzz, RandomBytesWithAValidHeaderNeverCrashAnyBodyDecoder) {
    EXPECT_TRUE(rc::check([] {
        int16_t key = *rc::gen::element<int16_t>(1, 52, 53, 54, 59);
        auto info = api_info(key);
        RequestHeader h{info->key, *rc::gen::inRange<int16_t>(0, 20), 1, std::nullopt};
        Writer w(is_flexible(h.api_key, h.api_version));
        write_request_header(w, h);
        Bytes frame = w.take();
        Bytes body = *rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>());
        frame.insert(frame.end(), body.begin(), body.end());
        expect_named(decode_any_request(frame));
    }));
}

TEST(FrameFuzz, MutatedValidRequestFramesNeverCrashAndRejectionsNameAReason) {
    EXPECT_TRUE(rc::check([] {
        Bytes frame = gen_valid_request_frame();
        RC_ASSERT(decode_any_request(frame).ok());
        Bytes bad = mutate(frame);
        expect_named(decode_any_request(bad));
    }));
}

TEST(FrameFuzz, RandomAndMutatedResponseFramesNeverCrash) {
    EXPECT_TRUE(rc::check([] {
        Bytes b = *rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>());
        for (const Status& s : decode_as_every_response(b)) expect_named(s);
        Bytes valid = encode_response(i32(), 17, gen_fetch_response());
        for (const Status& s : decode_as_every_response(mutate(valid))) expect_named(s);
        Bytes vote = encode_response(i32(), 2, gen_vote_response());
        for (const Status& s : decode_as_every_response(mutate(vote))) expect_named(s);
    }));
}

TEST(FrameFuzz, EveryTruncationOfAValidFrameIsRejected) {
    EXPECT_TRUE(rc::check([] {
        Bytes frame = gen_valid_request_frame();
        for (size_t n = 0; n < frame.size(); n++) {
            Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
            Status s = decode_any_request(cut);
            RC_ASSERT(!s.ok());
            expect_named(s);
        }
    }));
}

}  // namespace
}  // namespace keel::protocol
