// ConsumerCoordinator: the consumer's side of Kafka's classic group protocol (the Java
// client's ConsumerCoordinator), used by client::Consumer when ConsumerConfig::group_id is
// set. Applications use it through Consumer (subscribe, poll, commit_sync, ...).
//
// - Coordinator and offsets go through a GroupChannel (group_channel.h, shared with KIP-848's
//   membership); this class gives it the generation and member id and its error reactions.
// - Coordinator: FindCoordinator (key type 0; v0-v3 a single key, v4+ the coordinator_keys
//   batch) to any broker; COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR / transport errors on
//   any group request forget the coordinator and the next step finds it again. The
//   coordinator gets its own connection (as Java's clients do), so heartbeats never queue
//   behind a long Fetch.
// - Joining (inside poll): JoinGroup with one protocol per partition_assignment_strategy
//   (ConsumerProtocolSubscription: topics, owned partitions, generation);
//   MEMBER_ID_REQUIRED → join again with the given id; then SyncGroup, where the leader
//   runs the assignor the coordinator chose over the members' subscriptions with partition
//   counts from the metadata. An eager rebalance (or a join that owns nothing) runs inside
//   poll, which blocks until it completes (bounded by max_poll_interval +
//   request_timeout); without a coordinator found by its deadline, a poll returns no
//   records and the next one looks again.
// - A cooperative rebalance of a member that owns partitions does not block poll (as
//   Java's client, which sends the join asynchronously and completes it over later polls):
//   the JoinGroup/SyncGroup exchange runs on a join fiber while poll keeps fetching the
//   partitions the member owns; the first poll after the SyncGroup answer applies the new
//   assignment on the poll fiber (listener callbacks included). The join fiber has a
//   connection of its own (the coordinator answers a connection's requests in order, and a
//   JoinGroup waits for the whole group), so commits go on meanwhile: under the old
//   generation while the coordinator prepares the rebalance, and between the JoinGroup and
//   the SyncGroup answers (when the coordinator would refuse them) a commit waits for the
//   SyncGroup. Auto-commit pauses; group_metadata() reports the generation before the
//   rebalance until the new assignment is applied. If the join finds the member expelled,
//   the next poll finds the partitions lost.
// - Rebalance protocol: cooperative when every configured assignor is cooperative
//   (KIP-429), else eager. Eager: before rejoining, auto-commit, then revoke every owned
//   partition. Cooperative: keep owning partitions across the rebalance; after SyncGroup,
//   auto-commit and revoke only the partitions no longer assigned, then rejoin once more if
//   any were revoked (their new owner gets them in that second rebalance).
// - Heartbeats: a fiber sends Heartbeat every heartbeat_interval while the member is
//   stable. REBALANCE_IN_PROGRESS → rejoin on the next poll; UNKNOWN_MEMBER_ID /
//   ILLEGAL_GENERATION → the partitions are lost (on_partitions_lost, no commit) and the
//   member rejoins (with a fresh member id for UNKNOWN_MEMBER_ID); FENCED_INSTANCE_ID → the
//   next poll fails. If poll is not called within max_poll_interval the fiber leaves the
//   group (LeaveGroup, unless static) and the next poll finds the partitions lost.
// - Offsets: OffsetCommit (v2-v8) with the current generation and member id (generation -1
//   and an empty member id only without a subscription: a "simple" commit with manual
//   assignment; a subscribed consumer that is not a member of a generation, e.g. expelled
//   while paused, fails its commits without sending them, as Java's CommitFailedException);
//   OffsetFetch (v1-v7, require_stable) for committed(); after a join, new partitions start
//   at their committed offset, or auto_offset_reset without one. Auto-commit (the positions)
//   every auto_commit_interval inside poll, before a rebalance, before revoking, and on
//   close.
//
// Threading: the Consumer's fiber drives everything but the heartbeat fiber, the join
// fiber of a cooperative rebalance and the fibers of commit_async; close() and unsubscribe()
// abandon a join in flight, and close() ends every fiber before returning.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/client/assignor.h"
#include "core/client/connection.h"
#include "core/client/group_channel.h"
#include "core/client/metadata.h"
#include "core/client/types.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/error_codes.h"

namespace keel::client {

struct ConsumerConfig;

// What the consumer's group looks like to a transactional producer and to checkers
// (Java's ConsumerGroupMetadata).
struct GroupMetadata {
    std::string group_id;
    int32_t generation_id = -1;
    std::string member_id;
    std::optional<std::string> group_instance_id;
    bool operator==(const GroupMetadata&) const = default;
};

// Called on the fiber that calls poll (or close/unsubscribe), as Java's
// ConsumerRebalanceListener: revoked before giving partitions up in a rebalance (commit
// here), assigned after receiving them (seek here), lost when they were already taken away
// (the member was expelled: committing would fail). The default of lost is revoked.
class RebalanceListener {
public:
    virtual ~RebalanceListener() = default;
    virtual void on_partitions_revoked(const std::vector<TopicPartitionName>& partitions) = 0;
    virtual void on_partitions_assigned(const std::vector<TopicPartitionName>& partitions) = 0;
    virtual void on_partitions_lost(const std::vector<TopicPartitionName>& partitions) {
        on_partitions_revoked(partitions);
    }
};

class ConsumerCoordinator {
public:
    // config must outlive the coordinator; metadata is the consumer's (for FindCoordinator's
    // brokers and partition counts).
    ConsumerCoordinator(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata, ConsumerGroupHooks hooks);
    ~ConsumerCoordinator();  // close()
    ConsumerCoordinator(const ConsumerCoordinator&) = delete;
    ConsumerCoordinator& operator=(const ConsumerCoordinator&) = delete;

    // Errc::invalid_argument for an empty list or an unknown assignor name;
    // unsupported_version for group_protocol "consumer". The join happens in poll.
    Status subscribe(std::vector<std::string> topics, RebalanceListener* listener);
    // Revokes the assignment (after an auto-commit) and leaves the group.
    void unsubscribe();
    bool subscribed() const { return !topics_.empty(); }
    const std::vector<std::string>& subscription() const { return topics_; }

    // One step of the group for poll: heartbeat outcomes, (re)join when needed, committed
    // positions for new partitions, auto-commit when due. Errors: fenced (FENCED_INSTANCE_ID),
    // the coordinator's non-retriable errors (e.g. INCONSISTENT_GROUP_PROTOCOL), closed.
    Status poll(Instant deadline);

    Status commit_sync(const OffsetMap& offsets, Instant deadline) { return channel_.commit_sync(offsets, deadline); }
    // Commits on a fiber of its own; `callback` (may be empty) runs there with the outcome.
    void commit_async(OffsetMap offsets, CommitCallback callback) {
        channel_.commit_async(std::move(offsets), std::move(callback));
    }
    // Committed offsets of `partitions` (those without one are absent).
    Result<OffsetMap> committed(const std::vector<TopicPartitionName>& partitions, Instant deadline);

    GroupMetadata group_metadata() const;
    uint64_t rebalances() const { return rebalances_; }

    // Auto-commits (if enabled), leaves the group (unless static), stops every fiber.
    // Idempotent.
    void close(Instant deadline);

private:
    enum class State : uint8_t { unjoined, joining, stable };

    Status validate() const;
    GroupChannelHooks channel_hooks();
    Status may_find_coordinator() const;
    Status may_commit() const;
    Result<CommitMember> commit_member() const;
    void wait_for_sync(Instant deadline);

    using Members = std::vector<std::pair<std::string, Bytes>>;  // member id → metadata or assignment

    Status rejoin(Instant deadline);
    Status join_until_stable(Instant limit);
    void on_join_prepare(Instant deadline);
    Status join_once(Instant deadline, bool& retry);
    Result<std::optional<Assignment>> join_and_sync(Instant deadline);  // nullopt: join again
    bool can_join_in_background() const;
    void start_background_join(Instant limit);
    void background_join(Instant limit);
    Status finish_background_join(Instant deadline);
    void stop_background_join();
    bool join_abandoned() const;
    Result<bool> join_request(Instant deadline, Members& members);  // true: join again
    Result<std::optional<Assignment>> sync_request(Instant deadline, const Members& assignments);  // nullopt: rejoin
    Result<Members> leader_assign(Instant deadline, const Members& members);
    Status on_join_complete(const Assignment& assignment, Instant deadline);
    Status fetch_initial_positions(std::vector<TopicPartitionName> partitions, Instant deadline);
    Bytes subscription_bytes() const;
    Status join_error(protocol::ErrorCode code, const char* api);

    void on_commit_error(protocol::ErrorCode code, const std::string& where);

    void heartbeat_loop();
    void heartbeat_once();
    void leave_group(const std::string& reason, Instant deadline);
    void reset_generation(bool reset_member_id);
    void revoke(const std::vector<TopicPartitionName>& partitions, bool lost);

    env::Env& env_;
    const ConsumerConfig& config_;
    MetadataCache& metadata_;
    ConsumerGroupHooks hooks_;
    // The coordinator, commits and committed offsets; its side connection is the join
    // fiber's: commits need not wait behind a JoinGroup.
    GroupChannel channel_;
    std::vector<std::string> topics_;
    RebalanceListener* listener_ = nullptr;
    std::vector<std::unique_ptr<Assignor>> assignors_;
    RebalanceProtocol protocol_ = RebalanceProtocol::eager;

    State state_ = State::unjoined;
    int32_t generation_ = -1;
    std::string member_id_;
    std::string protocol_name_;
    bool rejoin_needed_ = false;
    bool lost_pending_ = false;   // the heartbeat fiber found the partitions lost
    std::optional<Error> fatal_;  // FENCED_INSTANCE_ID: every later poll fails
    std::vector<TopicPartitionName> positions_pending_;  // new partitions awaiting committed offsets
    Instant last_poll_{};
    uint64_t rebalances_ = 0;

    // The join fiber of a cooperative rebalance (see the header comment).
    struct BackgroundJoin {
        bool running = false;  // spawned and not yet applied by poll
        bool abandon = false;  // close/unsubscribe: end at the next step
        bool lost = false;     // the coordinator expelled the member meanwhile
        bool resubscribe = false;  // subscribe() changed the topics meanwhile
        env::FiberId fiber = 0;
        GroupMetadata before;  // the member's generation before the rebalance
        std::optional<Assignment> assignment;
        std::optional<Error> error;
    };
    BackgroundJoin join_;
    env::Event join_done_;

    bool closed_ = false;
    bool closing_ = false;
    bool stopping_ = false;
    env::Event heartbeat_wake_;
    env::Event heartbeat_done_;
    bool heartbeat_started_ = false;
};

}  // namespace keel::client
