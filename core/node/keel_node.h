// KeelNode: the one node assembly. It decides which services a node runs from its roles
// (Kafka's process.roles) and wires them; the simulator's scenarios start it inside
// World::add_node, and `keel server` inside a prod::ProdNode — neither decides anything
// about Kafka.
//
//   every node      meta.properties (formatted on first start), the metadata image, a
//                   RaftDriver on __cluster_metadata-0 (a voter on controllers, an observer
//                   on brokers)
//   controller      ControllerService on the controller listener
//   broker          BrokerLifecycle (register, heartbeat, AlterPartition), ReplicaManager
//                   (replicas from the image, replica fetchers, ISR), BrokerServer (the
//                   Kafka client listener)
//
// run() returns when the node stops: stop(), the Raft driver's disk error, or a replica's
// disk error; its Status tells which (a supervisor restarts the process on an error, as
// systemd would). All objects live on run()'s fiber stack, so a crash unwinds them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/base/metrics.h"
#include "core/broker/broker_config.h"
#include "core/broker/replica_manager.h"
#include "core/controller/broker_lifecycle.h"
#include "core/controller/controller_logic.h"
#include "core/controller/controller_service.h"
#include "core/controller/metadata_image.h"
#include "core/group/group_coordinator.h"
#include "core/raft/raft_driver.h"

namespace keel::broker {
class BrokerServer;
}

namespace keel::node {

struct NodeConfig {
    NodeId id{-1};
    bool controller = false;  // process.roles contains "controller"
    bool broker = false;      // process.roles contains "broker"
    std::string cluster_id;
    std::map<NodeId, env::Address> voter_raft_addresses;  // controller.quorum.voters (Raft listeners)
    std::map<NodeId, env::Address> controller_addresses;  // each voter's controller RPC listener
    env::Address raft_listen;        // controllers
    env::Address controller_listen;  // controllers
    env::Address broker_listen;      // brokers: the Kafka client listener
    std::string advertised_host;     // brokers: what Metadata tells clients
    uint16_t advertised_port = 9092;
    raft::RaftConfig raft;                  // voters and cluster id are filled from the above
    controller::ControllerConfig controller_config;
    broker::BrokerConfig broker_config;     // id is filled in
    group::GroupCoordinatorConfig group_config;  // offsets_topic_partitions from broker_config
    size_t snapshot_interval_entries = 1024;
    int64_t metadata_segment_bytes = 1 << 20;
    // socket.request.max.bytes: a larger request on the broker listener closes its
    // connection, as Kafka's does.
    size_t socket_request_max_bytes = 100 << 20;
    Duration noop_interval = ms(5000);
    Duration controller_request_timeout = ms(5000);
    Duration heartbeat_interval = ms(2000);
    const log::BatchCodec* codec = nullptr;  // compressed batches (core/compression)
};

class KeelNode;

// What a node's parts expose while it runs (nullptr when absent); for the simulator's
// checkers and scenarios, and for `keel server`'s status output.
struct NodeParts {
    const controller::MetadataImage* image = nullptr;
    raft::RaftDriver* driver = nullptr;
    controller::ControllerService* service = nullptr;
    controller::BrokerLifecycle* lifecycle = nullptr;
    broker::ReplicaManager* replicas = nullptr;
    broker::BrokerServer* server = nullptr;
    group::GroupCoordinator* groups = nullptr;
    const KeelNode* node = nullptr;  // the node itself (render_metrics)
};

struct NodeHooks {
    // Every image this node reaches (after each applied batch or snapshot).
    std::function<void(const controller::MetadataImage&, bool restored)> on_image;
    // Called with the parts once they exist, and with {} when they are about to go.
    std::function<void(const NodeParts&)> on_parts;
    controller::ControllerServiceHooks controller;
    controller::BrokerLifecycleHooks lifecycle;
    broker::ReplicaHooks replicas;
    // Lets a scenario set up the image before the driver starts (planted bugs).
    std::function<void(controller::MetadataImage&)> prepare_image;
};

class KeelNode {
public:
    KeelNode(env::Env& env, NodeConfig config, NodeHooks hooks = {});
    ~KeelNode();
    KeelNode(const KeelNode&) = delete;
    KeelNode& operator=(const KeelNode&) = delete;

    // Formats the storage if it is empty, then runs every service until stop() or an error.
    // Errors: a data directory of another cluster or node, the Raft driver's, a replica's.
    Status run();
    void stop();

    // Kafka's controlled shutdown, then stop(): a broker asks the active controller to move
    // its leaderships away and fence it (BrokerHeartbeat WantShutDown), and waits until the
    // controller answers ShouldShutDown or `deadline` passes. A controller-only node, or a
    // broker not registered yet, just stops. Call from one of this node's fibers.
    void shut_down(Instant deadline);

    const NodeConfig& config() const { return config_; }

    // This node's metrics now, as Prometheus text (core/node/node_metrics.h). Does not
    // park; call on the node's thread (a fiber, or the simulator between two events).
    std::string render_metrics() const;

private:
    Status check_storage();
    raft::RaftDriverOptions driver_options(controller::MetadataImage& image);
    Status run_controller(raft::RaftDriver& driver, controller::MetadataImage& image);
    Status run_broker(raft::RaftDriver& driver, controller::MetadataImage& image,
                      controller::ControllerService* service);

    env::Env& env_;
    NodeConfig config_;
    NodeHooks hooks_;
    raft::RaftDriver* driver_ = nullptr;
    broker::ReplicaManager* replicas_ = nullptr;  // while run_broker runs
    bool stopping_ = false;
    metrics::Registry metrics_;  // counted by the broker server; outlives run()
    NodeParts parts_;            // while they exist (run_controller, run_broker)
};

}  // namespace keel::node
