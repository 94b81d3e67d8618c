#include "sim/world.h"

#include "core/base/assert.h"
#include "core/env/sync.h"

namespace keel::sim {

namespace {
uint64_t name_hash(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}
std::string quoted(std::string_view key, std::string_view value) {
    return "\"" + std::string(key) + "\":\"" + json_escape(value) + "\"";
}
}  // namespace

// One life of a node: its fiber group and the Env its code sees.
class SimNode::Incarnation final : public env::Env, public env::Clock, public env::Tracer {
public:
    Incarnation(World& w, SimNode& n, fiber::GroupId g, uint64_t seed)
        : world_(w),
          node_(n),
          executor_(w.scheduler(), g),
          random_(seed, &w.scheduler()) {
        network_ = w.network().attach(n.name(), executor_);
        disk_ = n.disk().mount(executor_, random_);
    }

    env::Clock& clock() override { return *this; }
    env::Executor& executor() override { return executor_; }
    env::Network& network() override { return *network_; }
    env::Disk& disk() override { return *disk_; }
    env::Random& random() override { return random_; }
    env::Buggify& buggify() override { return world_.buggify(); }
    env::Tracer& tracer() override { return *this; }
    const std::string& node_name() const override { return node_.name(); }

    // Clock: monotonic is the shared virtual time; wall adds the node's offset.
    Instant monotonic_now() const override { return world_.now(); }
    WallTime wall_now() const override {
        if (node_.jumps_unobserved_ > 0) {
            node_.jumps_observed_ += node_.jumps_unobserved_;
            world_.faults().clock_jumps_observed += node_.jumps_unobserved_;
            node_.jumps_unobserved_ = 0;
        }
        return world_.options().wall_origin + Duration(world_.now().ns) + node_.clock_offset();
    }

    // Tracer.
    bool enabled() const override { return world_.trace().enabled(); }
    void event(std::string_view kind, std::string_view detail_json) override {
        std::string fields = "\"detail\":";
        fields += detail_json.empty() ? std::string_view("{}") : detail_json;
        world_.trace().event(node_.name(), kind, fields);
    }
    void log(env::Level level, std::string_view message) override {
        static constexpr const char* kLevels[] = {"debug", "info", "warn", "error"};
        world_.trace().event(node_.name(), "log",
                             quoted("level", kLevels[static_cast<int>(level)]) + "," +
                                 quoted("msg", message));
    }

    fiber::GroupId group() const { return executor_.group(); }

private:
    World& world_;
    SimNode& node_;
    fiber::GroupExecutor executor_;
    SimRandom random_;
    std::unique_ptr<env::Network> network_;
    std::unique_ptr<env::Disk> disk_;
};

env::Env& SimNode::env() {
    KEEL_ASSERT_MSG(incarnation_ != nullptr, "node is not running");
    return *incarnation_;
}

fiber::GroupId SimNode::group() const { return incarnation_ ? incarnation_->group() : 0; }

World::World(WorldOptions options)
    : options_(options),
      scheduler_(fiber::SchedulerOptions{.virtual_time = true,
                                         .seed = env::SeededRandom::derive_seed(options.seed, 1),
                                         .stack_bytes = options.fiber_stack_bytes,
                                         .poller = nullptr}),
      control_(scheduler_, 0),
      random_(env::SeededRandom::derive_seed(options.seed, 2), &scheduler_),
      trace_(scheduler_),
      buggify_(options.seed, random_, options.buggify) {
    scheduler_.set_observer(&trace_);
    scheduler_.mix(options.seed);
    network_ = std::make_unique<SimNetwork>(scheduler_, random_, options_.network);
    network_->set_observer([this](std::string_view kind, const std::string& from, const std::string& to,
                                  uint64_t msg, size_t bytes) {
        if (!trace_.enabled()) return;
        bool send = kind == "net.send";
        trace_.event(send ? from : to, kind,
                     "\"msg\":" + std::to_string(msg) + ",\"" + (send ? "to" : "from") + "\":\"" +
                         json_escape(send ? to : from) + "\",\"bytes\":" + std::to_string(bytes));
    });
}

World::~World() {
    // Unwind node fibers while their Envs still exist, newest node first; then the
    // control fibers (scenario scripts), while everything they use is still alive.
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
        SimNode& n = **it;
        if (n.incarnation_) {
            scheduler_.kill_group(n.incarnation_->group());
            n.incarnation_.reset();
        }
    }
    scheduler_.kill_all();
    scheduler_.set_observer(nullptr);
}

SimNode& World::add_node(const std::string& name, NodeMain main, bool start_now) {
    KEEL_ASSERT_MSG(!has_node(name), "duplicate node name");
    auto n = std::make_unique<SimNode>();
    n->name_ = name;
    n->index_ = static_cast<uint32_t>(nodes_.size());
    n->main_ = std::move(main);
    n->disk_ = std::make_unique<SimDisk>(name);
    n->disk_->set_content_hash_sink([this](uint64_t h) { scheduler_.mix(h); });
    int64_t skew = options_.clock_skew_max.count();
    if (skew > 0) {
        n->clock_offset_ = Duration(static_cast<int64_t>(random_.uniform(0, static_cast<uint64_t>(2 * skew))) - skew);
    }
    SimNode& ref = *n;
    nodes_.push_back(std::move(n));
    if (start_now) start(name);
    return ref;
}

SimNode& World::node(std::string_view name) {
    for (auto& n : nodes_) {
        if (n->name_ == name) return *n;
    }
    KEEL_ASSERT_MSG(false, "unknown node name");
    KEEL_UNREACHABLE();
}

bool World::has_node(std::string_view name) const {
    for (const auto& n : nodes_) {
        if (n->name_ == name) return true;
    }
    return false;
}

std::vector<std::string> World::node_names() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n->name_);
    return out;
}

void World::fault_event(std::string_view node, std::string_view kind, std::string_view fields) {
    scheduler_.mix(name_hash(kind) ^ name_hash(node));
    trace_.event(node, kind, fields);
}

void World::outside_fibers(std::function<void()> fn) {
    if (scheduler_.current() == 0) {
        fn();
        return;
    }
    // Unwinding stacks must happen between events: run fn as a timer and wait for it.
    auto done = std::make_shared<env::Event>(control_);
    scheduler_.call_at(0, now(), [fn = std::move(fn), done] {
        fn();
        done->set();
    });
    done->wait();
}

void World::do_start(SimNode& n) {
    KEEL_ASSERT(n.incarnation_ == nullptr);
    n.incarnations_++;
    fiber::GroupId g = scheduler_.create_group(n.name_ + "#" + std::to_string(n.incarnations_));
    trace_.name_group(g, n.name_);
    uint64_t seed = env::SeededRandom::derive_seed(
        options_.seed, name_hash(n.name_) ^ (static_cast<uint64_t>(n.incarnations_) << 48));
    n.incarnation_ = std::make_unique<SimNode::Incarnation>(*this, n, g, seed);
    n.paused_ = false;
    SimNode* np = &n;
    SimNode::Incarnation* inc = n.incarnation_.get();
    scheduler_.spawn(g, "main", [np, inc] { np->main_(*inc); });
    fault_event(n.name_, n.incarnations_ == 1 ? "node.start" : "node.restart",
                "\"incarnation\":" + std::to_string(n.incarnations_));
}

void World::do_crash(SimNode& n) {
    KEEL_ASSERT(n.incarnation_ != nullptr);
    fault_event(n.name_, "node.crash", "\"incarnation\":" + std::to_string(n.incarnations_));
    // Connections reset first (kill -9 sends RSTs), then the fibers unwind, then the Env
    // they referenced goes, then the disk loses what was not synced.
    network_->node_crashed(n.name_);
    scheduler_.kill_group(n.incarnation_->group());
    n.incarnation_.reset();
    if (n.paused_) {
        faults_.pause_ns_served += static_cast<uint64_t>((now() - n.paused_at_).count());
        n.paused_ = false;
    }
    n.disk_->crash(random_);
}

bool World::start(std::string_view name) {
    SimNode& n = node(name);
    bool effect = false;
    outside_fibers([this, &n, &effect] {
        if (n.incarnation_) {
            faults_.skipped++;
            return;
        }
        if (n.incarnations_ > 0) faults_.restarts++;
        do_start(n);
        effect = true;
    });
    return effect;
}

bool World::crash(std::string_view name) {
    SimNode& n = node(name);
    bool effect = false;
    outside_fibers([this, &n, &effect] {
        if (!n.incarnation_) {
            faults_.skipped++;
            return;
        }
        do_crash(n);
        faults_.crashes++;
        effect = true;
    });
    return effect;
}

bool World::restart(std::string_view name) {
    SimNode& n = node(name);
    bool effect = false;
    outside_fibers([this, &n, &effect] {
        if (n.incarnation_) {
            do_crash(n);
            faults_.crashes++;
            effect = true;
        }
        faults_.restarts++;
        do_start(n);
    });
    return effect;
}

void World::supervisor_restart(std::string_view name) {
    SimNode& n = node(name);
    outside_fibers([this, &n] {
        if (n.incarnation_) do_crash(n);
        faults_.supervisor_restarts++;
        do_start(n);
    });
}

void World::power_loss_at_next_sync(std::string_view name, Duration down, std::shared_ptr<bool> fired) {
    SimNode& n = node(name);
    n.disk_->arm_power_loss([this, &n, down, fired] {
        scheduler_.call_at(0, now(), [this, &n, down, fired] {
            if (!n.incarnation_) return;
            fault_event(n.name_, "disk.power_loss");
            do_crash(n);
            faults_.crashes++;
            if (fired) *fired = true;
            scheduler_.call_at(0, now() + down, [this, &n] {
                if (n.incarnation_) return;
                faults_.restarts++;
                do_start(n);
            });
        });
    });
}

void World::disarm_power_loss(std::string_view name) { node(name).disk_->arm_power_loss(nullptr); }

bool World::pause(std::string_view name) {
    SimNode& n = node(name);
    bool effect = false;
    outside_fibers([this, &n, &effect] {
        if (!n.incarnation_ || n.paused_) {
            faults_.skipped++;
            return;
        }
        effect = true;
        scheduler_.pause_group(n.incarnation_->group());
        n.paused_ = true;
        n.paused_at_ = now();
        faults_.pauses++;
        fault_event(n.name_, "node.pause");
    });
    return effect;
}

void World::resume(std::string_view name) {
    SimNode& n = node(name);
    outside_fibers([this, &n] {
        if (!n.incarnation_ || !n.paused_) {
            faults_.skipped++;
            return;
        }
        scheduler_.resume_group(n.incarnation_->group());
        n.paused_ = false;
        uint64_t served = static_cast<uint64_t>((now() - n.paused_at_).count());
        faults_.pause_ns_served += served;
        fault_event(n.name_, "node.resume", "\"paused_ns\":" + std::to_string(served));
    });
}

void World::wipe_disk(std::string_view name) {
    SimNode& n = node(name);
    outside_fibers([this, &n] {
        bool was_running = n.incarnation_ != nullptr;
        if (was_running) {
            do_crash(n);
            faults_.crashes++;
        }
        n.disk_->wipe();
        faults_.disk_wipes++;
        fault_event(n.name_, "disk.wipe");
        if (was_running) {
            faults_.restarts++;
            do_start(n);
        }
    });
}

void World::clock_jump(std::string_view name, Duration delta) {
    SimNode& n = node(name);
    n.clock_offset_ += delta;
    n.jumps_unobserved_++;
    faults_.clock_jumps++;
    faults_.clock_jump_ns_abs += static_cast<uint64_t>(delta.count() < 0 ? -delta.count() : delta.count());
    fault_event(n.name_, "clock.jump", "\"delta_ns\":" + std::to_string(delta.count()));
}

void World::partition(std::string_view a, std::string_view b, bool both_ways, uint64_t cause) {
    network_->partition(std::string(a), std::string(b), both_ways, cause);
    faults_.partitions++;
    fault_event(a, "net.partition",
                quoted("peer", b) + ",\"both_ways\":" + (both_ways ? "true" : "false"));
}

void World::isolate(std::string_view name, uint64_t cause) {
    network_->isolate(std::string(name), cause);
    faults_.partitions++;
    fault_event(name, "net.isolate");
}

void World::heal(std::string_view a, std::string_view b) {
    network_->heal(std::string(a), std::string(b));
    faults_.heals++;
    fault_event(a, "net.heal", quoted("peer", b));
}

size_t World::heal_cause(uint64_t cause) {
    size_t n = network_->heal_cause(cause);
    faults_.heals++;
    fault_event("sim", "net.heal_cause", "\"cause\":" + std::to_string(cause) + ",\"links\":" + std::to_string(n));
    return n;
}

void World::heal_all() {
    network_->heal_all();
    faults_.heals++;
    fault_event("sim", "net.heal_all");
}

void World::clog(std::string_view a, std::string_view b, Duration extra, Duration duration, uint64_t cause) {
    network_->clog(std::string(a), std::string(b), extra, duration, cause);
    faults_.clogs++;
    fault_event(a, "net.clog",
                quoted("peer", b) + ",\"extra_ns\":" + std::to_string(extra.count()) +
                    ",\"for_ns\":" + std::to_string(duration.count()));
}

void World::reset_connections(std::string_view a, std::string_view b) {
    size_t n = network_->reset_connections(std::string(a), std::string(b));
    faults_.connection_resets += n;
    fault_event(a, "net.reset", quoted("peer", b) + ",\"connections\":" + std::to_string(n));
}

void World::run_for(Duration d) { scheduler_.run_until(now() + d); }

bool World::run_until(const std::function<bool()>& done, Duration limit) {
    Instant end = now() + limit;
    while (!done()) {
        if (now() > end) return false;
        // Step one event, but never past the limit.
        std::optional<Instant> next = scheduler_.next_event_time();
        if (!next || *next > end) {
            scheduler_.run_until(end);
            return done();
        }
        scheduler_.run_one();
    }
    return true;
}

void World::spawn(std::string name, std::function<void()> fn) {
    scheduler_.spawn(0, std::move(name), std::move(fn));
}

}  // namespace keel::sim
