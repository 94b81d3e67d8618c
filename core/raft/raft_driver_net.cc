// RaftDriver: the network. Kafka's model: a client opens a connection, sends requests
// and reads their responses on it (matched by correlation id); a server answers each
// request on the connection it came on. Each node is both: it connects to every other
// voter (peer fibers) and accepts connections from voters and observers (the listener).
//
// Bad input never reaches the node: a frame that is oversized, truncated, malformed,
// of an API the quorum does not speak, or from a peer whose identity changed, is logged
// with its reason and closes that connection; every other connection goes on.
// DescribeQuorum never reaches the node either: it is answered on the reader's fiber from
// the node's state (a read; the raft loop is the only writer and fibers do not preempt).
// ApiVersions is answered there too, from any client, with the Raft listener's table
// (protocol::raft_listener_api_versions, docs/protocol.md).
#include "core/raft/raft_driver_internal.h"
#include "core/protocol/api_versions.h"
#include "core/protocol/frame.h"
#include "core/raft/raft_describe.h"
#include "core/raft/raft_label.h"
#include "core/raft/raft_wire.h"

namespace keel::raft {

using protocol::ApiKey;

void RaftDriver::start_network() {
    if (options_.listen) {
        auto l = env_.network().listen(*options_.listen);
        if (l.ok()) {
            listener_ = std::move(*l);
            spawn_helper("raft-accept", [this] { accept_loop(); });
        } else {
            // Not fatal: this node can still fetch, but nobody reaches it.
            env_.tracer().log(env::Level::error, "raft node " + std::to_string(options_.id.value()) +
                                                     ": cannot listen on " + options_.listen->to_string() + ": " +
                                                     l.error().to_string());
        }
    }
    for (const auto& [id, addr] : options_.voter_addresses) {
        if (id == options_.id) continue;
        auto p = std::make_unique<Peer>(env_.executor(), id, addr, std::max<size_t>(options_.peer_queue_max, 1));
        Peer* raw = p.get();
        peers_[id] = std::move(p);
        spawn_helper("raft-peer-" + std::to_string(id.value()), [this, raw] { peer_loop(*raw); });
    }
}

void RaftDriver::close_network() {
    if (listener_) listener_->close();
    for (auto& [id, in] : inbound_) {
        in->conn->close();
        in->replies.close();
    }
    for (auto& [id, p] : peers_) {
        p->queue.close();
        if (p->conn) p->conn->close();
    }
}

void RaftDriver::reject(const std::string& who, const std::string& why) {
    env_.tracer().log(env::Level::warn, "raft node " + std::to_string(options_.id.value()) +
                                            ": closing the connection " + who + ": " + why);
}

// Right after a frame left (in the fiber that sent it, so that the event follows its
// net.send): what it carried, for the space-time diagram.
void RaftDriver::trace_frame(const std::string& label) {
    if (label.empty() || !env_.tracer().enabled()) return;
    env_.tracer().event("raft.frame", "{\"label\":\"" + label + "\"}");
}

// A node's message goes out: requests to the peer's connection, responses back on the
// connection their request came on. A full queue or a lost connection drops it; the
// RaftNode times its requests out and retries.
void RaftDriver::send(Message m) {
    if (is_request(m.body)) {
        auto it = peers_.find(m.to);
        if (it == peers_.end()) return;  // not a voter we know the address of
        Outgoing o{m.correlation_id, api_key_of(m.body), encode_message(m, client_id_), 0,
                   env_.tracer().enabled() ? message_label(m) : std::string()};
        (void)it->second->queue.try_send(std::move(o));
        return;
    }
    auto route = reply_routes_.find({m.to, m.correlation_id});
    if (route == reply_routes_.end()) return;
    auto conn = inbound_.find(route->second);
    reply_routes_.erase(route);
    if (conn == inbound_.end()) return;
    Reply reply(encode_message(m, std::nullopt), env_.tracer().enabled() ? message_label(m) : std::string());
    // Buggify: a Fetch answer held back (a slow leader, a GC pause on its send path); the
    // follower's request timeout and the leader's own fetch bookkeeping must cope.
    if (std::holds_alternative<protocol::FetchResponse>(m.body) && KEEL_BUGGIFY(env_, "raft.fetch_answer_delayed")) {
        Duration delay = env_.random().uniform(Duration(ms(1)), Duration(ms(300)));
        std::shared_ptr<Inbound> in = conn->second;
        spawn_helper("raft-delayed-reply", [this, in, delay, r = std::move(reply)]() mutable {
            stop_event_.wait(env_.now() + delay);
            if (!stopping_) (void)in->replies.try_send(std::move(r));
        });
        return;
    }
    (void)conn->second->replies.try_send(std::move(reply));
}

// ---------------------------------------------------------------------- inbound

void RaftDriver::accept_loop() {
    while (!stopping_) {
        auto c = listener_->accept();
        if (!c.ok()) {
            if (c.code() == Errc::timeout) continue;
            return;  // closed, or the node is stopping
        }
        if (stopping_) return;
        if (inbound_.size() >= options_.inbound_connections_max) {
            reject("from " + (*c)->peer().to_string(), "too many connections");
            (*c)->close();
            continue;
        }
        uint64_t id = next_connection_id_++;
        auto in = std::make_shared<Inbound>(env_.executor(), id, std::move(*c),
                                            std::max<size_t>(options_.reply_queue_max, 1));
        inbound_[id] = in;
        spawn_helper("raft-in", [this, in] { inbound_reader(in); });
        spawn_helper("raft-reply", [this, in] { inbound_writer(in); });
    }
}

namespace {

// The header of a request frame from an inbound connection, decoded once per frame.
Result<protocol::RequestFrame> decode_inbound_header(ByteView frame, size_t frame_max) {
    if (frame.size() > frame_max) {
        return Error{Errc::invalid_request, "oversized frame of " + std::to_string(frame.size()) +
                                                " bytes (max " + std::to_string(frame_max) + ")"};
    }
    return protocol::decode_request_frame(frame, frame_max);
}

// A Raft request (not DescribeQuorum) checked down to its body: the client id must name
// one peer, the same on every frame of the connection.
Result<Message> decode_inbound(const protocol::RequestFrame& f, std::optional<NodeId>& peer, NodeId self) {
    std::optional<NodeId> from = parse_raft_client_id(f.header.client_id);
    if (!from) {
        return Error{Errc::invalid_request, "client id '" + f.header.client_id.value_or("<null>") +
                                                "' is not raft-<node id>"};
    }
    if (*from == self) return Error{Errc::invalid_request, "a peer claims this node's id"};
    if (peer && *peer != *from) {
        return Error{Errc::invalid_request, "client id changed from node " + std::to_string(peer->value()) +
                                                " to node " + std::to_string(from->value())};
    }
    peer = from;
    return decode_request_message(*from, self, f);
}

}  // namespace

Result<Bytes> RaftDriver::answer_describe_quorum(const protocol::RequestFrame& frame) {
    using protocol::DescribeQuorumResponse;
    KEEL_TRY_ASSIGN(protocol::DescribeQuorumRequest req,
                    protocol::decode_request_body<protocol::DescribeQuorumRequest>(frame));
    std::vector<DescribeQuorumResponse::Node> nodes;
    for (const auto& [id, addr] : options_.voter_addresses) {
        nodes.push_back({id, {{options_.listener_name, addr.host, addr.port}}});
    }
    int16_t version = frame.header.api_version;
    DescribeQuorumResponse resp =
        describe_quorum(*node_, req, version, env_.now(), env_.clock().wall_now(), nodes);
    return protocol::encode_response(frame.header.correlation_id, version, resp);
}

void RaftDriver::inbound_reader(std::shared_ptr<Inbound> in) {
    std::string who = "from " + in->conn->peer().to_string();
    while (!stopping_) {
        auto frame = in->conn->receive();
        if (!frame.ok()) break;
        Result<protocol::RequestFrame> f = decode_inbound_header(*frame, options_.frame_bytes_max);
        if (!f.ok()) {
            reject(who, f.error().to_string());
            break;
        }
        if (f->header.api_key == ApiKey::describe_quorum || f->header.api_key == ApiKey::api_versions) {
            Result<Bytes> reply = f->header.api_key == ApiKey::api_versions
                                      ? Result<Bytes>(protocol::answer_api_versions(
                                            *f, protocol::raft_listener_api_versions()))
                                      : answer_describe_quorum(*f);
            if (!reply.ok()) {
                reject(who, reply.error().to_string());
                break;
            }
            (void)in->replies.try_send(std::move(*reply));  // a full queue drops it, as any reply
            continue;
        }
        Result<Message> m = decode_inbound(*f, in->peer, options_.id);
        if (!m.ok()) {
            reject(who, m.error().to_string());
            break;
        }
        if (reply_routes_.size() >= options_.inbound_connections_max * options_.reply_queue_max) {
            reply_routes_.erase(reply_routes_.begin());  // bounded: an unanswerable route goes
        }
        reply_routes_[{m->from, m->correlation_id}] = in->id;
        Input input;
        input.message = std::move(*m);
        if (!inbox_->send(std::move(input)).ok()) break;
    }
    in->conn->close();
    in->replies.close();
    inbound_.erase(in->id);
    std::erase_if(reply_routes_, [&](const auto& r) { return r.second == in->id; });
}

void RaftDriver::inbound_writer(std::shared_ptr<Inbound> in) {
    while (true) {
        auto reply = in->replies.receive();
        if (!reply.ok()) break;
        if (!in->conn->send(std::move(reply->frame)).ok()) break;
        trace_frame(reply->label);
    }
    in->conn->close();
}

// --------------------------------------------------------------------- outbound

void RaftDriver::peer_loop(Peer& p) {
    Duration backoff = options_.reconnect_backoff_min;
    std::optional<Outgoing> carry;
    while (!stopping_) {
        if (!carry) {
            auto next = p.queue.receive();
            if (!next.ok()) return;
            carry = std::move(*next);
        }
        if (!p.conn) {
            auto c = env_.network().connect(p.address, env_.now() + options_.connect_timeout);
            if (stopping_) return;
            if (!c.ok()) {
                // Requests queued meanwhile are stale by the time we reconnect: drop them
                // (the node retries), wait a jittered, growing backoff.
                carry.reset();
                while (p.queue.try_receive()) {
                }
                Duration wait = env_.random().uniform(backoff / 2, backoff);
                stop_event_.wait(env_.now() + wait);
                backoff = std::min(2 * backoff, options_.reconnect_backoff_max);
                continue;
            }
            backoff = options_.reconnect_backoff_min;
            p.conn = std::shared_ptr<env::Connection>(std::move(*c));
            p.in_flight.clear();
            uint64_t generation = ++p.generation;
            std::shared_ptr<env::Connection> conn = p.conn;
            spawn_helper("raft-resp-" + std::to_string(p.id.value()),
                         [this, &p, conn, generation] { outbound_reader(p, conn, generation); });
        }
        if (p.in_flight.size() >= kInFlightMax) p.in_flight.erase(p.in_flight.begin());
        p.in_flight[carry->correlation_id] = carry->api;
        Status sent = p.conn->send(carry->frame);
        if (sent.ok()) {
            trace_frame(carry->label);
            carry.reset();
            continue;
        }
        // The connection died under us (the peer restarted?): retry once on a new one.
        p.conn->close();
        p.conn.reset();
        if (++carry->attempts > 1) carry.reset();
    }
}

void RaftDriver::outbound_reader(Peer& p, std::shared_ptr<env::Connection> conn, uint64_t generation) {
    std::string who = "to node " + std::to_string(p.id.value());
    while (!stopping_) {
        auto frame = conn->receive();
        if (!frame.ok() || p.generation != generation) break;
        if (frame->size() > options_.frame_bytes_max || frame->size() < 4) {
            reject(who, "response frame of " + std::to_string(frame->size()) + " bytes");
            break;
        }
        ByteReader r(*frame);
        int32_t correlation_id = r.i32();
        auto it = p.in_flight.find(correlation_id);
        if (it == p.in_flight.end()) {
            reject(who, "response with unknown correlation id " + std::to_string(correlation_id));
            break;
        }
        ApiKey api = it->second;
        p.in_flight.erase(it);
        Result<Message> m = decode_response_message(p.id, options_.id, api, *frame);
        if (!m.ok()) {
            reject(who, m.error().to_string());
            break;
        }
        Input input;
        input.message = std::move(*m);
        if (!inbox_->send(std::move(input)).ok()) break;
    }
    conn->close();
    if (p.conn == conn) p.conn.reset();
}

}  // namespace keel::raft
