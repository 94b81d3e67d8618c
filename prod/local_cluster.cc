#include "prod/local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace keel::prod {

namespace {

Error bad(const std::string& what) { return Error{Errc::invalid_argument, what}; }

// Binds 127.0.0.1:port (0: any); the port bound, or 0.
int32_t try_bind(int32_t port, int* fd_out) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        return 0;
    }
    *fd_out = fd;
    return ntohs(a.sin_port);
}

}  // namespace

int32_t free_port(bool pair) {
    for (int attempt = 0; attempt < 200; attempt++) {
        int fd = -1;
        int32_t port = try_bind(0, &fd);
        if (port == 0) continue;
        int fd2 = -1;
        bool ok = !pair || (port < 65535 && try_bind(port + 1, &fd2) != 0);
        ::close(fd);
        if (fd2 >= 0) ::close(fd2);
        if (ok) return port;
    }
    return 0;
}

std::string ClusterNode::roles() const {
    if (broker && controller) return "broker,controller";
    return broker ? "broker" : "controller";
}

std::vector<std::string> ClusterNode::peer_addresses() const {
    std::vector<std::string> out;
    if (broker) out.push_back("127.0.0.1:" + std::to_string(port));
    if (controller) {
        out.push_back("127.0.0.1:" + std::to_string(controller_port));
        out.push_back("127.0.0.1:" + std::to_string(controller_port + 1));
    }
    return out;
}

std::string ClusterLayout::bootstrap() const {
    std::string out;
    for (const ClusterNode* n : brokers()) out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n->port);
    return out;
}

std::vector<const ClusterNode*> ClusterLayout::brokers() const {
    std::vector<const ClusterNode*> out;
    for (const ClusterNode& n : nodes)
        if (n.broker) out.push_back(&n);
    return out;
}

std::string ClusterLayout::voters() const {
    std::string out;
    for (const ClusterNode& n : nodes) {
        if (!n.controller) continue;
        out += (out.empty() ? "" : ",") + std::to_string(n.id) + "@127.0.0.1:" + std::to_string(n.controller_port);
    }
    return out;
}

ClusterNode* ClusterLayout::node(int32_t id) {
    for (ClusterNode& n : nodes)
        if (n.id == id) return &n;
    return nullptr;
}

std::string default_cluster_properties(size_t brokers) {
    std::string out = "num.partitions=3\nauto.create.topics.enable=true\n"
                      "broker.session.timeout.ms=4000\nbroker.heartbeat.interval.ms=500\n"
                      "replica.lag.time.max.ms=4000\n";
    if (brokers >= 3) out += "default.replication.factor=3\nmin.insync.replicas=2\noffsets.topic.replication.factor=3\n";
    return out;
}

Status replan_ports(ClusterLayout& c) {
    for (int attempt = 0; attempt < 50; attempt++) {
        std::set<int32_t> used;
        bool clash = false;
        for (ClusterNode& n : c.nodes) {
            n.port = n.broker ? free_port(false) : 0;
            n.controller_port = n.controller ? free_port(true) : 0;
            if ((n.broker && n.port == 0) || (n.controller && n.controller_port == 0))
                return Error{Errc::io_error, "no free loopback port"};
            for (int32_t p : {n.port, n.controller_port, n.controller ? n.controller_port + 1 : 0}) {
                if (p != 0 && !used.insert(p).second) clash = true;
            }
        }
        if (!clash) return ok_status();
    }
    return Error{Errc::io_error, "no set of distinct free loopback ports"};
}

Result<ClusterLayout> plan_cluster(const std::string& dir, int combined, int controllers, int brokers,
                                   const std::string& extra) {
    if (combined < 0 || controllers < 0 || brokers < 0) return bad("node counts must not be negative");
    if (combined > 0 && (controllers > 0 || brokers > 0))
        return bad("--nodes (combined nodes) or --controllers with --brokers, not both");
    if (combined == 0 && (controllers == 0 || brokers == 0))
        return bad("a cluster needs at least one controller and one broker");
    if (combined + controllers + brokers > 64) return bad("at most 64 nodes");
    ClusterLayout c;
    c.dir = dir;
    c.extra = extra;
    int total = combined > 0 ? combined : controllers + brokers;
    for (int i = 1; i <= total; i++) {
        ClusterNode n;
        n.id = i;
        n.controller = combined > 0 || i <= controllers;
        n.broker = combined > 0 || i > controllers;
        n.dir = dir + "/node-" + std::to_string(i);
        c.nodes.push_back(n);
    }
    KEEL_TRY(replan_ports(c));
    return c;
}

std::string node_properties(const ClusterLayout& c, const ClusterNode& n) {
    std::string listeners;
    if (n.broker) listeners = "PLAINTEXT://127.0.0.1:" + std::to_string(n.port);
    if (n.controller)
        listeners += (listeners.empty() ? "" : ",") + std::string("CONTROLLER://127.0.0.1:") + std::to_string(n.controller_port);
    std::string out = "# written by keel cluster up\n";
    out += "process.roles=" + n.roles() + "\n";
    out += "node.id=" + std::to_string(n.id) + "\n";
    out += "controller.quorum.voters=" + c.voters() + "\n";
    out += "listeners=" + listeners + "\n";
    out += "controller.listener.names=CONTROLLER\n";
    out += "log.dirs=" + n.dir + "/data\n";
    out += "cluster.id=" + c.cluster_id + "\n";
    out += c.extra;
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out;
}

Status write_node_config(const ClusterLayout& c, const ClusterNode& n) {
    if (::mkdir(n.dir.c_str(), 0755) != 0 && errno != EEXIST)
        return Error{Errc::io_error, "cannot create " + n.dir + ": " + std::strerror(errno)};
    return write_text_file(n.config_path(), node_properties(c, n));
}

namespace {

// The integer after "key": in `text`; nullopt if absent or malformed.
std::optional<int64_t> json_int(const std::string& text, const std::string& key) {
    size_t at = text.find("\"" + key + "\":");
    if (at == std::string::npos) return std::nullopt;
    size_t i = at + key.size() + 3;
    bool negative = i < text.size() && text[i] == '-';
    if (negative) i++;
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    int64_t v = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && v < (int64_t{1} << 50); i++) v = v * 10 + (text[i] - '0');
    return negative ? -v : v;
}

}  // namespace

std::optional<QuorumLeader> parse_quorum_state(const std::string& text) {
    auto epoch = json_int(text, "leaderEpoch");
    auto leader = json_int(text, "leaderId");
    if (!epoch || !leader || *leader < 0 || *leader > INT32_MAX) return std::nullopt;
    return QuorumLeader{*epoch, static_cast<int32_t>(*leader)};
}

std::optional<QuorumLeader> quorum_leader(const ClusterLayout& c) {
    std::optional<QuorumLeader> best;
    for (const ClusterNode& n : c.nodes) {
        bool ok = false;
        std::string text = read_text_file(n.dir + "/data/__cluster_metadata-0/quorum-state", &ok);
        auto q = ok ? parse_quorum_state(text) : std::nullopt;
        if (q && (!best || q->epoch > best->epoch)) best = q;
    }
    return best;
}

std::string read_text_file(const std::string& path, bool* ok) {
    std::ifstream in(path);
    if (ok) *ok = static_cast<bool>(in);
    std::stringstream s;
    if (in) s << in.rdbuf();
    return s.str();
}

Status write_text_file(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return Error{Errc::io_error, "cannot write " + tmp};
        out << text;
        if (!out.flush()) return Error{Errc::io_error, "cannot write " + tmp};
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Error{Errc::io_error, "cannot rename " + tmp};
    return ok_status();
}

}  // namespace keel::prod
