// random_schedule: fault schedules drawn from the seed, mixing faults per node the way
// FoundationDB's simulation (swizzle-clogging) and TigerBeetle's VOPR do: process and
// network faults keep at most one in force per node (the fault budget stays readable),
// while disk-fault windows overlap them on purpose — a crash is placed inside most
// torn-write, fsync-failure, EIO and bit-flip windows, and a restart after a corruption,
// because a disk fault bites only when the node crashes with writes in flight or reads
// the damaged bytes back (recovery). See docs/simulator.md ("Generated schedules").
#include <algorithm>
#include <map>

#include "sim/exp_draw.h"
#include "sim/nemesis.h"

namespace keel::sim {

namespace {

constexpr FaultKind kAllKinds[] = {
    FaultKind::crash,     FaultKind::restart,   FaultKind::pause,        FaultKind::partition,
    FaultKind::oneway,    FaultKind::isolate,   FaultKind::clog,         FaultKind::reset,
    FaultKind::clockjump, FaultKind::wipe,      FaultKind::disk_torn,    FaultKind::disk_bitflip,
    FaultKind::disk_full, FaultKind::disk_slow, FaultKind::disk_eio,     FaultKind::disk_fsyncfail,
    FaultKind::disk_corrupt, FaultKind::powerloss,
};

bool link_kind(FaultKind k) {
    return k == FaultKind::partition || k == FaultKind::oneway || k == FaultKind::clog ||
           k == FaultKind::reset;
}

bool disk_window_kind(FaultKind k) {
    return k == FaultKind::disk_torn || k == FaultKind::disk_bitflip || k == FaultKind::disk_full ||
           k == FaultKind::disk_slow || k == FaultKind::disk_eio || k == FaultKind::disk_fsyncfail;
}

// How often a crash is placed inside a disk-fault window of this kind.
double crash_inside_probability(FaultKind k) {
    switch (k) {
        case FaultKind::disk_torn:
        case FaultKind::disk_fsyncfail:
        case FaultKind::disk_eio: return 0.8;
        case FaultKind::disk_bitflip: return 0.7;
        case FaultKind::disk_slow: return 0.5;
        default: return 0.3;
    }
}

FaultOp make_op(Duration at, FaultKind kind, const std::string& target, Duration duration = Duration(0)) {
    FaultOp op;
    op.at = at;
    op.kind = kind;
    op.a = {target};
    op.duration = duration;
    return op;
}

Duration round_ms(Duration d) { return Duration(d.count() / 1'000'000 * 1'000'000); }

class Generator {
public:
    Generator(env::Random& rng, const std::vector<std::string>& nodes, const RandomScheduleOptions& o)
        : rng_(rng), nodes_(nodes), o_(o) {
        kinds_ = o.kinds;
        if (kinds_.empty()) kinds_.assign(std::begin(kAllKinds), std::end(kAllKinds));
        for (FaultKind k : o.exclude) kinds_.erase(std::remove(kinds_.begin(), kinds_.end(), k), kinds_.end());
        targets_ = nodes;
        targets_.insert(targets_.end(), o.roles.begin(), o.roles.end());
    }

    FaultSchedule run() {
        Duration t = o_.start;
        while (true) {
            t += exponential(rng_, o_.mean_gap);
            if (t >= o_.end || o_.end - t < 100ms) break;
            step(t);
        }
        for (auto& op : out_.ops) {
            op.at = round_ms(op.at);
            op.duration = round_ms(op.duration);
            op.amount = round_ms(op.amount);
        }
        std::stable_sort(out_.ops.begin(), out_.ops.end(), [](const FaultOp& x, const FaultOp& y) { return x.at < y.at; });
        return std::move(out_);
    }

private:
    bool allowed(FaultKind k) const { return std::find(kinds_.begin(), kinds_.end(), k) != kinds_.end(); }
    bool is_role(const std::string& t) const { return !t.empty() && t[0] == '@'; }
    bool free(std::map<std::string, Duration>& busy, const std::string& n, Duration t) {
        return is_role(n) || busy[n] <= t;
    }
    Duration length(Duration t) {
        Duration max_len = std::min(o_.fault_duration_max, o_.end - t);
        return rng_.uniform(Duration(100ms), max_len);
    }

    void step(Duration t) {
        FaultKind kind = kinds_[rng_.uniform(0, kinds_.size() - 1)];
        if (kind == FaultKind::wipe && wipes_ >= o_.wipes_max) kind = FaultKind::crash;
        const std::string a = targets_[rng_.uniform(0, targets_.size() - 1)];
        if (kind == FaultKind::clog && nodes_.size() >= 3 && rng_.chance(0.25)) return swizzle(t);
        if (disk_window_kind(kind) || kind == FaultKind::disk_corrupt) {
            // Disk faults aim at a disk: a node name, never a role.
            return disk_fault(kind, nodes_[rng_.uniform(0, nodes_.size() - 1)], t);
        }
        if (!free(proc_busy_, a, t)) return;
        FaultOp op = make_op(t, kind, a, length(t));
        if (link_kind(kind)) {
            std::string b = nodes_[rng_.uniform(0, nodes_.size() - 1)];
            if (b == a) return;
            op.b = {b};
        }
        shape(op);
        if (kind == FaultKind::wipe) wipes_++;
        Duration extra = kind == FaultKind::powerloss ? op.amount : Duration(0);
        if (!is_role(a)) proc_busy_[a] = t + op.duration + extra + 100ms;
        out_.ops.push_back(std::move(op));
    }

    // Kind-specific amounts; instantaneous kinds have no duration.
    void shape(FaultOp& op) {
        switch (op.kind) {
            case FaultKind::restart:
            case FaultKind::reset:
            case FaultKind::wipe:
            case FaultKind::disk_corrupt: op.duration = Duration(0); break;
            case FaultKind::clog: op.amount = rng_.uniform(Duration(50ms), Duration(1s)); break;
            case FaultKind::clockjump:
                op.duration = Duration(0);
                op.amount = rng_.uniform(Duration(1s), Duration(120s));
                if (rng_.chance(0.5)) op.amount = -op.amount;
                break;
            case FaultKind::disk_slow: op.amount = rng_.uniform(Duration(1ms), Duration(50ms)); break;
            case FaultKind::powerloss: op.amount = std::min(rng_.uniform(Duration(100ms), Duration(2s)), o_.end - op.at - op.duration); break;
            case FaultKind::disk_torn: op.probability = 0.5 + rng_.unit() / 2; break;
            case FaultKind::disk_bitflip: op.probability = 0.1 + rng_.unit() / 2; break;
            case FaultKind::disk_eio: op.probability = 0.01 + rng_.unit() / 20; break;
            case FaultKind::disk_fsyncfail: op.probability = 0.2 + rng_.unit() * 0.6; break;
            default: break;
        }
    }

    // A disk fault on node n, and (usually) the process fault that makes it bite: a crash
    // inside the window, or a restart soon after a corruption (recovery reads it back).
    void disk_fault(FaultKind kind, const std::string& n, Duration t) {
        if (!free(disk_busy_, n, t)) return;
        FaultOp op = make_op(t, kind, n, length(t));
        shape(op);
        disk_busy_[n] = t + op.duration + 100ms;
        out_.ops.push_back(op);
        if (kind == FaultKind::disk_corrupt) {
            Duration at = t + rng_.uniform(Duration(100ms), Duration(1s));
            if (at < o_.end && allowed(FaultKind::restart) && free(proc_busy_, n, at) && rng_.chance(0.7)) {
                out_.ops.push_back(make_op(at, FaultKind::restart, n));
                proc_busy_[n] = at + 100ms;
            }
            return;
        }
        if (kind == FaultKind::disk_torn && allowed(FaultKind::powerloss)) return power_loss_inside(op);
        if (!allowed(FaultKind::crash) || !rng_.chance(crash_inside_probability(kind))) return;
        Duration at = t + rng_.uniform(op.duration / 5, op.duration / 2);
        Duration down = rng_.uniform(Duration(100ms), Duration(2s));
        // Bit flips bite on reads, i.e. in the recovery after the crash: back inside the window.
        if (kind == FaultKind::disk_bitflip) down = std::min(down, (t + op.duration - at) * 3 / 4);
        if (at + down >= o_.end || !free(proc_busy_, n, at)) return;
        out_.ops.push_back(make_op(at, FaultKind::crash, n, down));
        proc_busy_[n] = at + down + 100ms;
    }

    // A torn write needs a crash while an fsync's writes are in flight: power goes at the
    // node's next fsync inside the window.
    void power_loss_inside(const FaultOp& window) {
        const std::string& n = window.a[0];
        Duration at = window.at + rng_.uniform(Duration(0), window.duration / 3);
        Duration armed = window.at + window.duration - at;
        Duration down = rng_.uniform(Duration(100ms), Duration(2s));
        if (at + armed + down >= o_.end || !free(proc_busy_, n, at)) return;
        FaultOp op = make_op(at, FaultKind::powerloss, n, armed);
        op.amount = down;
        out_.ops.push_back(std::move(op));
        proc_busy_[n] = at + armed + down + 100ms;
    }

    // FoundationDB's swizzle-clogging: clog a random subset of nodes one after another
    // (each towards every other node), then unclog them in a different random order.
    void swizzle(Duration t) {
        std::vector<std::string> pick = nodes_;
        for (size_t i = pick.size() - 1; i > 0; i--) std::swap(pick[i], pick[rng_.uniform(0, i)]);
        pick.resize(rng_.uniform(2, nodes_.size()));
        Duration step = rng_.uniform(Duration(50ms), Duration(500ms));
        std::vector<size_t> end_rank(pick.size());
        for (size_t i = 0; i < end_rank.size(); i++) end_rank[i] = i;
        for (size_t i = end_rank.size() - 1; i > 0; i--) std::swap(end_rank[i], end_rank[rng_.uniform(0, i)]);
        Duration amount = rng_.uniform(Duration(50ms), Duration(1s));
        for (size_t i = 0; i < pick.size(); i++) {
            Duration start = t + step * static_cast<int64_t>(i);
            Duration stop = t + step * static_cast<int64_t>(pick.size() + end_rank[i] + 1);
            if (stop >= o_.end) return;
            FaultOp op = make_op(start, FaultKind::clog, pick[i], stop - start);
            op.amount = amount;
            for (const auto& other : nodes_) {
                if (other != pick[i]) op.b.push_back(other);
            }
            out_.ops.push_back(std::move(op));
        }
    }

    env::Random& rng_;
    const std::vector<std::string>& nodes_;
    const RandomScheduleOptions& o_;
    std::vector<FaultKind> kinds_;
    std::vector<std::string> targets_;
    std::map<std::string, Duration> proc_busy_;  // per node: process and network faults
    std::map<std::string, Duration> disk_busy_;  // per node: disk-fault windows
    size_t wipes_ = 0;
    FaultSchedule out_;
};

}  // namespace

FaultSchedule random_schedule(env::Random& rng, const std::vector<std::string>& nodes,
                              const RandomScheduleOptions& o) {
    if (nodes.size() < 2) return {};
    return Generator(rng, nodes, o).run();
}

}  // namespace keel::sim
