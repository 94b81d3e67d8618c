// Kafka-framed request/response over env::Network, for the controller RPCs
// (BrokerRegistration, BrokerHeartbeat, AlterPartition, CreateTopics, AllocateProducerIds).
//
// RpcServer: listens, and serves each connection on its own fiber, one request at a time,
// so responses go back in request order (Kafka's rule). A frame that does not parse, or
// that the handler refuses, closes that connection only.
//
// RpcClient: one connection per address, opened on first use, dropped on any error
// (reset, timeout, a response that does not match). One call at a time per client (a
// fiber mutex), so a response always belongs to the request just sent.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/base/result.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/frame.h"

namespace keel::controller {

struct RpcServerOptions {
    std::string name = "rpc";          // fiber names and log lines
    size_t connections_max = 64;
    size_t frame_bytes_max = 8 << 20;  // larger requests close the connection
};

class RpcServer {
public:
    // The response frame for a request frame; an error closes the connection (the reason
    // is logged).
    using Handler = std::function<Result<Bytes>(const protocol::RequestFrame&)>;

    RpcServer(env::Env& env, env::Address listen, Handler handler, RpcServerOptions options = {});
    ~RpcServer();
    RpcServer(const RpcServer&) = delete;
    RpcServer& operator=(const RpcServer&) = delete;

    // Listens and serves until stop(); returns once every connection fiber has finished.
    // Errors: the listen error (address_in_use, ...).
    Status run();
    void stop();
    size_t connections() const { return connections_.size(); }

private:
    void serve(uint64_t id, std::shared_ptr<env::Connection> conn);

    env::Env& env_;
    env::Address address_;
    Handler handler_;
    RpcServerOptions options_;
    std::unique_ptr<env::Listener> listener_;
    std::map<uint64_t, std::shared_ptr<env::Connection>> connections_;
    uint64_t next_id_ = 1;
    size_t fibers_ = 0;
    env::WaitQueue fibers_done_;
    bool stopping_ = false;
};

class RpcClient {
public:
    RpcClient(env::Env& env, std::string client_id, Duration connect_timeout = ms(1000));

    // Sends `req` at `version` to `to` and returns the decoded response. Errors: the
    // network's (connection_refused, disconnected, timeout, cancelled), invalid_request
    // (the response does not decode or answers another request).
    template <typename Resp, typename Req>
    Result<Resp> call(const env::Address& to, const Req& req, int16_t version, Instant deadline) {
        env::LockGuard guard(mutex_);
        if (!guard.held()) return Error{Errc::cancelled, "the node is stopping"};
        int32_t correlation = next_correlation_++;
        protocol::RequestHeader h{Req::api_key, version, correlation, client_id_};
        KEEL_TRY_ASSIGN(Bytes frame, round_trip(to, protocol::encode_request(h, req), deadline));
        int32_t got = -1;
        auto resp = protocol::decode_response<Resp>(frame, version, &got);
        if (!resp.ok() || got != correlation) {
            drop(to);
            if (!resp.ok()) return std::move(resp).error();
            return Error{Errc::invalid_request, "response to correlation id " + std::to_string(got) +
                                                    ", expected " + std::to_string(correlation)};
        }
        return resp;
    }
    // Closes every connection: a call waiting on one returns Errc::closed and drops it
    // itself. Never destroys a connection here — a fiber may be blocked inside it.
    void close_all() {
        for (auto& [to, c] : conns_) c->close();
    }

private:
    Result<Bytes> round_trip(const env::Address& to, Bytes frame, Instant deadline);
    void drop(const env::Address& to) { conns_.erase(to); }

    env::Env& env_;
    std::string client_id_;
    Duration connect_timeout_;
    env::Mutex mutex_;
    std::map<env::Address, std::unique_ptr<env::Connection>> conns_;
    int32_t next_correlation_ = 1;
};

}  // namespace keel::controller
