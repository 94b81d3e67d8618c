// LocalCluster: a cluster of separate `keel server` processes on loopback ports, as
// `keel cluster up|down|status` and `keel nemesis` (cli/) manage it. This file holds what
// they share: the cluster's description (ClusterLayout), written to DIR/cluster.json by
// `up` and read back by the other commands; each node's server.properties (Kafka's
// property names); and the process plumbing (free ports, spawning a detached server,
// signals, "is this pid still our server").
//
//   ClusterLayout c = plan_cluster("/tmp/c", 3, 0, 0, extra);   // ids, roles, free ports
//   write_node_config(c, c.nodes[0]);                           // DIR/node-1/server.properties
//   auto pid = spawn_server("/proc/self/exe", c.nodes[0]);      // setsid, log to node-1/server.log
//   write_file(c.dir + "/cluster.json", cluster_json(c));
//   auto back = parse_cluster_json(text);                       // Errc::invalid_argument naming the field
//
// cluster.json:
//   {"dir":"/tmp/c","cluster_id":"keel-local","bootstrap":"127.0.0.1:4001,...",
//    "nodes":[{"id":1,"roles":"broker,controller","port":4001,"controller_port":4002,
//              "pid":1234,"dir":"/tmp/c/node-1"}, ...]}
// port is 0 for a dedicated controller; the controller RPC port is controller_port + 1
// (keel server's convention), so planned ports keep it free too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace keel::prod {

struct ClusterNode {
    int32_t id = 0;
    bool broker = true;
    bool controller = true;
    int32_t port = 0;             // the PLAINTEXT listener (0: not a broker)
    int32_t controller_port = 0;  // the CONTROLLER listener (0: not a controller)
    int64_t pid = 0;              // the running process (0: none)
    std::string dir;              // DIR/node-<id>: server.properties, server.log, server.pid, data/

    std::string roles() const;  // "broker,controller", "broker" or "controller"
    std::string config_path() const { return dir + "/server.properties"; }
    std::string log_path() const { return dir + "/server.log"; }
    // keel server --net-faults (prod/net_fault_control.h): keel nemesis's network faults.
    std::string net_faults_path() const { return dir + "/net-faults"; }
    // Every address the other nodes connect to: the broker port, the controller's quorum
    // port and its RPC port (controller_port + 1), on 127.0.0.1.
    std::vector<std::string> peer_addresses() const;
};

struct ClusterLayout {
    std::string dir;
    std::string cluster_id = "keel-local";
    std::vector<ClusterNode> nodes;
    std::string extra;  // more server.properties lines, appended to every node's

    // "127.0.0.1:P1,127.0.0.1:P2,..." of every broker.
    std::string bootstrap() const;
    std::vector<const ClusterNode*> brokers() const;
    std::string voters() const;  // controller.quorum.voters
    ClusterNode* node(int32_t id);
};

// The defaults for a cluster of 3 or more brokers: RF 3, min ISR 2, and quick failure
// detection (a killed broker is fenced within seconds).
std::string default_cluster_properties(size_t brokers);

// Node ids 1..N: `combined` controller+broker nodes, else `controllers` dedicated
// controllers then `brokers` brokers; each with free loopback ports (distinct, and each
// controller port + 1 free too). Errc::invalid_argument for an impossible shape.
Result<ClusterLayout> plan_cluster(const std::string& dir, int combined, int controllers, int brokers,
                                   const std::string& extra);
// New free ports for every node (after losing a race for one).
Status replan_ports(ClusterLayout& c);

// The node's server.properties text, and writing it (creating the node's directory).
std::string node_properties(const ClusterLayout& c, const ClusterNode& n);
Status write_node_config(const ClusterLayout& c, const ClusterNode& n);

// The KRaft quorum leader as the controllers last persisted it: the leaderId of the highest
// leaderEpoch among the nodes' data/__cluster_metadata-0/quorum-state files (Kafka's
// format). nullopt if no file names a leader. A parse of the text is separate for tests.
struct QuorumLeader {
    int64_t epoch = -1;
    int32_t leader = -1;
};
std::optional<QuorumLeader> parse_quorum_state(const std::string& text);
std::optional<QuorumLeader> quorum_leader(const ClusterLayout& c);

std::string cluster_json(const ClusterLayout& c);
Result<ClusterLayout> parse_cluster_json(const std::string& text);

// Process plumbing (POSIX).
// Starts `keel server --config C --net-faults N` for the node (N: net_faults_path(); a
// missing file is no fault), detached (own session, not our child: it
// outlives the caller), stdout/stderr appended to its log; writes DIR/node-<id>/server.pid.
Result<int64_t> spawn_server(const std::string& keel_binary, const ClusterNode& n);
// The pid runs (not a zombie) and is this node's server (its command line names the config).
bool server_alive(const ClusterNode& n);
// The process is stopped (SIGSTOP): state T in /proc/<pid>/stat.
bool process_stopped(int64_t pid);
// Sends the signal; false if the process does not exist.
bool send_signal(int64_t pid, int sig);
// Waits until the node's server is gone; false on timeout.
bool wait_exit(const ClusterNode& n, int64_t timeout_ms);
// The log mentions "Address already in use" (it lost a race for its port).
bool log_says_port_taken(const ClusterNode& n);
std::string read_text_file(const std::string& path, bool* ok = nullptr);
Status write_text_file(const std::string& path, const std::string& text);
int32_t free_port(bool pair);

}  // namespace keel::prod
