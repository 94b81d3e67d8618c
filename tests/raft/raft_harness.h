// A tiny in-test world for RaftNodes: a shared virtual clock, an in-memory network whose
// delivery the test controls (deliver, drop, duplicate, reorder, partition), a "disk" per
// node that keeps exactly what the Ready contract says is durable, a state machine per
// node, and checkers for Raft's safety properties that run after every event.
//
// Every message goes through the real wire codec (raft_wire.h) on its way.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/raft/raft_node.h"

namespace keel::raft::testing {

// What survives a crash: exactly what Readys asked to persist.
struct Disk {
    std::optional<QuorumState> quorum_state;
    std::optional<Snapshot> snapshot;
    std::vector<LogEntry> log;
};

// Applies committed entries in order; its snapshot is the list of everything applied.
struct StateMachine {
    Offset next{0};
    std::vector<LogEntry> applied;  // since the last snapshot load, plus what the load held
    Bytes serialize() const;
    static std::optional<StateMachine> load(const Snapshot& s);
    std::vector<std::string> data() const;  // payloads of data entries, in order
};

struct SimNode {
    NodeId id{0};
    bool up = false;
    std::optional<RaftNode> raft;
    Disk disk;
    StateMachine sm;
    uint64_t incarnation = 0;
    Role last_role = Role::unattached;
    RaftConfig config;    // used at every (re)start
    bool paused = false;  // no ticks, no deliveries (messages wait)
};

struct ClusterOptions {
    int voters = 3;
    int observers = 0;
    RaftConfig config;          // voters are filled in by the cluster
    // Adjusts one node's config (e.g. a huge election timeout so that another node wins).
    std::function<void(NodeId, RaftConfig&)> tweak;
    uint64_t seed = 1;
    EmptyDisk empty_disk = EmptyDisk::bootstrap;
    Duration tick_step = ms(5);
};

class Cluster {
public:
    explicit Cluster(ClusterOptions options);

    // --- Nodes
    RaftNode& raft(NodeId id);
    SimNode& node(NodeId id) { return nodes_.at(id); }
    std::vector<NodeId> ids() const;
    std::vector<NodeId> voter_ids() const { return voters_; }
    void crash(NodeId id);                     // in-memory state and in-flight messages lost
    void restart(NodeId id, EmptyDisk empty_disk = EmptyDisk::bootstrap);
    void wipe_and_restart(NodeId id, EmptyDisk empty_disk);  // disk lost, then restart
    void start_with(NodeId id, Disk disk);     // replaces the node's disk, then restarts
    void pause(NodeId id) { nodes_.at(id).paused = true; }  // a GC stall: frozen, not dead
    void resume(NodeId id);
    void flush(NodeId id) { process_ready(nodes_.at(id)); }  // after calling into raft(id)

    // --- Time
    Instant now() const { return now_; }
    // Advances time in tick_step increments, ticking every running node and delivering all
    // messages after each step.
    void run_for(Duration d);
    // Advances the clock and ticks only `id`; the caller must not deliver to the others
    // afterwards without running them (their clocks would be stale).
    void tick_node(NodeId id, Duration d);
    // Advances the clock and ticks every running node, delivering nothing.
    void advance(Duration d);

    // --- Network
    size_t in_flight() const { return network_.size(); }
    const std::vector<Message>& messages() const { return network_; }
    void deliver(size_t index);                       // one message, any order
    void drop(size_t index) { network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(index)); }
    void duplicate(size_t index) { network_.push_back(network_[index]); }
    // Delivers (in send order) until nothing is left; more than max_steps deliveries
    // without quiescence is reported as a livelock ("message storm").
    void deliver_all(size_t max_steps = 50'000);
    // Delivers in send order, one at a time, until `done()` holds; false if it never did.
    bool deliver_until(const std::function<bool()>& done, size_t max_steps = 10'000);
    // Hands `m` straight to its addressee (through the wire codec), as if just received.
    void inject(const Message& m);
    void drop_all() { network_.clear(); }
    // Messages for which the filter returns true are dropped when delivered.
    void set_drop_filter(std::function<bool(const Message&)> f) { drop_filter_ = std::move(f); }
    void isolate(NodeId id);
    void cut(NodeId a, NodeId b);  // both directions
    void heal();
    bool linked(NodeId a, NodeId b) const;

    // --- Client operations
    std::optional<NodeId> leader() const;  // the leader of the highest epoch with one
    Result<Offset> propose(NodeId on, std::string data);
    Status take_snapshot(NodeId id);       // at the node's applied offset

    // --- Checks (also run automatically after every event)
    void check_invariants();
    std::string dump() const;  // one line per node: role, epoch, leader, vote, log, hw
    const std::map<Offset, LogEntry>& committed() const { return committed_; }
    const std::map<QuorumEpoch, NodeId>& leaders_by_epoch() const { return leaders_; }
    // Every up node's state machine holds the same data entries as `committed()`.
    void expect_state_machines_agree_up_to(Offset end) const;

private:
    void process_ready(SimNode& n);
    void apply_ready(SimNode& n, Ready r);
    void apply_committed(SimNode& n, const std::vector<LogEntry>& entries);
    void check_node(SimNode& n);
    Message through_the_wire(const Message& m) const;
    uint64_t next_seed();

    ClusterOptions options_;
    std::vector<NodeId> voters_;
    std::map<NodeId, SimNode> nodes_;
    std::vector<Message> network_;
    std::set<std::pair<NodeId, NodeId>> cuts_;
    std::function<bool(const Message&)> drop_filter_;
    Instant now_{1'000'000'000};
    uint64_t seed_state_;

    std::map<QuorumEpoch, NodeId> leaders_;
    std::map<Offset, LogEntry> committed_;
};

}  // namespace keel::raft::testing
