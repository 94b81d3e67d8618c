// World: a whole simulated cluster in one thread. Nodes are processes: each incarnation
// gets a fresh fiber group, Env, network attachment and disk mount; the disk outlives
// crashes. Everything is driven by one fiber::Scheduler in virtual time and one seed.
//
//   sim::World w({.seed = 42});
//   w.add_node("n1", [](env::Env& env) { ... node main ... });
//   w.spawn("script", [&] { w.sleep(5s); w.crash("n1"); w.sleep(1s); w.restart("n1"); });
//   w.run_for(60s);
//
// Faults (crash, restart, pause, resume, disk wipe, clock jump, and the network's and
// disks' own) all go through World or its parts and are counted in faults(): a fault
// that silently did nothing is visible as a zero.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/env.h"
#include "sim/buggify.h"
#include "runtime/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/sim_random.h"
#include "sim/trace.h"

namespace keel::sim {

using NodeMain = std::function<void(env::Env&)>;

struct WorldOptions {
    uint64_t seed = 1;
    NetworkOptions network{};
    BuggifyOptions buggify{};
    // Wall clock at virtual time zero (2026-01-01T00:00:00Z); each node gets a skew drawn
    // from [-clock_skew_max, +clock_skew_max] at creation.
    WallTime wall_origin{1'767'225'600'000'000'000};
    Duration clock_skew_max = 50ms;
    size_t fiber_stack_bytes = 256 * 1024;
};

// Process- and clock-level faults that took effect (network and disk count their own).
struct FaultCounters {
    uint64_t crashes = 0;              // scheduled kills of a running node (not supervisor restarts)
    uint64_t restarts = 0;
    uint64_t supervisor_restarts = 0;  // a node whose process exited (e.g. on a disk error) restarted
    uint64_t pauses = 0;
    uint64_t pause_ns_served = 0;
    uint64_t clock_jumps = 0;
    uint64_t clock_jump_ns_abs = 0;
    uint64_t clock_jumps_observed = 0;  // jumps a node's code saw by reading its wall clock
    uint64_t disk_wipes = 0;
    uint64_t partitions = 0;
    uint64_t heals = 0;
    uint64_t clogs = 0;
    uint64_t connection_resets = 0;
    uint64_t disk_faults_set = 0;
    uint64_t skipped = 0;  // faults requested on a node in the wrong state (counted, not silent)
};

// One fault kind's efficacy in a run: operations requested (in the schedule), fired (not
// skipped) and the effect they had, in the kind's own unit (see docs/simulator.md).
struct KindEfficacy {
    uint64_t requested = 0;
    uint64_t fired = 0;
    uint64_t effect = 0;
};

class World;

class SimNode {
public:
    const std::string& name() const { return name_; }
    bool running() const { return incarnation_ != nullptr; }
    bool paused() const { return paused_; }
    uint32_t incarnations() const { return incarnations_; }
    SimDisk& disk() { return *disk_; }
    Duration clock_offset() const { return clock_offset_; }
    // Clock jumps this node's code has seen (read wall time after them).
    uint64_t clock_jumps_observed() const { return jumps_observed_; }
    // The running incarnation's Env (asserts the node is running).
    env::Env& env();
    fiber::GroupId group() const;

private:
    friend class World;
    class Incarnation;
    std::string name_;
    uint32_t index_ = 0;
    NodeMain main_;
    std::unique_ptr<SimDisk> disk_;
    std::unique_ptr<Incarnation> incarnation_;
    uint32_t incarnations_ = 0;
    Duration clock_offset_{0};
    uint64_t jumps_unobserved_ = 0;
    uint64_t jumps_observed_ = 0;
    bool paused_ = false;
    Instant paused_at_{};
};

class World {
public:
    explicit World(WorldOptions options);
    ~World();
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    // Nodes.
    SimNode& add_node(const std::string& name, NodeMain main, bool start = true);
    SimNode& node(std::string_view name);
    bool has_node(std::string_view name) const;
    std::vector<std::string> node_names() const;  // in creation order

    // Process faults. Callable from control fibers and timers; from a fiber the call
    // returns after the fault has taken effect.
    // Each returns whether it took effect (false: the node was in the wrong state, counted
    // as skipped).
    bool start(std::string_view name);
    bool crash(std::string_view name);    // kill -9: fibers unwound, unsynced disk state lost
    bool restart(std::string_view name);  // crash if running, then start on the surviving disk
    // What a supervisor (systemd) does for a process that exited: the same as restart,
    // counted as supervisor_restarts rather than as a scheduled crash and restart.
    void supervisor_restart(std::string_view name);
    bool pause(std::string_view name);    // GC-like stall: nothing of the node runs
    // Arms a power loss at the node's next fsync with writes in flight (SimDisk::
    // arm_power_loss): the node crashes there and starts again after `down`. `fired` (if
    // given) is set when it happens.
    void power_loss_at_next_sync(std::string_view name, Duration down, std::shared_ptr<bool> fired = {});
    void disarm_power_loss(std::string_view name);
    void resume(std::string_view name);
    void wipe_disk(std::string_view name);  // whole-disk loss; the node returns empty, same id
    void clock_jump(std::string_view name, Duration delta);  // wall clock only

    // Network faults, counted here as well as in the network's own counters.
    // `cause` tags a block or clog (SimNetwork::effect_of); heal_cause lifts one cause's
    // blocks only and returns how many directed links it had blocked.
    void partition(std::string_view a, std::string_view b, bool both_ways = true, uint64_t cause = 0);
    void isolate(std::string_view name, uint64_t cause = 0);
    void heal(std::string_view a, std::string_view b);
    size_t heal_cause(uint64_t cause);
    void heal_all();
    void clog(std::string_view a, std::string_view b, Duration extra, Duration duration, uint64_t cause = 0);
    void reset_connections(std::string_view a, std::string_view b);

    // Running.
    Instant now() const { return scheduler_.now(); }
    void run_for(Duration d);
    // Runs until done() (checked between events) or the limit; true if done.
    bool run_until(const std::function<bool()>& done, Duration limit);
    // A control fiber (scenario scripts, clients outside any node, the nemesis).
    void spawn(std::string name, std::function<void()> fn);
    // Blocks the calling control fiber.
    void sleep(Duration d) { control_.sleep_for(d); }
    env::Executor& control() { return control_; }

    // Parts.
    fiber::Scheduler& scheduler() { return scheduler_; }
    SimNetwork& network() { return *network_; }
    Trace& trace() { return trace_; }
    env::Random& random() { return random_; }
    SimBuggify& buggify() { return buggify_; }
    FaultCounters& faults() { return faults_; }
    // Per fault kind (its spec name), what was requested and what took effect; filled by
    // the Nemesis.
    std::map<std::string, KindEfficacy>& efficacy() { return efficacy_; }
    // Errors in what the run was asked to do (e.g. a --faults target that names no node):
    // the CLI reports them as argument errors.
    std::vector<std::string>& argument_errors() { return argument_errors_; }
    const WorldOptions& options() const { return options_; }
    uint64_t seed() const { return options_.seed; }

    // A fault event: traced (always hashed) with its kind and fields.
    void fault_event(std::string_view node, std::string_view kind, std::string_view fields = {});

private:
    void do_start(SimNode& n);
    void do_crash(SimNode& n);
    // Runs fn now if outside a fiber; else as a timer, and waits for it.
    void outside_fibers(std::function<void()> fn);

    WorldOptions options_;
    fiber::Scheduler scheduler_;
    fiber::GroupExecutor control_;
    SimRandom random_;
    Trace trace_;
    SimBuggify buggify_;
    std::unique_ptr<SimNetwork> network_;
    std::vector<std::unique_ptr<SimNode>> nodes_;  // creation order
    FaultCounters faults_;
    std::map<std::string, KindEfficacy> efficacy_;
    std::vector<std::string> argument_errors_;
};

}  // namespace keel::sim
