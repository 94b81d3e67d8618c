// Request and response framing: header + body, exactly as Kafka (kafka-wire.md §3).
//
// A frame here is what follows Kafka's int32 size prefix (the network layer adds and
// strips the prefix; see core/env/network.h). Request frame = request header (v1: api_key
// int16, api_version int16, correlation_id int32, client_id classic nullable string; v2:
// the same plus a tagged-field section) + body. Response frame = response header (v0:
// correlation_id; v1: plus tagged fields) + body. The header version follows from
// (api_key, api_version), see api_keys.h.
//
// A body type B provides:
//   static constexpr ApiKey api_key;  static constexpr std::string_view name;
//   static constexpr int16_t version_min, version_max;   // versions Keel implements
//   void encode(Writer&, int16_t version) const;          // requires a supported version
//   static B decode(Reader&, int16_t version);            // failures recorded in the Reader
//
// Decoding never trusts the input: every failure is an Error, never a crash, with
// Errc::invalid_request (malformed, truncated, trailing bytes, oversized) or
// Errc::unsupported_version (unknown api key, or a version Keel does not implement).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/protocol/api_keys.h"
#include "core/protocol/codec.h"

namespace keel::protocol {

// Largest frame accepted by default: Kafka's socket.request.max.bytes (100 MiB).
inline constexpr size_t frame_size_max_default = 100 * 1024 * 1024;

struct RequestHeader {
    ApiKey api_key = ApiKey::api_versions;
    int16_t api_version = 0;
    int32_t correlation_id = 0;
    std::optional<std::string> client_id;
    bool operator==(const RequestHeader&) const = default;
};

struct RequestFrame {
    RequestHeader header;
    ByteView body;          // views into the decoded frame
    std::string peer_host;  // the client's host as the server's connection saw it; empty if unknown
};

struct ResponseFrame {
    int32_t correlation_id = 0;
    ByteView body;  // views into the decoded frame
};

// Writes the request header in the version (api_key, api_version) calls for. The writer's
// flexibility must match is_flexible(api_key, api_version).
void write_request_header(Writer& w, const RequestHeader& h);

// Parses a request header. Errors: invalid_request (oversized, truncated, malformed),
// unsupported_version (api key unknown to Kafka's table). A version above what Keel
// implements is not an error here: the body decoder rejects it, after the caller has had
// the chance to answer (ApiVersions must answer any version).
Result<RequestFrame> decode_request_frame(ByteView frame,
                                          size_t frame_size_max = frame_size_max_default);

// Parses a response header for a request sent as (api_key, api_version).
Result<ResponseFrame> decode_response_frame(ByteView frame, ApiKey api_key, int16_t api_version,
                                            size_t frame_size_max = frame_size_max_default);

// The correlation id of a request frame, if it is at least that long (to answer a request
// whose header failed to parse).
std::optional<int32_t> peek_correlation_id(ByteView request_frame);

// Reads Kafka's 4-byte size prefix. Errors: invalid_request if negative or above max.
Result<size_t> frame_size_from_prefix(ByteView four_bytes,
                                      size_t frame_size_max = frame_size_max_default);

template <typename Body>
Status check_version(int16_t version) {
    if (version < Body::version_min || version > Body::version_max) {
        return Status(Errc::unsupported_version,
                      std::string(Body::name) + " v" + std::to_string(version) +
                          " is not supported (supported: v" + std::to_string(Body::version_min) +
                          "..v" + std::to_string(Body::version_max) + ")");
    }
    return ok_status();
}

// Decodes a body of version `version`, requiring every byte to be consumed.
template <typename Body>
Result<Body> decode_body(ByteView body, int16_t version) {
    KEEL_TRY(check_version<Body>(version));
    Reader r(body, is_flexible(Body::api_key, version));
    Body b = Body::decode(r, version);
    KEEL_TRY(r.finish(std::string(Body::name) + " v" + std::to_string(version)));
    return b;
}

template <typename Body>
Bytes encode_body(const Body& body, int16_t version) {
    KEEL_ASSERT(check_version<Body>(version).ok());
    Writer w(is_flexible(Body::api_key, version));
    body.encode(w, version);
    return w.take();
}

template <typename Body>
Bytes encode_request(const RequestHeader& h, const Body& body) {
    KEEL_ASSERT(h.api_key == Body::api_key);
    KEEL_ASSERT(check_version<Body>(h.api_version).ok());
    Writer w(is_flexible(h.api_key, h.api_version));
    write_request_header(w, h);
    body.encode(w, h.api_version);
    return w.take();
}

template <typename Body>
Result<Body> decode_request_body(const RequestFrame& frame) {
    if (frame.header.api_key != Body::api_key) {
        return Error{Errc::invalid_request, std::string("expected ") + std::string(Body::name) +
                                                ", got api key " +
                                                std::to_string(static_cast<int>(frame.header.api_key))};
    }
    return decode_body<Body>(frame.body, frame.header.api_version);
}

template <typename Body>
Bytes encode_response(int32_t correlation_id, int16_t version, const Body& body) {
    KEEL_ASSERT(check_version<Body>(version).ok());
    Writer w(is_flexible(Body::api_key, version));
    w.i32(correlation_id);
    if (response_header_version(Body::api_key, version) == 1) w.empty_tagged_fields();
    body.encode(w, version);
    return w.take();
}

// Decodes a whole response frame; the correlation id lands in *correlation_id if given.
template <typename Body>
Result<Body> decode_response(ByteView frame, int16_t version, int32_t* correlation_id = nullptr) {
    KEEL_TRY(check_version<Body>(version));
    KEEL_TRY_ASSIGN(ResponseFrame f, decode_response_frame(frame, Body::api_key, version));
    if (correlation_id != nullptr) *correlation_id = f.correlation_id;
    return decode_body<Body>(f.body, version);
}

}  // namespace keel::protocol
