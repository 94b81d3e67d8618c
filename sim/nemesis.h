// Nemesis: a fault schedule as data — timed fault operations, written by hand, parsed
// from a spec string, or generated from the seed — printable (to_string round-trips
// through parse) and replayable. A target is a node name or a role ("@leader",
// "@random") resolved only when the fault fires, so a fault can chase leadership.
//
// Spec grammar: operations separated by ';', each `<at> <kind> <args> [for <duration>]`.
//   2s crash n1 for 3s            crash n1 at 2s, restart it at 5s
//   1s restart @leader            crash+restart the node the scenario calls "leader"
//   4s pause b2 for 1500ms        GC-like stall
//   3s partition c1,c2|c3 for 4s  cut both ways between the two sides; heal after 4s
//   3s oneway c1>c2 for 4s        c1 → c2 blocked, c2 → c1 fine
//   3s isolate @leader for 4s     every link of the node
//   9s heal                       heal every network fault
//   5s clog c1>c2 200ms for 3s    c1 → c2 slowed by 200 ms for 3 s
//   5s reset c1-c2                TCP reset of every connection between them
//   6s clockjump b1 -30s          wall clock only
//   7s wipe c3                    whole-disk loss (crash, empty disk, restart)
//   2s disk-torn b1 0.9 for 10s   torn-write probability on crash
//   2s disk-bitflip b1 0.01 for 5s  bit flips on read
//   2s disk-full b1 for 5s        ENOSPC
//   2s disk-slow b1 20ms for 5s   per-operation latency
//   2s disk-eio b1 0.05 for 5s    each disk op fails with EIO (a failed fsync: fsyncgate)
//   2s disk-fsync-fail b1 0.5 for 5s  each fsync fails (fsyncgate: the unsynced data is lost)
//   2s disk-corrupt b1            persistent damage: one bit of one synced byte
//   2s powerloss b1 1s for 3s     armed for 3 s: b1 loses power at its next fsync with
//                                 writes in flight, and is down 1 s
// Durations: 100us, 5ms, 2s, 1m (and combinations like 1500ms).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/random.h"
#include "sim/sim_disk.h"

namespace keel::sim {

class World;

enum class FaultKind : uint8_t {
    crash, restart, pause, partition, oneway, isolate, heal, clog, reset, clockjump, wipe,
    disk_torn, disk_bitflip, disk_full, disk_slow, disk_eio, disk_fsyncfail, disk_corrupt,
    powerloss,
};

struct FaultOp {
    Duration at{0};
    FaultKind kind = FaultKind::crash;
    std::vector<std::string> a;  // target(s); roles start with '@'
    std::vector<std::string> b;  // the other side, for link faults
    Duration duration{0};        // "for": undone after this long (0 = never)
    Duration amount{0};          // clog extra latency, clock jump delta, disk latency
    double probability = 0.0;    // disk-torn, disk-bitflip
};

struct FaultSchedule {
    std::vector<FaultOp> ops;  // sorted by `at` once parsed or generated
    std::string to_string() const;
    static Result<FaultSchedule> parse(std::string_view spec);
    // When the last fault (including its "for") ends.
    Duration end() const;
};

std::string_view fault_kind_name(FaultKind k);
Result<Duration> parse_duration(std::string_view s);
std::string format_duration(Duration d);

struct RandomScheduleOptions {
    Duration start = 1s;          // first fault no earlier than this
    Duration end = 30s;           // every fault has ended by this time (then a quiet phase)
    Duration mean_gap = 2s;       // mean time between fault starts
    Duration fault_duration_max = 6s;
    std::vector<FaultKind> kinds;  // allowed; empty = every kind
    std::vector<FaultKind> exclude;  // never generated (e.g. a kind a finding documents)
    size_t wipes_max = 1;          // whole-disk losses in one schedule
    std::vector<std::string> roles;  // extra targets besides node names, e.g. "@leader"
};

// A schedule drawn from rng over the given nodes (sim/fault_generator.cc). Process and
// network faults: at most one in force at a time per node, so the fault budget stays
// interpretable (a scenario wants "≤ f failures"). Disk-fault windows overlap them on
// purpose: most get a crash of the same node inside them (a corruption: a restart after
// it), so torn writes, fsync failures and bit flips meet a crash or a recovery. A clog is
// sometimes a swizzle (FoundationDB): a subset of nodes clogged one by one, unclogged in
// another order. Every fault has ended by options.end.
FaultSchedule random_schedule(env::Random& rng, const std::vector<std::string>& nodes,
                              const RandomScheduleOptions& options);

// Resolves a role ("@leader") to a node name at the moment a fault fires; nullopt if no
// node holds the role then (the fault is then skipped and counted as skipped).
using RoleResolver = std::function<std::optional<std::string>(std::string_view role)>;

// Installs a schedule on a world: ops at the same instant fire in spec order, from one
// timer. Every op is counted in world.efficacy() under its kind: requested at install,
// fired unless skipped, and its effect (docs/simulator.md, "Fault efficacy") — measured
// when its window ends, or at finish() for what is still in force then.
class Nemesis {
public:
    Nemesis(World& world, RoleResolver resolver = {});
    ~Nemesis();
    Nemesis(const Nemesis&) = delete;
    Nemesis& operator=(const Nemesis&) = delete;
    // A target that is neither a role nor a node of the world is an argument error
    // (recorded in world.argument_errors(); the op is then skipped).
    void install(const FaultSchedule& schedule);
    // Adds every fired op's effect to world.efficacy(); idempotent, the destructor calls it.
    void finish();
    size_t fired() const { return fired_; }
    size_t skipped() const { return skipped_; }

private:
    // Measures one fired op's effect, in its kind's unit, when called.
    using Probe = std::function<uint64_t()>;
    void apply(const FaultOp& op);
    bool resolve_targets(const FaultOp& op, std::vector<std::string>& a, std::vector<std::string>& b);
    Probe apply_process(const FaultOp& op, const std::vector<std::string>& a);
    Probe apply_network(const FaultOp& op, const std::vector<std::string>& a, const std::vector<std::string>& b);
    Probe apply_disk(const FaultOp& op, const std::vector<std::string>& a);
    Probe apply_corrupt(const std::vector<std::string>& a);
    Probe apply_powerloss(const FaultOp& op, const std::vector<std::string>& a);
    Probe disk_window(const FaultOp& op, const std::string& n);
    void later(const FaultOp& op, std::function<void()> undo);
    std::optional<std::string> resolve(const std::string& target);
    std::vector<std::string> resolve_all(const std::vector<std::string>& targets);

    World& world_;
    RoleResolver resolver_;
    std::map<std::string, DiskFaultOptions> disk_baseline_;  // per node, before any disk fault
    std::vector<std::pair<FaultKind, Probe>> probes_;        // one per fired op
    uint64_t next_cause_ = 1;
    size_t fired_ = 0;
    size_t skipped_ = 0;
    bool finished_ = false;
};

// What one unit of effect means for a kind (the efficacy table's "effect" column).
std::string_view fault_effect_unit(FaultKind k);
// Every kind, in declaration order.
const std::vector<FaultKind>& all_fault_kinds();

}  // namespace keel::sim
