// The metrics listener: how it answers request heads (pure), and a real one on a ProdNode
// served to blocking client sockets on loopback.
#include "prod/metrics_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/env/sync.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::prod {
namespace {

std::string render_fixed() { return "keel_up 1\n"; }

HttpAnswer answer(std::string_view head) { return answer_http_request(head, render_fixed); }

TEST(MetricsHttpAnswer, GetMetricsIsPrometheusText) {
    HttpAnswer a = answer("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(a.body, "keel_up 1\n");
    EXPECT_EQ(format_http_response(a),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: 10\r\nConnection: close\r\n\r\nkeel_up 1\n");
    EXPECT_EQ(answer("GET /metrics?name[]=x HTTP/1.0\r\n\r\n").status, 200);
}

TEST(MetricsHttpAnswer, HeadHasTheLengthButNoBody) {
    HttpAnswer a = answer("HEAD /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(format_http_response(a),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: 10\r\nConnection: close\r\n\r\n");
}

TEST(MetricsHttpAnswer, OtherPathsAreNotFoundAndOtherMethodsNotAllowed) {
    EXPECT_EQ(answer("GET / HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(answer("GET /metricsx HTTP/1.1\r\n\r\n").status, 404);
    HttpAnswer post = answer("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(post.status, 405);
    EXPECT_NE(format_http_response(post).find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST(MetricsHttpAnswer, MalformedRequestsAreBadRequests) {
    for (std::string_view head : {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                                  "GET /metrics HTTP/2.0\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                                  "G(T /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
                                  "GET /metrics HTTP/1.1\r\nbad name: v\r\n\r\n", "\r\n\r\n"}) {
        EXPECT_EQ(answer(head).status, 400) << head;
    }
}

TEST(MetricsHttpAnswer, FindsTheEndOfTheHead) {
    EXPECT_EQ(http_head_end("GET / HTTP/1.1\r\n"), 0u);
    EXPECT_EQ(http_head_end("GET / HTTP/1.1\r\n\r\nbody"), 18u);
}

// ---- a real listener --------------------------------------------------------------------

constexpr auto kHttpTestLimit = std::chrono::seconds(60);  // only a hung test waits this long

// Sends `request` to 127.0.0.1:port and reads until the server closes (or 30 s pass).
std::string http_exchange(uint16_t port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        size_t sent = 0;
        while (sent < request.size()) {
            ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<size_t>(n);
        }
        ::shutdown(fd, SHUT_WR);  // a client that says no more after its request
        char buf[4096];
        ssize_t n;
        while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

struct ServedNode {
    TempDir dir{"keel-metrics-http-"};
    ProdNode node{"metrics-http", dir.path()};
    std::atomic<uint16_t> port{0};
    std::atomic<int> renders{0};

    ServedNode() {
        Status st = node.start([this](env::Env& env) {
            MetricsHttpServer server(env.executor(), node.poller(), env.tracer(),
                                     MetricsHttpOptions{.listen = env::Address{"127.0.0.1", 0}, .connections_max = 2}, [this] {
                                         renders++;
                                         return std::string("keel_renders ") + std::to_string(renders.load()) + "\n";
                                     });
            if (!server.listen().ok()) return;
            port = server.address().port;
            server.run();  // until the node stops (this fiber is unwound)
        });
        EXPECT_TRUE(st.ok());
        auto limit = std::chrono::steady_clock::now() + kHttpTestLimit;
        while (port == 0 && std::chrono::steady_clock::now() < limit) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
};

TEST(MetricsHttpServer, ServesMetricsAndStillAnswersAfterBadAndOversizedRequests) {
    ServedNode s;
    ASSERT_NE(s.port.load(), 0);
    std::string ok = http_exchange(s.port.load(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
    EXPECT_NE(ok.find("\r\n\r\nkeel_renders 1\n"), std::string::npos) << ok;

    std::string bad = http_exchange(s.port.load(), "NONSENSE\r\n\r\n");
    EXPECT_EQ(bad.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << bad;
    std::string missing = http_exchange(s.port.load(), "GET /nope HTTP/1.1\r\n\r\n");
    EXPECT_EQ(missing.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << missing;
    std::string huge = http_exchange(s.port.load(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
    EXPECT_EQ(huge.rfind("HTTP/1.1 431 ", 0), 0u) << huge.substr(0, 100);
    // A client that connects and goes away without a word costs nothing.
    EXPECT_EQ(http_exchange(s.port.load(), ""), "");

    std::string again = http_exchange(s.port.load(), "GET /metrics HTTP/1.0\r\n\r\n");
    EXPECT_NE(again.find("keel_renders 2\n"), std::string::npos) << again;
    s.node.stop();
}

}  // namespace
}  // namespace keel::prod
