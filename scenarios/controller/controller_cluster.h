// ControllerCluster: KRaft controllers and brokers in the simulator, for the scenarios in
// scenarios/controller/. Controllers c1..cN (node ids 1..N) are the Raft voters; each runs
// a RaftDriver whose state machine is its MetadataImage, and a ControllerService. Brokers
// b1..bM (node ids 101..) are observers: a RaftDriver feeding their own MetadataImage, and
// a BrokerLifecycle that registers and heartbeats. An "admin" node sends CreateTopics to
// the active controller, as an admin client would.
//
// Every image every node reaches goes through one MetadataChecker; the active
// controller's hooks feed it heartbeats, activations and session fences. A control fiber
// checks the silent-broker rule every 500 ms.
//
// Disks are formatted (meta.properties) on first start, as `keel format` would; a node
// whose Raft driver stops on a disk error is restarted a second later, as systemd would.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/controller/broker_lifecycle.h"
#include "core/controller/controller_logic.h"
#include "core/controller/controller_service.h"
#include "sim/checkers/metadata_checker.h"
#include "core/controller/metadata_image.h"
#include "core/raft/raft_driver.h"
#include "scenarios/exit_restarter.h"
#include "sim/scenario.h"

namespace keel::scenarios {

struct ControllerClusterOptions {
    int controllers = 3;
    int brokers = 4;
    raft::RaftConfig raft;                     // voters and cluster id are filled in
    controller::ControllerConfig config;       // cluster id is filled in
    size_t snapshot_interval_entries = 16;     // small, so that snapshots happen
    int64_t segment_bytes = 64 << 10;
    Duration disk_latency_max = ms(2);
    Duration noop_interval = ms(3000);
    Duration request_timeout = ms(5000);  // ControllerServiceOptions::request_timeout
    Duration restart_after_disk_error = ms(1000);
    // Planted bugs for the negative tests (property_tests/negative/controller_bugs.cc):
    // every image skips the partition-epoch bump of an ISR-only change; and, with
    // config.bug_fence_leaves_isr, every image trusts its log (Kafka's replay) so the
    // controller's bad records reach the MetadataChecker.
    bool bug_skip_partition_epoch_bump = false;
};

// A CreateTopics the admin node sends (and retries on NOT_CONTROLLER or transport errors).
struct TopicSpec {
    std::string name;
    int32_t partitions = 1;
    int16_t replication_factor = 1;
    std::vector<std::pair<std::string, std::string>> configs;
    std::map<int32_t, std::vector<NodeId>> assignments;
};

class ControllerCluster : public std::enable_shared_from_this<ControllerCluster> {
public:
    static std::shared_ptr<ControllerCluster> create(sim::ScenarioContext& ctx, ControllerClusterOptions options);
    ControllerCluster(sim::ScenarioContext& ctx, ControllerClusterOptions options);  // use create()
    ~ControllerCluster();

    sim::World& world() { return world_; }
    sim::MetadataChecker& checker() { return checker_; }
    const std::vector<std::string>& controllers() const { return controllers_; }
    const std::vector<std::string>& brokers() const { return brokers_; }
    std::vector<std::string> nodes() const;  // controllers and brokers (not admin)
    NodeId id_of(const std::string& name) const;
    std::string name_of(NodeId id) const;

    // A running node's image, driver, service (controllers) or lifecycle (brokers); nullptr
    // when down. Call the service and lifecycle only from that node's fibers.
    const controller::MetadataImage* image(const std::string& name);
    raft::RaftDriver* driver(const std::string& name);
    controller::ControllerService* service(const std::string& name);
    controller::BrokerLifecycle* lifecycle(const std::string& name);
    // Starts a controlled shutdown of a running broker (its next heartbeats ask for it).
    void begin_controlled_shutdown(const std::string& broker);
    // The running, unpaused controller that leads the highest Raft epoch.
    std::optional<std::string> quorum_leader();
    // The controller that last became active, if it still leads that epoch.
    std::optional<std::string> active_controller();
    // "@leader" (active controller or quorum leader), "@controller", "@broker".
    sim::RoleResolver resolver();

    // Queues topics for the admin node; returns once each was created (or already
    // existed), or after `limit`. Errors other than retryable ones become violations.
    bool create_topics(const std::vector<TopicSpec>& topics, Duration limit);
    // The admin has seen `topic` created (or already there).
    bool topic_done(const std::string& topic) const { return topics_done_.count(topic) > 0; }
    // Queues topics without waiting (callable from control fibers).
    void queue_topics(const std::vector<TopicSpec>& topics) {
        admin_queue_.insert(admin_queue_.end(), topics.begin(), topics.end());
    }
    // Brokers that lead a partition of `topic` shrink its ISR to themselves (AlterPartition),
    // as a leader does when its followers fall behind.
    void shrink_isr_of(const std::string& topic) { shrink_topics_.insert(topic); }

    // Epochs the controllers renounced after a write of unknown outcome.
    uint64_t renounces() const { return renounces_; }
    // Every broker registered and unfenced in the active controller's image.
    bool brokers_unfenced();
    // After the faults: waits (up to `limit`) for every node to be up with an image equal to
    // the active controller's and every broker unfenced; violations otherwise.
    std::optional<Duration> await_converged(Duration limit);
    // Checker violations and metrics into the context.
    void report();

private:
    struct Slot;
    void start();
    void controller_main(Slot& s, env::Env& env);
    void broker_main(Slot& s, env::Env& env);
    void admin_main(env::Env& env);
    void isr_shrinker(Slot& s, controller::BrokerLifecycle& lifecycle, const controller::MetadataImage& image,
                      env::Env& env);
    raft::RaftDriverOptions driver_options(Slot& s, controller::MetadataImage& image);
    void watch(Slot& s, controller::MetadataImage& image, env::Env& env);
    void check_sessions_forever();
    bool converged(std::string& why);

    sim::ScenarioContext& ctx_;
    sim::World& world_;
    ControllerClusterOptions options_;
    sim::MetadataChecker checker_;
    ExitRestarter restarter_;  // restarts a node whose driver stopped on a disk error
    std::vector<std::string> controllers_;
    std::vector<std::string> brokers_;
    std::map<NodeId, env::Address> raft_addresses_;
    std::map<NodeId, env::Address> controller_addresses_;
    std::map<std::string, std::unique_ptr<Slot>> slots_;
    std::deque<TopicSpec> admin_queue_;
    std::set<std::string> topics_done_;
    std::set<std::string> shrink_topics_;
    std::optional<std::pair<std::string, QuorumEpoch>> active_;  // last activation
    uint64_t activations_ = 0;
    uint64_t renounces_ = 0;
    uint64_t registrations_ = 0;
    uint64_t admin_errors_ = 0;
};

}  // namespace keel::scenarios
