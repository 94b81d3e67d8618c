// GroupChannel: what both group memberships need of the group coordinator, written once:
// ConsumerCoordinator (the classic protocol, consumer_group.h) and ConsumerMembership848
// (KIP-848, consumer_group_848.h) each own one.
//
// - Coordinator: FindCoordinator (key type 0; v0-v3 a single key, v4+ the coordinator_keys
//   batch) to any broker; COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR / transport errors on
//   any call() forget the coordinator and the next call finds it again. The coordinator
//   gets a connection of its own (heartbeats never queue behind a long Fetch); a membership
//   may ask for a second one (GroupChannelHooks::on_side: the classic join fiber's, so
//   commits need not wait behind a JoinGroup).
// - Offsets: OffsetCommit (the versions the membership gives: v2-v8 with a generation, v9
//   with a member epoch; STALE_MEMBER_EPOCH is retried there) with the generation or epoch
//   and member id the membership names; OffsetFetch (v1-v7, require_stable) for committed().
//   commit_async runs each commit on a fiber of its own; wait_async_commits() and shut() are
//   close()'s part. Auto-commit (the membership's positions) every auto_commit_interval.
// - What differs between the protocols comes in as GroupChannelHooks: when discovery must
//   stop (closed, a join abandoned), what a commit waits for first, a commit's identity, and
//   the protocol's reaction to a commit's error.
//
// Threading: as its membership's: any of the membership's fibers may call it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "core/client/connection.h"
#include "core/client/metadata.h"
#include "core/client/types.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/error_codes.h"

namespace keel::client {

struct ConsumerConfig;

using OffsetMap = std::map<TopicPartitionName, Offset>;
using CommitCallback = std::function<void(const OffsetMap&, const Status&)>;

// NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE: find the coordinator again.
bool is_coordinator_error(protocol::ErrorCode code);

// How the coordinator reads and changes the consumer's assignment and positions.
struct ConsumerGroupHooks {
    std::function<std::vector<TopicPartitionName>()> assignment;
    std::function<void(std::vector<TopicPartitionName>)> assign;  // positions of kept partitions stay
    std::function<OffsetMap()> positions;                          // assigned partitions with a position
    std::function<void(const TopicPartitionName&, Offset)> seek;
};

// The generation (classic) or member epoch (KIP-848) and the member id a commit carries
// (-1 and empty: a "simple" commit of a consumer that is not a member; only without a
// subscription, see GroupChannelHooks::commit_member).
struct CommitMember {
    int32_t generation_or_epoch = -1;
    std::string member_id;
};

struct GroupChannelHooks {
    // ok while coordinator discovery may go on; else the Status to stop with.
    std::function<Status()> may_continue;
    // ok while the membership takes commits; else why not (closed, fenced).
    std::function<Status()> may_commit;
    // Empty: one connection. Else true on a fiber that uses the second connection.
    std::function<bool()> on_side;
    // Runs before a commit's first attempt (may be empty).
    std::function<void(Instant deadline)> before_commit;
    // Who the commit is from, asked before every attempt. An error fails the commit without
    // sending it: a subscribed consumer that is not a member of a stable generation (expelled,
    // rejoining) must not commit as a "simple" consumer (-1, no member id), which the
    // coordinator of an Empty group would accept over the offsets of the partitions' new
    // owners (Java's ConsumerCoordinator: CommitFailedException or
    // RebalanceInProgressException when generationIfStable() is null).
    std::function<Result<CommitMember>()> commit_member;
    // After a commit failed with `code` (the coordinator is already forgotten for coordinator
    // errors); may be empty.
    std::function<void(protocol::ErrorCode code, const std::string& where)> on_commit_error;
    ConsumerGroupHooks consumer;  // the positions auto-commit commits; seek_to_committed
};

class GroupChannel {
public:
    // config must outlive the channel; metadata gives FindCoordinator's brokers. Commits go
    // at OffsetCommit versions [commit_min, commit_max].
    GroupChannel(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata, int16_t commit_min,
                 int16_t commit_max, GroupChannelHooks hooks);
    GroupChannel(const GroupChannel&) = delete;
    GroupChannel& operator=(const GroupChannel&) = delete;

    Status ensure_coordinator(Instant deadline);
    const std::optional<env::Address>& coordinator() const { return coordinator_; }
    // After hanging up on the side connection: the coordinator is not dead.
    void remember_coordinator(const env::Address& a) {
        if (!coordinator_) coordinator_ = a;
    }
    void forget_coordinator();
    ConnectionPool& pool() { return pool_; }
    ConnectionPool& side_pool() { return *side_pool_; }

    // A request to the coordinator (found first if needed), on this fiber's connection.
    template <typename Resp, typename Req>
    Result<Resp> call(const Req& req, int16_t min, int16_t max, Instant deadline);

    // retry.backoff.ms between attempts; false when the node is dying (a crash unwinding this
    // fiber): its virtual time no longer advances, so a retry loop must end instead of spinning.
    bool back_off();

    // OffsetCommit until done, a non-retriable error or the deadline.
    Status commit(const OffsetMap& offsets, Instant deadline);
    // The application's commit: commit() unless hooks_.may_commit refuses.
    Status commit_sync(const OffsetMap& offsets, Instant deadline) {
        KEEL_TRY(hooks_.may_commit());
        return commit(offsets, deadline);
    }
    // Commits on a fiber of its own; `callback` (may be empty) runs there with the outcome.
    void commit_async(OffsetMap offsets, CommitCallback callback);
    // Commits the positions when auto-commit is enabled and due (or `force`).
    void maybe_auto_commit(Instant deadline, bool force);
    // Committed offsets of `partitions` (those without one are absent).
    Result<OffsetMap> committed(const std::vector<TopicPartitionName>& partitions, Instant deadline);

    // Seeks each of `partitions` that is assigned and has no position to its committed offset.
    Status seek_to_committed(const std::vector<TopicPartitionName>& partitions, Instant deadline);

    // Waits for the commit_async fibers until the deadline (Instant::max(): all of them).
    void wait_async_commits(Instant deadline);
    // Refuses further async commits and closes the connections (calls in flight return).
    void shut();

private:
    Result<env::Address> find_coordinator_once(Instant deadline);
    Status commit_once(const OffsetMap& offsets, Instant deadline, bool& retry);
    Status committed_once(const std::vector<TopicPartitionName>& partitions, Instant deadline, OffsetMap& out,
                          bool& retry);

    env::Env& env_;
    const ConsumerConfig& config_;
    MetadataCache& metadata_;
    int16_t commit_min_;
    int16_t commit_max_;
    GroupChannelHooks hooks_;
    ConnectionPool pool_;                       // the coordinator's connection
    std::optional<ConnectionPool> side_pool_;   // with hooks_.on_side
    std::optional<env::Address> coordinator_;
    Instant next_auto_commit_{};
    bool shut_ = false;
    int async_commits_ = 0;
    env::WaitQueue async_done_;
};

template <typename Resp, typename Req>
Result<Resp> GroupChannel::call(const Req& req, int16_t min, int16_t max, Instant deadline) {
    KEEL_TRY(ensure_coordinator(deadline));
    bool side = side_pool_ && hooks_.on_side();
    auto resp = (side ? *side_pool_ : pool_).get(*coordinator_).template call<Resp>(req, min, max, deadline);
    if (!resp.ok()) {
        forget_coordinator();
        return resp;
    }
    if constexpr (requires { resp->error_code; }) {
        if (is_coordinator_error(resp->error_code)) forget_coordinator();
    }
    return resp;
}

}  // namespace keel::client
