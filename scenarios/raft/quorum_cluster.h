// QuorumCluster: a KRaft metadata quorum in the simulator, for the scenarios in
// scenarios/raft/ and the tests in tests/raft_driver/. Controllers c1..cN are the voters
// (node ids 1..N), brokers b1..bM the observers (ids 101..); each runs a RaftDriver over
// its simulated Env with a RecordingStateMachine, every driver reports to one RaftMonitor,
// and each controller runs a proposer fiber that writes records while it leads.
//
// The cluster is "formatted" on first start (meta.properties written), as `keel format`
// would: a node whose disk is later wiped comes back unformatted (rejoin). A node whose
// driver stops on a disk error is restarted by a supervisor after a second, as systemd
// would restart a crashed process.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/raft/raft_driver.h"
#include "sim/checkers/raft_monitor.h"
#include "scenarios/exit_restarter.h"
#include "sim/scenario.h"

namespace keel::scenarios {

// The state machine the scenarios use until the metadata image replaces it: it records
// how many data entries it applied and a digest chained over them. Snapshots hold the
// count and digest; restoring one must give the digest replaying gave (checked through
// the cluster's DigestLedger).
class DigestLedger;
class RecordingStateMachine final : public raft::StateMachine {
public:
    explicit RecordingStateMachine(DigestLedger* ledger = nullptr) : ledger_(ledger) {}
    void apply(Offset offset, QuorumEpoch epoch, ByteView record) override;
    Bytes take_snapshot(Offset end_offset) override;
    Status restore_snapshot(Offset end_offset, ByteView data) override;
    uint64_t count() const { return count_; }
    uint64_t digest() const { return digest_; }

private:
    DigestLedger* ledger_;
    uint64_t count_ = 0;
    uint64_t digest_ = 0;
};

// Digest after each applied data entry, shared by every node: replays and snapshot
// restores must agree with it (P14: "applying a snapshot at n = replaying 0..n").
class DigestLedger {
public:
    void after_apply(Offset offset, uint64_t count, uint64_t digest);
    void on_restore(Offset end_offset, uint64_t count, uint64_t digest);
    const std::vector<std::string>& violations() const { return violations_; }

private:
    std::map<Offset, std::pair<uint64_t, uint64_t>> after_;  // data offset → (count, digest)
    std::vector<std::string> violations_;
};

struct QuorumOptions {
    int controllers = 3;
    int brokers = 3;
    raft::RaftConfig config;               // voters and cluster id are filled in
    size_t snapshot_interval_entries = 200;
    int64_t segment_bytes = 64 << 10;      // small, so that snapshots delete segments
    bool protect_empty_disk = true;
    bool bug_forget_vote = false;
    Duration propose_interval = ms(20);    // a proposer's pause between records
    Duration disk_latency_max = ms(2);     // per disk op, so crashes land mid-write
    Duration restart_after_disk_error = ms(1000);
    // Adjusts one node's Raft config (e.g. slow timers, so that it never campaigns first).
    std::function<void(const std::string& node, raft::RaftConfig&)> tweak;
};

// Kafka's timers, or seed-randomized ones within bounds (quorum-chaos).
raft::RaftConfig default_raft_config();
raft::RaftConfig randomized_raft_config(env::Random& rng, std::string& description);

// Shared, because the World outlives the scenario function: node mains and control
// fibers hold the cluster until the World has unwound them.
class QuorumCluster : public std::enable_shared_from_this<QuorumCluster> {
public:
    static std::shared_ptr<QuorumCluster> create(sim::ScenarioContext& ctx, QuorumOptions options);
    QuorumCluster(sim::ScenarioContext& ctx, QuorumOptions options);  // use create()
    ~QuorumCluster();

    sim::World& world() { return world_; }
    sim::RaftMonitor& monitor() { return monitor_; }
    const QuorumOptions& options() const { return options_; }
    const std::vector<std::string>& controllers() const { return controllers_; }
    const std::vector<std::string>& brokers() const { return brokers_; }
    std::vector<std::string> nodes() const;
    NodeId id_of(const std::string& name) const;

    // The running driver of a node (nullptr if down, paused drivers included).
    raft::RaftDriver* driver(const std::string& name);
    std::optional<raft::RaftStatus> status(const std::string& name);
    // The running leader with the highest epoch, if any.
    std::optional<std::string> leader();
    // "@leader", "@follower" (a running voter that is not the leader), "@controller", "@broker".
    sim::RoleResolver resolver();

    void set_proposing(bool on) { proposing_ = on; }
    uint64_t proposals_committed() const { return proposals_ok_; }
    uint64_t proposals_failed() const { return proposals_failed_; }

    // Every voter and broker running and applied up to the leader's high watermark
    // (within `slack` entries, for a cluster that is still taking writes).
    bool caught_up(std::string& why, int64_t slack = 0);
    // Stops proposing, then waits (up to `limit`) for a leader and for everyone to catch
    // up; records "not live after faults stopped: ..." otherwise. Returns the time taken.
    std::optional<Duration> await_quiet_liveness(Duration limit);
    // Progress after a heal: waits (up to `limit`, proposers still writing) until the
    // committed end moves past where it was at the call and a proposal is acknowledged;
    // records "not live after faults stopped: no commit ..." otherwise (a leader whose
    // high watermark never moves is not live, however caught up its followers look).
    bool await_commit_after_heal(Duration limit);
    // Monitor and ledger violations into the context, plus the common metrics.
    void report();

private:
    struct Slot;
    void start();
    void node_main(const std::string& name, env::Env& env);
    void proposer(Slot& slot, raft::RaftDriver& driver, env::Env& env);

    sim::ScenarioContext& ctx_;
    sim::World& world_;
    QuorumOptions options_;
    sim::RaftMonitor monitor_;
    DigestLedger ledger_;
    ExitRestarter restarter_;  // restarts a node whose driver stopped on a disk error
    std::vector<std::string> controllers_;
    std::vector<std::string> brokers_;
    std::map<NodeId, env::Address> addresses_;
    std::map<std::string, std::unique_ptr<Slot>> slots_;
    bool proposing_ = true;
    uint64_t proposals_ok_ = 0;
    uint64_t proposals_failed_ = 0;
};

// create() installs the `keel viz quorum` probe (scenarios/quorum_probe.h) for it.
void install_quorum_probe(sim::ScenarioContext& ctx, const std::shared_ptr<QuorumCluster>& cluster);

}  // namespace keel::scenarios
