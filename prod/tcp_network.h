// TcpNetwork: env::Network on non-blocking TCP sockets driven by a node's EpollPoller.
//
// Wire format: each frame is a 4-byte big-endian length followed by that many payload
// bytes (Kafka's framing); send() adds the prefix and receive() strips it.
//
// Blocking: a fiber that would block (EAGAIN, connect in progress) parks on the socket's
// wait queue; the poller's callback unparks it when the fd changes, and the fiber retries.
// Deadlines are park deadlines. Everything runs on the node's thread; objects from one
// TcpNetwork must be used only by fibers of that node and must not outlive it. A
// Connection or Listener must outlive every fiber blocked in it: close() wakes them (they
// return Errc::closed), but they still touch the object when they next run, so share
// ownership (std::shared_ptr) with fibers that may still be blocked.
//
// Failures (see core/env/network.h for the contract):
// - peer closed or reset (EOF, ECONNRESET, EPIPE, TCP_USER_TIMEOUT) -> Errc::disconnected,
//   after every complete frame already received has been delivered;
// - an incoming length prefix that is negative or above frame_size_max: the connection is
//   closed, a warning naming the peer and the length is logged, and receive() returns
//   Errc::message_too_large (afterwards Errc::closed);
// - a frame to send above frame_size_max -> Errc::message_too_large, nothing sent;
// - connect: ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT -> connection_refused; the
//   deadline passing first -> timeout.
// Every socket has TCP_NODELAY, SO_KEEPALIVE and TCP_USER_TIMEOUT (a silent peer resets
// the connection after user_timeout instead of stalling a sender forever).
//
// Host names are resolved with getaddrinfo, which blocks the node's thread; IP literals
// resolve without I/O. "" and "0.0.0.0" listen on every IPv4 interface.
#pragma once

#include <memory>

#include "core/env/executor.h"
#include "core/env/network.h"
#include "core/env/tracer.h"
#include "prod/epoll_poller.h"

namespace keel::prod {

struct TcpOptions {
    size_t frame_size_max = env::frame_size_max_default;
    int listen_backlog = 512;
    Duration user_timeout = 30s;  // unacknowledged data this long resets the connection
    Duration keepalive_idle = 10s;
};

class TcpNetwork final : public env::Network {
public:
    TcpNetwork(env::Executor& executor, EpollPoller& poller, env::Tracer& tracer,
               TcpOptions options = {});
    ~TcpNetwork() override;

    Result<std::unique_ptr<env::Listener>> listen(const env::Address& addr) override;
    Result<std::unique_ptr<env::Connection>> connect(const env::Address& addr,
                                                     Instant deadline) override;

    // Shared with the connections and listeners this network creates.
    struct Context {
        env::Executor& executor;
        EpollPoller& poller;
        env::Tracer& tracer;
        TcpOptions options;
    };

private:
    Context context_;
};

}  // namespace keel::prod
