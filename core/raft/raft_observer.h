// RaftObserver: what a RaftDriver tells a watcher about one node's durable and committed
// state, so that a monitor (sim/checkers/raft_monitor.h) can check Raft's safety
// properties on every event. Production passes none (nullptr); nothing here changes what
// the driver does.
//
// When each call happens (the driver's contract):
// - on_recovered: at start, after storage recovery, before anything is sent. `log` is the
//   durable log the node restarts with (entries from snapshot_end on).
// - on_vote_persisted: a quorum state naming a vote (epoch, candidate) was written and
//   synced, before the vote response (or the candidate's vote requests) leave.
// - on_became_leader: the node won the election of `epoch`; its log at that moment is the
//   log the monitor has seen (every earlier Ready is durable; the LeaderChange entry that
//   opens the epoch follows as an append).
// - on_truncated: before the log is cut from `from` on (a crash may cut it part-way, so
//   from then on those entries are not owed; a recovered log may still hold them).
// - on_appended: after the entries are durable (synced before any message that
//   acknowledges them).
// - on_snapshot_installed: a leader's snapshot replaced the node's log and state machine.
// - on_high_watermark: the node's high watermark moved (after the entries below it are
//   durable on this node).
// - on_applied: a committed entry (data or control) reached the state machine, in offset
//   order; after a restart or a snapshot install, from the snapshot's end offset.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/types.h"

namespace keel::raft {

// An entry as the observer sees it: its position, epoch and a hash of its payload.
struct ObservedEntry {
    Offset offset{0};
    QuorumEpoch epoch{0};
    uint64_t payload_hash = 0;
    bool control = false;  // a Raft control entry (LeaderChange), not state-machine data
    bool operator==(const ObservedEntry&) const = default;
};

// FNV-1a, 64 bits: stable across builds and platforms.
inline uint64_t payload_hash(ByteView payload) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint8_t b : payload) h = (h ^ b) * 0x100000001b3ULL;
    return h;
}

class RaftObserver {
public:
    virtual ~RaftObserver() = default;
    virtual void on_recovered(NodeId node, Offset snapshot_end, QuorumEpoch snapshot_epoch,
                              const std::vector<ObservedEntry>& log) = 0;
    virtual void on_vote_persisted(NodeId node, QuorumEpoch epoch, NodeId candidate) = 0;
    virtual void on_became_leader(NodeId node, QuorumEpoch epoch) = 0;
    virtual void on_truncated(NodeId node, Offset from) = 0;
    virtual void on_appended(NodeId node, const ObservedEntry& entry) = 0;
    virtual void on_snapshot_installed(NodeId node, Offset end_offset, QuorumEpoch epoch) = 0;
    virtual void on_high_watermark(NodeId node, QuorumEpoch epoch, Offset high_watermark) = 0;
    virtual void on_applied(NodeId node, const ObservedEntry& entry) = 0;
};

}  // namespace keel::raft
