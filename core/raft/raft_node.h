// RaftNode: KRaft (KIP-595) as a pure state machine, in the style of etcd's raft.
//
// No I/O, no clock, no randomness of its own. Inputs:
//   tick(now)         time passes; all timers are deadlines computed from `now`
//   step(message)     an RPC arrived (request or response, see raft_types.h Body)
//   propose(record)   the leader appends a data entry
//   resign()          the leader steps down gracefully (EndQuorumEpoch)
//   snapshot_taken()  the state machine wrote a snapshot; the log before it may go
// Output: take_ready() → Ready: state to persist, log changes, messages to send,
// committed entries to apply. Ready's field comment in raft_types.h is the ordering
// contract; in short: persist (quorum state, then log) and sync BEFORE sending, apply
// last, and finish one Ready before calling into the node again.
//
// Time: the node's clock is the `now` of the latest tick (or of construction); step()
// and friends act at that time. Call tick() whenever time advances — deadlines fire only
// there. Randomized timeouts (election timeout in [t, 2t), election backoff) come from a
// SplitMix64 stream seeded by `random_seed`, which the driver draws from env::Random: the
// node's behaviour is a pure function of its inputs.
//
// Roles (KIP-595, KIP-996): unattached (epoch known, no leader), prospective (asking for
// pre-votes; the epoch is not bumped), candidate, leader, follower (fetching from a known
// leader). Observers (nodes not in RaftConfig::voters) are only ever unattached or
// follower: they fetch, never vote, never count toward the high watermark.
//
// Guarantees (checked by tests/raft): at most one leader per epoch; a vote is granted at
// most once per epoch, only to a candidate whose log (last epoch, end offset) is at least
// as up to date, and is persisted before the response is sent; the high watermark only
// covers entries held by a majority of voters and never an entry of an older epoch on its
// own (the leader first commits its LeaderChange entry — Raft's figure 8); committed
// entries are never truncated and appear in every later leader's log.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/raft/raft_log.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

class RaftNode {
public:
    // Builds a node from what the driver read from disk. An empty disk (no quorum state)
    // means `empty_disk`: bootstrap → a listed voter takes part at once; rejoin → it is a
    // voter only after catching up (README.md "Empty-disk voters"). The first Ready then
    // persists the initial quorum state. Errors: Errc::corrupt (an inconsistent log),
    // Errc::invalid_argument (bad config: no voters, duplicates).
    static Result<RaftNode> create(NodeId id, RaftConfig config, Restored restored,
                                   EmptyDisk empty_disk, uint64_t random_seed, Instant now);

    // Time advanced to `now` (never backwards). Fires due timers.
    void tick(Instant now);

    // An RPC arrived. Messages not addressed to this node, responses without a matching
    // outstanding request, and malformed requests (answered with an error) change nothing.
    void step(const Message& m);

    // Leader only: appends a data entry and returns its offset. Errors: Errc::not_leader
    // (the message names the leader if known), Errc::message_too_large,
    // Errc::not_enough_replicas (uncommitted backlog at RaftConfig::uncommitted_entries_max:
    // the quorum is not keeping up; retry later).
    Result<Offset> propose(Bytes record);

    // Leader only: steps down and asks the other voters, most caught-up first, to elect a
    // successor (EndQuorumEpoch). Errors: Errc::not_leader.
    Status resign();

    // The state machine stored a snapshot of everything below id.end_offset. Requires (else
    // Errc::invalid_argument): id.end_offset <= applied_offset() and above the current
    // snapshot, and id.epoch is the epoch of entry id.end_offset-1. The leader keeps `data`
    // to serve FetchSnapshot; the log before id.end_offset may then be deleted.
    Status snapshot_taken(SnapshotId id, Bytes data);

    // Whether take_ready() would return anything.
    bool has_ready() const;
    // The earliest instant at which tick() may act (an election, fetch, check-quorum or
    // request timer, a parked fetch to answer); Instant::max() if none. A driver sleeps
    // until then or until an input arrives (raft_node_deadline.cc).
    Instant next_deadline() const;
    Ready take_ready();

    // --- Introspection (for the driver, the state machine and tests).
    NodeId id() const { return id_; }
    Role role() const { return role_; }
    QuorumEpoch epoch() const { return qs_.epoch; }
    std::optional<NodeId> leader() const { return qs_.leader_id; }
    std::optional<NodeId> voted_for() const { return qs_.voted_for; }
    const QuorumState& quorum_state() const { return qs_; }
    bool is_listed_voter() const { return listed_voter_; }
    // A listed voter that may vote and campaign (not catching up after disk loss).
    bool is_active_voter() const { return listed_voter_ && !qs_.catching_up; }
    Offset high_watermark() const { return high_watermark_; }
    Offset applied_offset() const { return applied_; }  // entries below were in `committed`
    const RaftLog& log() const { return log_; }
    const RaftConfig& config() const { return config_; }
    // Leader only: the fetch offset each voter last reported in this epoch (self: durable end).
    std::map<NodeId, std::optional<Offset>> voter_fetch_offsets() const;
    // Leader only (nullopt otherwise): what DescribeQuorum reports, as of `now` (not before
    // the latest tick). Observers that have not fetched for
    // RaftConfig::observer_session_timeout are left out (they are still tracked).
    std::optional<QuorumProgress> quorum_progress(Instant now) const;

private:
    struct Outstanding {
        protocol::ApiKey api;
        NodeId to;
        QuorumEpoch epoch;
        bool pre_vote = false;
        Offset fetch_offset{0};
        Instant deadline{};
        int32_t correlation_id = 0;
    };
    struct Progress {
        std::optional<Offset> fetch_offset;
        Instant last_fetch{};
        bool fetched_this_epoch = false;
        Offset high_watermark_sent{-1};  // what the last response told this replica
        // DescribeQuorum (KIP-836), set only by fetches at a valid position.
        std::optional<Instant> last_accepted_fetch{};
        std::optional<Instant> last_caught_up{};
        Offset leader_end_at_last_fetch{-1};  // the leader's log end at that fetch
    };
    struct ParkedFetch {
        int32_t correlation_id = 0;
        Offset fetch_offset{0};
        size_t bytes_max = 0;
        Instant deadline;
    };
    struct SnapshotDownload {
        SnapshotId id;
        Bytes data;
    };

    RaftNode(NodeId id, RaftConfig config, RaftLog log, uint64_t random_seed, Instant now);
    void restore_role();

    // Transitions (raft_node.cc).
    void become_unattached(QuorumEpoch epoch, std::optional<NodeId> voted_for);
    void become_follower(QuorumEpoch epoch, NodeId leader);
    void become_prospective();
    void become_candidate();
    void become_leader();
    void start_election();
    void leave_role();
    void persist() { qs_dirty_ = true; }

    // Elections (raft_node_election.cc).
    void send_vote_requests(bool pre_vote);
    void on_vote_request(const Message& m, const protocol::VoteRequest& req);
    void on_vote_response(const Outstanding& out, NodeId from, const protocol::VoteResponse& resp);
    bool grant_pre_vote(const protocol::VoteRequest::PartitionData& p) const;
    bool grant_vote(const protocol::VoteRequest::PartitionData& p);
    void count_vote(NodeId from, bool granted);
    void on_begin_quorum_epoch(const Message& m, const protocol::BeginQuorumEpochRequest& req);
    void on_end_quorum_epoch(const Message& m, const protocol::EndQuorumEpochRequest& req);
    bool on_leader_hint(NodeId leader, QuorumEpoch epoch);

    // Leader side of replication (raft_node_leader.cc).
    void on_fetch_request(const Message& m, const protocol::FetchRequest& req);
    void on_fetch_snapshot_request(const Message& m, const protocol::FetchSnapshotRequest& req);
    void record_fetch(NodeId replica, Offset fetch_offset);
    void record_fetch_times(Progress& p, Offset fetch_offset) const;
    ReplicaProgress replica_progress(NodeId id, const Progress& p) const;
    bool advance_high_watermark();
    void answer_parked_fetches();
    void answer_fetch(NodeId to, int32_t correlation_id, Offset fetch_offset, size_t bytes_max);
    void answer_fetch_error(NodeId to, int32_t correlation_id, protocol::ErrorCode error);
    void answer_not_leader(NodeId to, int32_t correlation_id) {
        answer_fetch_error(to, correlation_id, protocol::ErrorCode::not_leader_or_follower);
    }
    void send_begin_quorum_epoch(NodeId to);
    void tick_leader();
    std::optional<Offset> majority_fetch_offset() const;

    // Follower side of replication (raft_node_follower.cc).
    void send_fetch();
    void send_fetch_to(NodeId to);
    void send_fetch_snapshot();
    void on_fetch_response(const Outstanding& out, NodeId from, const protocol::FetchResponse& resp);
    void on_fetch_records(const protocol::FetchResponse::PartitionData& p, const Outstanding& out);
    void on_fetch_snapshot_response(const Outstanding& out, NodeId from,
                                    const protocol::FetchSnapshotResponse& resp);
    void truncate_diverging(QuorumEpoch epoch, Offset end_offset);
    void truncate_log(Offset to);
    void install_downloaded_snapshot();
    void tick_follower();
    void tick_unattached();

    // Plumbing (raft_node.cc).
    int32_t send_request(NodeId to, Body body, Outstanding out);
    void send_response(NodeId to, int32_t correlation_id, Body body);
    Duration random_duration(Duration lo, Duration hi);
    Duration random_election_timeout();
    Duration random_backoff();
    bool is_voter(NodeId n) const;
    size_t majority() const { return config_.voters.size() / 2 + 1; }
    bool heard_from_leader_recently() const;
    std::optional<protocol::ErrorCode> check_cluster_id(const std::optional<std::string>& id) const;
    void expire_outstanding();

    NodeId id_;
    RaftConfig config_;
    bool listed_voter_ = false;
    uint64_t rng_state_ = 0;
    Instant now_;

    QuorumState qs_;
    bool qs_dirty_ = false;
    Role role_ = Role::unattached;

    RaftLog log_;
    std::optional<Snapshot> snapshot_;        // latest snapshot (served when leader)
    Offset high_watermark_{0};
    Offset applied_{0};
    Offset durable_end_{0};                   // log end known durable (previous Readys)
    Offset handed_end_{0};                    // log end as of the last take_ready
    Offset unsynced_from_{0};                 // entries from here are not yet in a Ready
    std::optional<Offset> pending_truncate_;
    std::optional<Snapshot> pending_install_;
    std::optional<Offset> pending_log_start_;
    std::optional<Offset> catch_up_target_;   // a leader's high watermark to reach
    std::vector<Message> outbox_;

    std::map<int32_t, Outstanding> outstanding_;
    int32_t next_correlation_id_ = 0;

    // Timers.
    Instant election_deadline_ = Instant::max();  // unattached voter, prospective, candidate
    Instant backoff_until_ = Instant::max();      // prospective/candidate after losing
    Instant fetch_deadline_ = Instant::max();     // follower: leader silent → election
    Instant last_leader_contact_{};               // follower: last good fetch response
    Instant next_fetch_at_ = Instant::max();      // follower/observer: when to (re)send
    size_t discovery_index_ = 0;                  // observer: voter to ask next

    // Prospective/candidate.
    std::set<NodeId> granted_;
    std::set<NodeId> rejected_;

    // Follower.
    std::optional<int32_t> fetch_in_flight_;
    std::optional<SnapshotDownload> download_;

    // Leader.
    Offset epoch_start_offset_{0};
    std::map<NodeId, Progress> voter_progress_;
    std::map<NodeId, Progress> observer_progress_;
    std::map<NodeId, ParkedFetch> parked_;
    std::set<NodeId> begin_quorum_acked_;
    Instant begin_quorum_resend_at_ = Instant::max();
};

}  // namespace keel::raft
