#include "scenarios/controller/controller_cluster.h"

#include <algorithm>

#include "core/env/sync.h"
#include "core/raft/raft_storage.h"
#include "scenarios/admin_retry.h"
#include "scenarios/quorum_probe.h"

namespace keel::scenarios {

using controller::MetadataImage;

namespace {

constexpr uint16_t kRaftPort = 9093;
constexpr uint16_t kControllerPort = 9094;
constexpr uint16_t kBrokerPort = 9092;
constexpr int32_t kBrokerIdBase = 100;
const char* const kClusterId = "keel-sim-cluster";

}  // namespace

struct ControllerCluster::Slot {
    std::string name;
    NodeId id{-1};
    bool controller = false;
    bool formatted = false;
    raft::RaftDriver* driver = nullptr;
    MetadataImage* image = nullptr;
    controller::ControllerService* service = nullptr;
    controller::BrokerLifecycle* lifecycle = nullptr;

    // Publishes one incarnation's objects (they live on its main fiber's stack) until that
    // fiber ends or is unwound by a crash.
    struct Published {
        Slot& slot;
        Published(Slot& s, raft::RaftDriver& d, MetadataImage& i, controller::ControllerService* svc,
                  controller::BrokerLifecycle* l)
            : slot(s) {
            slot.driver = &d;
            slot.image = &i;
            slot.service = svc;
            slot.lifecycle = l;
        }
        ~Published() {
            slot.driver = nullptr;
            slot.image = nullptr;
            slot.service = nullptr;
            slot.lifecycle = nullptr;
        }
    };
};

ControllerCluster::ControllerCluster(sim::ScenarioContext& ctx, ControllerClusterOptions options)
    : ctx_(ctx),
      world_(ctx.world()),
      options_(std::move(options)),
      checker_(sim::MetadataCheckerOptions{.session_timeout = options_.config.session_timeout}),
      restarter_(world_, options_.restart_after_disk_error) {
    options_.raft.voters.clear();
    options_.raft.cluster_id = kClusterId;
    options_.config.cluster_id = kClusterId;
    for (int i = 1; i <= options_.controllers; i++) {
        std::string name = "c" + std::to_string(i);
        controllers_.push_back(name);
        options_.raft.voters.push_back(NodeId(i));
        raft_addresses_[NodeId(i)] = env::Address{name, kRaftPort};
        controller_addresses_[NodeId(i)] = env::Address{name, kControllerPort};
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(i), true});
    }
    for (int i = 1; i <= options_.brokers; i++) {
        std::string name = "b" + std::to_string(i);
        brokers_.push_back(name);
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(kBrokerIdBase + i), false});
    }
}

std::shared_ptr<ControllerCluster> ControllerCluster::create(sim::ScenarioContext& ctx,
                                                             ControllerClusterOptions options) {
    auto c = std::make_shared<ControllerCluster>(ctx, std::move(options));
    c->start();
    // `keel viz quorum` can draw the metadata quorum of any controller scenario.
    QuorumProbeSource src;
    std::weak_ptr<ControllerCluster> weak = c;
    src.alive = [weak] { return !weak.expired(); };
    src.nodes = c->nodes();
    src.voters = c->controllers();
    src.id_of = [weak](const std::string& n) { return weak.lock()->id_of(n); };
    src.status = [weak](const std::string& n) -> std::optional<raft::RaftStatus> {
        raft::RaftDriver* d = weak.lock()->driver(n);
        if (d == nullptr) return std::nullopt;
        return d->status();
    };
    src.committed_end = [weak] {
        auto cluster = weak.lock();
        int64_t hw = 0;
        for (const std::string& n : cluster->controllers()) {
            raft::RaftDriver* d = cluster->driver(n);
            if (d != nullptr && d->status().role == raft::Role::leader) hw = std::max(hw, d->status().high_watermark.value());
        }
        return hw;
    };
    src.violations = [weak] { return static_cast<uint64_t>(weak.lock()->checker().violations().size()); };
    install_quorum_probe(ctx, std::move(src));
    return c;
}

ControllerCluster::~ControllerCluster() = default;

void ControllerCluster::start() {
    std::shared_ptr<ControllerCluster> self = shared_from_this();
    for (const std::string& n : nodes()) {
        Slot* s = slots_.at(n).get();
        world_.add_node(
            n,
            [self, s](env::Env& env) {
                if (s->controller) {
                    self->controller_main(*s, env);
                } else {
                    self->broker_main(*s, env);
                }
            },
            false);
        world_.node(n).disk().faults().latency_min = std::chrono::microseconds(20);
        world_.node(n).disk().faults().latency_max = options_.disk_latency_max;
    }
    world_.add_node("admin", [self](env::Env& env) { self->admin_main(env); });
    checker_.set_disk_damage_probe([this](const std::string& node) {
        const sim::DiskCounters& c = world_.node(node).disk().counters();
        return c.wipes + c.corruptions_injected + c.bit_flips_on_read;
    });
    for (const std::string& n : nodes()) world_.start(n);
    world_.spawn("supervisor", [self] { self->restarter_.run_forever(self->nodes()); });
    world_.spawn("session-check", [self] { self->check_sessions_forever(); });
}

std::vector<std::string> ControllerCluster::nodes() const {
    std::vector<std::string> all = controllers_;
    all.insert(all.end(), brokers_.begin(), brokers_.end());
    return all;
}

NodeId ControllerCluster::id_of(const std::string& name) const { return slots_.at(name)->id; }

std::string ControllerCluster::name_of(NodeId id) const {
    for (const auto& [name, s] : slots_) {
        if (s->id == id) return name;
    }
    return "?";
}

// ------------------------------------------------------------------------ node mains

raft::RaftDriverOptions ControllerCluster::driver_options(Slot& s, MetadataImage& image) {
    raft::RaftDriverOptions o;
    o.id = s.id;
    o.config = options_.raft;
    o.voter_addresses = raft_addresses_;
    if (s.controller) o.listen = raft_addresses_.at(s.id);
    o.state_machine = &image;
    o.snapshot_interval_entries = options_.snapshot_interval_entries;
    o.segment_bytes = options_.segment_bytes;
    return o;
}

// Every image this node incarnation reaches goes to the checker.
void ControllerCluster::watch(Slot& s, MetadataImage& image, env::Env& env) {
    std::string who = s.name + "#" + std::to_string(world_.node(s.name).incarnations());
    image.plant_bug_skip_partition_epoch_bump(options_.bug_skip_partition_epoch_bump);
    image.set_trust_log(options_.config.bug_fence_leaves_isr);
    image.set_observer([this, who, &env](const MetadataImage& img, bool restored) {
        checker_.on_image(who, img, restored, env.now());
    });
}

void ControllerCluster::controller_main(Slot& s, env::Env& env) {
    if (!s.formatted) {
        s.formatted = raft::format_storage(env.disk(), "", raft::MetaProperties{s.id, kClusterId}).ok();
    }
    MetadataImage image;
    watch(s, image, env);
    raft::RaftDriver driver(env, driver_options(s, image));
    controller::ControllerServiceOptions so;
    so.config = options_.config;
    so.listen = controller_addresses_.at(s.id);
    so.noop_interval = options_.noop_interval;
    so.request_timeout = options_.request_timeout;
    controller::ControllerServiceHooks hooks;
    hooks.on_renounced = [this](QuorumEpoch, Instant) { renounces_++; };
    hooks.on_heartbeat = [this](NodeId b, Instant at) { checker_.on_heartbeat(b, at); };
    hooks.on_session_fence = [this](NodeId b, Instant last, Instant at) { checker_.on_session_fence(b, last, at); };
    hooks.on_activated = [this, name = s.name](QuorumEpoch epoch, Instant at) {
        activations_++;
        // A stale leader (paused or cut off through a newer election) may still activate in
        // its old epoch; it can decide nothing that commits. The active controller is the
        // one of the newest epoch.
        if (active_ && epoch <= active_->second) return;
        active_ = std::make_pair(name, epoch);
        checker_.on_activated(at);
    };
    controller::ControllerService service(env, driver, image, so, hooks);
    Slot::Published published(s, driver, image, &service, nullptr);
    env::Event service_done(env.executor());
    env::spawn_joinable(env.executor(), "controller-service", service_done, [&service] { (void)service.run(); });
    Status st = driver.run();
    service.stop();
    service_done.wait();
    if (!st.ok()) restarter_.exited(s.name);
}

void ControllerCluster::broker_main(Slot& s, env::Env& env) {
    if (!s.formatted) {
        s.formatted = raft::format_storage(env.disk(), "", raft::MetaProperties{s.id, kClusterId}).ok();
    }
    MetadataImage image;
    watch(s, image, env);
    raft::RaftDriver driver(env, driver_options(s, image));
    controller::BrokerLifecycleOptions lo;
    lo.broker_id = s.id;
    lo.cluster_id = kClusterId;
    lo.listeners = {controller::BrokerEndpoint{"PLAINTEXT", s.name, kBrokerPort, 0}};
    lo.controllers = controller_addresses_;
    lo.heartbeat_interval = options_.config.heartbeat_interval;
    controller::BrokerLifecycleHooks hooks;
    hooks.on_registered = [this](NodeId, BrokerEpoch, Instant) { registrations_++; };
    controller::BrokerLifecycle lifecycle(
        env, image, lo, [&driver]() { return driver.status().leader; }, hooks);
    Slot::Published published(s, driver, image, nullptr, &lifecycle);
    env::Event lifecycle_done(env.executor());
    env::Event shrinker_done(env.executor());
    bool stopping = false;
    env::spawn_joinable(env.executor(), "broker-lifecycle", lifecycle_done, [&lifecycle] { lifecycle.run(); });
    env::spawn_joinable(env.executor(), "isr-shrinker", shrinker_done, [&] {
        while (!stopping) isr_shrinker(s, lifecycle, image, env);
    });
    Status st = driver.run();
    stopping = true;
    lifecycle.stop();
    lifecycle_done.wait();
    shrinker_done.wait();
    if (!st.ok()) restarter_.exited(s.name);
}

// One pass: every partition of a shrink topic this broker leads with others in its ISR
// gets an AlterPartition that leaves only the leader (the followers "fell behind").
void ControllerCluster::isr_shrinker(Slot& s, controller::BrokerLifecycle& lifecycle, const MetadataImage& image,
                                     env::Env& env) {
    env.executor().sleep_for(ms(200));
    if (!lifecycle.epoch() || lifecycle.fenced()) return;
    for (const std::string& name : shrink_topics_) {
        const controller::TopicState* t = image.topic_by_name(name);
        if (t == nullptr) continue;
        for (const auto& [index, p] : t->partitions) {
            if (p.leader != s.id || p.isr.size() <= 1) continue;
            protocol::AlterPartitionRequest req;
            protocol::AlterPartitionRequest::PartitionData pd;
            pd.partition_index = index.value();
            pd.leader_epoch = p.leader_epoch.value();
            pd.new_isr_with_epochs.push_back({s.id, lifecycle.epoch()->value()});
            pd.leader_recovery_state = p.leader_recovery_state;
            pd.partition_epoch = p.partition_epoch.value();
            req.topics.push_back({"", t->id, {pd}});
            (void)lifecycle.alter_partition(req);
            return;  // the image changes; look again next pass
        }
    }
}

void ControllerCluster::admin_main(env::Env& env) {
    controller::RpcClient client(env, "admin");
    size_t next = 0;
    while (true) {
        if (admin_queue_.empty()) {
            env.executor().sleep_for(ms(50));
            continue;
        }
        const TopicSpec spec = admin_queue_.front();
        protocol::CreateTopicsRequest req;
        protocol::CreateTopicsRequest::Topic t;
        t.name = spec.name;
        t.num_partitions = spec.assignments.empty() ? spec.partitions : -1;
        t.replication_factor = spec.assignments.empty() ? spec.replication_factor : -1;
        for (const auto& [p, replicas] : spec.assignments) t.assignments.push_back({p, replicas});
        for (const auto& [k, v] : spec.configs) t.configs.push_back({k, v});
        req.topics.push_back(t);
        NodeId target = options_.raft.voters[next % options_.raft.voters.size()];
        auto r = client.call<protocol::CreateTopicsResponse>(controller_addresses_.at(target), req, 7,
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
            ctx_.violation("CreateTopics " + spec.name + " failed: " + protocol::error_code_name(code));
            admin_queue_.pop_front();
            continue;
        }
        next++;
        env.executor().sleep_for(ms(100));
    }
}

bool ControllerCluster::create_topics(const std::vector<TopicSpec>& topics, Duration limit) {
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

// ------------------------------------------------------------------ cluster queries

const MetadataImage* ControllerCluster::image(const std::string& name) {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.node(name).running()) return nullptr;
    return it->second->image;
}

raft::RaftDriver* ControllerCluster::driver(const std::string& name) {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.node(name).running()) return nullptr;
    return it->second->driver;
}

controller::ControllerService* ControllerCluster::service(const std::string& name) {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.node(name).running()) return nullptr;
    return it->second->service;
}

controller::BrokerLifecycle* ControllerCluster::lifecycle(const std::string& name) {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.node(name).running()) return nullptr;
    return it->second->lifecycle;
}

void ControllerCluster::begin_controlled_shutdown(const std::string& broker) {
    controller::BrokerLifecycle* l = lifecycle(broker);
    if (l != nullptr) l->begin_controlled_shutdown();  // a flag; no fiber needed
}

std::optional<std::string> ControllerCluster::quorum_leader() {
    std::optional<std::string> best;
    QuorumEpoch best_epoch{-1};
    for (const std::string& c : controllers_) {
        raft::RaftDriver* d = driver(c);
        if (d == nullptr || !d->running() || world_.node(c).paused()) continue;
        raft::RaftStatus s = d->status();
        if (s.role == raft::Role::leader && s.epoch > best_epoch) {
            best = c;
            best_epoch = s.epoch;
        }
    }
    return best;
}

std::optional<std::string> ControllerCluster::active_controller() {
    if (!active_) return std::nullopt;
    raft::RaftDriver* d = driver(active_->first);
    if (d == nullptr || !d->running() || world_.node(active_->first).paused()) return std::nullopt;
    raft::RaftStatus s = d->status();
    if (s.role != raft::Role::leader || s.epoch != active_->second) return std::nullopt;
    return active_->first;
}

sim::RoleResolver ControllerCluster::resolver() {
    return [this](std::string_view role) -> std::optional<std::string> {
        if (role == "@leader") {
            auto a = active_controller();
            return a ? a : quorum_leader();
        }
        const std::vector<std::string>* pool = role == "@controller" ? &controllers_
                                              : role == "@broker"    ? &brokers_
                                                                     : nullptr;
        if (pool == nullptr || pool->empty()) return std::nullopt;
        return (*pool)[world_.random().uniform(0, pool->size() - 1)];
    };
}

bool ControllerCluster::brokers_unfenced() {
    auto a = active_controller();
    const MetadataImage* img = a ? image(*a) : nullptr;
    if (img == nullptr) return false;
    for (const std::string& b : brokers_) {
        const controller::BrokerRegistration* r = img->broker(id_of(b));
        if (r == nullptr || !r->active()) return false;
    }
    return true;
}

// -------------------------------------------------------------------- background

void ControllerCluster::check_sessions_forever() {
    while (true) {
        world_.sleep(ms(500));
        auto a = active_controller();
        const MetadataImage* img = a ? image(*a) : nullptr;
        std::optional<sim::ImageView> view;
        if (img != nullptr) view = sim::view_of(*img);
        checker_.check_sessions(view, world_.now());
    }
}

// ---------------------------------------------------------------------- liveness

bool ControllerCluster::converged(std::string& why) {
    auto a = active_controller();
    if (!a) {
        why = "no active controller";
        return false;
    }
    if (!brokers_unfenced()) {
        why = "not every broker is registered and unfenced";
        return false;
    }
    const MetadataImage* ref = image(*a);
    for (const std::string& n : nodes()) {
        const MetadataImage* img = image(n);
        if (img == nullptr || world_.node(n).paused()) {
            why = n + " is not running";
            return false;
        }
        if (!(*img == *ref)) {
            why = n + " is at offset " + std::to_string(img->end_offset().value()) + ", the active controller at " +
                  std::to_string(ref->end_offset().value());
            return false;
        }
    }
    return true;
}

std::optional<Duration> ControllerCluster::await_converged(Duration limit) {
    struct Progress {
        bool done = false;
        std::string why = "not checked yet";
    };
    auto progress = std::make_shared<Progress>();
    std::shared_ptr<ControllerCluster> self = shared_from_this();
    Instant start = world_.now();
    world_.spawn("convergence", [self, progress] {
        while (!progress->done) {
            if (self->converged(progress->why)) {
                progress->done = true;
            } else {
                self->world_.sleep(ms(100));
            }
        }
    });
    bool ok = world_.run_until([&] { return progress->done; }, limit);
    progress->done = true;
    if (!ok) {
        ctx_.violation("not converged " + std::to_string(to_ms(limit)) + " ms after the faults stopped: " +
                       progress->why);
        auto a = active_controller();
        if (a && image(*a) != nullptr) {
            std::map<std::string, sim::ImageView> views;
            for (const std::string& n : nodes()) {
                if (image(n) != nullptr && n != *a) views[n] = sim::view_of(*image(n));
            }
            checker_.check_converged(*a, sim::view_of(*image(*a)), views);
        }
        return std::nullopt;
    }
    return world_.now() - start;
}

void ControllerCluster::report() {
    for (const auto& v : checker_.violations()) ctx_.violation(v);
    if (checker_.violation_count() > checker_.violations().size()) {
        ctx_.note(std::to_string(checker_.violation_count()) + " checker violations in all");
    }
    std::vector<Duration> lat = checker_.fence_latencies();
    std::sort(lat.begin(), lat.end());
    ctx_.metric("session_fences", static_cast<double>(lat.size()));
    if (!lat.empty()) {
        ctx_.metric("fence_latency_ms_p50", static_cast<double>(to_ms(lat[lat.size() / 2])));
        ctx_.metric("fence_latency_ms_max", static_cast<double>(to_ms(lat.back())));
    }
    ctx_.metric("partition_elections", static_cast<double>(checker_.elections()));
    ctx_.metric("unclean_elections", static_cast<double>(checker_.unclean_elections()));
    ctx_.metric("images_checked", static_cast<double>(checker_.images_checked()));
    ctx_.metric("images_restored_from_snapshots", static_cast<double>(checker_.images_restored()));
    ctx_.metric("controller_activations", static_cast<double>(activations_));
    ctx_.metric("controller_renounces", static_cast<double>(renounces_));
    ctx_.metric("broker_registrations", static_cast<double>(registrations_));
    auto a = active_controller();
    if (a && image(*a) != nullptr) {
        ctx_.metric("metadata_end_offset", static_cast<double>(image(*a)->end_offset().value()));
        ctx_.metric("partitions", static_cast<double>(image(*a)->partition_count()));
    }
}

}  // namespace keel::scenarios
