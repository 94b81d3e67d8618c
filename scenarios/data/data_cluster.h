// DataCluster: a whole Keel cluster in the simulator — KRaft controllers c1..cN (node ids
// 1..N) and brokers b1..bM (node ids 101..), every one of them the same node assembly that
// `keel server` runs (core/node/KeelNode) — plus an admin node that creates topics through
// the active controller, for the data-plane scenarios in scenarios/data/.
//
// Every change of every replica on every broker goes to a ReplicationChecker (white-box
// invariants); check_replicas() compares the replicas byte for byte once the cluster is
// quiet. A node whose process exits on a disk error is restarted a second later, as
// systemd would.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/node/keel_node.h"
#include "scenarios/exit_restarter.h"
#include "sim/checkers/replication_checker.h"
#include "sim/scenario.h"

namespace keel::scenarios {

struct DataClusterOptions {
    int controllers = 3;
    int brokers = 3;
    node::NodeConfig base;  // ids, roles and addresses are filled in per node
    Duration disk_latency_max = ms(2);
    Duration restart_after_disk_error = ms(1000);
};

struct DataTopic {
    std::string name;
    int32_t partitions = 1;
    int16_t replication_factor = 1;
    std::vector<std::pair<std::string, std::string>> configs;
};

class DataCluster : public std::enable_shared_from_this<DataCluster> {
public:
    static std::shared_ptr<DataCluster> create(sim::ScenarioContext& ctx, DataClusterOptions options);
    DataCluster(sim::ScenarioContext& ctx, DataClusterOptions options);  // use create()
    ~DataCluster();

    sim::World& world() { return world_; }
    const std::vector<std::string>& controllers() const { return controllers_; }
    const std::vector<std::string>& brokers() const { return brokers_; }
    std::vector<std::string> nodes() const;
    NodeId id_of(const std::string& name) const;
    std::string name_of(NodeId id) const;
    // The brokers' client listeners (what a client's bootstrap.servers lists).
    std::vector<env::Address> bootstrap() const;

    // A running node's parts; nullptr when down.
    const node::NodeParts* parts(const std::string& name) const;
    broker::Partition* replica(NodeId broker, const broker::Uuid& topic_id, int32_t partition);
    // The active controller's image (nullptr if none is active and running).
    const controller::MetadataImage* active_image();
    std::optional<std::string> active_controller();
    bool brokers_unfenced();
    sim::RoleResolver resolver();  // "@leader" (active controller), "@controller", "@broker"
    sim::ReplicationChecker& replication() { return replication_; }

    // Creates topics through the admin node (retried on NOT_CONTROLLER and transport
    // errors); true once each exists, false after `limit`.
    bool create_topics(const std::vector<DataTopic>& topics, Duration limit);
    bool topic_done(const std::string& name) const { return topics_done_.count(name) > 0; }

    // Waits until every partition has a leader, a full ISR, and every replica's log end
    // equal to the leader's high watermark (and log end); the time it took, or nullopt.
    std::optional<Duration> await_replicated(Duration limit);
    // Byte-for-byte comparison of every partition's replicas (ReplicationChecker).
    void check_replicas();
    // Checker violations and metrics into the context.
    void report();

    // Totals over every broker incarnation of the run.
    struct BrokerTotals {
        uint64_t isr_shrinks = 0;
        uint64_t isr_expands = 0;
        uint64_t divergence_truncations = 0;
        uint64_t produce_duplicates = 0;
        uint64_t acks_all_timeouts = 0;
        uint64_t became_leader = 0;
    };
    BrokerTotals broker_totals() const;

private:
    void add_totals(const node::NodeParts& p, BrokerTotals& t) const;
    struct Slot;
    void start();
    node::NodeConfig config_for(const Slot& s) const;
    void node_main(Slot& s, env::Env& env);
    void admin_main(env::Env& env);
    bool replicated(std::string& why);

    sim::ScenarioContext& ctx_;
    sim::World& world_;
    DataClusterOptions options_;
    sim::ReplicationChecker replication_;
    ExitRestarter restarter_;
    std::vector<std::string> controllers_;
    std::vector<std::string> brokers_;
    std::map<std::string, std::unique_ptr<Slot>> slots_;
    std::deque<DataTopic> admin_queue_;
    std::set<std::string> topics_done_;
    std::optional<std::pair<std::string, QuorumEpoch>> active_;
    uint64_t admin_errors_ = 0;
    BrokerTotals finished_;  // of incarnations that ended
};

}  // namespace keel::scenarios
