// Network: connections that carry whole frames, like TCP carrying Kafka's size-prefixed
// requests. The frame given to send() is the payload; production adds and strips the
// 4-byte big-endian size prefix Kafka uses on the wire.
//
// Guarantees on one connection: frames arrive whole, at most once, in send order, with no
// gaps, until the connection resets; after a reset every call fails with
// Errc::disconnected. No order holds across connections. A network partition stalls a
// connection (frames wait); if it lasts past the transport's timeout the connection
// resets on both sides. Nothing else is promised: a frame sent just before a reset may or
// may not have arrived.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::env {

// host:port. In the simulator the host is a node name ("c1", "b2"); in production a
// hostname or IP literal.
struct Address {
    std::string host;
    uint16_t port = 0;
    auto operator<=>(const Address&) const = default;
    std::string to_string() const { return host + ":" + std::to_string(port); }
    // Parses "host:port"; nullopt if malformed.
    static std::optional<Address> parse(std::string_view s);
};

// Largest frame accepted by default: Kafka's socket.request.max.bytes (100 MiB).
inline constexpr size_t frame_size_max_default = 100 * 1024 * 1024;

class Connection {
public:
    virtual ~Connection() = default;  // closes the connection

    // Queues one frame for the peer and returns once the transport has taken it (not when
    // it is delivered). May block while the send buffer is full. Errors:
    // Errc::disconnected (reset), Errc::closed (closed locally), Errc::message_too_large.
    virtual Status send(Bytes frame) = 0;

    // The next frame from the peer. Blocks until one arrives. Errors: Errc::timeout (the
    // deadline passed; the connection stays usable), Errc::disconnected (reset or closed by
    // the peer, after every frame it sent before closing was received), Errc::closed,
    // Errc::cancelled (the node is stopping).
    virtual Result<Bytes> receive(Instant deadline = Instant::max()) = 0;

    // Closes this side; the peer sees Errc::disconnected after draining. Idempotent.
    virtual void close() = 0;

    virtual const Address& peer() const = 0;
};

class Listener {
public:
    virtual ~Listener() = default;  // stops listening

    // The next inbound connection. Errors: Errc::closed, Errc::timeout, Errc::cancelled.
    virtual Result<std::unique_ptr<Connection>> accept(Instant deadline = Instant::max()) = 0;
    virtual void close() = 0;
    virtual const Address& address() const = 0;
};

class Network {
public:
    virtual ~Network() = default;

    // Listens at addr (port 0: any free port, see Listener::address). Errors:
    // Errc::address_in_use, Errc::invalid_argument.
    virtual Result<std::unique_ptr<Listener>> listen(const Address& addr) = 0;

    // Opens a connection. Errors: Errc::connection_refused (nobody listens there),
    // Errc::timeout (unreachable until the deadline), Errc::cancelled.
    virtual Result<std::unique_ptr<Connection>> connect(const Address& addr, Instant deadline) = 0;
};

}  // namespace keel::env
