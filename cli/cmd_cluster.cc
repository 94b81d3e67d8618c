// keel cluster up|down|status: a local cluster of separate `keel server` processes (this
// binary) on loopback ports, for trying Keel out and for `keel nemesis`. The layout, the
// properties and the process plumbing are prod/local_cluster.h; this file is the commands:
// `up` plans ports, writes DIR/node-<id>/server.properties, starts the nodes detached and
// waits until Metadata shows every broker, then writes DIR/cluster.json; `down` stops
// them (SIGTERM: controlled shutdown; SIGKILL after a timeout); `status` shows the
// processes, the brokers Metadata lists, the active controller and under-replicated
// partitions.
#include <climits>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cluster_probe.h"
#include "cli/commands.h"
#include "prod/local_cluster.h"
#include "prod/net_fault_control.h"

namespace keel::cli {

namespace {

const char* kClusterHelp = R"(usage: keel cluster up [--nodes N | --controllers C --brokers B] [--dir D] [options]
       keel cluster down [--dir D] [--timeout-ms N]
       keel cluster status [--dir D] [--json]

A local cluster of separate `keel server` processes on free loopback ports.

up       starts N combined controller+broker nodes (default 3), or C dedicated
         controllers and B brokers; each in D/node-<id>/ (server.properties, server.log,
         server.pid, net-faults, data/), detached: they keep running after the command.
         Each server runs with --net-faults D/node-<id>/net-faults (keel nemesis's
         partition and slow faults; a test facility, no fault unless written). Waits until
         Metadata shows every broker, prints the bootstrap servers and writes
         D/cluster.json. A cluster in D that is stopped starts again on its ports; one
         that runs is refused. With 3+ brokers: default.replication.factor=3,
         min.insync.replicas=2, offsets.topic.replication.factor=3.
down     SIGTERM to every node (a controlled shutdown; dedicated brokers before the
         controllers), SIGKILL after --timeout-ms (default 60000); reports how each
         one ended
status   each node up, paused or down; the brokers Metadata shows; the active controller
         (Metadata's controller id); under-replicated partitions (ISR < replicas).
         Exit 1 if no broker answers.

options:
  --dir D              the cluster's directory (default ./keel-cluster)
  --nodes N            combined controller+broker nodes (default 3)
  --controllers C      dedicated controllers (with --brokers)
  --brokers B          dedicated brokers (with --controllers)
  --set NAME=VALUE     one more server property for every node (repeatable)
  --config-extra FILE  more server properties for every node, from a file
  --timeout-ms N       up: wait for the brokers at most N ms (default 120000)
  --json               up, status: a machine-readable description on stdout
  --help               this text
)";

std::string cluster_file(const std::string& dir) { return dir + "/cluster.json"; }

std::string keel_binary() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/proc/self/exe";
    return std::string(buf, static_cast<size_t>(n));
}

std::string absolute_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto abs = std::filesystem::weakly_canonical(dir, ec);
    return ec ? dir : abs.string();
}

// nullopt (and a message) if DIR has no readable cluster.json.
std::optional<prod::ClusterLayout> load_cluster(const std::string& dir, bool quiet = false) {
    bool ok = false;
    std::string text = prod::read_text_file(cluster_file(dir), &ok);
    if (!ok) {
        if (!quiet) std::fprintf(stderr, "keel cluster: no cluster in %s (no cluster.json)\n", dir.c_str());
        return std::nullopt;
    }
    auto c = prod::parse_cluster_json(text);
    if (!c.ok()) {
        std::fprintf(stderr, "keel cluster: %s: %s\n", cluster_file(dir).c_str(), c.error().to_string().c_str());
        return std::nullopt;
    }
    return *c;
}

// The brokers of the alive nodes, or every broker if none is alive.
std::vector<env::Address> live_bootstrap(const prod::ClusterLayout& c) {
    std::vector<env::Address> out;
    for (const prod::ClusterNode* n : c.brokers())
        if (prod::server_alive(*n)) out.push_back(env::Address{"127.0.0.1", static_cast<uint16_t>(n->port)});
    if (out.empty())
        for (const prod::ClusterNode* n : c.brokers()) out.push_back(env::Address{"127.0.0.1", static_cast<uint16_t>(n->port)});
    return out;
}

// ---------------------------------------------------------------- up

enum class UpResult { ok, port_taken, failed };

// Waits until Metadata shows every broker; a node exiting meanwhile ends the wait.
UpResult await_brokers(const prod::ClusterLayout& c, int64_t timeout_ms) {
    UpResult result = UpResult::failed;
    std::string why = "timed out waiting for the brokers in Metadata";
    Status st = run_on_client_node("cluster-up", [&](env::Env& env) {
        Instant deadline = env.clock().monotonic_now() + ms(timeout_ms);
        while (env.clock().monotonic_now() < deadline) {
            for (const prod::ClusterNode& n : c.nodes) {
                if (prod::server_alive(n)) continue;
                result = prod::log_says_port_taken(n) ? UpResult::port_taken : UpResult::failed;
                why = "node " + std::to_string(n.id) + " exited; see " + n.log_path();
                return;
            }
            auto probe = probe_cluster(env, live_bootstrap(c), deadline);
            if (probe.ok() && probe->brokers.size() == c.brokers().size()) {
                result = UpResult::ok;
                return;
            }
            env.executor().sleep_for(ms(200));
        }
    });
    if (!st.ok()) why = st.error().to_string();
    if (result == UpResult::failed) std::fprintf(stderr, "keel cluster up: %s\n", why.c_str());
    return result;
}

// Writes each node's server.properties (unless it exists: a stopped cluster keeps its own)
// and starts it, with no network fault (an empty net-faults control file).
Status start_nodes(prod::ClusterLayout& c, bool write_configs) {
    std::string keel = keel_binary();
    for (prod::ClusterNode& n : c.nodes) {
        if (write_configs) KEEL_TRY(prod::write_node_config(c, n));
        KEEL_TRY(prod::write_text_file(n.net_faults_path(), prod::net_fault_file_text(0, {})));
        KEEL_TRY_ASSIGN(n.pid, prod::spawn_server(keel, n));
    }
    return prod::write_text_file(cluster_file(c.dir), prod::cluster_json(c));
}

void kill_all(const prod::ClusterLayout& c) {
    for (const prod::ClusterNode& n : c.nodes) {
        if (!prod::server_alive(n)) continue;
        prod::send_signal(n.pid, SIGKILL);
        prod::wait_exit(n, 10'000);
    }
}

// Starts the cluster; on a lost port race, new ports in fresh node directories (5 tries).
int bring_up(prod::ClusterLayout& c, bool fresh, int64_t timeout_ms) {
    for (int attempt = 0; attempt < 5; attempt++) {
        if (Status st = start_nodes(c, fresh); !st.ok()) {
            std::fprintf(stderr, "keel cluster up: %s\n", st.error().to_string().c_str());
            kill_all(c);
            return 1;
        }
        UpResult r = await_brokers(c, timeout_ms);
        if (r == UpResult::ok) return 0;
        kill_all(c);
        if (r == UpResult::failed || !fresh) return 1;
        std::fprintf(stderr, "note: a port was taken meanwhile; starting again on new ports\n");
        for (const prod::ClusterNode& n : c.nodes) std::filesystem::remove_all(n.dir);
        if (Status st = prod::replan_ports(c); !st.ok()) return 1;
    }
    std::fprintf(stderr, "keel cluster up: lost the race for free ports 5 times\n");
    return 1;
}

// The extra properties from --config-extra and --set; false (message printed) on error.
bool extra_properties(const Args& args, size_t brokers, std::string& out) {
    out = prod::default_cluster_properties(brokers);
    if (auto file = args.value("--config-extra")) {
        bool ok = false;
        std::string text = prod::read_text_file(*file, &ok);
        if (!ok) {
            usage_error("cluster", "cannot read --config-extra " + *file);
            return false;
        }
        out += text + (text.empty() || text.back() == '\n' ? "" : "\n");
    }
    for (const std::string& kv : args.values("--set")) {
        if (kv.find('=') == std::string::npos || kv.front() == '=') {
            usage_error("cluster", "--set wants NAME=VALUE, got '" + kv + "'");
            return false;
        }
        out += kv + "\n";
    }
    return true;
}

void print_up(const prod::ClusterLayout& c, bool json) {
    if (json) {
        std::fputs(prod::cluster_json(c).c_str(), stdout);
        return;
    }
    for (const prod::ClusterNode& n : c.nodes) {
        std::printf("node %d (%s) pid %lld: %s%s%s\n", n.id, n.roles().c_str(), static_cast<long long>(n.pid),
                    n.broker ? ("127.0.0.1:" + std::to_string(n.port)).c_str() : "",
                    n.broker && n.controller ? ", " : "",
                    n.controller ? ("controller 127.0.0.1:" + std::to_string(n.controller_port)).c_str() : "");
    }
    std::printf("bootstrap servers: %s\n", c.bootstrap().c_str());
    std::printf("(keel cluster status --dir %s; keel cluster down --dir %s)\n", c.dir.c_str(), c.dir.c_str());
}

int cmd_up(Args& args) {
    std::string dir = absolute_dir(args.value("--dir").value_or("keel-cluster"));
    auto nodes = args.u64("--nodes");
    auto controllers = args.u64("--controllers");
    auto brokers = args.u64("--brokers");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return usage_error("cluster", args.error());
    if (nodes && (controllers || brokers)) return usage_error("cluster", "--nodes, or --controllers with --brokers");
    if (controllers.has_value() != brokers.has_value()) return usage_error("cluster", "--controllers and --brokers go together");
    int64_t timeout_ms = static_cast<int64_t>(timeout.value_or(120'000));
    if (auto existing = load_cluster(dir, true)) {
        for (const prod::ClusterNode& n : existing->nodes) {
            if (!prod::server_alive(n)) continue;
            std::fprintf(stderr, "keel cluster up: a cluster runs in %s (node %d, pid %lld); 'keel cluster down --dir %s' first\n",
                         dir.c_str(), n.id, static_cast<long long>(n.pid), dir.c_str());
            return 1;
        }
        std::fprintf(stderr, "note: starting the stopped cluster in %s again\n", dir.c_str());
        if (int rc = bring_up(*existing, false, timeout_ms); rc != 0) return rc;
        print_up(*existing, args.flag("--json"));
        return 0;
    }
    int combined = controllers ? 0 : static_cast<int>(std::min<uint64_t>(nodes.value_or(3), 1000));
    int c_count = static_cast<int>(std::min<uint64_t>(controllers.value_or(0), 1000));
    int b_count = static_cast<int>(std::min<uint64_t>(brokers.value_or(0), 1000));
    std::string extra;
    if (!extra_properties(args, static_cast<size_t>(combined > 0 ? combined : b_count), extra)) return 2;
    auto plan = prod::plan_cluster(dir, combined, c_count, b_count, extra);
    if (!plan.ok()) return usage_error("cluster", plan.error().message);
    if (int rc = bring_up(*plan, true, timeout_ms); rc != 0) return rc;
    print_up(*plan, args.flag("--json"));
    return 0;
}

}  // namespace

namespace {

// ---------------------------------------------------------------- down

// SIGTERM to the nodes `which` selects that run, SIGKILL to those still running at
// `deadline_ns`; prints each one's fate.
void stop_nodes(const std::vector<prod::ClusterNode>& nodes, const std::function<bool(const prod::ClusterNode&)>& which,
                int64_t deadline_ns) {
    std::vector<const prod::ClusterNode*> running;
    for (const prod::ClusterNode& n : nodes) {
        if (!which(n)) continue;
        if (!prod::server_alive(n)) {
            std::printf("node %d: was not running\n", n.id);
            continue;
        }
        prod::send_signal(n.pid, SIGCONT);  // a paused node (an interrupted nemesis) must run to stop
        prod::send_signal(n.pid, SIGTERM);
        running.push_back(&n);
    }
    for (const prod::ClusterNode* n : running) {
        int64_t left_ms = std::max<int64_t>(0, (deadline_ns - wall_now_ns()) / 1'000'000);
        if (prod::wait_exit(*n, left_ms)) {
            std::printf("node %d (pid %lld): stopped on SIGTERM\n", n->id, static_cast<long long>(n->pid));
            continue;
        }
        prod::send_signal(n->pid, SIGKILL);
        bool gone = prod::wait_exit(*n, 10'000);
        std::printf("node %d (pid %lld): %s\n", n->id, static_cast<long long>(n->pid),
                    gone ? "did not stop on SIGTERM in time: killed (SIGKILL)" : "still running after SIGKILL");
    }
}

int cmd_down(Args& args) {
    std::string dir = absolute_dir(args.value("--dir").value_or("keel-cluster"));
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return usage_error("cluster", args.error());
    auto c = load_cluster(dir);
    if (!c) return 1;
    auto deadline = wall_now_ns() + static_cast<int64_t>(timeout.value_or(60'000)) * 1'000'000;
    // Dedicated brokers first: their controlled shutdown needs the controllers, which
    // would otherwise be gone before it finishes (each broker then waits it out).
    stop_nodes(c->nodes, [](const prod::ClusterNode& n) { return !n.controller; }, deadline);
    stop_nodes(c->nodes, [](const prod::ClusterNode& n) { return n.controller; }, deadline);
    return 0;
}

// ---------------------------------------------------------------- status

std::string node_state(const prod::ClusterNode& n) {
    if (!prod::server_alive(n)) return "down";
    return prod::process_stopped(n.pid) ? "paused" : "up";
}

std::string ids(const std::vector<int32_t>& v) {
    std::string out;
    for (int32_t i : v) out += (out.empty() ? "" : ",") + std::to_string(i);
    return out;
}

void print_status_json(const prod::ClusterLayout& c, const Result<ClusterProbe>& probe) {
    std::string out = "{\"dir\":\"" + c.dir + "\",\"bootstrap\":\"" + c.bootstrap() + "\",\"nodes\":[";
    for (size_t i = 0; i < c.nodes.size(); i++) {
        const prod::ClusterNode& n = c.nodes[i];
        out += std::string(i ? "," : "") + "{\"id\":" + std::to_string(n.id) + ",\"roles\":\"" + n.roles() +
               "\",\"pid\":" + std::to_string(n.pid) + ",\"state\":\"" + node_state(n) + "\"}";
    }
    auto q = prod::quorum_leader(c);
    out += "],\"quorum_leader\":" + (q ? std::to_string(q->leader) : std::string("null")) +
           ",\"quorum_epoch\":" + (q ? std::to_string(q->epoch) : std::string("null")) + ",\"metadata\":";
    if (!probe.ok()) {
        out += "null,\"error\":\"no broker answered\"}";
    } else {
        out += "{\"brokers\":[" + ids(probe->brokers) + "],\"controller_id\":" + std::to_string(probe->controller_id) +
               ",\"partitions\":" + std::to_string(probe->partitions.size()) + ",\"under_replicated\":[";
        bool first = true;
        for (const ProbedPartition& p : probe->partitions) {
            if (!p.under_replicated()) continue;
            out += std::string(first ? "" : ",") + "{\"topic\":\"" + p.topic + "\",\"partition\":" + std::to_string(p.partition) +
                   ",\"leader\":" + std::to_string(p.leader) + ",\"replicas\":[" + ids(p.replicas) + "],\"isr\":[" + ids(p.isr) + "]}";
            first = false;
        }
        out += "]}}";
    }
    std::puts(out.c_str());
}

void print_status_text(const prod::ClusterLayout& c, const Result<ClusterProbe>& probe) {
    for (const prod::ClusterNode& n : c.nodes)
        std::printf("node %d (%s) pid %lld: %s\n", n.id, n.roles().c_str(), static_cast<long long>(n.pid), node_state(n).c_str());
    if (auto q = prod::quorum_leader(c)) {
        std::printf("quorum leader (active controller): node %d, epoch %lld (the nodes' quorum-state files)\n", q->leader,
                    static_cast<long long>(q->epoch));
    } else {
        std::printf("quorum leader: unknown (no quorum-state names one)\n");
    }
    if (!probe.ok()) {
        std::printf("metadata: no broker answered (%s)\n", probe.error().to_string().c_str());
        return;
    }
    std::printf("brokers in metadata: %s (asked %s)\n", ids(probe->brokers).c_str(), probe->answered_by.c_str());
    std::printf("metadata controller_id: %d (what clients are shown: the lowest live broker)\n", probe->controller_id);
    std::printf("partitions: %zu, under-replicated: %zu\n", probe->partitions.size(), probe->under_replicated());
    for (const ProbedPartition& p : probe->partitions) {
        if (!p.under_replicated()) continue;
        std::printf("  %s-%d leader %d replicas [%s] isr [%s]\n", p.topic.c_str(), p.partition, p.leader,
                    ids(p.replicas).c_str(), ids(p.isr).c_str());
    }
}

int cmd_status(Args& args) {
    std::string dir = absolute_dir(args.value("--dir").value_or("keel-cluster"));
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return usage_error("cluster", args.error());
    auto c = load_cluster(dir);
    if (!c) return 1;
    Result<ClusterProbe> probe = Error{Errc::timeout, "not asked"};
    Status st = run_on_client_node("cluster-status", [&](env::Env& env) {
        Instant deadline = env.clock().monotonic_now() + ms(static_cast<int64_t>(timeout.value_or(10'000)));
        probe = probe_cluster(env, live_bootstrap(*c), deadline);
    });
    if (!st.ok()) probe = st.error();
    if (args.flag("--json")) {
        print_status_json(*c, probe);
    } else {
        print_status_text(*c, probe);
    }
    return probe.ok() ? 0 : 1;
}

}  // namespace

int cmd_cluster(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--dir", "--nodes", "--controllers", "--brokers", "--config-extra", "--set", "--timeout-ms"},
                      {"--help", "--json"},
                      {"--set"}});
    if (!args.ok()) return usage_error("cluster", args.error());
    if (args.flag("--help")) {
        std::fputs(kClusterHelp, stdout);
        return 0;
    }
    const auto& pos = args.positionals();
    if (pos.size() != 1) return usage_error("cluster", "expected one of: up, down, status");
    bool up_only = args.value("--nodes") || args.value("--controllers") || args.value("--brokers") ||
                   args.value("--config-extra") || !args.values("--set").empty();
    if (pos[0] == "up") return cmd_up(args);
    if (up_only) return usage_error("cluster", "--nodes, --controllers, --brokers, --set and --config-extra are for 'up'");
    if (pos[0] == "down") return cmd_down(args);
    if (pos[0] == "status") return cmd_status(args);
    return usage_error("cluster", "unknown subcommand '" + pos[0] + "' (up, down, status)");
}

}  // namespace keel::cli
