#include "prod/metrics_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/env/sync.h"

namespace keel::prod {

namespace {

constexpr size_t kReadChunk = 4096;
constexpr Duration kAcceptRecheck = ms(1000);  // a parked accept re-checks stop this often
constexpr Duration kLingerMax = ms(2000);       // draining a client's leftovers before close
constexpr size_t kLingerBytesMax = 1 << 20;

HttpAnswer plain(int status, std::string body) {
    HttpAnswer a;
    a.status = status;
    a.content_type = "text/plain; charset=utf-8";
    a.body = std::move(body);
    return a;
}

HttpAnswer bad_request(const std::string& why) { return plain(400, "bad request: " + why + "\n"); }

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
        if (!ok) return false;
    }
    return true;
}

bool is_visible(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    }
    return !s.empty();
}

// Header lines after the request line: `name: value`, up to the blank line.
bool headers_well_formed(std::string_view rest) {
    while (true) {
        size_t eol = rest.find("\r\n");
        if (eol == std::string_view::npos) return false;
        std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol + 2);
        if (line.empty()) return true;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return false;
    }
}

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        default: return "Error";
    }
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

size_t http_head_end(std::string_view received) {
    size_t at = received.find("\r\n\r\n");
    return at == std::string_view::npos ? 0 : at + 4;
}

HttpAnswer answer_http_request(std::string_view head, const std::function<std::string()>& render) {
    size_t eol = head.find("\r\n");
    if (eol == std::string_view::npos) return bad_request("no request line");
    std::string_view line = head.substr(0, eol);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return bad_request("expected METHOD TARGET HTTP/1.x");
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) return bad_request("malformed method");
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad_request("expected HTTP/1.0 or HTTP/1.1");
    if (!is_visible(target) || target[0] != '/') return bad_request("the target must be a path");
    if (!headers_well_formed(head.substr(eol + 2))) return bad_request("malformed header line");
    std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") return plain(404, "not found; the metrics are at /metrics\n");
    if (method != "GET" && method != "HEAD") return plain(405, "only GET and HEAD\n");
    HttpAnswer a;
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    a.body = render();
    a.head_only = method == "HEAD";
    return a;
}

std::string format_http_response(const HttpAnswer& a) {
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\n";
    if (!a.content_type.empty()) out += "Content-Type: " + a.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(a.body.size()) + "\r\n";
    if (a.status == 405) out += "Allow: GET, HEAD\r\n";
    out += "Connection: close\r\n\r\n";
    if (!a.head_only) out += a.body;
    return out;
}

// ---- the server ----------------------------------------------------------------------

struct MetricsHttpServer::State {
    State(env::Executor& ex, EpollPoller& p, env::Tracer& t) : executor(ex), poller(p), tracer(t), accept(ex), idle(ex) {}
    env::Executor& executor;
    EpollPoller& poller;
    env::Tracer& tracer;
    int listen_fd = -1;
    EpollPoller::Token listen_token = 0;
    env::WaitQueue accept;  // the listener became readable (or closed)
    env::WaitQueue idle;    // a connection finished
    std::set<Conn*> conns;
    size_t active = 0;  // connection fibers spawned and not finished
    bool stopping = false;
};

// One accepted connection: its fd, poller registration and the fiber waiting on it.
struct MetricsHttpServer::Conn {
    Conn(State& st, int f) : s(st), fd(f), io(st.executor) {
        auto t = s.poller.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, [this](uint32_t) { io.notify_all(); });
        if (t.ok()) {
            token = *t;
            s.conns.insert(this);
        } else {
            close();
        }
    }
    ~Conn() {
        close();
        s.conns.erase(this);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    void close() {
        if (fd < 0) return;
        if (token != 0) s.poller.remove(fd, token);
        ::close(fd);
        fd = -1;
        io.notify_all();
    }
    // Parks until the socket may be ready; false when it is closed, the deadline passed
    // or the node is stopping.
    bool wait(Instant deadline) {
        if (fd < 0 || s.executor.now() >= deadline) return false;
        return io.wait(deadline) != env::WakeReason::dying && fd >= 0;
    }

    State& s;
    int fd;
    EpollPoller::Token token = 0;
    env::WaitQueue io;
};

namespace {

using Conn = MetricsHttpServer::Conn;

// Reads until a complete request head; nullopt when the peer goes away, errs or is too slow.
std::optional<HttpAnswer> read_request(Conn& c, Instant deadline, const MetricsHttpServer::Render& render) {
    std::string in;
    char buf[kReadChunk];
    while (true) {
        if (c.fd < 0) return std::nullopt;
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            in.append(buf, static_cast<size_t>(n));
            size_t end = http_head_end(in);
            if (end > kHttpHeadBytesMax || (end == 0 && in.size() > kHttpHeadBytesMax)) {
                return plain(431, "request head over " + std::to_string(kHttpHeadBytesMax) + " bytes\n");
            }
            if (end > 0) return answer_http_request(std::string_view(in).substr(0, end), render);
            continue;
        }
        if (n == 0) return std::nullopt;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return std::nullopt;
        if (!c.wait(deadline)) return std::nullopt;
    }
}

void write_all(Conn& c, const std::string& out, Instant deadline) {
    size_t sent = 0;
    while (sent < out.size() && c.fd >= 0) {
        ssize_t n = ::send(c.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;
        if (!c.wait(deadline)) return;
    }
}

// After the answer: half-close, then read what the client still sends until it closes,
// so that closing with unread bytes (an oversized head) does not reset the connection
// before the client has read the answer.
void linger_close(Conn& c, Instant deadline) {
    if (c.fd < 0) return;
    ::shutdown(c.fd, SHUT_WR);
    char buf[kReadChunk];
    size_t drained = 0;
    while (c.fd >= 0 && drained < kLingerBytesMax) {
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            drained += static_cast<size_t>(n);
            continue;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!c.wait(deadline)) return;
        }
    }
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(env::Executor& executor, EpollPoller& poller, env::Tracer& tracer,
                                     MetricsHttpOptions options, Render render)
    : state_(std::make_unique<State>(executor, poller, tracer)),
      options_(std::move(options)),
      render_(std::move(render)),
      address_(options_.listen) {
    KEEL_ASSERT(options_.connections_max > 0);
}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

Status MetricsHttpServer::listen() {
    KEEL_ASSERT_MSG(state_->listen_fd < 0 && !state_->stopping, "listen once, before stop");
    addrinfo hints{};
    hints.ai_family = AF_INET;  // IPv4 first, as the Kafka listeners (prod/tcp_network.cc)
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    bool any = address_.host.empty() || address_.host == "0.0.0.0";
    std::string port = std::to_string(address_.port);
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(any ? nullptr : address_.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        hints.ai_family = AF_UNSPEC;
        rc = ::getaddrinfo(any ? nullptr : address_.host.c_str(), port.c_str(), &hints, &found);
    }
    if (rc != 0 || found == nullptr) {
        return Error{Errc::invalid_argument, "metrics listener: cannot resolve " + address_.to_string()};
    }
    int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
        int err = errno;
        ::freeaddrinfo(found);
        if (fd >= 0) ::close(fd);
        return Error{err == EADDRINUSE ? Errc::address_in_use : Errc::io_error,
                     "metrics listener on " + address_.to_string() + ": " + errno_text(err)};
    }
    ::freeaddrinfo(found);
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    address_.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    auto token = state_->poller.add(fd, EPOLLIN, [s = state_.get()](uint32_t) { s->accept.notify_all(); });
    if (!token.ok()) {
        ::close(fd);
        return token.error();
    }
    state_->listen_fd = fd;
    state_->listen_token = *token;
    return ok_status();
}

// The next connection's fd; an error when the listener is closed (stop) or broken.
Result<int> MetricsHttpServer::accept_one() {
    State& s = *state_;
    while (true) {
        if (s.listen_fd < 0) return Error{Errc::closed, "metrics listener closed"};
        int fd = ::accept4(s.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        int err = errno;
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        bool out_of_fds = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
        if (!out_of_fds && err != EAGAIN && err != EWOULDBLOCK) {
            return Error{Errc::io_error, "metrics listener accept: " + errno_text(err)};
        }
        // Out of fds: back off for the recheck interval rather than spin.
        if (s.accept.wait(s.executor.now() + kAcceptRecheck) == env::WakeReason::dying) {
            return Error{Errc::cancelled, "node is stopping"};
        }
    }
}

void MetricsHttpServer::run() {
    State& s = *state_;
    s.tracer.log(env::Level::info, "metrics on http://" + address_.to_string() + "/metrics");
    while (true) {
        Result<int> fd = accept_one();
        if (!fd.ok()) {
            if (fd.code() == Errc::io_error) s.tracer.log(env::Level::warn, fd.error().message);
            return;
        }
        stats_.accepted++;
        if (s.active >= options_.connections_max || s.stopping) {
            stats_.refused_busy++;
            ::close(*fd);
            continue;
        }
        s.active++;
        // The slot is released when the fiber ends, or when it is dropped without running.
        struct Slot {
            State& s;
            int fd;
            ~Slot() {
                if (fd >= 0) ::close(fd);
                s.active--;
                s.idle.notify_all();
            }
        };
        std::shared_ptr<Slot> slot(new Slot{s, *fd});  // in place: a copy's destructor would release it
        s.executor.spawn("metrics-http", [this, slot] {
            int f = slot->fd;
            slot->fd = -1;
            serve(f);
        });
    }
}

void MetricsHttpServer::serve(int fd) {
    Conn c(*state_, fd);
    if (state_->stopping) return;
    Instant deadline = state_->executor.now() + options_.connection_deadline;
    std::optional<HttpAnswer> a = read_request(c, deadline, render_);
    if (!a) return;
    stats_.answered++;
    if (a->status == 200) stats_.answered_ok++;
    if (a->status == 400) stats_.answered_bad_request++;
    write_all(c, format_http_response(*a), deadline);
    linger_close(c, std::min(deadline, state_->executor.now() + kLingerMax));
}

void MetricsHttpServer::stop() {
    State& s = *state_;
    s.stopping = true;
    if (s.listen_fd >= 0) {
        s.poller.remove(s.listen_fd, s.listen_token);
        ::close(s.listen_fd);
        s.listen_fd = -1;
        s.accept.notify_all();
    }
    for (Conn* c : std::set<Conn*>(s.conns)) c->close();
    while (s.active > 0) {
        if (s.executor.current() == 0 || s.idle.wait(Instant::max()) == env::WakeReason::dying) return;
    }
}

}  // namespace keel::prod
