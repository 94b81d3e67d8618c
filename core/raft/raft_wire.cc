#include "core/raft/raft_wire.h"

#include "core/protocol/frame.h"

namespace keel::raft {

using protocol::ApiKey;

int16_t wire_version(ApiKey key) {
    switch (key) {
        case ApiKey::vote: return 2;
        case ApiKey::begin_quorum_epoch: return 1;
        case ApiKey::end_quorum_epoch: return 1;
        case ApiKey::fetch: return 17;
        case ApiKey::fetch_snapshot: return 1;
        default: KEEL_UNREACHABLE();
    }
}

Bytes encode_message(const Message& m, const std::optional<std::string>& client_id) {
    return std::visit(
        [&](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            int16_t v = wire_version(T::api_key);
            if (is_request(m.body)) {
                protocol::RequestHeader h{T::api_key, v, m.correlation_id, client_id};
                return protocol::encode_request(h, body);
            }
            return protocol::encode_response(m.correlation_id, v, body);
        },
        m.body);
}

namespace {

template <typename T>
Result<Message> as_message(NodeId from, NodeId to, int32_t correlation_id, Result<T> body) {
    if (!body.ok()) return std::move(body).error();
    return Message{from, to, correlation_id, Body(std::move(body).value())};
}

}  // namespace

Result<Message> decode_request_message(NodeId from, NodeId to, ByteView frame) {
    KEEL_TRY_ASSIGN(protocol::RequestFrame f, protocol::decode_request_frame(frame));
    return decode_request_message(from, to, f);
}

Result<Message> decode_request_message(NodeId from, NodeId to, const protocol::RequestFrame& f) {
    int32_t corr = f.header.correlation_id;
    switch (f.header.api_key) {
        case ApiKey::vote:
            return as_message(from, to, corr, protocol::decode_request_body<protocol::VoteRequest>(f));
        case ApiKey::begin_quorum_epoch:
            return as_message(from, to, corr,
                              protocol::decode_request_body<protocol::BeginQuorumEpochRequest>(f));
        case ApiKey::end_quorum_epoch:
            return as_message(from, to, corr,
                              protocol::decode_request_body<protocol::EndQuorumEpochRequest>(f));
        case ApiKey::fetch:
            return as_message(from, to, corr, protocol::decode_request_body<protocol::FetchRequest>(f));
        case ApiKey::fetch_snapshot:
            return as_message(from, to, corr,
                              protocol::decode_request_body<protocol::FetchSnapshotRequest>(f));
        default:
            return Error{Errc::invalid_request,
                         std::string("raft does not handle ") + std::string(protocol::api_name(f.header.api_key))};
    }
}

namespace {

template <typename T>
Result<Message> response_as_message(NodeId from, NodeId to, ByteView frame) {
    int32_t corr = 0;
    Result<T> body = protocol::decode_response<T>(frame, wire_version(T::api_key), &corr);
    return as_message(from, to, corr, std::move(body));
}

}  // namespace

Result<Message> decode_response_message(NodeId from, NodeId to, ApiKey key, ByteView frame) {
    switch (key) {
        case ApiKey::vote: return response_as_message<protocol::VoteResponse>(from, to, frame);
        case ApiKey::begin_quorum_epoch:
            return response_as_message<protocol::BeginQuorumEpochResponse>(from, to, frame);
        case ApiKey::end_quorum_epoch:
            return response_as_message<protocol::EndQuorumEpochResponse>(from, to, frame);
        case ApiKey::fetch: return response_as_message<protocol::FetchResponse>(from, to, frame);
        case ApiKey::fetch_snapshot:
            return response_as_message<protocol::FetchSnapshotResponse>(from, to, frame);
        default:
            return Error{Errc::invalid_request,
                         std::string("raft does not handle ") + std::string(protocol::api_name(key))};
    }
}

}  // namespace keel::raft
