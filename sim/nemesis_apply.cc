// Nemesis: installs a FaultSchedule on a World, applies each op when it comes due, undoes
// timed ones, and measures what each op did (its effect, per kind) for the efficacy report.
#include <algorithm>
#include <map>
#include <memory>

#include "sim/nemesis.h"
#include "sim/world.h"

namespace keel::sim {

namespace {

bool needs_other_side(FaultKind k) {
    return k == FaultKind::partition || k == FaultKind::oneway || k == FaultKind::clog ||
           k == FaultKind::reset;
}

std::string op_json(const FaultOp& op) {
    return "\"op\":\"" + json_escape(FaultSchedule{{op}}.to_string()) + "\"";
}

// The disk counter that measures a disk-fault kind's effect.
uint64_t disk_effect_counter(FaultKind k, const DiskCounters& c) {
    switch (k) {
        case FaultKind::disk_torn: return c.torn_writes + c.unsynced_writes_kept;
        case FaultKind::disk_bitflip: return c.bit_flips_on_read;
        case FaultKind::disk_full: return c.enospc_errors;
        case FaultKind::disk_slow: return c.ops_slowed;
        case FaultKind::disk_eio: return c.io_errors;
        case FaultKind::disk_fsyncfail: return c.sync_failures;
        case FaultKind::disk_corrupt: return c.corrupt_bytes_read;
        default: return 0;
    }
}

// Sets (or, with `base`, restores) the fields a disk-fault kind controls.
void set_disk_fields(FaultKind k, DiskFaultOptions& f, const FaultOp& op, uint64_t used_bytes) {
    switch (k) {
        case FaultKind::disk_torn:
            f.torn_write_probability = op.probability;
            f.crash_keeps_unsynced_probability = std::max(f.crash_keeps_unsynced_probability, 0.5);
            break;
        case FaultKind::disk_bitflip: f.bit_flip_on_read_probability = op.probability; break;
        case FaultKind::disk_full: f.capacity_bytes = used_bytes; break;
        case FaultKind::disk_eio: f.io_error_probability = op.probability; break;
        case FaultKind::disk_fsyncfail: f.sync_error_probability = op.probability; break;
        default:
            f.slow_min = op.amount / 2;
            f.slow_max = op.amount;
            break;
    }
}

void restore_disk_fields(FaultKind k, DiskFaultOptions& g, const DiskFaultOptions& base) {
    switch (k) {
        case FaultKind::disk_torn:
            g.torn_write_probability = base.torn_write_probability;
            g.crash_keeps_unsynced_probability = base.crash_keeps_unsynced_probability;
            break;
        case FaultKind::disk_bitflip: g.bit_flip_on_read_probability = base.bit_flip_on_read_probability; break;
        case FaultKind::disk_full: g.capacity_bytes = base.capacity_bytes; break;
        case FaultKind::disk_eio: g.io_error_probability = base.io_error_probability; break;
        case FaultKind::disk_fsyncfail: g.sync_error_probability = base.sync_error_probability; break;
        default:
            g.slow_min = base.slow_min;
            g.slow_max = base.slow_max;
            break;
    }
}

}  // namespace

const std::vector<FaultKind>& all_fault_kinds() {
    static const std::vector<FaultKind> kinds = {
        FaultKind::crash,     FaultKind::restart,      FaultKind::pause,     FaultKind::partition,
        FaultKind::oneway,    FaultKind::isolate,      FaultKind::heal,      FaultKind::clog,
        FaultKind::reset,     FaultKind::clockjump,    FaultKind::wipe,      FaultKind::disk_torn,
        FaultKind::disk_bitflip, FaultKind::disk_full, FaultKind::disk_slow, FaultKind::disk_eio,
        FaultKind::disk_fsyncfail, FaultKind::disk_corrupt, FaultKind::powerloss,
    };
    return kinds;
}

std::string_view fault_effect_unit(FaultKind k) {
    switch (k) {
        case FaultKind::crash: return "running nodes killed (then started again)";
        case FaultKind::restart: return "running nodes killed and restarted";
        case FaultKind::pause: return "running nodes paused";
        case FaultKind::partition:
        case FaultKind::oneway:
        case FaultKind::isolate: return "frames held and connects stalled by this fault's links";
        case FaultKind::heal: return "blocked links unblocked";
        case FaultKind::clog: return "frames delayed by this clog";
        case FaultKind::reset: return "connections reset";
        case FaultKind::clockjump: return "jumps seen by the node reading its wall clock";
        case FaultKind::wipe: return "disks wiped that held data";
        case FaultKind::disk_torn: return "torn writes + unsynced writes kept, in crashes during the window";
        case FaultKind::disk_bitflip: return "reads that returned a flipped bit";
        case FaultKind::disk_full: return "ENOSPC errors returned";
        case FaultKind::disk_slow: return "disk ops slowed";
        case FaultKind::disk_eio: return "EIO errors returned";
        case FaultKind::disk_fsyncfail: return "fsync failures returned";
        case FaultKind::disk_corrupt: return "damaged bytes read back";
        case FaultKind::powerloss: return "power losses at an fsync with writes in flight";
    }
    return "";
}

Nemesis::Nemesis(World& world, RoleResolver resolver)
    : world_(world), resolver_(std::move(resolver)) {}

Nemesis::~Nemesis() { finish(); }

void Nemesis::install(const FaultSchedule& schedule) {
    Instant base = world_.now();
    // One timer per instant, applying its ops in spec order (timers of one instant would
    // otherwise fire in a seeded order, not the order the spec lists them).
    std::map<Duration, std::vector<FaultOp>> by_time;
    for (const auto& op : schedule.ops) {
        world_.efficacy()[std::string(fault_kind_name(op.kind))].requested++;
        for (const auto& t : op.a) {
            if (t[0] != '@' && !world_.has_node(t)) world_.argument_errors().push_back("fault '" + FaultSchedule{{op}}.to_string() + "' names no node '" + t + "'");
        }
        for (const auto& t : op.b) {
            if (t[0] != '@' && !world_.has_node(t)) world_.argument_errors().push_back("fault '" + FaultSchedule{{op}}.to_string() + "' names no node '" + t + "'");
        }
        by_time[op.at].push_back(op);
    }
    for (auto& [at, ops] : by_time) {
        world_.scheduler().call_at(0, base + at, [this, ops = std::move(ops)] {
            for (const auto& op : ops) apply(op);
        });
    }
}

void Nemesis::finish() {
    if (finished_) return;
    finished_ = true;
    for (const auto& [kind, probe] : probes_) {
        world_.efficacy()[std::string(fault_kind_name(kind))].effect += probe();
    }
}

std::optional<std::string> Nemesis::resolve(const std::string& target) {
    if (target.empty() || target[0] != '@') {
        if (!world_.has_node(target)) return std::nullopt;
        return target;
    }
    if (target == "@random") {
        auto all = world_.node_names();
        return all[world_.random().uniform(0, all.size() - 1)];
    }
    if (!resolver_) return std::nullopt;
    return resolver_(target);
}

std::vector<std::string> Nemesis::resolve_all(const std::vector<std::string>& targets) {
    std::vector<std::string> out;
    for (const auto& t : targets) {
        if (auto r = resolve(t)) out.push_back(*r);
    }
    return out;
}

bool Nemesis::resolve_targets(const FaultOp& op, std::vector<std::string>& a, std::vector<std::string>& b) {
    a = resolve_all(op.a);
    b = resolve_all(op.b);
    if ((op.kind != FaultKind::heal && a.empty()) || (needs_other_side(op.kind) && b.empty())) {
        skipped_++;
        world_.faults().skipped++;
        world_.fault_event("sim", "nemesis.skipped", op_json(op));
        return false;
    }
    return true;
}

void Nemesis::later(const FaultOp& op, std::function<void()> undo) {
    if (op.duration.count() > 0) world_.scheduler().call_at(0, world_.now() + op.duration, std::move(undo));
}

void Nemesis::apply(const FaultOp& op) {
    std::vector<std::string> a, b;
    if (!resolve_targets(op, a, b)) return;
    fired_++;
    world_.efficacy()[std::string(fault_kind_name(op.kind))].fired++;
    world_.fault_event("sim", "nemesis.fire", op_json(op));
    Probe probe;
    switch (op.kind) {
        case FaultKind::crash:
        case FaultKind::restart:
        case FaultKind::pause:
        case FaultKind::wipe:
        case FaultKind::clockjump: probe = apply_process(op, a); break;
        case FaultKind::powerloss: probe = apply_powerloss(op, a); break;
        case FaultKind::disk_corrupt: probe = apply_corrupt(a); break;
        case FaultKind::disk_torn:
        case FaultKind::disk_bitflip:
        case FaultKind::disk_full:
        case FaultKind::disk_slow:
        case FaultKind::disk_eio:
        case FaultKind::disk_fsyncfail: probe = apply_disk(op, a); break;
        default: probe = apply_network(op, a, b); break;
    }
    probes_.emplace_back(op.kind, std::move(probe));
}

Nemesis::Probe Nemesis::apply_process(const FaultOp& op, const std::vector<std::string>& a) {
    uint64_t n = 0;
    switch (op.kind) {
        case FaultKind::crash:
            for (const auto& x : a) n += world_.crash(x) ? 1 : 0;
            later(op, [this, a] { for (const auto& x : a) world_.start(x); });
            break;
        case FaultKind::restart:
            for (const auto& x : a) n += world_.restart(x) ? 1 : 0;
            break;
        case FaultKind::pause:
            for (const auto& x : a) n += world_.pause(x) ? 1 : 0;
            later(op, [this, a] { for (const auto& x : a) world_.resume(x); });
            break;
        case FaultKind::wipe:
            for (const auto& x : a) {
                n += world_.node(x).disk().used_bytes() > 0 ? 1 : 0;
                world_.wipe_disk(x);
            }
            break;
        default: {  // clockjump: its effect is a later wall-clock read by the node's code
            auto before = std::make_shared<std::vector<uint64_t>>();
            for (const auto& x : a) {
                before->push_back(world_.node(x).clock_jumps_observed());
                world_.clock_jump(x, op.amount);
            }
            return [this, a, before] {
                uint64_t seen = 0;
                for (size_t i = 0; i < a.size(); i++) seen += world_.node(a[i]).clock_jumps_observed() > (*before)[i] ? 1 : 0;
                return seen;
            };
        }
    }
    return [n] { return n; };
}

Nemesis::Probe Nemesis::apply_network(const FaultOp& op, const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
    uint64_t cause = next_cause_++;
    uint64_t n = 0;
    switch (op.kind) {
        case FaultKind::partition:
        case FaultKind::oneway:
            for (const auto& x : a)
                for (const auto& y : b)
                    if (x != y) world_.partition(x, y, op.kind == FaultKind::partition, cause);
            later(op, [this, cause] { world_.heal_cause(cause); });
            break;
        case FaultKind::isolate:
            for (const auto& x : a) world_.isolate(x, cause);
            later(op, [this, cause] { world_.heal_cause(cause); });  // only its own links
            break;
        case FaultKind::clog:
            for (const auto& x : a)
                for (const auto& y : b)
                    if (x != y) world_.clog(x, y, op.amount, op.duration.count() > 0 ? op.duration : Duration(1s), cause);
            break;
        case FaultKind::reset: {
            uint64_t before = world_.faults().connection_resets;
            for (const auto& x : a)
                for (const auto& y : b) world_.reset_connections(x, y);
            return [n = world_.faults().connection_resets - before] { return n; };
        }
        default:  // heal
            n = world_.network().blocked_links();
            world_.heal_all();
            return [n] { return n; };
    }
    return [this, cause] { return world_.network().effect_of(cause); };
}

// Sets a disk-fault window on every target; the effect is the kind's disk counter delta
// over the window (up to finish() if it is still open then).
Nemesis::Probe Nemesis::apply_disk(const FaultOp& op, const std::vector<std::string>& a) {
    std::vector<Probe> parts;
    for (const auto& n : a) parts.push_back(disk_window(op, n));
    return [parts] {
        uint64_t sum = 0;
        for (const auto& p : parts) sum += p();
        return sum;
    };
}

Nemesis::Probe Nemesis::disk_window(const FaultOp& op, const std::string& n) {
    SimDisk& disk = world_.node(n).disk();
    DiskFaultOptions& f = disk.faults();
    // Undo restores only this fault's fields, to the node's values from before the nemesis
    // touched its disk: overlapping faults on one node never leave a fault behind.
    const DiskFaultOptions base = disk_baseline_.emplace(n, f).first->second;
    const FaultKind kind = op.kind;
    set_disk_fields(kind, f, op, disk.used_bytes());
    world_.faults().disk_faults_set++;
    world_.fault_event(n, std::string("disk.") + std::string(fault_kind_name(kind)));
    uint64_t start = disk_effect_counter(kind, disk.counters());
    auto end = std::make_shared<std::optional<uint64_t>>();
    later(op, [this, n, base, kind, end] {
        SimDisk& d = world_.node(n).disk();
        restore_disk_fields(kind, d.faults(), base);
        *end = disk_effect_counter(kind, d.counters());
    });
    return [this, n, kind, start, end] {
        return end->value_or(disk_effect_counter(kind, world_.node(n).disk().counters())) - start;
    };
}

// Arms a power loss at each target's next fsync for the op's window.
Nemesis::Probe Nemesis::apply_powerloss(const FaultOp& op, const std::vector<std::string>& a) {
    std::vector<std::shared_ptr<bool>> fired;
    for (const auto& n : a) {
        fired.push_back(std::make_shared<bool>(false));
        world_.power_loss_at_next_sync(n, op.amount, fired.back());
    }
    later(op, [this, a] { for (const auto& n : a) world_.disarm_power_loss(n); });
    return [fired] {
        uint64_t n = 0;
        for (const auto& f : fired) n += *f ? 1 : 0;
        return n;
    };
}

// Persistent damage to a synced byte of each target; the effect is how many damaged bytes
// reads returned afterwards (to the end of the run).
Nemesis::Probe Nemesis::apply_corrupt(const std::vector<std::string>& a) {
    std::vector<std::pair<std::string, uint64_t>> start;
    for (const auto& n : a) {
        SimDisk& disk = world_.node(n).disk();
        auto where = disk.corrupt_synced_byte(world_.random());
        world_.fault_event(n, "disk.corrupt",
                           "\"at\":\"" + json_escape(where.ok() ? *where : where.error().message) + "\"");
        if (where.ok()) start.emplace_back(n, disk.counters().corrupt_bytes_read);
    }
    return [this, start] {
        uint64_t sum = 0;
        for (const auto& [n, s] : start) sum += world_.node(n).disk().counters().corrupt_bytes_read - s;
        return sum;
    };
}

}  // namespace keel::sim
