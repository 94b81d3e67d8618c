#include "core/protocol/frame.h"

namespace keel::protocol {
namespace {

Status check_size(ByteView frame, size_t frame_size_max) {
    if (frame.size() > frame_size_max) {
        return Status(Errc::invalid_request, "frame of " + std::to_string(frame.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(frame_size_max));
    }
    return ok_status();
}

}  // namespace

void write_request_header(Writer& w, const RequestHeader& h) {
    KEEL_ASSERT(w.flexible() == is_flexible(h.api_key, h.api_version));
    w.i16(static_cast<int16_t>(h.api_key));
    w.i16(h.api_version);
    w.i32(h.correlation_id);
    // The client id keeps the classic int16 length even in header v2, so that any broker
    // can read the header of any ApiVersions request.
    w.classic_nullable_string(h.client_id);
    w.empty_tagged_fields();
}

Result<RequestFrame> decode_request_frame(ByteView frame, size_t frame_size_max) {
    KEEL_TRY(check_size(frame, frame_size_max));
    Reader r(frame, false);
    RequestHeader h;
    int16_t key = r.i16();
    h.api_version = r.i16();
    h.correlation_id = r.i32();
    if (!r.ok()) return Error{Errc::invalid_request, "request header: " + r.error()};
    auto info = api_info(key);
    if (!info) {
        return Error{Errc::unsupported_version, "unknown api key " + std::to_string(key)};
    }
    h.api_key = info->key;
    if (h.api_version < 0) {
        return Error{Errc::invalid_request,
                     "negative api version " + std::to_string(h.api_version)};
    }
    h.client_id = r.classic_nullable_string();
    size_t header_end = r.position();
    if (is_flexible(h.api_key, h.api_version)) {
        Reader tags(frame.subspan(header_end), true);
        tags.skip_tagged_fields();
        if (!tags.ok()) return Error{Errc::invalid_request, "request header: " + tags.error()};
        header_end += tags.position();
    }
    if (!r.ok()) return Error{Errc::invalid_request, "request header: " + r.error()};
    return RequestFrame{std::move(h), frame.subspan(header_end), {}};
}

Result<ResponseFrame> decode_response_frame(ByteView frame, ApiKey api_key, int16_t api_version,
                                            size_t frame_size_max) {
    KEEL_TRY(check_size(frame, frame_size_max));
    bool tagged = response_header_version(api_key, api_version) == 1;
    Reader r(frame, tagged);
    ResponseFrame f;
    f.correlation_id = r.i32();
    r.skip_tagged_fields();
    if (!r.ok()) return Error{Errc::invalid_request, "response header: " + r.error()};
    f.body = frame.subspan(r.position());
    return f;
}

std::optional<int32_t> peek_correlation_id(ByteView request_frame) {
    if (request_frame.size() < 8) return std::nullopt;
    ByteReader r(request_frame.subspan(4, 4));
    return r.i32();
}

Result<size_t> frame_size_from_prefix(ByteView four_bytes, size_t frame_size_max) {
    if (four_bytes.size() != 4) return Error{Errc::invalid_request, "size prefix needs 4 bytes"};
    ByteReader r(four_bytes);
    int32_t n = r.i32();
    if (n < 0) return Error{Errc::invalid_request, "negative frame size " + std::to_string(n)};
    if (static_cast<size_t>(n) > frame_size_max) {
        return Error{Errc::invalid_request, "frame size " + std::to_string(n) +
                                                " exceeds the limit of " +
                                                std::to_string(frame_size_max)};
    }
    return static_cast<size_t>(n);
}

}  // namespace keel::protocol
