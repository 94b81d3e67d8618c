// keel server: one Kafka-compatible node in this process — the KeelNode assembly (core/node/)
// on real sockets, files and time (prod::ProdNode) — and keel storage, which formats a data
// directory as kafka-storage.sh does. The config is Kafka's server.properties
// (core/node/server_config.h); this file only reads it, prepares the data directory and
// turns SIGTERM/SIGINT into a clean stop.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/compression/batch.h"
#include "core/node/keel_node.h"
#include "core/node/server_config.h"
#include "core/raft/raft_storage.h"
#include "core/env/sync.h"
#include "prod/metrics_http.h"
#include "prod/net_fault_control.h"
#include "prod/posix_disk.h"
#include "prod/prod_node.h"
#include "prod/shutdown_signals.h"

namespace keel::cli {

namespace {

const char* kServerHelp =
    R"(usage: keel server [--config FILE] [--data-dir DIR] [--override NAME=VALUE]...
                   [--log-level debug|info|warn|error] [--trace-events]
                   [--net-faults FILE]

Runs one Kafka-compatible node until SIGTERM or SIGINT: then a controlled shutdown (the
controller moves this broker's leaderships away, at most 30 s) and a clean stop, exit 0.
With no arguments: a combined controller+broker, node.id 1, clients on localhost:9092,
the Raft quorum on localhost:9093 and the controller RPCs on localhost:9094, data in
./keel-data (formatted on first start with a new cluster id). Logs go to stderr.

options:
  --config FILE            Kafka's server.properties (Kafka's property names, below)
  --data-dir DIR           the data directory (overrides log.dirs)
  --override NAME=VALUE    one property, over the file (repeatable)
  --log-level LEVEL        the least severe log lines written: debug, info (default),
                           warn or error
  --trace-events           also write each trace event (the events the simulator traces:
                           elections, ISR changes, appends, ...) as an EVENT line with
                           its JSON detail
  --net-faults FILE        a test facility, never for production: cut or slow the
                           connections this node opens to given peers as FILE says,
                           re-read every 100 ms, acknowledged in FILE.ack (lines
                           'generation N', 'cut HOST:PORT', 'slow HOST:PORT MS';
                           prod/net_fault_control.h). keel cluster up gives it to
                           every node for keel nemesis's partition and slow faults

The controller RPC listener is the CONTROLLER listener's port + 1, for this node and for
every voter. An unknown property or a value Keel cannot honour stops the server with
its name (exit 2). Exit 1: the node stopped on an error (a listener in use, a data
directory of another cluster or node, a disk error).

properties (default):
)";

const char* kStorageHelp =
    R"(usage: keel storage format --config FILE --cluster-id ID [--ignore-formatted]
       keel storage random-uuid
       keel storage info --config FILE

format       writes meta.properties (cluster id, node id) into log.dirs, as
             kafka-storage.sh format does; exit 1 if it is already formatted (unless
             --ignore-formatted and it is this cluster's and node's)
random-uuid  prints a new cluster id
info         prints the data directory's meta.properties
options: --config FILE, --override NAME=VALUE (repeatable), --data-dir DIR as for keel server.
)";

std::string server_help() {
    std::string out = kServerHelp;
    for (const node::ServerProperty& p : node::server_properties()) {
        out += "  " + std::string(p.name) + " (" +
               (p.default_value.empty() ? "unset" : std::string(p.default_value)) + ")\n      " +
               std::string(p.meaning) + "\n";
    }
    return out;
}

// The properties from --config, --override and --data-dir; the config built from them.
Result<node::ServerConfig> load_config(const Args& args) {
    std::map<std::string, std::string> props;
    if (auto file = args.value("--config")) {
        std::ifstream in(*file);
        if (!in) return Error{Errc::not_found, "cannot read the config file " + *file};
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = node::parse_properties(text.str());
        if (!parsed.ok())
            return Error{Errc::invalid_argument, *file + ": " + parsed.error().message};
        props = std::move(*parsed);
    }
    for (const std::string& o : args.values("--override")) {
        size_t eq = o.find('=');
        if (eq == std::string::npos || eq == 0)
            return Error{Errc::invalid_argument, "--override " + o + ": expected NAME=VALUE"};
        props[o.substr(0, eq)] = o.substr(eq + 1);
    }
    if (auto dir = args.value("--data-dir")) {
        props.erase("log.dir");
        props["log.dirs"] = *dir;
    }
    return node::server_config_from(props);
}

Result<std::optional<raft::MetaProperties>> read_meta(const std::string& dir) {
    prod::PosixDisk disk(dir);
    auto exists = disk.exists(raft::kMetaPropertiesFile);
    if (!exists.ok() || !*exists) return std::optional<raft::MetaProperties>{};
    return raft::read_meta_properties(disk, "");
}

// The cluster id to run with: meta.properties' (refusing another cluster's or node's
// directory), else cluster.id, else a new one (the directory is formatted on first start).
Status settle_cluster_id(node::ServerConfig& c) {
    KEEL_TRY_ASSIGN(auto meta, read_meta(c.log_dir));
    if (!meta) {
        c.node.cluster_id = c.cluster_id.value_or(prod::random_cluster_id());
        std::fprintf(stderr, "keel server: formatting %s for cluster %s, node %d\n",
                     c.log_dir.c_str(), c.node.cluster_id.c_str(), c.node.id.value());
        return ok_status();
    }
    if (c.cluster_id && *c.cluster_id != meta->cluster_id) {
        return Error{Errc::invalid_argument, c.log_dir + " belongs to cluster " + meta->cluster_id +
                                                 ", not " + *c.cluster_id};
    }
    if (meta->node_id != c.node.id) {
        return Error{Errc::invalid_argument,
                     c.log_dir + " belongs to node " + std::to_string(meta->node_id.value()) +
                         ", not node.id " + std::to_string(c.node.id.value())};
    }
    c.node.cluster_id = meta->cluster_id;
    return ok_status();
}

std::string describe(const node::ServerConfig& c) {
    const node::NodeConfig& n = c.node;
    std::string roles = n.broker && n.controller ? "broker,controller"
                        : n.broker               ? "broker"
                                                 : "controller";
    std::string out = "node " + std::to_string(n.id.value()) + " (" + roles + ") of cluster " +
                      n.cluster_id + ":";
    if (n.broker)
        out += " clients on " + n.broker_listen.to_string() + " (advertised " + n.advertised_host +
               ":" + std::to_string(n.advertised_port) + "),";
    if (n.controller)
        out += " quorum on " + n.raft_listen.to_string() + ", controller RPCs on " +
               n.controller_listen.to_string() + ",";
    return out + " data in " + c.log_dir;
}

// The HTTP metrics listener (metrics.port) on the node's fibers, while the node runs: the
// destructor stops it and waits for its fibers (before the node it renders goes).
class MetricsEndpoint {
public:
    MetricsEndpoint(env::Env& env, prod::ProdNode& process, const env::Address& listen,
                    const node::KeelNode& node)
        : done_(env.executor()),
          server_(env.executor(), process.poller(), env.tracer(), prod::MetricsHttpOptions{.listen = listen},
                  [&node] { return node.render_metrics(); }) {}
    ~MetricsEndpoint() {
        server_.stop();
        if (started_) done_.wait();
    }
    MetricsEndpoint(const MetricsEndpoint&) = delete;
    MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

    Status start(env::Executor& ex) {
        KEEL_TRY(server_.listen());
        started_ = true;
        env::spawn_joinable(ex, "metrics-http-accept", done_, [this] { server_.run(); });
        return ok_status();
    }

private:
    env::Event done_;
    prod::MetricsHttpServer server_;
    bool started_ = false;
};

// Runs the node on this thread until it stops: a shutdown signal stops it cleanly.
int run_server(const node::ServerConfig& c, const prod::LogOptions& log,
               const std::optional<std::string>& net_faults_path) {
    prod::ShutdownSignals::block();
    prod::NetFaults net_faults;  // used only with --net-faults (a test facility)
    prod::ProdNodeOptions o;
    o.log = log;
    // The transport reads whole frames; the broker listener then applies
    // socket.request.max.bytes (a larger limit must not be cut short here).
    o.tcp.frame_size_max = std::max(o.tcp.frame_size_max, c.node.socket_request_max_bytes);
    if (net_faults_path) o.tcp.faults = &net_faults;
    o.stop_when_main_returns = true;
    o.stack_bytes = 512 * 1024;
    prod::ProdNode process("node-" + std::to_string(c.node.id.value()), c.log_dir, o);
    Status result = ok_status();
    bool signalled = false;
    Status started = process.run_blocking([&](env::Env& env) {
        node::NodeConfig config = c.node;
        config.codec = &compression::batch_codec();  // compressed batches from clients
        node::KeelNode node(env, config);
        // Polls for SIGTERM/SIGINT until the node has stopped (this fiber is unwound then).
        env.executor().spawn("shutdown-signals", [&env, &node, &signalled] {
            for (;;) {
                if (auto sig = prod::ShutdownSignals::take()) {
                    if (signalled) {
                        env.tracer().log(env::Level::warn, "second shutdown signal: exiting now");
                        std::_Exit(1);
                    }
                    env.tracer().log(env::Level::info,
                                     std::string("shutting down on ") +
                                         (*sig == SIGTERM ? "SIGTERM" : "SIGINT"));
                    signalled = true;
                    // On its own fiber, so that this one still sees a second signal.
                    env.executor().spawn("controlled-shutdown",
                                         [&env, &node] { node.shut_down(env.now() + ms(30000)); });
                }
                env.executor().sleep_for(ms(100));
            }
        });
        env.tracer().log(env::Level::info, "keel server: " + describe(c));
        if (net_faults_path) {
            env.executor().spawn("net-fault-control", [&env, &net_faults, &net_faults_path] {
                prod::run_net_fault_control(env, net_faults, *net_faults_path);
            });
        }
        std::optional<MetricsEndpoint> metrics;
        if (c.metrics_listen) {
            metrics.emplace(env, process, *c.metrics_listen, node);
            if (Status st = metrics->start(env.executor()); !st.ok()) {
                result = st;
                env.tracer().log(env::Level::error, "node stopped: " + st.error().message);
                return;
            }
        }
        result = node.run();
        if (!result.ok())
            env.tracer().log(env::Level::error, "node stopped: " + result.error().message);
    });
    if (!started.ok()) {
        std::fprintf(stderr, "keel server: %s\n", started.error().message.c_str());
        return 1;
    }
    return result.ok() ? 0 : 1;
}

}  // namespace

// --log-level and --trace-events; nullopt (with a message) for an unknown level.
std::optional<prod::LogOptions> log_options(const Args& args) {
    prod::LogOptions log;
    log.trace_events = args.flag("--trace-events");
    std::string level = args.value("--log-level").value_or("info");
    const std::pair<const char*, env::Level> levels[] = {
        {"debug", env::Level::debug}, {"info", env::Level::info},
        {"warn", env::Level::warn},   {"error", env::Level::error}};
    for (const auto& [name, value] : levels) {
        if (level == name) {
            log.min_level = value;
            return log;
        }
    }
    return std::nullopt;
}

int cmd_server(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--config", "--data-dir", "--override", "--log-level", "--net-faults"},
                      {"--help", "--trace-events"},
                      {"--override"}});
    if (args.flag("--help")) {
        std::fputs(server_help().c_str(), stdout);
        return 0;
    }
    if (!args.ok()) return usage_error("server", args.error());
    if (!args.positionals().empty())
        return usage_error("server", "unexpected argument " + args.positionals()[0]);
    auto log = log_options(args);
    if (!log) {
        return usage_error("server", "--log-level " + args.value("--log-level").value_or("") +
                                         ": expected debug, info, warn or error");
    }
    auto config = load_config(args);
    if (!config.ok()) {
        std::fprintf(stderr, "keel server: %s\n", config.error().message.c_str());
        return 2;
    }
    if (Status st = settle_cluster_id(*config); !st.ok()) {
        std::fprintf(stderr, "keel server: %s\n", st.error().message.c_str());
        return 1;
    }
    return run_server(*config, *log, args.value("--net-faults"));
}

namespace {

int storage_format(const node::ServerConfig& c, const std::optional<std::string>& cluster_id,
                   bool ignore_formatted) {
    if (!cluster_id || cluster_id->empty())
        return usage_error("storage", "format needs --cluster-id (keel storage random-uuid)");
    auto probe = node::server_config_from({{"cluster.id", *cluster_id}});
    if (!probe.ok()) return usage_error("storage", probe.error().message);
    auto disk = prod::PosixDisk::open_root(c.log_dir);
    if (!disk.ok()) {
        std::fprintf(stderr, "keel storage: %s: %s\n", c.log_dir.c_str(),
                     disk.error().message.c_str());
        return 1;
    }
    auto meta = read_meta(c.log_dir);
    if (!meta.ok() || *meta) {
        bool same =
            meta.ok() && (*meta)->cluster_id == *cluster_id && (*meta)->node_id == c.node.id;
        if (ignore_formatted && same) return 0;
        std::fprintf(stderr, "keel storage: %s is already formatted%s\n", c.log_dir.c_str(),
                     meta.ok() ? (" (cluster " + (*meta)->cluster_id + ", node " +
                                  std::to_string((*meta)->node_id.value()) + ")")
                                     .c_str()
                               : "");
        return 1;
    }
    Status st = raft::format_storage(**disk, "", raft::MetaProperties{c.node.id, *cluster_id});
    if (!st.ok()) {
        std::fprintf(stderr, "keel storage: %s\n", st.error().message.c_str());
        return 1;
    }
    std::printf("Formatting %s with cluster id %s, node id %d\n", c.log_dir.c_str(),
                cluster_id->c_str(), c.node.id.value());
    return 0;
}

int storage_info(const node::ServerConfig& c) {
    auto meta = read_meta(c.log_dir);
    if (!meta.ok()) {
        std::fprintf(stderr, "keel storage: %s: %s\n", c.log_dir.c_str(),
                     meta.error().message.c_str());
        return 1;
    }
    if (!*meta) {
        std::printf("%s is not formatted\n", c.log_dir.c_str());
        return 1;
    }
    std::printf("%s: cluster.id=%s node.id=%d\n", c.log_dir.c_str(), (*meta)->cluster_id.c_str(),
                (*meta)->node_id.value());
    return 0;
}

}  // namespace

int cmd_storage(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--config", "--data-dir", "--override", "--cluster-id"},
                      {"--help", "--ignore-formatted"},
                      {"--override"}});
    if (args.flag("--help")) {
        std::fputs(kStorageHelp, stdout);
        return 0;
    }
    if (!args.ok()) return usage_error("storage", args.error());
    if (args.positionals().size() != 1)
        return usage_error("storage", "expected format, random-uuid or info");
    const std::string& sub = args.positionals()[0];
    if (sub == "random-uuid") {
        std::printf("%s\n", prod::random_cluster_id().c_str());
        return 0;
    }
    if (sub != "format" && sub != "info")
        return usage_error("storage", "unknown storage command " + sub);
    auto config = load_config(args);
    if (!config.ok()) {
        std::fprintf(stderr, "keel storage: %s\n", config.error().message.c_str());
        return 2;
    }
    if (sub == "info") return storage_info(*config);
    return storage_format(*config, args.value("--cluster-id"), args.flag("--ignore-formatted"));
}

}  // namespace keel::cli
