// The metrics listener of `keel server` (metrics.port): a minimal HTTP/1.x server that
// answers `GET /metrics` with the node's Prometheus text. It runs on the node's own fibers
// (the same thread as the node), so the text is rendered from the node's state between two
// of its scheduling points — a consistent snapshot without locks.
//
//   GET /metrics (or HEAD)          200, Content-Type: text/plain; version=0.0.4
//   another method on /metrics      405 (Allow: GET, HEAD)
//   any other path                  404
//   a malformed request             400
//   a request head over 8 KiB       431, then the connection is closed
//
// One request per connection: every answer carries `Connection: close` and the server
// closes after writing it. A bounded number of connections is served at once (more are
// closed at accept); each has a deadline for reading its request and writing the answer,
// so a slow or silent client costs one parked fiber until then and never blocks the node.
// A request body is ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/env/env.h"
#include "prod/epoll_poller.h"

namespace keel::prod {

struct HttpAnswer {
    int status = 200;
    std::string content_type;  // empty for none
    std::string body;
    bool head_only = false;  // HEAD: headers with the body's length, no body
};

constexpr size_t kHttpHeadBytesMax = 8 * 1024;

// The answer to one complete request head (its bytes up to and including the blank line,
// "\r\n\r\n"); `render` makes the metrics text and is called only for GET/HEAD /metrics.
HttpAnswer answer_http_request(std::string_view head, const std::function<std::string()>& render);
// The status line, headers (Content-Length, Connection: close, ...) and body.
std::string format_http_response(const HttpAnswer& a);
// The end of the request head in `received` (the index after "\r\n\r\n"), or 0 if absent.
size_t http_head_end(std::string_view received);

struct MetricsHttpOptions {
    env::Address listen;
    size_t connections_max = 16;
    Duration connection_deadline = ms(10'000);  // to read the request and write the answer
};

class MetricsHttpServer {
public:
    using Render = std::function<std::string()>;

    // `render` runs on the node's fibers and must not park.
    MetricsHttpServer(env::Executor& executor, EpollPoller& poller, env::Tracer& tracer,
                      MetricsHttpOptions options, Render render);
    ~MetricsHttpServer();  // stop()
    MetricsHttpServer(const MetricsHttpServer&) = delete;
    MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

    // Binds and listens. Errors: address_in_use, invalid_argument (an unresolvable host).
    Status listen();
    // The bound address (its port is the real one when listen asked for port 0).
    const env::Address& address() const { return address_; }
    // Accepts and serves connections (each on its own fiber) until stop(). Call after listen().
    void run();
    // Closes the listener and every open connection, and waits (parks) until their fibers
    // have finished; from a fiber of the same node. Idempotent.
    void stop();

    struct Stats {
        uint64_t accepted = 0;
        uint64_t refused_busy = 0;  // closed at accept: connections_max reached
        uint64_t answered = 0;      // by status below
        uint64_t answered_ok = 0;
        uint64_t answered_bad_request = 0;
    };
    const Stats& stats() const { return stats_; }

    // Implementation (metrics_http.cc).
    struct Conn;
    struct State;

private:
    void serve(int fd);
    Result<int> accept_one();

    std::unique_ptr<State> state_;
    MetricsHttpOptions options_;
    Render render_;
    env::Address address_;
    Stats stats_;
};

}  // namespace keel::prod
