// RaftMonitor: checks KRaft's safety properties (kafka-semantics.md P12-P14) on every
// event a RaftDriver reports (core/raft/raft_observer.h), across every node and every
// incarnation of a simulated cluster. One monitor watches the whole cluster.
//
// Invariants, each checked when the event that could break it arrives:
//   election safety    at most one leader per epoch (P13)
//   one vote per epoch a voter grants at most one vote per epoch, across crashes (votes
//                      are durable; a wiped disk does not excuse a second vote)
//   log matching       entries with the same (offset, epoch) have the same payload and
//                      the same predecessor epoch on every node, hence identical prefixes
//                      (checked inductively on each append); epochs never decrease (P12)
//   leader completeness an entry committed in epoch e is in the log of every leader of
//                      an epoch > e when it becomes leader (P14)
//   committed durability no node truncates or holds a different entry below a high
//                      watermark it or another node reported
//   state-machine safety every node (voters and observers) applies, in each incarnation,
//                      a contiguous run of one global sequence of entries (P14)
//   monotonic high watermark a node's reported high watermark never goes down within
//                      an incarnation (it restarts from the log start after a restart)
//   synced survives    a node that restarts recovers every entry it appended (and so
//                      synced: on_appended comes after the sync) in its previous
//                      incarnation and did not truncate since, unless its disk was
//                      damaged in between (a wipe, a corrupted or bit-flipped read: the
//                      disk-damage probe, set_disk_damage_probe, says so)
//
// "Committed" means below a high watermark some node reported. The first violation is
// kept with the monitor's event number, the simulator's event number and sim time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/types.h"
#include "core/raft/raft_observer.h"

namespace keel::sim {

struct RaftViolation {
    uint64_t event = 0;        // the monitor's event number (1-based)
    uint64_t world_event = 0;  // the scheduler's event count then (0 without a world)
    Instant at{};              // sim time
    std::string what;
    std::string to_string() const;
};

class RaftMonitor final : public raft::RaftObserver {
public:
    // `now` and `world_event` stamp violations and commits; both optional.
    explicit RaftMonitor(std::function<Instant()> now = {}, std::function<uint64_t()> world_event = {});

    void on_recovered(NodeId node, Offset snapshot_end, QuorumEpoch snapshot_epoch,
                      const std::vector<raft::ObservedEntry>& log) override;
    void on_vote_persisted(NodeId node, QuorumEpoch epoch, NodeId candidate) override;
    void on_became_leader(NodeId node, QuorumEpoch epoch) override;
    void on_truncated(NodeId node, Offset from) override;
    void on_appended(NodeId node, const raft::ObservedEntry& entry) override;
    void on_snapshot_installed(NodeId node, Offset end_offset, QuorumEpoch epoch) override;
    void on_high_watermark(NodeId node, QuorumEpoch epoch, Offset high_watermark) override;
    void on_applied(NodeId node, const raft::ObservedEntry& entry) override;

    // A count of the damaging disk events (wipes, corruption, bit flips on read) a node's
    // disk has seen so far: when it changed between two incarnations, entries the node
    // synced may legitimately be gone (recovery refused what failed its checksum). Without
    // a probe every restart must keep every synced entry.
    void set_disk_damage_probe(std::function<uint64_t(NodeId)> probe) { disk_damage_ = std::move(probe); }
    uint64_t recoveries_excused() const { return recoveries_excused_; }  // by disk damage

    bool ok() const { return violations_.empty(); }
    const std::vector<RaftViolation>& violations() const { return violations_; }  // first 20
    uint64_t violation_count() const { return violation_count_; }
    uint64_t events() const { return events_; }

    // What the scenarios measure.
    size_t elections() const { return leaders_.size(); }      // epochs that had a leader
    size_t leader_changes() const { return leader_changes_; }  // a different node than before
    std::optional<NodeId> leader_of(QuorumEpoch epoch) const;
    QuorumEpoch highest_leader_epoch() const;
    Offset committed_end() const { return committed_end_; }   // highest reported high watermark
    std::optional<Instant> last_commit_at() const { return last_commit_at_; }
    // When the first entry of an epoch > `epoch` was committed (failover measurement).
    std::optional<Instant> first_commit_after_epoch(QuorumEpoch epoch) const;
    std::optional<Instant> first_data_commit_after_epoch(QuorumEpoch epoch) const;
    Offset applied_end(NodeId node) const;  // next offset the node's state machine expects
    // Every durable vote seen: (voter, epoch) → candidate.
    const std::map<std::pair<NodeId, QuorumEpoch>, NodeId>& votes() const { return votes_; }

private:
    struct Slot {
        QuorumEpoch epoch{0};
        uint64_t hash = 0;
        bool control = false;
    };
    struct NodeLog {
        Offset base{0};           // entries below are covered by a snapshot
        std::vector<Slot> slots;  // entries from base, contiguous
        Offset next_apply{0};
        Offset checked_high_watermark{0};
        Offset reported_high_watermark{0};  // the highest this incarnation reported
        uint64_t disk_damage = 0;           // the probe's count when the incarnation began
        Offset end() const { return base + static_cast<int64_t>(slots.size()); }
        const Slot* at(Offset o) const;
    };
    struct Position {
        uint64_t hash = 0;
        std::optional<QuorumEpoch> previous_epoch;  // nullopt: unknown (after a snapshot)
        NodeId first{-1};
    };
    struct Committed {
        QuorumEpoch epoch{0};
        uint64_t hash = 0;
        QuorumEpoch commit_epoch{0};  // the reporter's epoch: >= the epoch that committed it
    };

    void violation(std::string what);
    void check_synced_survived(NodeId node, const NodeLog& before, Offset snapshot_end,
                               const std::vector<raft::ObservedEntry>& entries);
    void check_position(NodeId node, const NodeLog& log, Offset offset, const Slot& s);
    void record_commits(NodeId node, const NodeLog& log, QuorumEpoch epoch, Offset high_watermark);
    static std::string entry_text(Offset o, QuorumEpoch e, uint64_t hash);

    std::function<Instant()> now_;
    std::function<uint64_t()> world_event_;
    std::function<uint64_t(NodeId)> disk_damage_;
    uint64_t recoveries_excused_ = 0;
    uint64_t events_ = 0;
    uint64_t violation_count_ = 0;
    std::vector<RaftViolation> violations_;

    std::map<NodeId, NodeLog> logs_;
    std::map<std::pair<Offset, QuorumEpoch>, Position> positions_;
    std::map<QuorumEpoch, NodeId> leaders_;
    std::optional<NodeId> last_leader_;
    size_t leader_changes_ = 0;
    std::map<std::pair<NodeId, QuorumEpoch>, NodeId> votes_;
    // Per node, how many times it came back with an empty disk after having voted, and
    // that count when each vote was cast: a second vote across a disk loss is the
    // KIP-853 hazard a static voter set cannot fully close (the violation says so).
    std::map<NodeId, int> disk_losses_;
    std::map<std::pair<NodeId, QuorumEpoch>, int> vote_disk_;
    std::vector<std::optional<Committed>> committed_;  // by offset; nullopt: under a snapshot
    Offset committed_end_{0};
    std::optional<Instant> last_commit_at_;
    std::map<QuorumEpoch, Instant> first_commit_by_epoch_;
    std::map<QuorumEpoch, Instant> first_data_commit_by_epoch_;
    std::map<Offset, raft::ObservedEntry> applied_;
};

}  // namespace keel::sim
