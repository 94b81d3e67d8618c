#include "prod/tcp_network.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/env/sync.h"

namespace keel::prod {

namespace {

using Context = TcpNetwork::Context;
using env::WakeReason;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kReadBufferKeepMax = 1024 * 1024;  // shrink the buffer after a huge frame
constexpr size_t kPrefixBytes = 4;
constexpr Duration kAcceptBackoff = 100ms;  // when out of fds (EMFILE)

std::string errno_text(int err) { return std::strerror(err); }

// ---- addresses -----------------------------------------------------------------------

struct SockAddr {
    sockaddr_storage storage{};
    socklen_t len = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
    sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

Result<SockAddr> resolve_family(const env::Address& addr, bool passive, int family) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    bool any = addr.host.empty() || addr.host == "0.0.0.0";
    std::string port = std::to_string(addr.port);
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(any ? nullptr : addr.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return Error{Errc::invalid_argument,
                     "cannot resolve " + addr.to_string() + ": " + ::gai_strerror(rc)};
    }
    SockAddr out;
    std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
    out.len = found->ai_addrlen;
    ::freeaddrinfo(found);
    return out;
}

// IPv4 first ("localhost" then means 127.0.0.1, like the listeners in a test cluster),
// then whatever the name has ("::1", IPv6-only hosts).
Result<SockAddr> resolve(const env::Address& addr, bool passive) {
    auto v4 = resolve_family(addr, passive, AF_INET);
    if (v4.ok()) return v4;
    return resolve_family(addr, passive, AF_UNSPEC);
}

env::Address to_address(const SockAddr& sa) {
    char host[INET6_ADDRSTRLEN] = {};
    uint16_t port = 0;
    if (sa.storage.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa.storage);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    } else {
        auto* in4 = reinterpret_cast<const sockaddr_in*>(&sa.storage);
        ::inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
        port = ntohs(in4->sin_port);
    }
    return env::Address{host, port};
}

// ---- socket setup --------------------------------------------------------------------

void set_int_option(int fd, int level, int name, int value) {
    // Best effort: a failure here degrades latency or failure detection, not correctness.
    ::setsockopt(fd, level, name, &value, sizeof value);
}

void configure_stream(int fd, const TcpOptions& o) {
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE,
                   static_cast<int>(std::max<int64_t>(1, to_ms(o.keepalive_idle) / 1000)));
    set_int_option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(to_ms(o.user_timeout)));
}

Errc connect_errc(int err) {
    switch (err) {
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ETIMEDOUT: return Errc::connection_refused;
        default: return Errc::io_error;
    }
}

// ---- Socket: one fd, its poller registration, and the fibers waiting on it ------------

class Socket {
public:
    Socket(Context& c, int fd) : c_(c), fd_(fd), readers_(c.executor), writers_(c.executor) {}
    ~Socket() { close(); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    Status register_with_poller() {
        auto token = c_.poller.add(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                                   [this](uint32_t events) { on_events(events); });
        if (!token.ok()) return token.error();
        token_ = *token;
        return {};
    }

    // Releases the fd; every waiter wakes (and sees the socket closed). Idempotent.
    void close() {
        if (fd_ < 0) return;
        c_.poller.remove(fd_, token_);
        ::close(fd_);
        fd_ = -1;
        readers_.notify_all();
        writers_.notify_all();
    }

    // Shuts both directions down but keeps the fd (its owner still closes it); every
    // waiter wakes and its retry sees the end of the stream.
    void shutdown() {
        if (fd_ < 0) return;
        ::shutdown(fd_, SHUT_RDWR);
        readers_.notify_all();
        writers_.notify_all();
    }

    int fd() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    WakeReason wait_readable(Instant deadline) { return readers_.wait(deadline); }
    WakeReason wait_writable(Instant deadline) { return writers_.wait(deadline); }
    Context& context() { return c_; }

private:
    void on_events(uint32_t events) {
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readers_.notify_all();
        if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writers_.notify_all();
    }

    Context& c_;
    int fd_;
    EpollPoller::Token token_ = 0;
    env::WaitQueue readers_;
    env::WaitQueue writers_;
};

// The error for a fiber whose wait ended without the socket becoming usable.
std::optional<Error> wait_error(WakeReason r, const Socket& s, std::string_view what) {
    if (!s.is_open()) return Error{Errc::closed, std::string(what) + ": closed locally"};
    if (r == WakeReason::dying) return Error{Errc::cancelled, "node is stopping"};
    if (r == WakeReason::deadline) return Error{Errc::timeout, std::string(what) + " timed out"};
    return std::nullopt;
}

// ---- connect helpers ------------------------------------------------------------------

// Waits for a non-blocking connect to finish: ok, or its error.
Status await_connect(Socket& s, const env::Address& addr, Instant deadline) {
    while (true) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            return Error{connect_errc(err), "connect to " + addr.to_string() + ": " + errno_text(err)};
        }
        SockAddr peer;
        peer.len = sizeof peer.storage;
        if (::getpeername(s.fd(), peer.get(), &peer.len) == 0) return {};
        if (auto e = wait_error(s.wait_writable(deadline), s, "connect to " + addr.to_string())) {
            if (e->code == Errc::timeout && s.context().executor.now() < deadline) continue;
            return *e;
        }
    }
}

// ---- receive buffer -----------------------------------------------------------------

// Bytes read from the socket and not yet returned as frames: [begin_, end_) of buf_.
class ReadBuffer {
public:
    size_t size() const { return end_ - begin_; }
    const uint8_t* data() const { return buf_.data() + begin_; }
    void consume(size_t n) {
        begin_ += n;
        if (begin_ == end_) {
            begin_ = end_ = 0;
            if (buf_.size() > kReadBufferKeepMax) Bytes(kReadChunk).swap(buf_);
        }
    }
    // Room for at least n more bytes at tail().
    uint8_t* reserve(size_t n) {
        if (buf_.size() - end_ < n && begin_ > 0) {
            std::memmove(buf_.data(), buf_.data() + begin_, size());
            end_ -= begin_;
            begin_ = 0;
        }
        if (buf_.size() - end_ < n) buf_.resize(end_ + n);
        return buf_.data() + end_;
    }
    void commit(size_t n) { end_ += n; }

private:
    Bytes buf_;
    size_t begin_ = 0;
    size_t end_ = 0;
};

// ---- Connection ---------------------------------------------------------------------

class TcpConnection final : public env::Connection, public NetFaults::Link {
public:
    TcpConnection(Context& c, int fd, env::Address peer)
        : socket_(c, fd), peer_(std::move(peer)), send_lock_(c.executor) {}
    ~TcpConnection() override {
        if (faults_) faults_->detach(this);
    }
    TcpConnection(const TcpConnection&) = delete;
    TcpConnection& operator=(const TcpConnection&) = delete;

    // An initiated connection: filtered by `faults` from now on.
    void attach_faults(NetFaults& faults) {
        faults_ = &faults;
        faults.attach(this);
    }
    bool cut_by_fault() override {
        if (closed_ || failed_) return false;
        failed_ = Error{Errc::disconnected, "connection to " + peer_.to_string() + " cut (network fault)"};
        socket_.shutdown();
        return true;
    }

    Status start() { return socket_.register_with_poller(); }
    Status await_connected(Instant deadline) { return await_connect(socket_, peer_, deadline); }

    Status send(Bytes frame) override;
    Result<Bytes> receive(Instant deadline) override;
    void close() override {
        closed_ = true;
        socket_.close();
    }
    const env::Address& peer() const override { return peer_; }

private:
    Status await_fault_delay(Instant due);
    enum class ReadStep : uint8_t { progress, would_block, failed };
    ReadStep read_some(size_t want);
    std::optional<Result<Bytes>> take_frame();
    Result<Bytes> fail_oversized(int64_t length);
    Status write_all(const uint8_t* prefix, ByteView payload);
    std::optional<Error> sticky_error() const;

    Context& c() { return socket_.context(); }

    Socket socket_;
    env::Address peer_;
    env::Mutex send_lock_;  // one frame at a time on the wire
    ReadBuffer in_;
    bool closed_ = false;      // closed by this side
    std::optional<Error> failed_;  // peer closed/reset, cut, or an oversized frame arrived
    NetFaults* faults_ = nullptr;  // set on initiated connections when faults are on
};

// A slow peer (NetFaults): sleeps until `due`, in steps, so that a peer healed meanwhile
// stops delaying, and a connection that failed or closed meanwhile stops at once.
Status TcpConnection::await_fault_delay(Instant due) {
    while (true) {
        if (auto e = sticky_error()) return *e;
        Instant now = c().executor.now();
        if (now >= due || faults_->delay_for(peer_) == Duration::zero()) return {};
        c().executor.sleep_for(std::min<Duration>(due - now, 50ms));
    }
}

std::optional<Error> TcpConnection::sticky_error() const {
    if (closed_) return Error{Errc::closed, "connection to " + peer_.to_string() + " is closed"};
    return failed_;
}

Status TcpConnection::send(Bytes frame) {
    if (auto e = sticky_error()) return *e;
    if (frame.size() > c().options.frame_size_max) {
        return Error{Errc::message_too_large, "frame of " + std::to_string(frame.size()) +
                                                  " bytes exceeds the maximum of " +
                                                  std::to_string(c().options.frame_size_max)};
    }
    if (faults_) {  // a slow peer: wait before queueing for the wire, so delays overlap
        if (Duration d = faults_->delay_for(peer_); d > Duration::zero()) {
            faults_->count_delayed();
            KEEL_TRY(await_fault_delay(c().executor.now() + d));
        }
    }
    env::LockGuard lock(send_lock_);
    if (!lock.held()) return Error{Errc::cancelled, "node is stopping"};
    if (auto e = sticky_error()) return *e;  // may have changed while waiting for the lock
    uint8_t prefix[kPrefixBytes];
    auto n = static_cast<uint32_t>(frame.size());
    for (size_t i = 0; i < kPrefixBytes; i++) prefix[i] = static_cast<uint8_t>(n >> (24 - 8 * i));
    return write_all(prefix, frame);
}

Status TcpConnection::write_all(const uint8_t* prefix, ByteView payload) {
    const size_t total = kPrefixBytes + payload.size();
    size_t done = 0;
    while (done < total) {
        iovec iov[2];
        int count = 0;
        if (done < kPrefixBytes) {
            iov[count++] = {const_cast<uint8_t*>(prefix + done), kPrefixBytes - done};
        }
        size_t body_done = done > kPrefixBytes ? done - kPrefixBytes : 0;
        iov[count++] = {const_cast<uint8_t*>(payload.data() + body_done),
                        payload.size() - body_done};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<size_t>(count);
        ssize_t n = ::sendmsg(socket_.fd(), &msg, MSG_NOSIGNAL);  // EPIPE, not SIGPIPE
        if (n >= 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            failed_ = Error{Errc::disconnected, "send to " + peer_.to_string() + ": " +
                                                    errno_text(errno)};
            return *failed_;
        }
        if (auto e = wait_error(socket_.wait_writable(Instant::max()), socket_, "send")) {
            // Half a frame is on the wire: the stream can no longer be parsed by the peer.
            if (done > 0) close();
            return *e;
        }
    }
    return {};
}

TcpConnection::ReadStep TcpConnection::read_some(size_t want) {
    uint8_t* tail = in_.reserve(want);
    while (true) {
        ssize_t n = ::recv(socket_.fd(), tail, want, 0);
        if (n > 0) {
            in_.commit(static_cast<size_t>(n));
            return ReadStep::progress;
        }
        if (n == 0) {
            failed_ = Error{Errc::disconnected, "connection closed by " + peer_.to_string()};
            return ReadStep::failed;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStep::would_block;
        failed_ = Error{Errc::disconnected,
                        "receive from " + peer_.to_string() + ": " + errno_text(errno)};
        return ReadStep::failed;
    }
}

// A complete frame if one is buffered, an error if the next prefix is invalid.
std::optional<Result<Bytes>> TcpConnection::take_frame() {
    if (in_.size() < kPrefixBytes) return std::nullopt;
    const uint8_t* p = in_.data();
    auto length = static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                                       (uint32_t{p[2]} << 8) | uint32_t{p[3]});
    if (length < 0 || static_cast<uint64_t>(length) > c().options.frame_size_max) {
        return fail_oversized(length);
    }
    auto len = static_cast<size_t>(length);
    if (in_.size() < kPrefixBytes + len) return std::nullopt;
    Bytes frame(p + kPrefixBytes, p + kPrefixBytes + len);
    in_.consume(kPrefixBytes + len);
    return Result<Bytes>(std::move(frame));
}

Result<Bytes> TcpConnection::fail_oversized(int64_t length) {
    std::string why = "frame length " + std::to_string(length) + " from " + peer_.to_string() +
                      " is outside [0, " + std::to_string(c().options.frame_size_max) +
                      "]; closing the connection";
    c().tracer.log(env::Level::warn, why);
    close();
    return Error{Errc::message_too_large, why};
}

Result<Bytes> TcpConnection::receive(Instant deadline) {
    while (true) {
        if (closed_) return *sticky_error();
        if (auto frame = take_frame()) return std::move(*frame);
        if (failed_) return *failed_;  // complete frames were delivered first
        size_t want = kReadChunk;
        if (in_.size() >= kPrefixBytes) {  // a big frame is read in one go when possible
            const uint8_t* p = in_.data();
            size_t len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
            want = std::max(want, kPrefixBytes + len - in_.size());
        }
        ReadStep step = read_some(want);
        if (step != ReadStep::would_block) continue;
        if (auto e = wait_error(socket_.wait_readable(deadline), socket_, "receive")) {
            if (e->code == Errc::timeout && c().executor.now() < deadline) continue;
            return *e;
        }
    }
}

// ---- Listener -----------------------------------------------------------------------

class TcpListener final : public env::Listener {
public:
    TcpListener(Context& c, int fd, env::Address address) : socket_(c, fd), address_(address) {}

    Status start() { return socket_.register_with_poller(); }

    Result<std::unique_ptr<env::Connection>> accept(Instant deadline) override;
    void close() override { socket_.close(); }
    const env::Address& address() const override { return address_; }

private:
    Result<std::unique_ptr<env::Connection>> wrap(int fd, const SockAddr& from);
    Context& c() { return socket_.context(); }

    Socket socket_;
    env::Address address_;
};

Result<std::unique_ptr<env::Connection>> TcpListener::wrap(int fd, const SockAddr& from) {
    configure_stream(fd, c().options);
    auto conn = std::make_unique<TcpConnection>(c(), fd, to_address(from));
    KEEL_TRY(conn->start());
    return std::unique_ptr<env::Connection>(std::move(conn));
}

Result<std::unique_ptr<env::Connection>> TcpListener::accept(Instant deadline) {
    while (true) {
        if (!socket_.is_open()) return Error{Errc::closed, "listener " + address_.to_string() + " is closed"};
        SockAddr from;
        from.len = sizeof from.storage;
        int fd = ::accept4(socket_.fd(), from.get(), &from.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return wrap(fd, from);
        int err = errno;
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            c().tracer.log(env::Level::warn, "accept on " + address_.to_string() + ": " +
                                                 errno_text(err) + "; backing off");
            Instant until = std::min(deadline, c().executor.now() + kAcceptBackoff);
            if (auto e = wait_error(socket_.wait_readable(until), socket_, "accept")) {
                if (e->code != Errc::timeout || c().executor.now() >= deadline) return *e;
            }
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK) {
            return Error{Errc::io_error, "accept on " + address_.to_string() + ": " + errno_text(err)};
        }
        if (auto e = wait_error(socket_.wait_readable(deadline), socket_, "accept")) {
            if (e->code == Errc::timeout && c().executor.now() < deadline) continue;
            return *e;
        }
    }
}

}  // namespace

TcpNetwork::TcpNetwork(env::Executor& executor, EpollPoller& poller, env::Tracer& tracer,
                       TcpOptions options)
    : context_{executor, poller, tracer, options} {
    KEEL_ASSERT_MSG(options.frame_size_max <= INT32_MAX, "a frame length must fit Kafka's int32");
}

TcpNetwork::~TcpNetwork() = default;

Duration NetFaults::delay_for(const env::Address& peer) const {
    auto it = rules_.slow.find(peer);
    return it == rules_.slow.end() ? Duration::zero() : it->second;
}

void NetFaults::set_rules(NetFaultRules rules) {
    rules_ = std::move(rules);
    std::vector<Link*> cut;  // cutting detaches nothing, but collect first all the same
    for (Link* l : links_)
        if (is_cut(l->peer())) cut.push_back(l);
    for (Link* l : cut)
        if (l->cut_by_fault()) counters_.connections_closed++;
}

Result<std::unique_ptr<env::Listener>> TcpNetwork::listen(const env::Address& addr) {
    KEEL_TRY_ASSIGN(SockAddr sa, resolve(addr, true));
    int fd = ::socket(sa.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{Errc::io_error, "socket: " + errno_text(errno)};
    set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (::bind(fd, sa.get(), sa.len) != 0 || ::listen(fd, context_.options.listen_backlog) != 0) {
        int err = errno;
        ::close(fd);
        Errc code = err == EADDRINUSE ? Errc::address_in_use : Errc::invalid_argument;
        return Error{code, "listen on " + addr.to_string() + ": " + errno_text(err)};
    }
    SockAddr bound;
    bound.len = sizeof bound.storage;
    ::getsockname(fd, bound.get(), &bound.len);
    env::Address reported{addr.host.empty() ? "0.0.0.0" : addr.host, to_address(bound).port};
    auto listener = std::make_unique<TcpListener>(context_, fd, reported);  // owns fd now
    KEEL_TRY(listener->start());
    return std::unique_ptr<env::Listener>(std::move(listener));
}

Result<std::unique_ptr<env::Connection>> TcpNetwork::connect(const env::Address& addr,
                                                             Instant deadline) {
    NetFaults* faults = context_.options.faults;
    auto refused = [&] {
        faults->count_refused();
        return Error{Errc::connection_refused, "connect to " + addr.to_string() + ": cut (network fault)"};
    };
    if (faults && faults->is_cut(addr)) return refused();
    KEEL_TRY_ASSIGN(SockAddr sa, resolve(addr, false));
    int fd = ::socket(sa.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{Errc::io_error, "socket: " + errno_text(errno)};
    configure_stream(fd, context_.options);
    auto conn = std::make_unique<TcpConnection>(context_, fd, addr);  // owns fd from here on
    // EINTR on a non-blocking connect: the handshake goes on; wait for it like EINPROGRESS.
    if (::connect(fd, sa.get(), sa.len) != 0 && errno != EINPROGRESS && errno != EINTR) {
        int err = errno;
        return Error{connect_errc(err), "connect to " + addr.to_string() + ": " + errno_text(err)};
    }
    KEEL_TRY(conn->start());
    KEEL_TRY(conn->await_connected(deadline));
    if (faults) {
        if (faults->is_cut(addr)) return refused();  // cut while the handshake went on
        conn->attach_faults(*faults);
    }
    return std::unique_ptr<env::Connection>(std::move(conn));
}

}  // namespace keel::prod
