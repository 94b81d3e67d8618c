#include "sim/checkers/raft_monitor.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace keel::sim {

namespace {

constexpr size_t kViolationsKept = 20;

std::string node_text(NodeId n) { return "node " + std::to_string(n.value()); }
std::string epoch_text(QuorumEpoch e) { return "epoch " + std::to_string(e.value()); }

}  // namespace

std::string RaftViolation::to_string() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (monitor event %" PRIu64 ", sim event %" PRIu64 ", t=%.3fs)", event, world_event,
                  static_cast<double>(at.ns) / 1e9);
    return what + buf;
}

RaftMonitor::RaftMonitor(std::function<Instant()> now, std::function<uint64_t()> world_event)
    : now_(std::move(now)), world_event_(std::move(world_event)) {}

const RaftMonitor::Slot* RaftMonitor::NodeLog::at(Offset o) const {
    if (o < base || o >= end()) return nullptr;
    return &slots[static_cast<size_t>(o - base)];
}

std::string RaftMonitor::entry_text(Offset o, QuorumEpoch e, uint64_t hash) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "(offset %" PRId64 ", epoch %" PRId32 ", hash %016" PRIx64 ")", o.value(),
                  e.value(), hash);
    return buf;
}

void RaftMonitor::violation(std::string what) {
    violation_count_++;
    if (violations_.size() >= kViolationsKept) return;
    RaftViolation v;
    v.event = events_;
    v.world_event = world_event_ ? world_event_() : 0;
    v.at = now_ ? now_() : Instant{};
    v.what = std::move(what);
    violations_.push_back(std::move(v));
}

// ---------------------------------------------------------------------- elections

void RaftMonitor::on_vote_persisted(NodeId node, QuorumEpoch epoch, NodeId candidate) {
    events_++;
    auto [it, inserted] = votes_.try_emplace({node, epoch}, candidate);
    if (inserted) vote_disk_[{node, epoch}] = disk_losses_[node];
    if (!inserted && it->second != candidate) {
        bool across_loss = vote_disk_[{node, epoch}] != disk_losses_[node];
        violation("one vote per epoch: " + node_text(node) + " voted for " + node_text(it->second) + " and then for " +
                  node_text(candidate) + " in " + epoch_text(epoch) +
                  (across_loss ? " (it came back with an empty disk in between: with a static voter set a lost "
                                 "disk cannot remember its vote; KIP-853 gives a new disk a new voter identity)"
                               : ""));
    }
}

void RaftMonitor::on_became_leader(NodeId node, QuorumEpoch epoch) {
    events_++;
    auto [it, inserted] = leaders_.try_emplace(epoch, node);
    if (!inserted && it->second != node) {
        violation("election safety: two leaders in " + epoch_text(epoch) + ": " + node_text(it->second) + " and " +
                  node_text(node));
    }
    if (last_leader_ && *last_leader_ != node) leader_changes_++;
    last_leader_ = node;
    // Leader completeness: everything committed in an earlier epoch is in the new leader's log.
    const NodeLog& log = logs_[node];
    for (Offset o = log.base; o < committed_end_; ++o) {
        const auto& c = committed_[static_cast<size_t>(o.value())];
        if (!c || c->commit_epoch >= epoch) continue;
        const Slot* s = log.at(o);
        if (s == nullptr || s->epoch != c->epoch || s->hash != c->hash) {
            violation("leader completeness: " + node_text(node) + " became leader of " + epoch_text(epoch) +
                      " without the committed entry " + entry_text(o, c->epoch, c->hash) +
                      (s == nullptr ? " (its log ends at " + std::to_string(log.end().value()) + ")"
                                    : " (it holds " + entry_text(o, s->epoch, s->hash) + ")"));
            return;
        }
    }
}

// --------------------------------------------------------------------------- logs

void RaftMonitor::check_position(NodeId node, const NodeLog& log, Offset offset, const Slot& s) {
    std::optional<QuorumEpoch> previous;
    if (!log.slots.empty()) {
        previous = log.slots.back().epoch;
    } else if (log.base.value() == 0) {
        previous = QuorumEpoch(0);
    }
    if (s.epoch.value() < 1) violation(node_text(node) + " holds an entry of epoch 0 at " + std::to_string(offset.value()));
    if (previous && s.epoch < *previous) {
        violation("log matching: epochs decrease on " + node_text(node) + " at offset " + std::to_string(offset.value()));
    }
    auto [it, inserted] = positions_.try_emplace({offset, s.epoch}, Position{s.hash, previous, node});
    if (inserted) return;
    Position& p = it->second;
    if (p.hash != s.hash) {
        violation("log matching: " + node_text(p.first) + " and " + node_text(node) + " hold different entries at " +
                  entry_text(offset, s.epoch, s.hash));
    } else if (previous && p.previous_epoch && *previous != *p.previous_epoch) {
        violation("log matching: " + node_text(p.first) + " and " + node_text(node) + " share " +
                  entry_text(offset, s.epoch, s.hash) + " but not the entry before it");
    } else if (previous && !p.previous_epoch) {
        p.previous_epoch = previous;
    }
}

void RaftMonitor::on_recovered(NodeId node, Offset snapshot_end, QuorumEpoch /*snapshot_epoch*/,
                               const std::vector<raft::ObservedEntry>& entries) {
    events_++;
    bool voted_before = false;
    for (auto it = votes_.lower_bound({node, QuorumEpoch(0)}); it != votes_.end() && it->first.first == node; ++it) {
        voted_before = true;
        break;
    }
    if (voted_before && entries.empty() && snapshot_end.value() == 0) disk_losses_[node]++;
    NodeLog& log = logs_[node];
    uint64_t damage = disk_damage_ ? disk_damage_(node) : 0;
    if (damage != log.disk_damage) {
        recoveries_excused_++;
    } else {
        check_synced_survived(node, log, snapshot_end, entries);
    }
    log = NodeLog{};
    log.disk_damage = damage;
    log.base = log.next_apply = log.checked_high_watermark = log.reported_high_watermark = snapshot_end;
    for (const auto& e : entries) {
        if (e.offset != log.end()) {
            violation(node_text(node) + " recovered a log with a gap at " + std::to_string(e.offset.value()));
            return;
        }
        Slot s{e.epoch, e.payload_hash, e.control};
        check_position(node, log, e.offset, s);
        log.slots.push_back(s);
    }
}

// Every entry the previous incarnation held (appended, hence synced, and not truncated)
// at or above the recovered snapshot's end must be in the recovered log, unchanged.
void RaftMonitor::check_synced_survived(NodeId node, const NodeLog& before, Offset snapshot_end,
                                        const std::vector<raft::ObservedEntry>& entries) {
    for (Offset o = std::max(before.base, snapshot_end); o < before.end(); ++o) {
        const Slot& s = *before.at(o);
        size_t i = static_cast<size_t>(o - snapshot_end);
        if (i >= entries.size()) {
            violation("synced survives: " + node_text(node) + " restarted with its log ending at " +
                      std::to_string((snapshot_end + static_cast<int64_t>(entries.size())).value()) +
                      " but had synced " + entry_text(o, s.epoch, s.hash) + " before");
            return;
        }
        const raft::ObservedEntry& e = entries[i];
        if (e.epoch != s.epoch || e.payload_hash != s.hash) {
            violation("synced survives: " + node_text(node) + " restarted holding " +
                      entry_text(o, e.epoch, e.payload_hash) + " where it had synced " +
                      entry_text(o, s.epoch, s.hash));
            return;
        }
    }
}

void RaftMonitor::on_appended(NodeId node, const raft::ObservedEntry& e) {
    events_++;
    NodeLog& log = logs_[node];
    if (e.offset != log.end()) {
        violation(node_text(node) + " appended at " + std::to_string(e.offset.value()) + " but its log ends at " +
                  std::to_string(log.end().value()));
        return;
    }
    Slot s{e.epoch, e.payload_hash, e.control};
    check_position(node, log, e.offset, s);
    log.slots.push_back(s);
}

void RaftMonitor::on_truncated(NodeId node, Offset from) {
    events_++;
    NodeLog& log = logs_[node];
    if (from < log.base) {
        violation(node_text(node) + " truncated to " + std::to_string(from.value()) + ", below its snapshot at " +
                  std::to_string(log.base.value()));
        return;
    }
    for (Offset o = from; o < std::min(log.end(), committed_end_); ++o) {
        const auto& c = committed_[static_cast<size_t>(o.value())];
        const Slot* s = log.at(o);
        if (c && s->epoch == c->epoch && s->hash == c->hash) {
            violation("committed durability: " + node_text(node) + " truncated the committed entry " +
                      entry_text(o, c->epoch, c->hash));
            break;
        }
    }
    if (from < log.end()) log.slots.resize(static_cast<size_t>(from - log.base));
    log.checked_high_watermark = std::min(log.checked_high_watermark, from);
}

void RaftMonitor::on_snapshot_installed(NodeId node, Offset end_offset, QuorumEpoch epoch) {
    events_++;
    if (end_offset > committed_end_) {
        violation(node_text(node) + " installed a snapshot ending at " + std::to_string(end_offset.value()) +
                  ", beyond every reported high watermark (" + std::to_string(committed_end_.value()) + ")");
    } else if (end_offset.value() > 0) {
        const auto& c = committed_[static_cast<size_t>(end_offset.value() - 1)];
        if (c && c->epoch != epoch) {
            violation(node_text(node) + " installed a snapshot of " + epoch_text(epoch) + " at " +
                      std::to_string(end_offset.value()) + " but the committed entry before it is of " +
                      epoch_text(c->epoch));
        }
    }
    NodeLog& log = logs_[node];
    NodeLog fresh;
    fresh.disk_damage = log.disk_damage;
    fresh.reported_high_watermark = log.reported_high_watermark;
    fresh.base = fresh.next_apply = fresh.checked_high_watermark = end_offset;
    log = std::move(fresh);
}

// ------------------------------------------------------------------------ commits

void RaftMonitor::on_high_watermark(NodeId node, QuorumEpoch epoch, Offset high_watermark) {
    events_++;
    NodeLog& log = logs_[node];
    if (high_watermark > log.end()) {
        violation(node_text(node) + " reports high watermark " + std::to_string(high_watermark.value()) +
                  " beyond its durable log end " + std::to_string(log.end().value()));
        return;
    }
    if (high_watermark < log.reported_high_watermark) {
        violation("monotonic high watermark: " + node_text(node) + " reported high watermark " +
                  std::to_string(high_watermark.value()) + " after " +
                  std::to_string(log.reported_high_watermark.value()) + " in the same incarnation");
    }
    log.reported_high_watermark = std::max(log.reported_high_watermark, high_watermark);
    record_commits(node, log, epoch, high_watermark);
}

void RaftMonitor::record_commits(NodeId node, const NodeLog& log, QuorumEpoch epoch, Offset high_watermark) {
    Instant now = now_ ? now_() : Instant{};
    // Offsets past what is known and below this node's snapshot: committed, content unknown.
    while (committed_end_ < std::min(log.base, high_watermark)) {
        committed_.push_back(std::nullopt);
        ++committed_end_;
    }
    for (Offset o = std::max(log.checked_high_watermark, log.base); o < high_watermark; ++o) {
        const Slot& s = *log.at(o);
        if (o < committed_end_) {
            const auto& c = committed_[static_cast<size_t>(o.value())];
            if (c && (c->epoch != s.epoch || c->hash != s.hash)) {
                violation("committed durability: " + node_text(node) + " holds " + entry_text(o, s.epoch, s.hash) +
                          " below its high watermark, but " + entry_text(o, c->epoch, c->hash) + " was committed");
                break;
            }
            continue;
        }
        committed_.push_back(Committed{s.epoch, s.hash, epoch});
        ++committed_end_;
        last_commit_at_ = now;
        first_commit_by_epoch_.try_emplace(s.epoch, now);
        if (!s.control) first_data_commit_by_epoch_.try_emplace(s.epoch, now);
    }
    logs_[node].checked_high_watermark = std::max(log.checked_high_watermark, high_watermark);
}

void RaftMonitor::on_applied(NodeId node, const raft::ObservedEntry& e) {
    events_++;
    NodeLog& log = logs_[node];
    if (e.offset != log.next_apply) {
        violation("state-machine safety: " + node_text(node) + " applied offset " + std::to_string(e.offset.value()) +
                  " when it expected " + std::to_string(log.next_apply.value()));
    }
    log.next_apply = e.offset + 1;
    if (e.offset >= committed_end_) {
        violation("state-machine safety: " + node_text(node) + " applied " +
                  entry_text(e.offset, e.epoch, e.payload_hash) + " above every reported high watermark");
    }
    auto [it, inserted] = applied_.try_emplace(e.offset, e);
    if (!inserted && (it->second.epoch != e.epoch || it->second.payload_hash != e.payload_hash)) {
        violation("state-machine safety: " + node_text(node) + " applied " +
                  entry_text(e.offset, e.epoch, e.payload_hash) + " where another node applied " +
                  entry_text(e.offset, it->second.epoch, it->second.payload_hash));
    }
}

// ----------------------------------------------------------------------- queries

std::optional<NodeId> RaftMonitor::leader_of(QuorumEpoch epoch) const {
    auto it = leaders_.find(epoch);
    if (it == leaders_.end()) return std::nullopt;
    return it->second;
}

QuorumEpoch RaftMonitor::highest_leader_epoch() const {
    return leaders_.empty() ? QuorumEpoch(0) : leaders_.rbegin()->first;
}

namespace {

std::optional<Instant> earliest_after(const std::map<QuorumEpoch, Instant>& m, QuorumEpoch epoch) {
    std::optional<Instant> best;
    for (auto it = m.upper_bound(epoch); it != m.end(); ++it) {
        if (!best || it->second < *best) best = it->second;
    }
    return best;
}

}  // namespace

std::optional<Instant> RaftMonitor::first_commit_after_epoch(QuorumEpoch epoch) const {
    return earliest_after(first_commit_by_epoch_, epoch);
}

std::optional<Instant> RaftMonitor::first_data_commit_after_epoch(QuorumEpoch epoch) const {
    return earliest_after(first_data_commit_by_epoch_, epoch);
}

Offset RaftMonitor::applied_end(NodeId node) const {
    auto it = logs_.find(node);
    return it == logs_.end() ? Offset(0) : it->second.next_apply;
}

}  // namespace keel::sim
