// BrokerConnection and ConnectionPool (see connection.h).
#include "core/client/connection.h"

#include "core/protocol/error_codes.h"

namespace keel::client {

namespace {

// A broker that does not know our ApiVersions version answers UNSUPPORTED_VERSION in a
// form we may not decode (Kafka: v0; librdkafka's mock: a mix). The error code always
// follows the correlation id (the ApiVersions response header is v0), so read just that.
bool unsupported_version_answer(ByteView frame) {
    if (frame.size() < 6) return false;
    ByteReader r(frame);
    (void)r.i32();
    return r.i16() == static_cast<int16_t>(protocol::ErrorCode::unsupported_version);
}

}  // namespace

BrokerConnection::BrokerConnection(env::Env& env, env::Address address, ConnectionOptions options)
    : env_(env),
      address_(std::move(address)),
      options_(std::move(options)),
      open_mutex_(env.executor()),
      send_mutex_(env.executor()) {}

BrokerConnection::~BrokerConnection() { close(); }

Status BrokerConnection::ensure_open(Instant deadline) {
    if (is_open() && versions_) return ok_status();
    env::LockGuard guard(open_mutex_);
    if (!guard.held()) return Status(Errc::cancelled, "the node is stopping");
    if (is_open() && versions_) return ok_status();  // another fiber opened it meanwhile
    KEEL_TRY(open(deadline));
    Status s = negotiate(deadline);
    if (!s.ok()) close();
    return s;
}

Status BrokerConnection::open(Instant deadline) {
    close();
    versions_.reset();
    Instant connect_deadline = std::min(deadline, env_.now() + options_.connect_timeout);
    KEEL_TRY_ASSIGN(std::unique_ptr<env::Connection> conn, env_.network().connect(address_, connect_deadline));
    session_ = std::make_shared<Session>(std::move(conn));
    generation_++;
    std::shared_ptr<Session> s = session_;
    if (env_.executor().spawn("client-read-" + address_.to_string(), [s] { read_loop(s); }) == 0) {
        close();
        return Status(Errc::cancelled, "the node is stopping");
    }
    return ok_status();
}

Status BrokerConnection::negotiate(Instant deadline) {
    // ApiVersions v3 first; a broker that does not know v3 answers in v0 form with
    // UNSUPPORTED_VERSION, and we ask again at v0 (kafka-wire.md §3.4).
    for (int16_t version : {protocol::api_versions_request_version, int16_t{0}}) {
        int32_t correlation = next_correlation_++;
        protocol::RequestHeader h{protocol::ApiKey::api_versions, version, correlation, options_.client_id};
        KEEL_TRY_ASSIGN(PendingRequest p,
                        send_frame(protocol::encode_request(h, protocol::keel_api_versions_request()),
                                   protocol::ApiKey::api_versions, version, correlation, true));
        KEEL_TRY_ASSIGN(Bytes frame, await_frame(p, deadline));
        auto resp = protocol::decode_response<protocol::ApiVersionsResponse>(frame, version);
        if (!resp.ok() && version != 0 && unsupported_version_answer(frame)) continue;
        if (!resp.ok()) return resp.error();
        if (resp->error_code == protocol::ErrorCode::unsupported_version && version != 0) continue;
        KEEL_TRY(protocol::status_from(resp->error_code, "ApiVersions from " + address_.to_string()));
        versions_ = std::move(resp).value();
        return ok_status();
    }
    return Status(Errc::unsupported_version, "ApiVersions not negotiated with " + address_.to_string());
}

Result<int16_t> BrokerConnection::version_for(protocol::ApiKey key, int16_t ours_min, int16_t ours_max) const {
    if (!versions_) return Error{Errc::disconnected, "not connected to " + address_.to_string()};
    auto v = protocol::negotiate_version(*versions_, key, ours_min, ours_max);
    if (!v) {
        return Error{Errc::unsupported_version, "broker " + address_.to_string() + " has no usable version of api " +
                                                    std::to_string(static_cast<int>(key))};
    }
    return *v;
}

Result<PendingRequest> BrokerConnection::send_frame(Bytes frame, protocol::ApiKey key, int16_t version,
                                                    int32_t correlation, bool expect_response) {
    if (!is_open()) return Error{Errc::disconnected, "connection to " + address_.to_string() + " is closed"};
    std::shared_ptr<Session> s = session_;
    if (s->pending.size() >= options_.in_flight_max) {
        return Error{Errc::timeout, "too many requests in flight to " + address_.to_string()};
    }
    PendingRequest p{key, version, correlation, {}};
    if (expect_response) {
        auto [it, inserted] = s->pending.emplace(correlation, env::Promise<Bytes>(env_.executor()));
        KEEL_ASSERT(inserted);
        p.response = it->second.future();
    }
    // Frames go out whole and in correlation order: one sender at a time.
    env::LockGuard guard(send_mutex_);
    if (!guard.held()) return Error{Errc::cancelled, "the node is stopping"};
    Status sent = s->closed ? Status(Errc::disconnected, "connection closed") : s->conn->send(std::move(frame));
    if (!sent.ok()) {
        if (session_ == s) close();
        return sent.error();
    }
    return p;
}

Result<Bytes> BrokerConnection::await_frame(PendingRequest& p, Instant deadline) {
    KEEL_ASSERT(p.response.valid());
    auto r = p.response.get(deadline);
    if (!r.ok() && r.code() == Errc::timeout) {
        // Kafka's clients treat a request timeout as a broken connection.
        close();
        return Error{Errc::timeout, "request to " + address_.to_string() + " timed out"};
    }
    return r;
}

void BrokerConnection::read_loop(std::shared_ptr<Session> s) {
    while (!s->closed) {
        auto frame = s->conn->receive();
        if (!frame.ok()) {
            s->closed = true;
            fail_all(*s, frame.error().to_string());
            return;
        }
        if (frame->size() < 4) continue;
        ByteReader r(*frame);
        int32_t correlation = r.i32();
        auto it = s->pending.find(correlation);
        if (it == s->pending.end()) continue;  // abandoned (its caller gave up)
        env::Promise<Bytes> promise = std::move(it->second);
        s->pending.erase(it);
        promise.set(std::move(frame).value());
    }
}

void BrokerConnection::fail_all(Session& s, const std::string& why) {
    std::map<int32_t, env::Promise<Bytes>> pending;
    pending.swap(s.pending);
    for (auto& [id, promise] : pending) promise.set(Error{Errc::disconnected, why});
}

void BrokerConnection::close() {
    if (!session_) return;
    std::shared_ptr<Session> s = std::move(session_);
    session_.reset();
    versions_.reset();
    if (!s->closed) {
        s->closed = true;
        s->conn->close();
    }
    fail_all(*s, "connection to " + address_.to_string() + " closed");
}

BrokerConnection& ConnectionPool::get(const env::Address& address) {
    auto it = connections_.find(address);
    if (it == connections_.end()) {
        it = connections_.emplace(address, std::make_unique<BrokerConnection>(env_, address, options_)).first;
    }
    return *it->second;
}

void ConnectionPool::close_all() {
    for (auto& [address, conn] : connections_) conn->close();
}

}  // namespace keel::client
