// TcpNetwork on loopback between real ProdNodes (each its own thread, epoll loop and fiber
// scheduler). Deadlines are generous: they bound a broken test, they never decide a pass.
#include "prod/tcp_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "core/env/sync.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::prod {
namespace {

using env::Address;
using env::Connection;
using env::Env;

constexpr auto kTestLimit = std::chrono::seconds(60);  // only a hung test ever waits this long

// Starts a node that stops by itself when main returns, and waits for that.
::testing::AssertionResult run_to_completion(ProdNode& node, ProdNode::Main main) {
    Status started = node.start(std::move(main));
    if (!started.ok()) return ::testing::AssertionFailure() << started.error().to_string();
    auto limit = std::chrono::steady_clock::now() + kTestLimit;
    while (node.running()) {
        if (std::chrono::steady_clock::now() > limit) {
            node.stop();
            return ::testing::AssertionFailure() << "node " << node.name() << " did not finish";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return ::testing::AssertionSuccess();
}

ProdNodeOptions finishing() {
    ProdNodeOptions o;
    o.stop_when_main_returns = true;
    return o;
}

Instant in(Env& env, Duration d) { return env.now() + d; }

// Frame i of the echo stream: some empty, one of 3 MiB, the rest up to ~5 KB; the bytes
// depend on i so a swapped, torn or repeated frame is noticed.
Bytes frame_for(int i, int count) {
    size_t size = i % 7 == 0 ? 0 : static_cast<size_t>(i * 37 % 5000);
    if (i == count / 2) size = 3 * 1024 * 1024;
    Bytes b(size);
    for (size_t k = 0; k < size; k++) b[k] = static_cast<uint8_t>(i * 131 + k);
    return b;
}

// A listening node that echoes every frame on every connection until stopped.
struct EchoServer {
    TempDir dir{"keel-echo-"};
    ProdNode node{"server", dir.path() + "/data"};
    uint16_t port = 0;

    EchoServer() {
        std::promise<uint16_t> bound;
        auto started = node.start([&bound](Env& env) {
            auto listener = env.network().listen(Address{"127.0.0.1", 0});
            KEEL_ASSERT(listener.ok());
            bound.set_value((*listener)->address().port);
            while (auto conn = (*listener)->accept()) {
                env.executor().spawn("echo", [c = std::shared_ptr<Connection>(std::move(*conn))] {
                    while (auto frame = c->receive()) {
                        if (!c->send(std::move(*frame)).ok()) break;
                    }
                });
            }
        });
        KEEL_ASSERT(started.ok());
        auto f = bound.get_future();
        KEEL_ASSERT(f.wait_for(kTestLimit) == std::future_status::ready);
        port = f.get();
    }
};

TEST(TcpNetwork, EchoesFramesInOrderOverLoopback) {
    EchoServer server;
    TempDir dir;
    ProdNode client("client", dir.path(), finishing());
    constexpr int kFrames = 2000;
    int received = 0, mismatches = 0;
    Status sent_all;
    ASSERT_TRUE(run_to_completion(client, [&](Env& env) {
        auto conn = env.network().connect(Address{"127.0.0.1", server.port}, in(env, 30s));
        ASSERT_TRUE(conn.ok()) << conn.error().to_string();
        Connection& c = **conn;
        env::Event sender_done(env.executor());
        env.executor().spawn("sender", [&] {  // sends while main receives: no deadlock
            for (int i = 0; i < kFrames && sent_all.ok(); i++) sent_all = c.send(frame_for(i, kFrames));
            sender_done.set();
        });
        for (; received < kFrames; received++) {
            auto frame = c.receive(in(env, 30s));
            ASSERT_TRUE(frame.ok()) << "frame " << received << ": " << frame.error().to_string();
            if (*frame != frame_for(received, kFrames)) mismatches++;
        }
        sender_done.wait();
    }));
    EXPECT_TRUE(sent_all.ok()) << sent_all.error().to_string();
    EXPECT_EQ(received, kFrames);
    EXPECT_EQ(mismatches, 0);
}

TEST(TcpNetwork, ConcurrentSendersNeverInterleaveFrames) {
    EchoServer server;
    TempDir dir;
    ProdNode client("client", dir.path(), finishing());
    constexpr int kPerSender = 100;
    std::vector<int> next_seq(2, 0);
    int bad = 0;
    ASSERT_TRUE(run_to_completion(client, [&](Env& env) {
        auto conn = env.network().connect(Address{"127.0.0.1", server.port}, in(env, 30s));
        ASSERT_TRUE(conn.ok()) << conn.error().to_string();
        Connection& c = **conn;
        for (uint8_t tag = 0; tag < 2; tag++) {
            env.executor().spawn("sender", [&c, tag] {
                for (int seq = 0; seq < kPerSender; seq++) {
                    Bytes b(200'000, tag);  // large enough to fill socket buffers mid-frame
                    b[1] = static_cast<uint8_t>(seq);
                    b[2] = static_cast<uint8_t>(seq >> 8);
                    if (!c.send(std::move(b)).ok()) return;
                }
            });
        }
        for (int i = 0; i < 2 * kPerSender; i++) {
            auto f = c.receive(in(env, 30s));
            ASSERT_TRUE(f.ok()) << f.error().to_string();
            uint8_t tag = (*f)[0];
            int seq = (*f)[1] | ((*f)[2] << 8);
            bool intact = f->size() == 200'000 && tag < 2 &&
                          std::all_of(f->begin() + 3, f->end(), [&](uint8_t v) { return v == tag; });
            if (!intact || seq != next_seq[tag]) bad++;
            if (intact) next_seq[tag] = seq + 1;
        }
    }));
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(next_seq, (std::vector<int>{kPerSender, kPerSender}));
}

TEST(TcpNetwork, ReceiveTimesOutWithoutClosing) {
    TempDir dir;
    ProdNode node("n1", dir.path(), finishing());
    Result<Bytes> early(Errc::unknown), late(Errc::unknown);
    Duration waited{};
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        auto client = env.network().connect((*listener)->address(), in(env, 30s));
        ASSERT_TRUE(client.ok()) << client.error().to_string();
        auto server = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(server.ok());

        Instant before = env.now();
        early = (*server)->receive(in(env, 100ms));
        waited = env.now() - before;
        ASSERT_TRUE((*client)->send(to_bytes("late")).ok());
        late = (*server)->receive(in(env, 30s));
    }));
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.code(), Errc::timeout);
    EXPECT_GE(waited, Duration(100ms));  // deadlines never fire early
    ASSERT_TRUE(late.ok()) << late.error().to_string();
    EXPECT_EQ(as_chars(*late), "late");
}

TEST(TcpNetwork, ConnectToClosedPortIsRefused) {
    TempDir dir;
    ProdNode node("n1", dir.path(), finishing());
    Result<std::unique_ptr<Connection>> refused(Errc::unknown);
    Result<std::unique_ptr<env::Listener>> taken(Errc::unknown);
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        Address addr = (*listener)->address();
        EXPECT_NE(addr.port, 0);
        taken = env.network().listen(addr);  // a second listener on the same port
        (*listener)->close();
        refused = env.network().connect(addr, in(env, 30s));
    }));
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.code(), Errc::address_in_use);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.code(), Errc::connection_refused) << refused.error().to_string();
}

// A plain blocking socket connected to 127.0.0.1:port (the "other implementation").
int raw_connect(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

TEST(TcpNetwork, OversizedFrameClosesTheConnection) {
    std::mutex mu;
    std::vector<std::string> lines;
    ProdNodeOptions options = finishing();
    options.log.sink = [&](std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(line);
    };
    TempDir dir;
    ProdNode node("n1", dir.path(), options);
    std::promise<uint16_t> bound;
    std::vector<Errc> first, second;
    Status started = node.start([&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        bound.set_value((*listener)->address().port);
        for (int i = 0; i < 2; i++) {
            auto conn = (*listener)->accept(in(env, 30s));
            ASSERT_TRUE(conn.ok());
            auto r = (*conn)->receive(in(env, 30s));
            first.push_back(r.ok() ? Errc::unknown : r.code());
            auto again = (*conn)->receive(in(env, 30s));
            second.push_back(again.ok() ? Errc::unknown : again.code());
        }
    });
    ASSERT_TRUE(started.ok());
    uint16_t port = bound.get_future().get();
    // 2 GiB (negative as a signed int32, as Kafka reads it) and 200 MiB (over the 100 MiB cap).
    for (uint32_t length : {0x8000'0000u, 200u * 1024 * 1024}) {
        int fd = raw_connect(port);
        ASSERT_GE(fd, 0);
        uint32_t be = htonl(length);
        ASSERT_EQ(::send(fd, &be, 4, MSG_NOSIGNAL), 4);
        ASSERT_EQ(::send(fd, "junk", 4, MSG_NOSIGNAL), 4);
        char buf[16];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // the node closes: EOF or reset
        EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "recv returned " << n;
        ::close(fd);
    }
    auto limit = std::chrono::steady_clock::now() + kTestLimit;
    while (node.running() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    node.stop();
    EXPECT_EQ(first, (std::vector<Errc>{Errc::message_too_large, Errc::message_too_large}));
    EXPECT_EQ(second, (std::vector<Errc>{Errc::closed, Errc::closed}));
    std::lock_guard lock(mu);
    int reasons = 0;
    for (const auto& l : lines) {
        if (l.find(" WARN ") != std::string::npos && l.find("closing the connection") != std::string::npos &&
            (l.find("-2147483648") != std::string::npos || l.find("209715200") != std::string::npos)) {
            reasons++;
        }
    }
    EXPECT_EQ(reasons, 2) << "expected a logged reason for each oversized frame";
}

TEST(TcpNetwork, PeerCloseIsDisconnected) {
    TempDir dir;
    ProdNode node("n1", dir.path(), finishing());
    std::vector<std::string> got;
    Result<Bytes> after_close(Errc::unknown);
    Status send_after_close;
    Status send_after_local_close(Errc::unknown);
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        auto client = env.network().connect((*listener)->address(), in(env, 30s));
        ASSERT_TRUE(client.ok());
        auto server = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(server.ok());
        ASSERT_TRUE((*client)->send(to_bytes("a")).ok());
        ASSERT_TRUE((*client)->send(to_bytes("b")).ok());
        (*client)->close();
        send_after_local_close = (*client)->send(to_bytes("c"));
        while (true) {
            auto f = (*server)->receive(in(env, 30s));
            if (!f.ok()) {
                after_close = f;
                break;
            }
            got.emplace_back(as_chars(*f));
        }
        // Writing to a closed peer fails once its reset comes back (EPIPE/ECONNRESET).
        Instant limit = in(env, 30s);
        while (send_after_close.ok() && env.now() < limit) {
            send_after_close = (*server)->send(to_bytes("into the void"));
            env.executor().sleep_for(1ms);
        }
    }));
    EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));  // frames first, then the close
    ASSERT_FALSE(after_close.ok());
    EXPECT_EQ(after_close.code(), Errc::disconnected);
    ASSERT_FALSE(send_after_close.ok());
    EXPECT_EQ(send_after_close.code(), Errc::disconnected) << send_after_close.error().to_string();
    ASSERT_FALSE(send_after_local_close.ok());
    EXPECT_EQ(send_after_local_close.code(), Errc::closed);
}

TEST(TcpNetwork, SendRefusesAFrameAboveTheMaximum) {
    TempDir dir;
    ProdNodeOptions options = finishing();
    options.tcp.frame_size_max = 1000;
    ProdNode node("n1", dir.path(), options);
    Status big, fits(Errc::unknown);
    Result<Bytes> received(Errc::unknown);
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        auto client = env.network().connect((*listener)->address(), in(env, 30s));
        ASSERT_TRUE(client.ok());
        auto server = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(server.ok());
        big = (*client)->send(Bytes(1001));
        fits = (*client)->send(Bytes(1000, 7));  // the connection is still fine
        received = (*server)->receive(in(env, 30s));
    }));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.code(), Errc::message_too_large);
    EXPECT_TRUE(fits.ok());
    ASSERT_TRUE(received.ok());
    EXPECT_EQ(*received, Bytes(1000, 7));
}

// ---- NetFaults: the fault filter (a test facility) -----------------------------------

TEST(TcpNetworkFaults, CutRefusesConnectsClosesOpenConnectionsAndHeals) {
    TempDir dir;
    NetFaults faults;
    ProdNodeOptions options = finishing();
    options.tcp.faults = &faults;
    ProdNode node("n1", dir.path(), options);
    Result<Bytes> blocked_receive(Errc::unknown), server_saw(Errc::unknown), healed_echo(Errc::unknown);
    Status send_after_cut;
    Status refused, other(Errc::unknown);  // connections must not outlive the node: statuses only
    NetFaultCounters after_cut, after_refusal, at_end;
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        auto listener2 = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok() && listener2.ok());
        Address addr = (*listener)->address();
        auto client = env.network().connect(addr, in(env, 30s));
        ASSERT_TRUE(client.ok()) << client.error().to_string();
        auto server = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(server.ok());
        ASSERT_TRUE((*client)->send(to_bytes("before")).ok());
        auto before = (*server)->receive(in(env, 30s));
        ASSERT_TRUE(before.ok() && as_chars(*before) == "before");

        env::Event receiver_done(env.executor());
        env.executor().spawn("receiver", [&] {  // blocked in receive when the cut comes
            blocked_receive = (*client)->receive(in(env, 30s));
            receiver_done.set();
        });
        env.executor().yield();
        faults.set_rules({.cut = {addr}, .slow = {}});
        after_cut = faults.counters();
        receiver_done.wait();
        send_after_cut = (*client)->send(to_bytes("after"));
        server_saw = (*server)->receive(in(env, 30s));  // the peer sees the connection closed
        auto cut_connect = env.network().connect(addr, in(env, 30s));
        refused = cut_connect.ok() ? ok_status() : Status(cut_connect.error());
        auto other_connect = env.network().connect((*listener2)->address(), in(env, 30s));  // not cut
        other = other_connect.ok() ? ok_status() : Status(other_connect.error());
        after_refusal = faults.counters();

        faults.set_rules({});
        auto again = env.network().connect(addr, in(env, 30s));
        ASSERT_TRUE(again.ok()) << again.error().to_string();
        auto accepted = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(accepted.ok());
        ASSERT_TRUE((*again)->send(to_bytes("healed")).ok());
        healed_echo = (*accepted)->receive(in(env, 30s));
        at_end = faults.counters();
    }));
    EXPECT_EQ(after_cut.connections_closed, 1u);
    ASSERT_FALSE(blocked_receive.ok());
    EXPECT_EQ(blocked_receive.code(), Errc::disconnected) << blocked_receive.error().to_string();
    ASSERT_FALSE(send_after_cut.ok());
    EXPECT_EQ(send_after_cut.code(), Errc::disconnected);
    ASSERT_FALSE(server_saw.ok());
    EXPECT_EQ(server_saw.code(), Errc::disconnected);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.code(), Errc::connection_refused) << refused.error().to_string();
    EXPECT_TRUE(other.ok());
    EXPECT_EQ(after_refusal.connects_refused, 1u);
    ASSERT_TRUE(healed_echo.ok()) << healed_echo.error().to_string();
    EXPECT_EQ(as_chars(*healed_echo), "healed");
    EXPECT_EQ(at_end, (NetFaultCounters{.connects_refused = 1, .connections_closed = 1, .sends_delayed = 0}));
}

TEST(TcpNetworkFaults, SlowDelaysEverySendKeepsTheOrderAndHeals) {
    EchoServer server;
    TempDir dir;
    NetFaults faults;
    ProdNodeOptions options = finishing();
    options.tcp.faults = &faults;
    ProdNode client("client", dir.path(), options);
    constexpr int kSenders = 3;
    constexpr int kPerSender = 10;
    std::vector<int> next_seq(kSenders, 0);
    int bad = 0;
    Duration first_send{};
    NetFaultCounters slowed, healed;
    ASSERT_TRUE(run_to_completion(client, [&](Env& env) {
        Address addr{"127.0.0.1", server.port};
        auto conn = env.network().connect(addr, in(env, 30s));
        ASSERT_TRUE(conn.ok()) << conn.error().to_string();
        Connection& c = **conn;
        faults.set_rules({.cut = {}, .slow = {{addr, 20ms}}});
        Instant before = env.now();
        ASSERT_TRUE(c.send(Bytes{9}).ok());
        first_send = env.now() - before;
        auto echo = c.receive(in(env, 30s));
        ASSERT_TRUE(echo.ok());
        for (uint8_t tag = 0; tag < kSenders; tag++) {
            env.executor().spawn("sender", [&c, tag] {
                for (int seq = 0; seq < kPerSender; seq++) {
                    if (!c.send(Bytes{tag, static_cast<uint8_t>(seq)}).ok()) return;
                }
            });
        }
        for (int i = 0; i < kSenders * kPerSender; i++) {
            auto f = c.receive(in(env, 30s));
            ASSERT_TRUE(f.ok()) << f.error().to_string();
            if (f->size() != 2 || (*f)[0] >= kSenders || (*f)[1] != next_seq[(*f)[0]]) {
                bad++;
                continue;
            }
            next_seq[(*f)[0]]++;
        }
        slowed = faults.counters();
        faults.set_rules({});
        ASSERT_TRUE(c.send(Bytes{7}).ok());
        auto last = c.receive(in(env, 30s));
        ASSERT_TRUE(last.ok() && *last == Bytes{7});
        healed = faults.counters();
    }));
    EXPECT_GE(first_send, Duration(20ms));  // a delay never ends early
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(next_seq, std::vector<int>(kSenders, kPerSender));
    EXPECT_EQ(slowed.sends_delayed, 1u + kSenders * kPerSender);
    EXPECT_EQ(healed.sends_delayed, slowed.sends_delayed);  // healed: no more delays
    EXPECT_EQ(healed.connects_refused + healed.connections_closed, 0u);
}

TEST(TcpNetworkFaults, InboundConnectionsAreNeverFiltered) {
    TempDir dir;
    NetFaults faults;
    ProdNodeOptions options = finishing();
    options.tcp.faults = &faults;
    ProdNode node("n1", dir.path(), options);
    Result<Bytes> got(Errc::unknown);
    NetFaultCounters end;
    ASSERT_TRUE(run_to_completion(node, [&](Env& env) {
        auto listener = env.network().listen(Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        auto client = env.network().connect((*listener)->address(), in(env, 30s));
        ASSERT_TRUE(client.ok());
        auto server = (*listener)->accept(in(env, 30s));
        ASSERT_TRUE(server.ok());
        faults.set_rules({.cut = {(*server)->peer()}, .slow = {{(*server)->peer(), 10s}}});  // the client's address
        ASSERT_TRUE((*server)->send(to_bytes("reply")).ok());
        got = (*client)->receive(in(env, 30s));
        end = faults.counters();
    }));
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(as_chars(*got), "reply");
    EXPECT_EQ(end, NetFaultCounters{});
}

}  // namespace
}  // namespace keel::prod
