#include "core/raft/raft_log.h"

#include <algorithm>

namespace keel::raft {

Result<RaftLog> RaftLog::restore(std::optional<SnapshotId> snapshot, std::vector<LogEntry> entries) {
    RaftLog log;
    if (snapshot) {
        if (snapshot->end_offset.value() < 0 || snapshot->epoch.value() < 0) {
            return Error{Errc::corrupt, "snapshot id has a negative offset or epoch"};
        }
        log.start_ = snapshot->end_offset;
        log.snapshot_ = snapshot;
    }
    for (LogEntry& e : entries) {
        if (e.offset != log.end()) {
            return Error{Errc::corrupt, "log entry at offset " + std::to_string(e.offset.value()) +
                                            " where " + std::to_string(log.end().value()) +
                                            " was expected"};
        }
        if (e.epoch < log.last_epoch() || e.epoch.value() < 1) {
            return Error{Errc::corrupt, "log entry at offset " + std::to_string(e.offset.value()) +
                                            " has epoch " + std::to_string(e.epoch.value()) +
                                            " below its predecessor's"};
        }
        log.entries_.push_back(std::move(e));
    }
    return log;
}

QuorumEpoch RaftLog::last_epoch() const {
    if (!entries_.empty()) return entries_.back().epoch;
    return snapshot_ ? snapshot_->epoch : QuorumEpoch(0);
}

size_t RaftLog::index(Offset o) const {
    KEEL_ASSERT(o >= start_ && o < end());
    return static_cast<size_t>(o - start_);
}

QuorumEpoch RaftLog::epoch_at(Offset o) const {
    if (o == start_ - 1) return snapshot_ ? snapshot_->epoch : QuorumEpoch(0);
    return entries_[index(o)].epoch;
}

const LogEntry& RaftLog::at(Offset o) const { return entries_[index(o)]; }

RaftLog::EpochEnd RaftLog::end_offset_for_epoch(QuorumEpoch epoch) const {
    // First entry whose epoch is greater than `epoch`: the requested epoch (or the largest
    // one below it) ends there.
    auto after = std::upper_bound(entries_.begin(), entries_.end(), epoch,
                                  [](QuorumEpoch e, const LogEntry& x) { return e < x.epoch; });
    Offset end_offset = start_ + static_cast<int64_t>(after - entries_.begin());
    if (after != entries_.begin()) return {std::prev(after)->epoch, end_offset};
    QuorumEpoch base = snapshot_ ? snapshot_->epoch : QuorumEpoch(0);
    if (base <= epoch) return {base, start_};
    return {QuorumEpoch(0), start_};
}

std::vector<LogEntry> RaftLog::read(Offset from, size_t bytes_max) const {
    std::vector<LogEntry> out;
    size_t bytes = 0;
    for (Offset o = from; o < end(); ++o) {
        const LogEntry& e = at(o);
        if (!out.empty() && bytes + e.payload.size() > bytes_max) break;
        bytes += e.payload.size();
        out.push_back(e);
    }
    return out;
}

std::vector<LogEntry> RaftLog::slice(Offset from, Offset to) const {
    std::vector<LogEntry> out;
    for (Offset o = from; o < to; ++o) out.push_back(at(o));
    return out;
}

void RaftLog::append(LogEntry e) {
    KEEL_ASSERT(e.offset == end());
    // Invariant: epochs never decrease along the log (log matching relies on it).
    KEEL_ASSERT(e.epoch >= last_epoch() && e.epoch.value() >= 1);
    entries_.push_back(std::move(e));
}

void RaftLog::truncate_to(Offset o) {
    KEEL_ASSERT(o >= start_ && o <= end());
    entries_.resize(static_cast<size_t>(o - start_));
}

void RaftLog::compact_to(SnapshotId id) {
    KEEL_ASSERT(id.end_offset >= start_ && id.end_offset <= end());
    KEEL_ASSERT(epoch_at(id.end_offset - 1) == id.epoch);
    while (start_ < id.end_offset) {
        entries_.pop_front();
        ++start_;
    }
    snapshot_ = id;
}

void RaftLog::reset_to(SnapshotId id) {
    entries_.clear();
    start_ = id.end_offset;
    snapshot_ = id;
}

}  // namespace keel::raft
