// Moving raft Messages over Kafka frames (for the driver). Requests become request frames
// (header v1/v2 with the message's correlation id); responses become response frames. A
// driver matches a response frame to its request by correlation id, as Kafka clients do,
// and passes the request's api key to decode_response_message.
#pragma once

#include <string>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/protocol/frame.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

// The version RaftNode speaks per API: Vote v2, BeginQuorumEpoch v1, EndQuorumEpoch v1,
// Fetch v17, FetchSnapshot v1 (all flexible).
int16_t wire_version(protocol::ApiKey key);

// Requires api_key_of(m.body) to be one of the above.
Bytes encode_message(const Message& m, const std::optional<std::string>& client_id);

// Decodes a request frame sent by `from` to `to`. Errors as in protocol/frame.h, plus
// invalid_request for an API RaftNode does not handle.
Result<Message> decode_request_message(NodeId from, NodeId to, ByteView frame);
// The same for a frame whose header is already decoded (the driver decodes it once).
Result<Message> decode_request_message(NodeId from, NodeId to, const protocol::RequestFrame& f);

// Decodes the response frame for a request of api `key`.
Result<Message> decode_response_message(NodeId from, NodeId to, protocol::ApiKey key,
                                        ByteView frame);

}  // namespace keel::raft
