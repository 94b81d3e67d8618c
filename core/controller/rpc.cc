#include "core/controller/rpc.h"

#include <algorithm>

namespace keel::controller {

RpcServer::RpcServer(env::Env& env, env::Address listen, Handler handler, RpcServerOptions options)
    : env_(env),
      address_(std::move(listen)),
      handler_(std::move(handler)),
      options_(std::move(options)),
      fibers_done_(env.executor()) {}

RpcServer::~RpcServer() = default;

Status RpcServer::run() {
    KEEL_TRY_ASSIGN(listener_, env_.network().listen(address_));
    while (!stopping_) {
        auto c = listener_->accept();
        if (!c.ok()) {
            if (c.code() == Errc::timeout) continue;
            break;  // closed, or the node is stopping
        }
        if (connections_.size() >= options_.connections_max) {
            env_.tracer().log(env::Level::warn, options_.name + ": too many connections; refusing " +
                                                    (*c)->peer().to_string());
            (*c)->close();
            continue;
        }
        uint64_t id = next_id_++;
        std::shared_ptr<env::Connection> conn(std::move(*c));
        connections_[id] = conn;
        fibers_++;
        env::FiberId f = env_.executor().spawn(options_.name + "-conn", [this, id, conn] {
            struct Done {
                RpcServer* s;
                uint64_t id;
                ~Done() {
                    s->connections_.erase(id);
                    s->fibers_--;
                    s->fibers_done_.notify_all();
                }
            } done{this, id};
            serve(id, conn);
        });
        if (f == 0) {
            fibers_--;
            connections_.erase(id);
        }
    }
    stop();
    while (fibers_ > 0) {
        if (fibers_done_.wait(Instant::max()) == env::WakeReason::dying) break;
    }
    return ok_status();
}

void RpcServer::stop() {
    stopping_ = true;
    if (listener_) listener_->close();
    for (auto& [id, c] : connections_) c->close();
}

void RpcServer::serve(uint64_t, std::shared_ptr<env::Connection> conn) {
    std::string who = options_.name + ": connection from " + conn->peer().to_string();
    while (!stopping_) {
        auto frame = conn->receive();
        if (!frame.ok()) break;
        auto request = protocol::decode_request_frame(*frame, options_.frame_bytes_max);
        if (!request.ok()) {
            env_.tracer().log(env::Level::warn, who + ": " + request.error().to_string());
            break;
        }
        request->peer_host = conn->peer().host;
        auto response = handler_(*request);
        if (!response.ok()) {
            env_.tracer().log(env::Level::warn, who + ": " + response.error().to_string());
            break;
        }
        // An empty response means "none" (a Produce with acks=0): a real response always
        // holds at least its correlation id.
        if (response->empty()) continue;
        if (stopping_ || !conn->send(std::move(*response)).ok()) break;
    }
    conn->close();
}

RpcClient::RpcClient(env::Env& env, std::string client_id, Duration connect_timeout)
    : env_(env), client_id_(std::move(client_id)), connect_timeout_(connect_timeout), mutex_(env.executor()) {}

Result<Bytes> RpcClient::round_trip(const env::Address& to, Bytes frame, Instant deadline) {
    auto it = conns_.find(to);
    if (it == conns_.end()) {
        Instant connect_deadline = std::min(deadline, env_.now() + connect_timeout_);
        KEEL_TRY_ASSIGN(std::unique_ptr<env::Connection> c, env_.network().connect(to, connect_deadline));
        it = conns_.emplace(to, std::move(c)).first;
    }
    env::Connection& c = *it->second;
    Status sent = c.send(std::move(frame));
    if (!sent.ok()) {
        drop(to);
        return sent.error();
    }
    auto resp = c.receive(deadline);
    // Any failure, a timeout included, leaves the stream in an unknown place: start over.
    if (!resp.ok()) drop(to);
    return resp;
}

}  // namespace keel::controller
