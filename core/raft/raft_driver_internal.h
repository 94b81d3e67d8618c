// RaftDriver's private parts, shared by raft_driver*.cc. Not for other users.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/raft/raft_driver.h"

namespace keel::raft {

// Anything the raft loop must act on, in arrival order.
struct RaftDriver::Input {
    enum class Kind : uint8_t { message, propose, resign };
    Kind kind = Kind::message;
    Message message;                              // kind == message
    Bytes record;                                 // kind == propose
    std::optional<env::Promise<Offset>> promise;  // kind == propose
};

// A proposal appended by this leader, waiting for its commit.
struct RaftDriver::Pending {
    QuorumEpoch epoch{0};
    env::Promise<Offset> promise;
};

// A request frame on its way to a peer.
struct Outgoing {
    int32_t correlation_id = 0;
    protocol::ApiKey api = protocol::ApiKey::fetch;
    Bytes frame;
    int attempts = 0;
    std::string label;  // message_label(), when tracing: a `raft.frame` event once it left
};

// A response frame on its way back, with its label (when tracing).
struct Reply {
    Reply(Bytes f, std::string l = {}) : frame(std::move(f)), label(std::move(l)) {}  // NOLINT: from Bytes
    Bytes frame;
    std::string label;
};

// One outbound peer: its queue of requests and its current connection (if any).
struct RaftDriver::Peer {
    Peer(env::Executor& ex, NodeId peer_id, env::Address addr, size_t queue_max)
        : id(peer_id), address(std::move(addr)), queue(ex, queue_max) {}
    NodeId id;
    env::Address address;
    env::Channel<Outgoing> queue;
    std::shared_ptr<env::Connection> conn;
    uint64_t generation = 0;                         // one per connection
    std::map<int32_t, protocol::ApiKey> in_flight;   // correlation id → API, this connection
};

// One accepted connection: requests come in, responses go back out in `replies`.
struct RaftDriver::Inbound {
    Inbound(env::Executor& ex, uint64_t conn_id, std::unique_ptr<env::Connection> c, size_t queue_max)
        : id(conn_id), conn(std::move(c)), replies(ex, queue_max) {}
    uint64_t id;
    std::unique_ptr<env::Connection> conn;
    env::Channel<Reply> replies;
    std::optional<NodeId> peer;  // fixed by the first request's client id
};

// Requests a peer may have outstanding on one connection (beyond it the oldest is forgotten).
inline constexpr size_t kInFlightMax = 4096;

}  // namespace keel::raft
