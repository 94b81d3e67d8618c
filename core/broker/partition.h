// Partition: one replica of one partition on one broker — its PartitionLog, its role
// (leader or follower) at a leader epoch, and, on the leader, what it knows of every
// follower (log end, last caught-up time, broker epoch) to keep the high watermark and the
// ISR. Kafka's `Partition` + `Replica`, for one broker.
//
//   image (PartitionRecord/PartitionChangeRecord) ──apply()──▶ role, epochs, ISR
//   Produce ──append_produce()──▶ log ──(followers fetch)──▶ update_follower() ──▶ HW
//   replica fetcher ──append_as_follower()──▶ log, HW = min(leader's HW, log end)
//
// High watermark (leader): the minimum log end over the leader and the followers in the
// *maximal* ISR (the committed ISR plus a replica whose addition is in flight, KIP-497), never
// above the leader's log end, and never moving back within a leader epoch. A new leader
// starts from its own high watermark (it may lag; followers' fetches advance it).
//
// ISR (leader): a follower is caught up at a fetch that reaches the leader's log end, or the
// log end the leader had at that follower's previous fetch (Kafka's rule). An ISR member
// not caught up for replica.lag.time.max.ms is out of sync; a replica not in the ISR whose
// log end reaches the high watermark and the start of the leader's epoch may join. The
// change goes to the controller as AlterPartition (one in flight per partition) and takes
// effect when the image carries it; until then it is pending and its additions count for
// the high watermark (a change that got no answer may still be applied: it is sent again).
//
// Waiters (acks=all produces, delayed fetches) park on changed(): notified on every append,
// high-watermark move, and role or epoch change.
//
// Single-node, fiber-confined: all calls from one node's fibers.
#pragma once

#include <compare>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/broker/batch_validation.h"
#include "core/broker/broker_config.h"
#include "core/broker/producer_state.h"
#include "core/controller/metadata_image.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/log/partition_log.h"

namespace keel::broker {

using protocol::Uuid;

struct TopicPartitionName {
    std::string topic;
    int32_t partition = 0;
    auto operator<=>(const TopicPartitionName&) const = default;
    std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

enum class ReplicaRole : uint8_t { none, leader, follower };
const char* role_name(ReplicaRole r);

// What the leader knows of one follower.
struct FollowerState {
    Offset log_end{-1};                 // -1: no fetch in this leader epoch yet
    Instant last_caught_up{};
    Instant last_fetch{};
    Offset leader_end_at_last_fetch{-1};
    BrokerEpoch broker_epoch{-1};
    Offset log_start{-1};  // its log start offset, from its fetches (v5+); -1: not told
};

// The DivergingEpoch answer for a follower's fetch: the largest epoch <= the follower's last
// fetched epoch and where it ends in the leader's log.
struct Divergence {
    LeaderEpoch epoch{-1};
    Offset end_offset{-1};
};

// What a Produce to this leader did.
struct ProduceOutcome {
    protocol::ErrorCode error = protocol::ErrorCode::none;
    std::string reason;
    Offset base_offset{-1};
    Offset last_offset{-1};
    int64_t log_append_time_ms = -1;
    bool duplicate = false;  // a retried batch already in the log: answered with its offsets
    bool duplicate_appended = false;  // the same, appended again (planted bug only)
};

// An ISR change the leader wants the controller to make.
struct IsrChange {
    std::vector<NodeId> new_isr;
    std::vector<BrokerEpoch> broker_epochs;  // per member, -1 where unknown (KIP-903)
    LeaderEpoch leader_epoch{0};
    PartitionEpoch partition_epoch{0};
    int8_t leader_recovery_state = 0;
};

class Partition {
public:
    Partition(env::Env& env, const BrokerConfig& config, TopicPartitionName tp, Uuid topic_id,
              std::unique_ptr<log::PartitionLog> log);
    ~Partition();
    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;

    const TopicPartitionName& tp() const { return tp_; }
    const Uuid& topic_id() const { return topic_id_; }
    log::PartitionLog& log() { return *log_; }
    const log::PartitionLog& log() const { return *log_; }

    // Applies the partition's state from the metadata image: becomes leader or follower at
    // its leader epoch (or stays, updating the ISR). Errors: the log's (disk).
    Status apply(const controller::PartitionState& state, const controller::MetadataImage& image);

    ReplicaRole role() const { return role_; }
    LeaderEpoch leader_epoch() const { return leader_epoch_; }
    PartitionEpoch partition_epoch() const { return partition_epoch_; }
    NodeId leader() const { return leader_; }
    const std::vector<NodeId>& isr() const { return isr_; }
    const std::vector<NodeId>& replicas() const { return replicas_; }
    Offset high_watermark() const { return high_watermark_; }
    Offset log_end() const { return log_->log_end_offset(); }
    Offset log_start() const { return log_->log_start_offset(); }
    // The ISR used for the high watermark: committed ISR plus a pending addition.
    std::vector<NodeId> maximal_isr() const;
    const std::map<NodeId, FollowerState>& followers() const { return followers_; }

    // ---- leader
    // Checks leadership and the client's leader epoch (-1: unchecked). NONE or
    // NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH.
    Errc check_leader(int32_t client_leader_epoch) const;
    // A producer's records, the whole leader path of Kafka's Produce for one partition:
    // validation (batch_validation.h), the idempotent producer's sequence check, the append,
    // the producer state update — atomic against other produces to this partition.
    ProduceOutcome append_produce(ByteView records, const ValidationConfig& validation);
    // Rebuilds the idempotent producers' state from the newest snapshot and the log after
    // it (on open, and after a truncation).
    Status rebuild_producer_state();
    const ProducerStateManager& producer_state() const { return producers_; }
    // Expires producers idle for producer.id.expiration.ms.
    void expire_producers();
    // A follower's fetch reached the leader: its fetch offset acknowledges everything below.
    // True when the high watermark moved.
    // Its log start offset (-1: not sent) is kept for low_watermark(); a rise wakes waiters.
    bool update_follower(NodeId follower, BrokerEpoch broker_epoch, Offset fetch_offset,
                         Offset log_start = Offset(-1));
    // KIP-107's low watermark: the smallest log start offset of the leader and its ISR
    // members (a member that has not told its log start counts as 0).
    Offset low_watermark() const;
    // The follower's last fetched epoch and fetch offset disagree with this log: where to
    // truncate to. nullopt when they agree.
    std::optional<Divergence> divergence(int32_t last_fetched_epoch, Offset fetch_offset) const;
    // The ISR change to send now (shrink lagging members, add caught-up replicas), if any,
    // and marks it in flight.
    std::optional<IsrChange> isr_change_to_send(const controller::MetadataImage& image);
    // The controller refused the in-flight change and said the state is unchanged
    // (INELIGIBLE_REPLICA, INVALID_REQUEST: Kafka's OPERATION_NOT_ATTEMPTED family): the
    // ISR is the committed one again, and the next change may go.
    void isr_change_refused(const IsrChange& c);
    // The change's fate is unknown (no controller, a timeout, a controller that failed to
    // commit it, which a later one may still do): it stays pending, its additions still
    // count for the high watermark, and isr_change_to_send() sends it again. Kafka's
    // AlterPartitionManager retries likewise; the pending state only ends with an answer
    // or with the image carrying a newer partition epoch.
    void isr_change_unknown(const IsrChange& c);

    // ---- follower
    // `fetched_at`: the leader epoch the fetch was sent in (-1: unchecked). Errors
    // not_leader / fenced_leader_epoch when the role or epoch changed meanwhile (the answer
    // is stale and dropped), cancelled when the broker is stopping, or the log's.
    Result<log::AppendResult> append_as_follower(ByteView records, Offset leader_high_watermark,
                                                 LeaderEpoch fetched_at = LeaderEpoch(-1));
    // Truncates for a DivergingEpoch answer (epoch, end offset) from the leader; nothing
    // when this replica is no longer a follower at `fetched_at` (-1: unchecked).
    Status truncate_for_divergence(const Divergence& d, Offset leader_log_start,
                                   LeaderEpoch fetched_at = LeaderEpoch(-1));
    // The leader's log starts past our log end: empty the log to start there, and the
    // producers' state with it. Nothing when no longer a follower at `fetched_at`.
    Status restart_at_leader_log_start(Offset leader_log_start, LeaderEpoch fetched_at);
    // The leader moved its log start (DeleteRecords, retention): the follower's moves up to
    // it too, never past its own high watermark (Kafka's maybeIncrementLogStartOffset).
    Status follow_leader_log_start(Offset leader_log_start);
    // The epoch of the last batch in the log (the next fetch's LastFetchedEpoch), -1 if none.
    int32_t last_fetched_epoch() const;
    void set_follower_high_watermark(Offset leader_high_watermark);

    // Parks until something changes (append, HW, role, epoch) or the deadline.
    env::WakeReason wait_change(Instant deadline) { return changed_.wait(deadline); }
    void notify() { changed_.notify_all(); }

    // Closes the log (flushes and writes checkpoints).
    Status close();

private:
    void become_leader(const controller::PartitionState& state);
    Status become_follower(const controller::PartitionState& state);
    void maybe_advance_high_watermark();
    void trace_append(const ValidatedBatches& v, const ProduceOutcome& o);
    void set_high_watermark(Offset hw);
    bool follower_at(LeaderEpoch fetched_at) const {
        return role_ == ReplicaRole::follower && (fetched_at.value() < 0 || fetched_at == leader_epoch_);
    }

    env::Env& env_;
    const BrokerConfig& config_;
    TopicPartitionName tp_;
    Uuid topic_id_;
    std::unique_ptr<log::PartitionLog> log_;
    ReplicaRole role_ = ReplicaRole::none;
    LeaderEpoch leader_epoch_{-1};
    PartitionEpoch partition_epoch_{-1};
    NodeId leader_{-1};
    std::vector<NodeId> replicas_;
    std::vector<NodeId> isr_;
    int8_t leader_recovery_state_ = 0;
    Offset high_watermark_{0};
    Offset epoch_start_offset_{0};  // where this leader's epoch starts in its log
    std::map<NodeId, FollowerState> followers_;
    std::optional<IsrChange> in_flight_;
    bool in_flight_resend_ = false;  // in_flight_ got no answer: send it again
    ProducerStateManager producers_;
    // One append at a time, leader's or follower's, and no role change in the middle of one
    // (Kafka's leaderIsrUpdateLock): a produce's check + append + update, a follower's
    // append + producer-state update or truncation, apply()'s role change.
    env::Mutex append_mutex_;
    env::WaitQueue changed_;
    // Appends fail on the disk (full, or an I/O error): logged once when it starts and once
    // when appends succeed again, not once per refused produce.
    bool append_failing_ = false;
};

}  // namespace keel::broker
