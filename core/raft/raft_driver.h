// RaftDriver: runs a RaftNode (the pure KRaft state machine, raft_node.h) on one node's
// fibers, over env::Env only — its disk (RaftStorage), its network (Kafka-framed RPCs)
// and its clock — and feeds committed entries to a StateMachine (state_machine.h).
//
//   MyImage image;                                  // implements raft::StateMachine
//   raft::RaftDriver driver(env, {.id = NodeId(1), .config = config,
//                                 .voter_addresses = addresses, .listen = addresses[1],
//                                 .state_machine = &image});
//   env.executor().spawn("writer", [&] { auto f = driver.propose(bytes); f.get(); });
//   Status stopped = driver.run();                  // blocks; returns on a disk error or stop()
//
// Threading: everything runs on the node's fibers; every public method must be called
// from a fiber (or timer) of that node. run() is called once.
//
// The loop (one fiber, "raft"): sleep until the RaftNode's next deadline or an input (an
// RPC, a proposal, a resignation), tick, step, then handle the Ready in the order
// raft_types.h documents — quorum state written and synced, snapshot installed, log
// truncated, entries appended and synced, log start moved — and only then send its
// messages and apply its committed entries. Every `snapshot_interval_entries` applied
// entries it asks the StateMachine for a snapshot, stores it, and lets the log before it go.
//
// Network: a listener (voters); one outbound connection per peer voter, reconnected with
// jittered exponential backoff; requests go out on it and their responses come back on
// it, matched by correlation id; requests from a peer are answered on the connection they
// came on. Frames are Kafka's (size, API key, version, correlation id, client id
// "raft-<node id>"; core/protocol). A malformed, truncated, oversized or unexpected frame
// is logged with its reason and closes that connection only.
//
// DescribeQuorum (v0-v2) is an operator's question, not a peer's RPC: it is accepted from
// any client id, answered at once from the node's state (raft_describe.h) with the clock's
// wall time, and leaves the connection's peer identity alone.
//
// Disk loss (RaftStorage "meta.properties"): a data root with a quorum-state file
// restarts from it; one with meta.properties but no quorum state is a freshly formatted
// node (EmptyDisk::bootstrap); one with neither has lost its disk (EmptyDisk::rejoin: a
// listed voter catches up before it votes again — KIP-853's hazard). A corrupt
// quorum-state file is treated like a lost vote: the node rejoins as catching up.
//
// Disk errors: the driver stops serving (closes its connections, fails its proposals)
// and run() returns the error, logged; it never acts on state it could not persist. The
// caller (a supervisor, or the simulator's node main) may start a new driver on the disk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/frame.h"
#include "core/raft/raft_node.h"
#include "core/raft/raft_observer.h"
#include "core/raft/raft_storage.h"
#include "core/raft/state_machine.h"

namespace keel::raft {

struct RaftDriverOptions {
    NodeId id{-1};
    RaftConfig config;                               // config.voters: the static voter set
    std::map<NodeId, env::Address> voter_addresses;  // where every voter listens
    std::optional<env::Address> listen;              // this node's listener (voters need one)
    std::string data_root;                           // on env.disk(); "" = its root
    StateMachine* state_machine = nullptr;           // required; outlives the driver
    RaftObserver* observer = nullptr;                // the simulator's monitor; null in production

    size_t snapshot_interval_entries = 4096;  // applied entries between snapshots (0 = never)
    int64_t segment_bytes = 8 << 20;          // metadata log segment size
    Duration connect_timeout = ms(1000);
    Duration reconnect_backoff_min = ms(50);
    Duration reconnect_backoff_max = ms(1000);
    size_t frame_bytes_max = 8 << 20;         // larger inbound frames close the connection
    size_t inbox_max = 1024;                  // inputs waiting for the raft loop
    size_t peer_queue_max = 512;              // requests waiting for a peer connection
    size_t reply_queue_max = 512;             // responses waiting on one inbound connection
    size_t inbound_connections_max = 64;
    size_t pending_proposals_max = 10'000;
    // The listener name DescribeQuorum v2 reports for every voter address (Kafka's
    // controller.listener.names).
    std::string listener_name = "CONTROLLER";

    // Test only: what a node does after losing its disk. true (production) = rejoin as
    // catching up; false = bootstrap as if the cluster were new (the KIP-853 hazard the
    // quorum-disk-loss scenario demonstrates).
    bool protect_empty_disk = true;
    // Test only, planted bug (property_tests/negative): on restart, forget the vote the
    // quorum-state file holds, so that the node may vote twice in one epoch.
    bool bug_forget_vote = false;
};

// A point-in-time view for monitors, `keel viz quorum` and tests.
struct RaftStatus {
    NodeId id{-1};
    bool running = false;                 // run() is serving
    bool voter = false;                   // listed in the voter set
    bool catching_up = false;             // a voter back from disk loss, not yet voting
    Role role = Role::unattached;
    QuorumEpoch epoch{0};
    std::optional<NodeId> leader;
    std::optional<NodeId> voted_for;
    Offset log_start{0};
    Offset log_end{0};
    Offset high_watermark{0};
    Offset applied{0};
    std::optional<SnapshotId> snapshot;
    std::vector<NodeId> voters;
    std::map<NodeId, std::optional<Offset>> voter_fetch_offsets;  // leader only
    uint64_t elections_won = 0;           // this incarnation
    std::string failure;                  // why run() stopped, if it did
};

class RaftDriver {
public:
    RaftDriver(env::Env& env, RaftDriverOptions options);
    ~RaftDriver();
    RaftDriver(const RaftDriver&) = delete;
    RaftDriver& operator=(const RaftDriver&) = delete;

    // Recovers from disk, starts the listener and peer fibers, and runs the raft loop on
    // the calling fiber until stop() or a fatal error (disk, corrupt storage). Returns ok
    // after stop(); every helper fiber has finished when it returns.
    Status run();
    // Asks run() to return. Callable from any fiber of the node.
    void stop();

    // Appends `record` if this node leads. The future completes with the entry's offset
    // once it is committed, or with an error: Errc::not_leader (not the leader, or
    // leadership was lost before the commit — the record may still be committed later by
    // the next leader: the outcome is unknown), Errc::message_too_large,
    // Errc::not_enough_replicas (backlog full), Errc::closed (the driver stopped).
    env::Future<Offset> propose(Bytes record);
    // Leader only: step down and let the most caught-up voter take over.
    void resign();

    RaftStatus status() const { return status_; }
    bool running() const { return status_.running; }
    env::Env& env() { return env_; }
    const RaftDriverOptions& options() const { return options_; }

private:
    struct Input;
    struct Peer;
    struct Inbound;
    struct Pending;

    // Start and stop (raft_driver.cc).
    Status start();
    void buggify_knobs();
    Result<Restored> recover(EmptyDisk& empty_disk, RecoveryInfo& info);
    Status raft_loop();
    void shutdown(const std::string& why);
    void spawn_helper(std::string name, std::function<void()> fn);

    // The Ready (raft_driver_ready.cc).
    Status handle_input(Input in);
    Status process_ready();
    Status persist_ready(Ready& r);
    Status install_snapshot(const Snapshot& s);
    void apply_committed(const std::vector<LogEntry>& entries);
    Status maybe_snapshot();
    void after_ready();
    void fail_pending(Errc code, const std::string& why);
    void report_leadership();
    void update_status();

    // The network (raft_driver_net.cc).
    void start_network();
    void accept_loop();
    void inbound_reader(std::shared_ptr<Inbound> in);
    void inbound_writer(std::shared_ptr<Inbound> in);
    void peer_loop(Peer& p);
    void outbound_reader(Peer& p, std::shared_ptr<env::Connection> conn, uint64_t generation);
    void send(Message m);
    void trace_frame(const std::string& label);
    void close_network();
    void reject(const std::string& who, const std::string& why);
    Result<Bytes> answer_describe_quorum(const protocol::RequestFrame& frame);

    env::Env& env_;
    RaftDriverOptions options_;
    std::string client_id_;
    std::unique_ptr<RaftStorage> storage_;
    std::optional<RaftNode> node_;
    RaftStatus status_;

    std::unique_ptr<env::Channel<Input>> inbox_;
    std::map<Offset, Pending> pending_;
    QuorumEpoch pending_epoch_{0};
    std::optional<QuorumState> persisted_qs_;
    QuorumEpoch reported_leader_epoch_{-1};
    Offset reported_high_watermark_{-1};
    Offset last_snapshot_end_{0};
    bool stopping_ = false;

    std::unique_ptr<env::Listener> listener_;
    std::map<NodeId, std::unique_ptr<Peer>> peers_;
    std::map<uint64_t, std::shared_ptr<Inbound>> inbound_;
    std::map<std::pair<NodeId, int32_t>, uint64_t> reply_routes_;  // (peer, correlation) → connection
    uint64_t next_connection_id_ = 1;
    size_t helpers_ = 0;
    env::WaitQueue helpers_done_;
    env::Event stop_event_;  // set once stopping: wakes backoff sleeps
};

// The client id a driver puts in its request headers, and its inverse.
std::string raft_client_id(NodeId id);
std::optional<NodeId> parse_raft_client_id(const std::optional<std::string>& client_id);

}  // namespace keel::raft
