// The request-frame decoder on arbitrary bytes: Kafka's size prefix, the request header
// (v1 and v2), then the body for every API Keel decodes, and the Raft driver's decode of
// the same frame. Oracles: no crash (ASan/UBSan), every rejection an Errc, a header that
// decodes re-encodes to a header that decodes to the same value, and a body that decodes
// round-trips (message_types.h).
#include <cstddef>
#include <cstdint>

#include "core/protocol/frame.h"
#include "core/raft/raft_wire.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/message_types.h"

namespace keel::fuzz {
namespace {

void check_header_round_trip(const protocol::RequestFrame& f) {
    const protocol::RequestHeader& h = f.header;
    protocol::Writer w(protocol::is_flexible(h.api_key, h.api_version));
    protocol::write_request_header(w, h);
    Bytes again = w.take();
    auto back = protocol::decode_request_frame(again);
    FUZZ_CHECK(back.ok(), "a decoded header does not re-decode: " + back.error().to_string());
    FUZZ_CHECK(back->header == h, "request header round trip changed it");
    FUZZ_CHECK(back->body.empty(), "a re-encoded header left body bytes");
}

void run(ByteView in) {
    if (in.size() >= 4) {
        auto size = protocol::frame_size_from_prefix(in.first(4));
        if (!size.ok()) FUZZ_CHECK(size.code() == Errc::invalid_request, size.error().to_string());
    }
    (void)protocol::peek_correlation_id(in);
    auto f = protocol::decode_request_frame(in);
    if (f.ok()) {
        auto peeked = protocol::peek_correlation_id(in);
        FUZZ_CHECK(peeked && *peeked == f->header.correlation_id, "peek_correlation_id disagrees");
        FUZZ_CHECK(f->body.size() <= in.size(), "body larger than the frame");
        check_header_round_trip(*f);
        if (auto index = request_index(f->header.api_key)) {
            with_body_type(true, *index, [&]<typename B>() { round_trip_body<B>(f->body, f->header.api_version); });
        }
    } else {
        FUZZ_CHECK(f.code() == Errc::invalid_request || f.code() == Errc::unsupported_version,
                   f.error().to_string());
    }
    auto m = raft::decode_request_message(NodeId(1), NodeId(2), in);
    if (m.ok()) FUZZ_CHECK(f.ok(), "the Raft driver accepted a frame whose header does not decode");
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
