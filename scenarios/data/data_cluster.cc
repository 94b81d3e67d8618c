#include "scenarios/data/data_cluster.h"

#include <algorithm>

#include "core/broker/broker_server.h"
#include "core/controller/rpc.h"
#include "scenarios/admin_retry.h"
#include "core/protocol/controller_messages.h"

namespace keel::scenarios {

namespace {

constexpr uint16_t kBrokerPort = 9092;
constexpr uint16_t kRaftPort = 9093;
constexpr uint16_t kControllerPort = 9094;
constexpr int32_t kBrokerIdBase = 100;
const char* const kClusterId = "keel-sim-data";

}  // namespace

struct DataCluster::Slot {
    std::string name;
    NodeId id{-1};
    bool controller = false;
    node::NodeParts parts;  // while the node runs
};

DataCluster::DataCluster(sim::ScenarioContext& ctx, DataClusterOptions options)
    : ctx_(ctx),
      world_(ctx.world()),
      options_(std::move(options)),
      replication_(sim::ReplicationCheckerOptions{[this](const std::string& topic) {
                       const controller::MetadataImage* img = active_image();
                       return img != nullptr && img->unclean_leader_election_enabled(topic);
                   }},
                   [this](NodeId b, const broker::Uuid& t, int32_t p) { return replica(b, t, p); }),
      metadata_(sim::MetadataCheckerOptions{.session_timeout = options_.base.controller_config.session_timeout}),
      restarter_(world_, options_.restart_after_disk_error) {
    for (int i = 1; i <= options_.controllers; i++) {
        std::string name = "c" + std::to_string(i);
        controllers_.push_back(name);
        options_.base.voter_raft_addresses[NodeId(i)] = env::Address{name, kRaftPort};
        options_.base.controller_addresses[NodeId(i)] = env::Address{name, kControllerPort};
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(i), true, {}});
    }
    for (int i = 1; i <= options_.brokers; i++) {
        std::string name = "b" + std::to_string(i);
        brokers_.push_back(name);
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(kBrokerIdBase + i), false, {}});
    }
    options_.base.cluster_id = kClusterId;
}

DataCluster::~DataCluster() = default;

std::shared_ptr<DataCluster> DataCluster::create(sim::ScenarioContext& ctx, DataClusterOptions options) {
    auto c = std::make_shared<DataCluster>(ctx, std::move(options));
    c->start();
    return c;
}

void DataCluster::start() {
    std::shared_ptr<DataCluster> self = shared_from_this();
    for (const std::string& n : nodes()) {
        Slot* s = slots_.at(n).get();
        world_.add_node(n, [self, s](env::Env& env) { self->node_main(*s, env); }, false);
        world_.node(n).disk().faults().latency_min = std::chrono::microseconds(20);
        world_.node(n).disk().faults().latency_max = options_.disk_latency_max;
    }
    world_.add_node("admin", [self](env::Env& env) { self->admin_main(env); });
    metadata_.set_disk_damage_probe([this](const std::string& node) {
        const sim::DiskCounters& c = world_.node(node).disk().counters();
        return c.wipes + c.corruptions_injected + c.bit_flips_on_read;
    });
    for (const std::string& n : nodes()) world_.start(n);
    world_.spawn("supervisor", [self] { self->restarter_.run_forever(self->nodes()); });
}

std::vector<std::string> DataCluster::nodes() const {
    std::vector<std::string> all = controllers_;
    all.insert(all.end(), brokers_.begin(), brokers_.end());
    return all;
}

NodeId DataCluster::id_of(const std::string& name) const { return slots_.at(name)->id; }

std::string DataCluster::name_of(NodeId id) const {
    for (const auto& [name, s] : slots_) {
        if (s->id == id) return name;
    }
    return "?";
}

std::vector<env::Address> DataCluster::bootstrap() const {
    std::vector<env::Address> out;
    for (const std::string& b : brokers_) out.push_back(env::Address{b, kBrokerPort});
    return out;
}

node::NodeConfig DataCluster::config_for(const Slot& s) const {
    node::NodeConfig c = options_.base;
    c.id = s.id;
    c.controller = s.controller;
    c.broker = !s.controller;
    c.raft_listen = env::Address{s.name, kRaftPort};
    c.controller_listen = env::Address{s.name, kControllerPort};
    c.broker_listen = env::Address{s.name, kBrokerPort};
    c.advertised_host = s.name;
    c.advertised_port = kBrokerPort;
    return c;
}

void DataCluster::node_main(Slot& s, env::Env& env) {
    node::NodeHooks hooks;
    hooks.on_parts = [this, &s](const node::NodeParts& p) {
        if (p.image == nullptr) add_totals(s.parts, finished_);  // withdrawn: keep its counts
        s.parts = p;
    };
    hooks.controller.on_activated = [this, name = s.name](QuorumEpoch epoch, Instant at) {
        if (active_ && epoch <= active_->second) return;
        active_ = std::make_pair(name, epoch);
        metadata_.on_activated(at);
    };
    hooks.controller.on_heartbeat = [this](NodeId b, Instant at) { metadata_.on_heartbeat(b, at); };
    hooks.controller.on_session_fence = [this](NodeId b, Instant last, Instant at) {
        metadata_.on_session_fence(b, last, at);
    };
    std::string who = s.name + "#" + std::to_string(world_.node(s.name).incarnations());
    hooks.on_image = [this, who, &env](const controller::MetadataImage& img, bool restored) {
        metadata_.on_image(who, img, restored, env.now());
    };
    NodeId id = s.id;
    hooks.replicas.on_change = [this, id, &env](const broker::Partition& p) { replication_.on_change(id, p, env.now()); };
    hooks.replicas.on_acks_all = [this, id](const broker::Partition& p, Offset last) {
        replication_.on_acks_all(id, p, last);
    };
    node::KeelNode node(env, config_for(s), hooks);
    struct Clear {
        Slot& s;
        ~Clear() { s.parts = {}; }
    } clear{s};
    Status st = node.run();
    if (!st.ok()) {
        env.tracer().log(env::Level::warn, s.name + " exited: " + st.error().to_string());
        restarter_.exited(s.name);
    }
}

const node::NodeParts* DataCluster::parts(const std::string& name) const {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.has_node(name)) return nullptr;
    if (it->second->parts.image == nullptr) return nullptr;
    return &it->second->parts;
}

broker::Partition* DataCluster::replica(NodeId broker, const broker::Uuid& topic_id, int32_t partition) {
    std::string name = name_of(broker);
    const node::NodeParts* p = parts(name);
    if (p == nullptr || p->replicas == nullptr || !world_.node(name).running()) return nullptr;
    return p->replicas->partition(topic_id, partition);
}

std::optional<std::string> DataCluster::active_controller() {
    if (!active_) return std::nullopt;
    const node::NodeParts* p = parts(active_->first);
    if (p == nullptr || p->driver == nullptr || !world_.node(active_->first).running() ||
        world_.node(active_->first).paused()) {
        return std::nullopt;
    }
    raft::RaftStatus s = p->driver->status();
    if (s.role != raft::Role::leader || s.epoch != active_->second) return std::nullopt;
    return active_->first;
}

const controller::MetadataImage* DataCluster::active_image() {
    auto a = active_controller();
    if (!a) return nullptr;
    const node::NodeParts* p = parts(*a);
    return p != nullptr ? p->image : nullptr;
}

bool DataCluster::brokers_unfenced() {
    const controller::MetadataImage* img = active_image();
    if (img == nullptr) return false;
    for (const std::string& b : brokers_) {
        const controller::BrokerRegistration* r = img->broker(id_of(b));
        if (r == nullptr || !r->active()) return false;
    }
    return true;
}

sim::RoleResolver DataCluster::resolver() {
    return [this](std::string_view role) -> std::optional<std::string> {
        if (role == "@leader") return active_controller();
        const std::vector<std::string>* pool = role == "@controller" ? &controllers_
                                              : role == "@broker"    ? &brokers_
                                                                     : nullptr;
        if (pool == nullptr || pool->empty()) return std::nullopt;
        return (*pool)[world_.random().uniform(0, pool->size() - 1)];
    };
}

void DataCluster::admin_main(env::Env& env) {
    controller::RpcClient client(env, "admin");
    size_t next = 0;
    while (true) {
        if (admin_queue_.empty()) {
            env.executor().sleep_for(ms(50));
            continue;
        }
        const DataTopic spec = admin_queue_.front();
        protocol::CreateTopicsRequest req;
        protocol::CreateTopicsRequest::Topic t;
        t.name = spec.name;
        t.num_partitions = spec.partitions;
        t.replication_factor = spec.replication_factor;
        for (const auto& [k, v] : spec.configs) t.configs.push_back({k, v});
        req.topics.push_back(t);
        NodeId target(static_cast<int32_t>(1 + next % controllers_.size()));
        auto r = client.call<protocol::CreateTopicsResponse>(options_.base.controller_addresses.at(target), req, 7,
                                                             env.now() + ms(3000));
        protocol::ErrorCode code = r.ok() && !r->topics.empty() ? r->topics[0].error_code
                                                                 : protocol::ErrorCode::network_exception;
        if (code == protocol::ErrorCode::none || code == protocol::ErrorCode::topic_already_exists) {
            topics_done_.insert(spec.name);
            admin_queue_.pop_front();
            continue;
        }
        if (!create_topics_retriable(code)) {
            admin_errors_++;
            ctx_.violation("CreateTopics " + spec.name + " failed: " + std::string(protocol::error_code_name(code)));
            admin_queue_.pop_front();
            continue;
        }
        next++;
        env.executor().sleep_for(ms(100));
    }
}

bool DataCluster::create_topics(const std::vector<DataTopic>& topics, Duration limit) {
    for (const auto& t : topics) admin_queue_.push_back(t);
    return world_.run_until(
        [&] {
            for (const auto& t : topics) {
                if (topics_done_.count(t.name) == 0) return false;
            }
            return true;
        },
        limit);
}

bool DataCluster::replicated(std::string& why) {
    const controller::MetadataImage* img = active_image();
    if (img == nullptr) {
        why = "no active controller";
        return false;
    }
    for (const auto& [id, t] : img->topics()) {
        for (const auto& [index, p] : t.partitions) {
            std::string tp = t.name + "-" + std::to_string(index.value());
            broker::Partition* leader = p.has_leader() ? replica(p.leader, id, index.value()) : nullptr;
            if (leader == nullptr || leader->role() != broker::ReplicaRole::leader) {
                why = tp + " has no running leader";
                return false;
            }
            if (p.isr.size() != p.replicas.size()) {
                why = tp + " ISR is smaller than its replica set";
                return false;
            }
            for (NodeId r : p.replicas) {
                broker::Partition* rp = replica(r, id, index.value());
                if (rp == nullptr || rp->log_end() != leader->log_end() || leader->high_watermark() != leader->log_end()) {
                    why = tp + " replica on broker " + std::to_string(r.value()) + " is not caught up";
                    return false;
                }
            }
        }
    }
    return true;
}

std::optional<Duration> DataCluster::await_replicated(Duration limit) {
    Instant start = world_.now();
    std::string why;
    bool ok = world_.run_until([&] { return replicated(why); }, limit);
    if (!ok) {
        ctx_.violation("the cluster did not become fully replicated within " + std::to_string(to_ms(limit)) +
                       " ms of the faults' end: " + why);
        return std::nullopt;
    }
    return world_.now() - start;
}

void DataCluster::check_replicas() {
    const controller::MetadataImage* img = active_image();
    if (img == nullptr) return;
    std::vector<sim::ReplicationChecker::PartitionReplicas> all;
    for (const auto& [id, t] : img->topics()) {
        for (const auto& [index, p] : t.partitions) all.push_back({id, index.value(), t.name, p.leader, p.replicas});
    }
    replication_.check_replicas(all);
}

void DataCluster::add_totals(const node::NodeParts& p, BrokerTotals& t) const {
    if (p.replicas != nullptr) {
        const broker::ReplicaStats& r = p.replicas->stats();
        t.isr_shrinks += r.isr_shrinks;
        t.isr_expands += r.isr_expands;
        t.divergence_truncations += r.divergence_truncations;
        t.became_leader += r.became_leader;
    }
    if (p.server != nullptr) {
        t.produce_duplicates += p.server->stats().produce_duplicates;
        t.acks_all_timeouts += p.server->stats().acks_all_timeouts;
    }
}

DataCluster::BrokerTotals DataCluster::broker_totals() const {
    BrokerTotals t = finished_;
    for (const std::string& b : brokers_) {
        const node::NodeParts* p = parts(b);
        if (p != nullptr) add_totals(*p, t);
    }
    return t;
}

void DataCluster::report() {
    for (const std::string& v : replication_.violations()) ctx_.violation(v);
    for (const std::string& v : metadata_.violations()) ctx_.violation("metadata: " + v);
    const sim::ReplicationCheckerStats& s = replication_.stats();
    ctx_.metric("replica_events", static_cast<double>(s.events));
    ctx_.metric("leader_epochs", static_cast<double>(s.leader_epochs));
    ctx_.metric("batches_compared", static_cast<double>(s.batches_compared));
    ctx_.metric("unclean_data_loss", static_cast<double>(s.unclean_data_loss));
    BrokerTotals t = broker_totals();
    ctx_.metric("produce_duplicates", static_cast<double>(t.produce_duplicates));
    ctx_.metric("acks_all_timeouts", static_cast<double>(t.acks_all_timeouts));
    ctx_.metric("became_leader", static_cast<double>(t.became_leader));
    ctx_.metric("isr_shrinks", static_cast<double>(t.isr_shrinks));
    ctx_.metric("isr_expands", static_cast<double>(t.isr_expands));
    ctx_.metric("divergence_truncations", static_cast<double>(t.divergence_truncations));
}

}  // namespace keel::scenarios
