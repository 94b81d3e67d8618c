// The vocabulary of core/raft: configuration, the persisted quorum state, log entries,
// snapshots, the Message envelope around KRaft RPCs, and the Ready batch a RaftNode hands
// to its driver. See raft_node.h for the contracts and README.md for the design.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/types.h"
#include "core/protocol/fetch.h"
#include "core/protocol/kraft_messages.h"

namespace keel::raft {

// The KRaft metadata log is partition 0 of this topic (topic id protocol::metadata_topic_id).
inline constexpr std::string_view metadata_topic_name = "__cluster_metadata";
inline constexpr int32_t metadata_partition = 0;

// Tunables. Defaults are Kafka's (QuorumConfig); the simulator may randomize them.
struct RaftConfig {
    std::vector<NodeId> voters;  // the static voter set; every node is given the same one
    std::optional<std::string> cluster_id;  // checked on every RPC when set

    Duration election_timeout = ms(1000);      // randomized in [t, 2t)
    Duration fetch_timeout = ms(2000);         // follower: leader silent this long → election
    Duration election_backoff_max = ms(1000);  // after a lost election, wait up to this
    Duration request_timeout = ms(2000);       // an unanswered request is given up
    Duration retry_backoff = ms(20);           // pause before retrying a failed fetch
    Duration fetch_max_wait = ms(500);         // leader parks an empty fetch this long
    // Leader without fetches from a majority for this long resigns. Kafka: 1.5 × fetch timeout.
    Duration check_quorum_timeout = ms(3000);
    bool pre_vote = true;  // KIP-996

    size_t fetch_bytes_max = 1 << 20;          // records per fetch response (≥ 1 entry)
    size_t snapshot_chunk_bytes_max = 1 << 20; // bytes per FetchSnapshot response
    size_t record_bytes_max = 1 << 20;         // one proposed record
    size_t uncommitted_entries_max = 10'000;   // propose() refuses beyond this backlog
    size_t apply_entries_max = 1'024;          // committed entries per Ready
    size_t observers_max = 1'024;              // observers the leader tracks progress for
    // DescribeQuorum lists an observer only if it fetched within this long (Kafka's
    // LeaderState.OBSERVER_SESSION_TIMEOUT_MS).
    Duration observer_session_timeout = ms(300'000);
    size_t outstanding_requests_max = 4'096;   // requests awaiting a response

    // Test only, planted bug (property_tests/negative/raft_figure8.cc): the leader commits
    // entries of earlier epochs by counting replicas, before its own epoch's first entry
    // is on a majority (Raft's figure 8). Never set outside that test.
    bool bug_commit_by_counting_older_epochs = false;
    // Test only, planted bug (property_tests/negative/liveness_checks.cc): a leader never
    // advances its high watermark, so nothing commits while everyone looks caught up.
    bool bug_high_watermark_never_moves = false;
};

// Persisted before anything that depends on it is sent (Kafka's quorum-state file).
struct QuorumState {
    QuorumEpoch epoch{0};
    std::optional<NodeId> voted_for;  // the vote granted in `epoch`, if any
    std::optional<NodeId> leader_id;  // the leader of `epoch`, if known
    // Disk-loss guard (README.md "Empty-disk voters"): set when a listed voter starts on
    // an empty disk outside cluster bootstrap. While set the node neither votes nor
    // campaigns; it is cleared once its durable log reaches a leader's high watermark.
    bool catching_up = false;
    bool operator==(const QuorumState&) const = default;
};

// The Kafka control-record type of an entry; data entries are the state machine's.
enum class EntryKind : uint8_t { data = 0, leader_change = 2 };

struct LogEntry {
    Offset offset{0};
    QuorumEpoch epoch{0};
    EntryKind kind = EntryKind::data;
    Bytes payload;
    bool operator==(const LogEntry&) const = default;
};

// A snapshot covers every entry below end_offset; epoch is the epoch of entry end_offset-1.
struct SnapshotId {
    Offset end_offset{0};
    QuorumEpoch epoch{0};
    auto operator<=>(const SnapshotId&) const = default;
};

struct Snapshot {
    SnapshotId id;
    Bytes data;  // the state machine's serialized state; opaque to Raft
    bool operator==(const Snapshot&) const = default;
};

using Body = std::variant<protocol::VoteRequest, protocol::VoteResponse,
                          protocol::BeginQuorumEpochRequest, protocol::BeginQuorumEpochResponse,
                          protocol::EndQuorumEpochRequest, protocol::EndQuorumEpochResponse,
                          protocol::FetchRequest, protocol::FetchResponse,
                          protocol::FetchSnapshotRequest, protocol::FetchSnapshotResponse>;

// What a leader knows of one replica's replication (DescribeQuorum, KIP-595/KIP-836).
// Times are the leader's monotonic clock; the wire turns them into wall-clock ms.
struct ReplicaProgress {
    NodeId id{-1};
    // The leader's own durable log end for itself; a follower's or observer's fetch offset
    // from its latest accepted fetch in this epoch. nullopt: it has not fetched yet.
    std::optional<Offset> log_end_offset;
    std::optional<Instant> last_fetch;      // latest accepted fetch (the leader: now)
    // KIP-836: the latest time the replica was known to hold the leader's whole log — the
    // time of a fetch at or past the leader's log end, or of the previous fetch when this
    // one reached the log end the leader had then (the leader: now).
    std::optional<Instant> last_caught_up;
    bool operator==(const ReplicaProgress&) const = default;
};

// A leader's view of its quorum (RaftNode::quorum_progress).
struct QuorumProgress {
    NodeId leader_id{-1};
    QuorumEpoch epoch{0};
    // nullopt until established: the leader has committed an entry of its own epoch.
    std::optional<Offset> high_watermark;
    std::vector<ReplicaProgress> voters;     // every voter, by ascending id, the leader too
    std::vector<ReplicaProgress> observers;  // by ascending id, fetched recently
};

// One RPC between two nodes. A response carries the correlation id of its request; the
// driver keeps it when it moves the message over the wire (raft_wire.h).
struct Message {
    NodeId from{-1};
    NodeId to{-1};
    int32_t correlation_id = 0;
    Body body;
};

bool is_request(const Body& b);
protocol::ApiKey api_key_of(const Body& b);
std::string describe(const Message& m);  // one line for traces and test failures

// What the driver must do after a step/tick/propose, in this order:
//  1. quorum_state: write and sync (Kafka's quorum-state file).
//  2. install_snapshot: store it; the log becomes empty, starting at its end offset; the
//     state machine loads it (before applying anything below).
//  3. truncate_to: delete log entries at offsets >= this.
//  4. append: append these entries (contiguous, starting at the log end), then sync the log.
//  5. log_start: entries below may be deleted (a snapshot covers them); no sync needed.
//  6. messages: send. Only now: everything above must be durable first, since messages
//     acknowledge it (votes, fetch offsets, fetch responses carrying the entries).
//  7. committed: apply to the state machine, in order (data and control entries alike).
// The driver finishes a Ready before calling into the node again (step/tick/propose/
// resign/snapshot_taken/take_ready).
struct Ready {
    std::optional<QuorumState> quorum_state;
    std::optional<Snapshot> install_snapshot;
    std::optional<Offset> truncate_to;
    std::vector<LogEntry> append;
    std::optional<Offset> log_start;
    std::vector<Message> messages;
    std::vector<LogEntry> committed;

    bool empty() const {
        return !quorum_state && !install_snapshot && !truncate_to && append.empty() &&
               !log_start && messages.empty() && committed.empty();
    }
};

// What the driver read back from disk at start.
struct Restored {
    std::optional<QuorumState> quorum_state;  // nullopt: the disk is empty
    std::optional<Snapshot> snapshot;         // the latest snapshot, if any
    std::vector<LogEntry> log;                // entries from the snapshot's end (or 0)
};

// What an empty disk means at start (Restored::quorum_state == nullopt).
enum class EmptyDisk {
    bootstrap,  // the cluster is being formed: a listed voter votes from the start
    rejoin,     // the cluster exists and this disk was lost/replaced: catch up first
};

enum class Role : uint8_t { unattached, prospective, candidate, leader, follower };
std::string_view role_name(Role r);

}  // namespace keel::raft
