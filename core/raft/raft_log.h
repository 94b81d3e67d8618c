// RaftLog: a node's view of its log — the snapshot boundary plus the entries after it,
// held in memory — and the epoch arithmetic KIP-595 replication needs.
//
// Invariants (asserted): entries are contiguous from start(); epochs never decrease along
// the log; every entry's epoch is >= the snapshot epoch. Epoch 0 has no entries (the first
// election produces epoch 1), so "epoch 0 at offset 0" names the empty prefix.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "core/base/result.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

class RaftLog {
public:
    RaftLog() = default;

    // Checks what the driver read from disk: contiguity, epoch order, start at the snapshot
    // end. Errc::corrupt with a reason otherwise.
    static Result<RaftLog> restore(std::optional<SnapshotId> snapshot, std::vector<LogEntry> entries);

    Offset start() const { return start_; }          // first offset held (snapshot end or 0)
    Offset end() const { return start_ + static_cast<int64_t>(entries_.size()); }
    bool empty() const { return entries_.empty(); }
    std::optional<SnapshotId> snapshot_id() const { return snapshot_; }
    // Epoch of the entry at end()-1, or of the snapshot, or 0.
    QuorumEpoch last_epoch() const;
    // Epoch of the entry at `o`; the snapshot epoch for o == start()-1. Requires
    // start()-1 <= o < end() (or o == -1 on an empty prefix, giving 0).
    QuorumEpoch epoch_at(Offset o) const;
    const LogEntry& at(Offset o) const;

    // Kafka's endOffsetForEpoch: the largest epoch <= `epoch` present in the log (counting
    // the snapshot epoch, or 0 for the empty prefix) and the offset where it ends (the
    // first offset of a later epoch, or end()).
    struct EpochEnd {
        QuorumEpoch epoch;
        Offset end_offset;
    };
    EpochEnd end_offset_for_epoch(QuorumEpoch epoch) const;

    // Entries [from, end()), at most `bytes_max` payload bytes but at least one entry.
    std::vector<LogEntry> read(Offset from, size_t bytes_max) const;
    std::vector<LogEntry> slice(Offset from, Offset to) const;

    // Requires e.offset == end() and e.epoch >= last_epoch().
    void append(LogEntry e);
    // Drops entries at offsets >= o. Requires start() <= o <= end().
    void truncate_to(Offset o);
    // Drops entries below id.end_offset (they are covered by the snapshot). Requires
    // start() <= id.end_offset <= end() and a matching epoch at id.end_offset-1.
    void compact_to(SnapshotId id);
    // Replaces the whole log by an empty one starting at the snapshot.
    void reset_to(SnapshotId id);

private:
    size_t index(Offset o) const;

    Offset start_{0};
    std::optional<SnapshotId> snapshot_;
    std::deque<LogEntry> entries_;
};

}  // namespace keel::raft
