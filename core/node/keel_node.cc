#include "core/node/keel_node.h"

#include "core/broker/broker_server.h"
#include "core/broker/offsets_topic.h"
#include "core/broker/producer_id_manager.h"
#include "core/env/sync.h"
#include "core/node/node_metrics.h"
#include "core/raft/raft_storage.h"

namespace keel::node {

namespace {

// Publishes a node's parts to the hooks while they exist: the withdrawal runs on a normal
// return and when a crash unwinds the fiber, before any part is destroyed.
// `slot` is the node's own copy (render_metrics).
struct PartsPublished {
    NodeHooks& hooks;
    NodeParts& slot;
    PartsPublished(NodeHooks& h, NodeParts& s, const NodeParts& parts) : hooks(h), slot(s) {
        slot = parts;
        if (hooks.on_parts) hooks.on_parts(parts);
    }
    ~PartsPublished() {
        slot = NodeParts{};
        if (hooks.on_parts) hooks.on_parts(NodeParts{});
    }
    PartsPublished(const PartsPublished&) = delete;
    PartsPublished& operator=(const PartsPublished&) = delete;
};

}  // namespace

KeelNode::KeelNode(env::Env& env, NodeConfig config, NodeHooks hooks)
    : env_(env), config_(std::move(config)), hooks_(std::move(hooks)) {
    config_.raft.voters.clear();
    for (const auto& [id, addr] : config_.voter_raft_addresses) config_.raft.voters.push_back(id);
    config_.raft.cluster_id = config_.cluster_id;
    config_.controller_config.cluster_id = config_.cluster_id;
    config_.broker_config.id = config_.id;
}

KeelNode::~KeelNode() = default;

std::string KeelNode::render_metrics() const { return render_node_metrics(parts_, config_, metrics_); }

void KeelNode::stop() {
    stopping_ = true;
    if (driver_ != nullptr) driver_->stop();
}

void KeelNode::shut_down(Instant deadline) {
    if (replicas_ != nullptr && replicas_->lifecycle().epoch()) {
        replicas_->lifecycle().begin_controlled_shutdown();
        env_.tracer().log(env::Level::info, "controlled shutdown: moving leaderships away");
        while (replicas_ != nullptr && !replicas_->lifecycle().shut_down() && env_.now() < deadline) {
            env_.executor().sleep_for(ms(50));
        }
        bool done = replicas_ != nullptr && replicas_->lifecycle().shut_down();
        env_.tracer().log(done ? env::Level::info : env::Level::warn,
                          done ? "controlled shutdown: the controller let this broker go"
                               : "controlled shutdown: no answer in time; stopping anyway");
    } else if (config_.broker) {
        env_.tracer().log(env::Level::info, std::string("controlled shutdown skipped: ") +
                                                (replicas_ == nullptr ? "the broker is not running" : "not registered"));
    }
    stop();
}

// meta.properties: written on the first start (what `keel storage format` does); a
// directory of another cluster or node is refused.
Status KeelNode::check_storage() {
    KEEL_TRY_ASSIGN(auto meta, raft::read_meta_properties(env_.disk(), ""));
    if (!meta) return raft::format_storage(env_.disk(), "", raft::MetaProperties{config_.id, config_.cluster_id});
    if (meta->cluster_id != config_.cluster_id || meta->node_id != config_.id) {
        return Error{Errc::invalid_argument, "meta.properties belongs to node " + std::to_string(meta->node_id.value()) +
                                                 " of cluster " + meta->cluster_id + ", not node " +
                                                 std::to_string(config_.id.value()) + " of cluster " +
                                                 config_.cluster_id};
    }
    return ok_status();
}

raft::RaftDriverOptions KeelNode::driver_options(controller::MetadataImage& image) {
    raft::RaftDriverOptions o;
    o.id = config_.id;
    o.config = config_.raft;
    o.voter_addresses = config_.voter_raft_addresses;
    if (config_.controller) o.listen = config_.raft_listen;
    o.state_machine = &image;
    o.snapshot_interval_entries = config_.snapshot_interval_entries;
    o.segment_bytes = config_.metadata_segment_bytes;
    return o;
}

Status KeelNode::run() {
    KEEL_TRY(check_storage());
    controller::MetadataImage image;
    if (hooks_.prepare_image) hooks_.prepare_image(image);
    image.set_observer([this](const controller::MetadataImage& img, bool restored) {
        if (hooks_.on_image) hooks_.on_image(img, restored);
        if (replicas_ != nullptr) replicas_->image_changed();
    });
    raft::RaftDriver driver(env_, driver_options(image));
    driver_ = &driver;
    struct ClearDriver {
        KeelNode& n;
        ~ClearDriver() { n.driver_ = nullptr; }
    } clear{*this};
    if (stopping_) return ok_status();
    if (!config_.controller) {
        return run_broker(driver, image, nullptr);
    }
    controller::ControllerServiceOptions so;
    so.config = config_.controller_config;
    so.listen = config_.controller_listen;
    so.noop_interval = config_.noop_interval;
    so.request_timeout = config_.controller_request_timeout;
    controller::ControllerService service(env_, driver, image, so, hooks_.controller);
    env::Event service_done(env_.executor());
    Status service_status = ok_status();
    env::spawn_joinable(env_.executor(), "controller-service", service_done, [&] {
        service_status = service.run();
        if (!service_status.ok()) driver.stop();  // e.g. its listener's port is taken
    });
    Status st = config_.broker ? run_broker(driver, image, &service) : run_controller(driver, image);
    service.stop();
    service_done.wait();
    if (!service_status.ok()) return service_status;
    return st;
}

Status KeelNode::run_controller(raft::RaftDriver& driver, controller::MetadataImage& image) {
    NodeParts parts{&image, &driver, nullptr, nullptr, nullptr, nullptr, nullptr, this};
    PartsPublished published(hooks_, parts_, parts);
    return driver.run();
}

namespace {

// The group coordinator and its storage, __consumer_offsets (core/broker/offsets_topic.h),
// with their two fibers: the coordinator's timers and the leadership watch.
struct GroupServices {
    GroupServices(env::Env& env, broker::ReplicaManager& replicas, group::GroupCoordinatorConfig config)
        : ex(env.executor()),
          log(replicas),
          coordinator(env, log, with_partitions(config, replicas.config())),
          coordinator_done(ex),
          watch_done(ex) {}
    ~GroupServices() { stop(); }
    static group::GroupCoordinatorConfig with_partitions(group::GroupCoordinatorConfig c,
                                                         const broker::BrokerConfig& bc) {
        c.offsets_topic_partitions = bc.offsets_topic_num_partitions;
        return c;
    }
    void start() {
        started = true;
        env::spawn_joinable(ex, "group-coordinator", coordinator_done, [this] { (void)coordinator.run(); });
        env::spawn_joinable(ex, "group-leadership", watch_done, [this] { log.watch(coordinator); });
    }
    void stop() {
        if (!started) return;
        started = false;
        log.stop();
        watch_done.wait();
        coordinator.stop();
        coordinator_done.wait();
    }

    env::Executor& ex;
    broker::OffsetsTopic log;
    group::GroupCoordinator coordinator;
    env::Event coordinator_done;
    env::Event watch_done;
    bool started = false;
};

}  // namespace

Status KeelNode::run_broker(raft::RaftDriver& driver, controller::MetadataImage& image,
                            controller::ControllerService* service) {
    if (!config_.broker) return run_controller(driver, image);
    controller::BrokerLifecycleOptions lo;
    lo.broker_id = config_.id;
    lo.cluster_id = config_.cluster_id;
    lo.listeners = {controller::BrokerEndpoint{"PLAINTEXT", config_.advertised_host, config_.advertised_port, 0}};
    lo.controllers = config_.controller_addresses;
    lo.heartbeat_interval = config_.heartbeat_interval;
    controller::BrokerLifecycle lifecycle(
        env_, image, lo, [&driver]() { return driver.status().leader; }, hooks_.lifecycle);
    broker::ReplicaManager replicas(env_, config_.broker_config, image, lifecycle, config_.codec, hooks_.replicas);
    replicas_ = &replicas;
    struct ClearReplicas {
        KeelNode& n;
        ~ClearReplicas() { n.replicas_ = nullptr; }
    } clear{*this};
    broker::ProducerIdManager producer_ids(env_.executor(), [&lifecycle] { return lifecycle.allocate_producer_ids(); });
    GroupServices groups(env_, replicas, config_.group_config);
    broker::BrokerServerOptions bo;
    bo.listen = config_.broker_listen;
    bo.rpc.frame_bytes_max = config_.socket_request_max_bytes;
    bo.cluster_id = config_.cluster_id;
    bo.producer_ids = &producer_ids;
    bo.groups = &groups.coordinator;
    bo.metrics = &metrics_;
    broker::BrokerServer server(replicas, bo);
    env::Event lifecycle_done(env_.executor());
    env::Event replicas_done(env_.executor());
    env::Event server_done(env_.executor());
    Status replica_status = ok_status();
    env::spawn_joinable(env_.executor(), "broker-lifecycle", lifecycle_done, [&lifecycle] { lifecycle.run(); });
    groups.start();
    env::spawn_joinable(env_.executor(), "replica-manager", replicas_done, [&] {
        replica_status = replicas.run();
        if (!replica_status.ok()) driver.stop();  // the node exits; its supervisor restarts it
    });
    Status server_status = ok_status();
    env::spawn_joinable(env_.executor(), "broker-server", server_done, [&] {
        server_status = server.run();
        if (!server_status.ok()) driver.stop();  // e.g. the client port is taken
    });
    NodeParts parts{&image, &driver, service, &lifecycle, &replicas, &server, &groups.coordinator, this};
    PartsPublished published(hooks_, parts_, parts);
    Status st = driver.run();
    server.stop();
    groups.stop();
    replicas.stop();
    producer_ids.stop();  // before the lifecycle its fetches use goes
    lifecycle.stop();
    server_done.wait();
    replicas_done.wait();
    lifecycle_done.wait();
    if (!replica_status.ok()) return replica_status;
    if (!server_status.ok()) return server_status;
    return st;
}

}  // namespace keel::node
