// BrokerConnection: the client's one connection to one broker address, speaking Kafka's
// request/response protocol over env::Network (so it runs unchanged in the simulator and
// in production).
//
// - Opened on demand; the first request on a new connection is ApiVersions (v3, falling
//   back to v0 when the broker answers UNSUPPORTED_VERSION), and every later request is
//   sent at min(our highest, the broker's highest) version (version_for).
// - Requests are pipelined: start() sends a request with the next correlation id and
//   returns at once; a reader fiber matches each response frame to its request by
//   correlation id; finish() waits for and decodes it. Request header v1 or v2 and response
//   header v0 or v1 follow from the flexible version of each API (core/protocol/frame.h).
// - A request that times out, a reset, or a response that does not decode closes the
//   connection (as Kafka's clients do): every pending request fails with
//   Errc::disconnected, and the next start() opens a fresh connection.
//
// ConnectionPool keeps one BrokerConnection per address.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/base/result.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/api_versions.h"
#include "core/protocol/frame.h"

namespace keel::client {

struct ConnectionOptions {
    std::string client_id = "keel";
    Duration connect_timeout = ms(10'000);
    size_t in_flight_max = 64;  // pipelined requests per connection (queue limit)
};

// A request sent and not yet answered. Move-only; finish() consumes it.
struct PendingRequest {
    protocol::ApiKey api_key = protocol::ApiKey::api_versions;
    int16_t version = 0;
    int32_t correlation_id = 0;
    env::Future<Bytes> response;  // invalid for requests without response (acks=0)
};

class BrokerConnection {
public:
    BrokerConnection(env::Env& env, env::Address address, ConnectionOptions options);
    ~BrokerConnection();
    BrokerConnection(const BrokerConnection&) = delete;
    BrokerConnection& operator=(const BrokerConnection&) = delete;

    // Connects and negotiates ApiVersions unless already open. Errors: the network's
    // (connection_refused, timeout, cancelled, disconnected), invalid_request (a malformed
    // ApiVersions answer), unsupported_version.
    Status ensure_open(Instant deadline);

    // The version to send `key` at (requires an open connection): the highest in both our
    // range and the broker's. Errc::unsupported_version when they do not overlap.
    Result<int16_t> version_for(protocol::ApiKey key, int16_t ours_min, int16_t ours_max) const;

    // Sends `req` at `version` (opening the connection first if needed). With
    // expect_response false (Produce with acks=0) nothing is awaited.
    template <typename Req>
    Result<PendingRequest> start(const Req& req, int16_t version, Instant deadline, bool expect_response = true) {
        KEEL_TRY(ensure_open(deadline));
        int32_t correlation = next_correlation_++;
        protocol::RequestHeader h{Req::api_key, version, correlation, options_.client_id};
        return send_frame(protocol::encode_request(h, req), Req::api_key, version, correlation, expect_response);
    }

    // Waits for the response to `p` and decodes it. Errors: timeout (the connection is then
    // closed), disconnected, cancelled, invalid_request (it does not decode; closed too).
    template <typename Resp>
    Result<Resp> finish(PendingRequest& p, Instant deadline) {
        KEEL_TRY_ASSIGN(Bytes frame, await_frame(p, deadline));
        int32_t got = -1;
        auto resp = protocol::decode_response<Resp>(frame, p.version, &got);
        if (!resp.ok() || got != p.correlation_id) {
            close();
            if (!resp.ok()) return resp.error();
            return Error{Errc::invalid_request, "response correlation id mismatch"};
        }
        return resp;
    }

    // start() at the negotiated version within [ours_min, ours_max], then finish().
    template <typename Resp, typename Req>
    Result<Resp> call(const Req& req, int16_t ours_min, int16_t ours_max, Instant deadline) {
        KEEL_TRY(ensure_open(deadline));
        KEEL_TRY_ASSIGN(int16_t version, version_for(Req::api_key, ours_min, ours_max));
        KEEL_TRY_ASSIGN(PendingRequest p, start(req, version, deadline));
        return finish<Resp>(p, deadline);
    }

    // Closes the connection; pending requests fail with Errc::disconnected. Idempotent.
    void close();
    bool is_open() const { return session_ != nullptr && !session_->closed; }
    size_t in_flight() const { return session_ ? session_->pending.size() : 0; }
    // Counts the connections opened so far: two requests sent under the same generation
    // travelled on one connection, so the broker received them in send order.
    uint64_t generation() const { return generation_; }
    const env::Address& address() const { return address_; }

private:
    struct Session {
        explicit Session(std::unique_ptr<env::Connection> c) : conn(std::move(c)) {}
        std::unique_ptr<env::Connection> conn;
        std::map<int32_t, env::Promise<Bytes>> pending;
        bool closed = false;
    };

    Status open(Instant deadline);
    Status negotiate(Instant deadline);
    Result<PendingRequest> send_frame(Bytes frame, protocol::ApiKey key, int16_t version, int32_t correlation,
                                      bool expect_response);
    Result<Bytes> await_frame(PendingRequest& p, Instant deadline);
    static void read_loop(std::shared_ptr<Session> s);
    static void fail_all(Session& s, const std::string& why);

    env::Env& env_;
    env::Address address_;
    ConnectionOptions options_;
    std::shared_ptr<Session> session_;
    std::optional<protocol::ApiVersionsResponse> versions_;
    int32_t next_correlation_ = 1;
    uint64_t generation_ = 0;
    env::Mutex open_mutex_;
    env::Mutex send_mutex_;
};

// One BrokerConnection per address, created on first use, kept until close_all().
class ConnectionPool {
public:
    ConnectionPool(env::Env& env, ConnectionOptions options) : env_(env), options_(std::move(options)) {}
    BrokerConnection& get(const env::Address& address);
    void close_all();
    const ConnectionOptions& options() const { return options_; }

private:
    env::Env& env_;
    ConnectionOptions options_;
    std::map<env::Address, std::unique_ptr<BrokerConnection>> connections_;
};

}  // namespace keel::client
