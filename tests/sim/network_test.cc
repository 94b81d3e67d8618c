// SimNetwork in virtual time: delivery order, every fault, and determinism.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "sim/sim_network.h"
#include "sim/sim_random.h"

namespace keel::sim {
namespace {

using fiber::GroupExecutor;
using fiber::Scheduler;
using fiber::SchedulerOptions;

Instant at(Duration d) { return Instant{} + d; }
std::string text(const Bytes& b) { return std::string(as_chars(b)); }

// What one receiving fiber saw: frames with their arrival times, and how it ended.
struct Inbox {
    std::vector<std::string> frames;
    std::vector<Instant> times;
    std::optional<Errc> end;
    Instant end_at{};
};

struct Pair {
    env::Connection* client;
    env::Connection* server;
};

// A cluster of named nodes on one scheduler and one SimNetwork. Owns every connection,
// listener and inbox, and kills every node before they go, so no fiber outlives them.
class Net {
public:
    explicit Net(uint64_t seed = 1, NetworkOptions o = {})
        : s(SchedulerOptions{.virtual_time = true, .seed = seed}), rng(seed, &s), net(s, rng, o) {}
    ~Net() {
        for (auto& [name, n] : nodes_) s.kill_group(n.group);
    }

    Scheduler s;
    SimRandom rng;
    SimNetwork net;

    void add(const std::string& name) {
        Node& n = nodes_[name];
        n.group = s.create_group(name);
        n.ex = std::make_unique<GroupExecutor>(s, n.group);
        n.network = net.attach(name, *n.ex);
    }
    env::Network& network(const std::string& name) { return *nodes_.at(name).network; }
    fiber::GroupId group(const std::string& name) { return nodes_.at(name).group; }
    void spawn(const std::string& node, std::function<void()> fn) {
        ASSERT_NE(nodes_.at(node).ex->spawn("test", std::move(fn)), 0u);
    }
    void run() { s.run_while([] { return true; }); }
    void run_for(Duration d) { s.run_until(s.now() + d); }
    const NetworkCounters& counters() const { return net.counters(); }

    env::Listener& listen(const std::string& node, uint16_t port) {
        auto l = network(node).listen(env::Address{node, port});
        KEEL_ASSERT(l.ok());
        listeners_.push_back(std::move(l).value());
        return *listeners_.back();
    }
    env::Connection* keep(std::unique_ptr<env::Connection> c) {
        conns_.push_back(std::move(c));
        return conns_.back().get();
    }
    // Connects `from` to a fresh listener on `to` and runs until both sides exist.
    Pair connect_pair(const std::string& from, const std::string& to) {
        env::Listener* l = &listen(to, 0);
        env::Address addr = l->address();
        Pair p{nullptr, nullptr};
        spawn(to, [this, &p, l] {
            auto r = l->accept();
            ASSERT_TRUE(r.ok());
            p.server = keep(std::move(r).value());
        });
        spawn(from, [this, &p, from, addr] {
            auto r = network(from).connect(addr, Instant::max());
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            p.client = keep(std::move(r).value());
        });
        s.run_while([&] { return p.client == nullptr || p.server == nullptr; });
        KEEL_ASSERT(p.client != nullptr && p.server != nullptr);
        return p;
    }
    // A fiber on `node` that receives until an error.
    Inbox& drain(const std::string& node, env::Connection* c, Instant deadline = Instant::max()) {
        Inbox& in = inboxes_.emplace_back();
        spawn(node, [this, c, &in, deadline] {
            while (true) {
                auto r = c->receive(deadline);
                if (!r.ok()) {
                    in.end = r.code();
                    in.end_at = s.now();
                    return;
                }
                in.frames.push_back(text(*r));
                in.times.push_back(s.now());
            }
        });
        return in;
    }
    void send_all(const std::string& node, env::Connection* c, std::vector<std::string> frames) {
        spawn(node, [c, frames] {
            for (const auto& f : frames) ASSERT_TRUE(c->send(to_bytes(f)).ok());
        });
    }
    void crash(const std::string& node) {
        net.node_crashed(node);
        s.kill_group(group(node));
    }

private:
    struct Node {
        fiber::GroupId group = 0;
        std::unique_ptr<GroupExecutor> ex;
        std::unique_ptr<env::Network> network;
    };
    std::map<std::string, Node> nodes_;
    std::deque<std::unique_ptr<env::Listener>> listeners_;
    std::deque<std::unique_ptr<env::Connection>> conns_;
    std::deque<Inbox> inboxes_;
};

std::vector<std::string> numbered(const std::string& prefix, int n) {
    std::vector<std::string> v;
    for (int i = 0; i < n; i++) v.push_back(prefix + std::to_string(i));
    return v;
}

NetworkOptions fixed_latency(Duration d) {
    NetworkOptions o;
    o.latency_min = d;
    o.latency_max = d;
    return o;
}

TEST(SimNetwork, FramesArriveInOrderOnOneConnection) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    EXPECT_EQ(p.server->peer().host, "c2");
    EXPECT_EQ(p.client->peer().host, "c1");
    auto frames = numbered("f", 1000);
    uint64_t bytes = 0;
    for (const auto& f : frames) bytes += f.size();
    Instant start = t.s.now();
    t.spawn("c2", [&] {
        for (const auto& f : frames) ASSERT_TRUE(p.client->send(to_bytes(f)).ok());
        p.client->close();
    });
    Inbox& in = t.drain("c1", p.server);
    t.run();

    EXPECT_EQ(in.frames, frames);
    EXPECT_EQ(in.end, Errc::disconnected);  // the client closed after its last frame
    ASSERT_FALSE(in.times.empty());
    EXPECT_GE(in.times.front() - start, Duration(200us));
    EXPECT_LE(in.times.front() - start, Duration(2ms));
    EXPECT_EQ(t.counters().frames_sent, 1000u);
    EXPECT_EQ(t.counters().frames_delivered, 1000u);
    EXPECT_EQ(t.counters().bytes_delivered, bytes);
    EXPECT_EQ(t.counters().connections_opened, 1u);
    EXPECT_EQ(t.counters().frames_held_by_partition, 0u);
}

TEST(SimNetwork, OneWayPartitionHoldsFramesAndHealDeliversThemInOrder) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    t.net.partition("c2", "c1", /*both_ways=*/false);
    EXPECT_FALSE(t.net.reachable("c2", "c1"));
    EXPECT_TRUE(t.net.reachable("c1", "c2"));

    t.send_all("c2", p.client, numbered("up", 10));
    t.send_all("c1", p.server, numbered("down", 3));
    Inbox& at_c1 = t.drain("c1", p.server);
    Inbox& at_c2 = t.drain("c2", p.client);
    t.run_for(5s);
    EXPECT_TRUE(at_c1.frames.empty());
    EXPECT_EQ(at_c2.frames, numbered("down", 3));  // the other direction flows
    EXPECT_EQ(t.counters().frames_held_by_partition, 10u);

    Instant healed = t.s.now();
    t.net.heal("c1", "c2");
    EXPECT_TRUE(t.net.reachable("c2", "c1"));
    t.run_for(1s);
    EXPECT_EQ(at_c1.frames, numbered("up", 10));
    ASSERT_FALSE(at_c1.times.empty());
    EXPECT_GE(at_c1.times.front() - healed, Duration(200us));  // fresh latency after the heal
    EXPECT_FALSE(at_c1.end.has_value());
    EXPECT_EQ(t.counters().frames_held_by_partition, 10u);
    EXPECT_EQ(t.counters().connections_reset_by_partition, 0u);
}

TEST(SimNetwork, PartitionLongerThanStallTimeoutResetsBothSides) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    t.net.partition("c1", "c2");
    Instant sent = t.s.now();
    t.send_all("c2", p.client, {"stuck"});
    Inbox& at_c1 = t.drain("c1", p.server);
    Inbox& at_c2 = t.drain("c2", p.client);
    t.run_for(9s);
    EXPECT_FALSE(at_c1.end.has_value());
    EXPECT_FALSE(at_c2.end.has_value());
    EXPECT_EQ(t.counters().connections_reset_by_partition, 0u);

    t.run_for(2s);
    EXPECT_EQ(at_c1.end, Errc::disconnected);
    EXPECT_EQ(at_c2.end, Errc::disconnected);
    EXPECT_GE(at_c1.end_at - sent, Duration(10s));
    EXPECT_LE(at_c1.end_at - sent, Duration(10s) + Duration(2ms));
    EXPECT_TRUE(at_c1.frames.empty());
    EXPECT_EQ(t.counters().connections_reset_by_partition, 1u);
    EXPECT_EQ(t.counters().frames_held_by_partition, 1u);

    Status after(Errc::unknown);
    t.spawn("c2", [&] { after = p.client->send(to_bytes("again")); });
    t.net.heal_all();
    t.run();
    EXPECT_EQ(after.code(), Errc::disconnected);
    EXPECT_EQ(t.counters().frames_delivered, 0u);
}

TEST(SimNetwork, ConnectToUnreachableHostTimesOut) {
    Net t;
    t.add("c1");
    t.add("c2");
    t.listen("c1", 9092);
    // Only the handshake's way back is blocked: a connect still needs both directions.
    t.net.partition("c1", "c2", /*both_ways=*/false);
    std::vector<Duration> took;
    std::vector<Errc> codes;
    t.spawn("c2", [&] {
        for (Duration limit : {Duration::max(), Duration(1s)}) {
            Instant start = t.s.now();
            Instant deadline = limit == Duration::max() ? Instant::max() : start + limit;
            auto r = t.network("c2").connect({"c1", 9092}, deadline);
            codes.push_back(r.ok() ? Errc::unknown : r.code());
            took.push_back(t.s.now() - start);
        }
    });
    t.run();
    EXPECT_EQ(codes, (std::vector<Errc>{Errc::timeout, Errc::timeout}));
    EXPECT_EQ(took, (std::vector<Duration>{3s, 1s}));  // connect_timeout, then the deadline
    EXPECT_EQ(t.counters().connects_timed_out, 2u);
    EXPECT_EQ(t.counters().connections_opened, 0u);

    // A connect waiting across the partition completes once it heals.
    Instant start = t.s.now();
    std::optional<Instant> connected;
    t.spawn("c2", [&] {
        auto r = t.network("c2").connect({"c1", 9092}, Instant::max());
        ASSERT_TRUE(r.ok());
        t.keep(std::move(r).value());
        connected = t.s.now();
    });
    t.run_for(500ms);
    EXPECT_FALSE(connected.has_value());
    t.net.heal("c1", "c2");
    t.run_for(1s);
    ASSERT_TRUE(connected.has_value());
    EXPECT_GE(*connected - start, Duration(500ms) + Duration(400us));
    EXPECT_LE(*connected - start, Duration(500ms) + Duration(4ms));
    EXPECT_EQ(t.counters().connections_opened, 1u);
}

TEST(SimNetwork, ConnectWithNoListenerIsRefused) {
    Net t;
    t.add("c1");
    t.add("c2");
    env::Listener& l = t.listen("c1", 9092);
    l.close();
    std::vector<Errc> codes;
    std::vector<Duration> took;
    t.spawn("c2", [&] {
        for (env::Address a : {env::Address{"c1", 9999}, env::Address{"c1", 9092},
                               env::Address{"nowhere", 1}}) {
            Instant start = t.s.now();
            auto r = t.network("c2").connect(a, Instant::max());
            codes.push_back(r.ok() ? Errc::unknown : r.code());
            took.push_back(t.s.now() - start);
        }
    });
    t.run();
    EXPECT_EQ(codes, std::vector<Errc>(3, Errc::connection_refused));
    for (Duration d : took) {  // one round trip
        EXPECT_GE(d, Duration(400us));
        EXPECT_LE(d, Duration(4ms));
    }
    EXPECT_EQ(t.counters().connects_refused, 3u);
    EXPECT_EQ(t.counters().connects_timed_out, 0u);
}

TEST(SimNetwork, IsolatedNodeReachesNobody) {
    Net t;
    for (const char* n : {"c1", "c2", "c3"}) t.add(n);
    Pair old = t.connect_pair("c2", "c1");
    t.listen("c1", 9092);
    t.listen("c2", 9092);
    t.listen("c3", 9092);
    t.net.isolate("c1");
    for (const char* other : {"c2", "c3"}) {
        EXPECT_FALSE(t.net.reachable("c1", other));
        EXPECT_FALSE(t.net.reachable(other, "c1"));
    }
    EXPECT_TRUE(t.net.reachable("c2", "c3"));
    EXPECT_TRUE(t.net.reachable("c1", "c1"));

    std::map<std::string, Errc> results;
    auto attempt = [&](const std::string& from, const std::string& to) {
        t.spawn(from, [&t, &results, from, to] {
            auto r = t.network(from).connect({to, 9092}, Instant::max());
            results[from + ">" + to] = r.ok() ? Errc::unknown : r.code();
            if (r.ok()) t.keep(std::move(r).value());
        });
    };
    attempt("c1", "c2");
    attempt("c3", "c1");
    attempt("c2", "c3");
    t.send_all("c2", old.client, {"held"});
    Inbox& at_c1 = t.drain("c1", old.server);
    t.run_for(5s);
    EXPECT_EQ(results["c1>c2"], Errc::timeout);
    EXPECT_EQ(results["c3>c1"], Errc::timeout);
    EXPECT_EQ(results["c2>c3"], Errc::unknown);  // connected
    EXPECT_TRUE(at_c1.frames.empty());
    EXPECT_EQ(t.counters().connects_timed_out, 2u);
    EXPECT_EQ(t.counters().connections_opened, 2u);
    EXPECT_EQ(t.counters().frames_held_by_partition, 1u);

    t.net.heal_all();
    t.run_for(1s);
    EXPECT_TRUE(t.net.reachable("c1", "c2"));
    EXPECT_EQ(at_c1.frames, std::vector<std::string>{"held"});
}

TEST(SimNetwork, ClogDelaysOnlyTheClogedDirectionAndEnds) {
    Net t(1, fixed_latency(1ms));
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    t.net.clog("c2", "c1", 500ms, 2s);
    Instant t0 = t.s.now();
    std::vector<Duration> c1_got, c2_got;
    t.spawn("c1", [&] {
        for (int i = 0; i < 2; i++) {
            auto r = p.server->receive();
            ASSERT_TRUE(r.ok());
            c1_got.push_back(t.s.now() - t0);
            if (i == 0) {
                ASSERT_TRUE(p.server->send(to_bytes("reply")).ok());
            }
        }
    });
    t.spawn("c2", [&] {
        ASSERT_TRUE(p.client->send(to_bytes("slow")).ok());
        ASSERT_TRUE(p.client->receive().ok());
        c2_got.push_back(t.s.now() - t0);
        t.s.sleep_for(3s);  // the clog is over
        ASSERT_TRUE(p.client->send(to_bytes("fast")).ok());
    });
    t.run();
    EXPECT_EQ(c1_got, (std::vector<Duration>{501ms, Duration(503ms) + Duration(3s)}));
    EXPECT_EQ(c2_got, std::vector<Duration>{502ms});  // the reply direction is not slowed
    EXPECT_EQ(t.counters().frames_delayed_by_clog, 1u);
}

TEST(SimNetwork, ResetConnectionsDisconnectsBothSides) {
    Net t;
    for (const char* n : {"c1", "c2", "c3"}) t.add(n);
    Pair a = t.connect_pair("c2", "c1");
    Pair b = t.connect_pair("c1", "c2");
    Pair c = t.connect_pair("c3", "c1");
    t.send_all("c2", a.client, numbered("m", 3));
    t.run_for(100ms);  // delivered, not yet read
    EXPECT_EQ(t.net.reset_connections("c1", "c2"), 2u);
    EXPECT_EQ(t.counters().connections_reset_by_fault, 2u);

    Inbox& a_server = t.drain("c1", a.server);
    Inbox& a_client = t.drain("c2", a.client);
    Inbox& b_server = t.drain("c2", b.server);
    Inbox& b_client = t.drain("c1", b.client);
    Status send_after(Errc::unknown);
    t.spawn("c2", [&] { send_after = a.client->send(to_bytes("late")); });
    t.send_all("c3", c.client, {"still fine"});
    Inbox& c_server = t.drain("c1", c.server, t.s.now() + 1s);
    t.run_for(2s);
    EXPECT_EQ(a_server.frames, numbered("m", 3));  // drained first
    EXPECT_EQ(a_server.end, Errc::disconnected);
    EXPECT_EQ(a_client.end, Errc::disconnected);
    EXPECT_EQ(b_server.end, Errc::disconnected);
    EXPECT_EQ(b_client.end, Errc::disconnected);
    EXPECT_EQ(send_after.code(), Errc::disconnected);
    EXPECT_EQ(c_server.frames, std::vector<std::string>{"still fine"});
    EXPECT_EQ(c_server.end, Errc::timeout);
    EXPECT_EQ(t.net.reset_connections("c2", "c1"), 0u);
    EXPECT_EQ(t.counters().connections_reset_by_fault, 2u);
}

TEST(SimNetwork, CrashOfANodeResetsItsPeersConnections) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    uint16_t port = t.listen("c1", 9092).address().port;
    t.send_all("c1", p.server, numbered("before", 3));
    t.run_for(100ms);
    t.send_all("c1", p.server, numbered("lost", 2));
    t.run_for(50us);  // less than the minimum latency: still in flight
    t.crash("c1");
    Inbox& at_c2 = t.drain("c2", p.client);
    Errc reconnect = Errc::unknown;
    t.spawn("c2", [&] {
        auto r = t.network("c2").connect({"c1", port}, Instant::max());
        reconnect = r.ok() ? Errc::unknown : r.code();
    });
    t.run();
    EXPECT_EQ(at_c2.frames, numbered("before", 3));
    EXPECT_EQ(at_c2.end, Errc::disconnected);
    EXPECT_EQ(reconnect, Errc::connection_refused);  // its listeners are gone
    EXPECT_EQ(t.counters().frames_dropped_by_crash, 2u);
    EXPECT_EQ(t.counters().connections_reset_by_crash, 1u);
}

// The simulator may unwind the node's fibers before telling the network: a connection
// destroyed while its node dies is a crash, not an orderly close.
TEST(SimNetwork, CrashIsTheSameWhenFibersUnwindBeforeTheNetworkIsTold) {
    Net t;
    t.add("c1");
    t.add("c2");
    t.listen("c1", 9092);
    env::Connection* client = nullptr;
    t.spawn("c1", [&] {  // the server side lives on this fiber's stack
        auto l = t.network("c1").listen({"c1", 9093});
        ASSERT_TRUE(l.ok());
        auto c = (*l)->accept();
        ASSERT_TRUE(c.ok());
        for (const auto& f : numbered("lost", 2)) ASSERT_TRUE((*c)->send(to_bytes(f)).ok());
        (void)(*c)->receive();  // parks until the crash
    });
    t.spawn("c2", [&] {
        auto r = t.network("c2").connect({"c1", 9093}, Instant::max());
        ASSERT_TRUE(r.ok());
        client = t.keep(std::move(r).value());
    });
    t.s.run_while([&] { return t.counters().frames_sent < 2; });
    ASSERT_NE(client, nullptr);
    t.s.kill_group(t.group("c1"));  // fibers unwind first
    EXPECT_EQ(t.counters().connections_reset_by_crash, 1u);
    t.net.node_crashed("c1");
    Inbox& at_c2 = t.drain("c2", client);
    t.run();
    EXPECT_TRUE(at_c2.frames.empty());
    EXPECT_EQ(at_c2.end, Errc::disconnected);
    EXPECT_EQ(t.counters().frames_dropped_by_crash, 2u);
    EXPECT_EQ(t.counters().connections_reset_by_crash, 1u);
}

// A destructor that runs while the node's fibers unwind must not block: blocking calls
// return Errc::cancelled at once.
TEST(SimNetwork, ReceiveDuringACrashReturnsCancelledWithoutBlocking) {
    Net t;
    t.add("c1");
    t.add("c2");
    t.listen("c2", 9092);
    std::optional<Errc> in_unwind;
    struct ReceiveOnUnwind {
        env::Connection* c;
        std::optional<Errc>* out;
        ~ReceiveOnUnwind() {
            auto r = c->receive();
            *out = r.ok() ? Errc::unknown : r.code();
        }
    };
    t.spawn("c1", [&] {
        auto c = t.network("c1").connect({"c2", 9092}, Instant::max());
        ASSERT_TRUE(c.ok());
        ReceiveOnUnwind guard{c->get(), &in_unwind};  // destroyed before the connection
        t.s.sleep_for(1h);
    });
    t.run_for(1s);
    t.s.kill_group(t.group("c1"));  // the connection is still healthy when the guard runs
    t.net.node_crashed("c1");
    EXPECT_EQ(in_unwind, Errc::cancelled);
    EXPECT_EQ(t.counters().connections_reset_by_crash, 1u);
}

TEST(SimNetwork, PausedReceiverGetsQueuedFramesOnResume) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    Inbox& at_c1 = t.drain("c1", p.server);
    t.run_for(1ms);
    t.s.pause_group(t.group("c1"));
    t.send_all("c2", p.client, numbered("q", 20));
    t.run_for(1s);
    EXPECT_TRUE(at_c1.frames.empty());
    EXPECT_EQ(t.counters().frames_delivered, 20u);  // in the paused node's kernel buffers

    Instant resumed = t.s.now();
    t.s.resume_group(t.group("c1"));
    t.run_for(1ms);
    EXPECT_EQ(at_c1.frames, numbered("q", 20));
    for (Instant when : at_c1.times) EXPECT_EQ(when, resumed);
}

TEST(SimNetwork, ReceiveTimeoutLeavesConnectionUsable) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    Instant t0 = t.s.now();
    std::optional<Errc> first;
    Instant first_at{};
    std::string second;
    t.spawn("c1", [&] {
        auto r = p.server->receive(t.s.now() + 100ms);
        first = r.ok() ? Errc::unknown : r.code();
        first_at = t.s.now();
        auto r2 = p.server->receive(t.s.now() + 10s);
        ASSERT_TRUE(r2.ok());
        second = text(*r2);
        ASSERT_TRUE(p.server->send(to_bytes("ack")).ok());
    });
    std::string ack;
    t.spawn("c2", [&] {
        t.s.sleep_for(200ms);
        ASSERT_TRUE(p.client->send(to_bytes("late")).ok());
        auto r = p.client->receive();
        ASSERT_TRUE(r.ok());
        ack = text(*r);
    });
    t.run();
    EXPECT_EQ(first, Errc::timeout);
    EXPECT_EQ(first_at - t0, Duration(100ms));
    EXPECT_EQ(second, "late");
    EXPECT_EQ(ack, "ack");
    EXPECT_EQ(t.counters().frames_delivered, 2u);
}

TEST(SimNetwork, OversizedFrameIsRejected) {
    NetworkOptions o;
    o.frame_bytes_max = 1024;
    Net t(1, o);
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    std::vector<Errc> codes;
    t.spawn("c2", [&] {
        for (size_t n : {1024u, 1025u, 10u}) {
            Status st = p.client->send(Bytes(n, 'x'));
            codes.push_back(st.ok() ? Errc::unknown : st.code());
        }
    });
    Inbox& at_c1 = t.drain("c1", p.server);
    t.run();
    EXPECT_EQ(codes,
              (std::vector<Errc>{Errc::unknown, Errc::message_too_large, Errc::disconnected}));
    EXPECT_EQ(at_c1.end, Errc::disconnected);
    EXPECT_LE(at_c1.frames.size(), 1u);  // the good frame may or may not have arrived first
    EXPECT_EQ(t.counters().frames_rejected_too_large, 1u);
    EXPECT_EQ(t.counters().frames_sent, 1u);
}

// Three clients send on their own connections; the server logs arrivals across them.
std::pair<std::vector<std::string>, uint64_t> interleaving(uint64_t seed) {
    Net t(seed);
    for (const char* n : {"c1", "c2", "c3", "c4"}) t.add(n);
    std::vector<std::string> log;
    for (const char* client : {"c2", "c3", "c4"}) {
        Pair p = t.connect_pair(client, "c1");
        t.send_all(client, p.client, numbered(std::string(client) + ":", 30));
        t.spawn("c1", [&log, c = p.server] {
            for (int i = 0; i < 30; i++) {
                auto r = c->receive();
                ASSERT_TRUE(r.ok());
                log.push_back(text(*r));
            }
        });
    }
    t.run();
    return {log, t.s.hash()};
}

TEST(SimNetwork, SameSeedSameDeliveryOrderAcrossConnections) {
    auto [log1, hash1] = interleaving(5);
    auto [log2, hash2] = interleaving(5);
    auto [log3, hash3] = interleaving(6);
    ASSERT_EQ(log1.size(), 90u);
    EXPECT_EQ(log1, log2);
    EXPECT_EQ(hash1, hash2);
    EXPECT_NE(hash1, hash3);
    EXPECT_NE(log1, log3);  // the interleaving across connections depends on the seed
    std::map<std::string, int> next;  // ...but never the order within one
    for (const auto& f : log1) {
        std::string who = f.substr(0, f.find(':'));
        EXPECT_EQ(f, who + ":" + std::to_string(next[who]++));
    }
}

TEST(SimNetwork, ListenOnPortZeroPicksAFreePortAndDuplicateListenIsRefused) {
    Net t;
    t.add("c1");
    auto a = t.network("c1").listen({"c1", 0});
    auto b = t.network("c1").listen({"", 0});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE((*a)->address().port, 0);
    EXPECT_NE((*a)->address().port, (*b)->address().port);
    EXPECT_EQ((*b)->address().host, "c1");
    auto dup = t.network("c1").listen({"c1", (*a)->address().port});
    EXPECT_EQ(dup.code(), Errc::address_in_use);
    EXPECT_EQ(t.network("c1").listen({"c2", 1}).code(), Errc::invalid_argument);
    (*a)->close();
    EXPECT_TRUE(t.network("c1").listen({"c1", (*a)->address().port}).ok());
}

TEST(SimNetwork, AcceptHonoursItsDeadline) {
    Net t;
    t.add("c1");
    env::Listener& l = t.listen("c1", 9092);
    std::optional<Errc> got;
    Instant when{};
    t.spawn("c1", [&] {
        auto r = l.accept(t.s.now() + 250ms);
        got = r.ok() ? Errc::unknown : r.code();
        when = t.s.now();
    });
    t.run();
    EXPECT_EQ(got, Errc::timeout);
    EXPECT_EQ(when, at(250ms));
}

TEST(SimNetwork, SendBlocksWhileTheQueueIsFull) {
    NetworkOptions o;
    o.send_queue_frames_max = 4;
    Net t(1, o);
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    int sent = 0;
    t.spawn("c2", [&] {
        for (int i = 0; i < 10; i++) {
            ASSERT_TRUE(p.client->send(to_bytes(std::to_string(i))).ok());
            sent++;
        }
    });
    t.run_for(1s);
    EXPECT_EQ(sent, 4);  // nobody reads: the send buffer is full
    Inbox& in = t.drain("c1", p.server, t.s.now() + 1s);
    t.run_for(2s);
    EXPECT_EQ(sent, 10);
    EXPECT_EQ(in.frames, numbered("", 10));
}

TEST(SimNetwork, ClosedConnectionLetsThePeerDrainThenDisconnects) {
    Net t;
    t.add("c1");
    t.add("c2");
    Pair p = t.connect_pair("c2", "c1");
    t.spawn("c2", [&] {
        for (const auto& f : numbered("x", 5)) ASSERT_TRUE(p.client->send(to_bytes(f)).ok());
        p.client->close();
        EXPECT_EQ(p.client->send(to_bytes("no")).code(), Errc::closed);
        EXPECT_EQ(p.client->receive().code(), Errc::closed);
    });
    Inbox& in = t.drain("c1", p.server);
    t.run();
    EXPECT_EQ(in.frames, numbered("x", 5));
    EXPECT_EQ(in.end, Errc::disconnected);
    Status back(Errc::unknown);
    t.spawn("c1", [&] { back = p.server->send(to_bytes("bye")); });
    t.run();
    EXPECT_EQ(back.code(), Errc::disconnected);
}

TEST(SimNetwork, ConnectionsOutliveTheNetworkSafely) {
    auto s = std::make_unique<Scheduler>(SchedulerOptions{.virtual_time = true, .seed = 3});
    SimRandom rng(3, s.get());
    auto net = std::make_unique<SimNetwork>(*s, rng);
    fiber::GroupId g = s->create_group("c1");
    GroupExecutor ex(*s, g);
    auto network = net->attach("c1", ex);
    auto l = network->listen({"c1", 1});
    ASSERT_TRUE(l.ok());
    std::unique_ptr<env::Connection> c;
    s->spawn(g, "connect", [&] {
        c = std::move(network->connect({"c1", 1}, Instant::max())).value();
    });
    s->run_while([&] { return c == nullptr; });
    ASSERT_NE(c, nullptr);
    net.reset();
    EXPECT_EQ(c->send(to_bytes("x")).code(), Errc::cancelled);
    c.reset();
    l->reset();
    network.reset();
    s->run_while([] { return true; });
}

// Property: whatever partitions and heals happen, each connection delivers a prefix of
// what was sent on it, in order; exactly all of it when no connection was reset.
TEST(SimNetwork, EveryConnectionDeliversAPrefixOfWhatWasSentUnderRandomPartitions) {
    auto ok = rc::check([](uint64_t seed) {
        const std::vector<std::string> hosts = {"c1", "c2", "c3"};
        NetworkOptions o;
        o.send_queue_frames_max = *rc::gen::inRange<size_t>(2, 64);
        o.stall_reset_timeout = std::chrono::milliseconds(*rc::gen::inRange(300, 3000));
        Net t(seed, o);
        for (const auto& h : hosts) t.add(h);
        const size_t conns = *rc::gen::inRange<size_t>(1, 5);
        std::vector<std::vector<std::string>> sent(conns), received(conns);
        for (size_t k = 0; k < conns; k++) {
            std::string from = hosts[*rc::gen::inRange<size_t>(0, 3)];
            std::string to = hosts[*rc::gen::inRange<size_t>(0, 3)];
            Pair p = t.connect_pair(from, to);
            int n = *rc::gen::inRange(1, 300);
            int gap_us = *rc::gen::inRange(0, 2000);
            t.spawn(from, [&t, &sent, p, k, n, gap_us] {
                for (int i = 0; i < n; i++) {
                    std::string f = std::to_string(k) + "/" + std::to_string(i);
                    if (!p.client->send(to_bytes(f)).ok()) break;
                    sent[k].push_back(f);
                    t.s.sleep_for(std::chrono::microseconds(gap_us));
                }
                p.client->close();
            });
            t.spawn(to, [&received, p, k] {
                while (true) {
                    auto r = p.server->receive();
                    if (!r.ok()) break;
                    received[k].push_back(text(*r));
                }
            });
        }
        // (kind: 0 partition, 1 one-way, 2 heal a-b, 3 heal all; host a; host b; then wait ms)
        using Fault = std::tuple<int, size_t, size_t, int>;
        const auto faults = *rc::gen::nonEmpty(rc::gen::container<std::vector<Fault>>(
            rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::inRange<size_t>(0, 3),
                           rc::gen::inRange<size_t>(0, 3), rc::gen::inRange(1, 4000))));
        for (const auto& [kind, a, b, wait_ms] : faults) {
            if (kind == 0) t.net.partition(hosts[a], hosts[b], true);
            if (kind == 1) t.net.partition(hosts[a], hosts[b], false);
            if (kind == 2) t.net.heal(hosts[a], hosts[b]);
            if (kind == 3) t.net.heal_all();
            t.run_for(std::chrono::milliseconds(wait_ms));
        }
        t.net.heal_all();
        t.run();
        bool any_reset = t.counters().connections_reset_by_partition > 0;
        for (size_t k = 0; k < conns; k++) {
            RC_ASSERT(received[k].size() <= sent[k].size());
            RC_ASSERT(std::equal(received[k].begin(), received[k].end(), sent[k].begin()));
            if (!any_reset) RC_ASSERT(received[k] == sent[k]);
        }
        RC_TAG(any_reset ? "some reset" : "no reset");
    });
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace keel::sim
