// The consumer's side of a consumer group, for either protocol: GroupMembership is what
// client::Consumer talks to; make_group_membership() picks the implementation from
// ConsumerConfig::group_protocol: "classic" wraps ConsumerCoordinator (consumer_group.h),
// "consumer" is KIP-848's protocol, implemented here by ConsumerMembership848.
//
// KIP-848 (the Java client's AsyncKafkaConsumer membership manager, simplified):
// - Heartbeats: a fiber sends ConsumerGroupHeartbeat (v0-v1; the member id is a uuid the
//   client makes, as v1 requires) every heartbeat interval the coordinator returns (and at
//   once after a reconciliation or while joining): member epoch (0 joins), subscribed topic
//   names, rebalance timeout (max_poll_interval), the partitions the consumer owns.
// - Reconciliation (on the poll fiber): the assignment of the latest answer (topic ids
//   resolved by a Metadata request) is compared with what the consumer owns; partitions no
//   longer assigned are auto-committed (if enabled), revoked (listener) and dropped; then
//   new ones are taken (listener assigned; committed offsets as positions); then the next
//   heartbeat acknowledges. The coordinator hands a partition over only after its previous
//   owner's heartbeat shows it gone, so no two members fetch it at once.
// - FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the partitions are lost (on_partitions_lost,
//   no commit, on the next poll) and the member joins again with epoch 0 (same member id).
//   Coordinator errors and transport failures: find the coordinator again and retry.
//   Other errors (e.g. GROUP_ID_NOT_FOUND: the group is a classic one) make poll fail.
// - Coordinator, commits and committed offsets go through a GroupChannel (group_channel.h),
//   as ConsumerCoordinator's do. Commits carry the member epoch (OffsetCommit v9); group_metadata().generation_id is
//   the member epoch. A subscribed consumer that is not a member (joining, fenced) fails
//   its commits without sending them (UNKNOWN_MEMBER_ID), as the classic one does.
//   Leaving: a heartbeat with epoch -1 (close, unsubscribe).
// Not yet: server_assignor selection (the coordinator's default, uniform), regex
// subscriptions, static membership (epoch -2), max_poll_interval enforcement.
//
// Threading: as ConsumerCoordinator: the consumer's fiber drives poll, commits and close;
// the heartbeat fiber and commit_async's fibers run beside it; close() ends them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/client/connection.h"
#include "core/client/consumer_group.h"
#include "core/client/group_channel.h"
#include "core/client/metadata.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/codec.h"
#include "core/protocol/generated/consumer_group_heartbeat_response.h"

namespace keel::client {

class GroupMembership {
public:
    virtual ~GroupMembership() = default;
    virtual Status subscribe(std::vector<std::string> topics, RebalanceListener* listener) = 0;
    virtual void unsubscribe() = 0;
    virtual bool subscribed() const = 0;
    virtual Status poll(Instant deadline) = 0;
    virtual Status commit_sync(const OffsetMap& offsets, Instant deadline) = 0;
    virtual void commit_async(OffsetMap offsets, CommitCallback callback) = 0;
    virtual Result<OffsetMap> committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) = 0;
    virtual GroupMetadata group_metadata() const = 0;
    virtual void close(Instant deadline) = 0;
};

// config must outlive the result.
std::unique_ptr<GroupMembership> make_group_membership(env::Env& env, const ConsumerConfig& config,
                                                       MetadataCache& metadata, ConsumerGroupHooks hooks);

class ConsumerMembership848 final : public GroupMembership {
public:
    ConsumerMembership848(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata,
                          ConsumerGroupHooks hooks);
    ~ConsumerMembership848() override;  // close()

    Status subscribe(std::vector<std::string> topics, RebalanceListener* listener) override;
    void unsubscribe() override;
    bool subscribed() const override { return !topics_.empty(); }
    Status poll(Instant deadline) override;
    Status commit_sync(const OffsetMap& offsets, Instant deadline) override {
        return channel_.commit_sync(offsets, deadline);
    }
    void commit_async(OffsetMap offsets, CommitCallback callback) override {
        channel_.commit_async(std::move(offsets), std::move(callback));
    }
    Result<OffsetMap> committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) override;
    GroupMetadata group_metadata() const override;
    void close(Instant deadline) override;

    int32_t member_epoch() const { return epoch_; }

private:
    GroupChannelHooks channel_hooks();

    void heartbeat_loop();
    void heartbeat_once(int32_t epoch);
    void on_heartbeat_answer(const protocol::ConsumerGroupHeartbeatResponse& r);
    bool resolve_assignment(const protocol::ConsumerGroupHeartbeatResponse::Assignment& a,
                            std::set<TopicPartitionName>& out);
    void refresh_topic_ids();
    void leave(Instant deadline);

    void reconcile(Instant deadline);
    void revoke(const std::vector<TopicPartitionName>& partitions, bool lost);
    Status fetch_initial_positions(Instant deadline);

    env::Env& env_;
    const ConsumerConfig& config_;
    MetadataCache& metadata_;
    ConsumerGroupHooks hooks_;
    GroupChannel channel_;  // the coordinator, commits (v9, the member epoch), committed offsets
    std::vector<std::string> topics_;
    RebalanceListener* listener_ = nullptr;

    std::string member_id_;
    int32_t epoch_ = 0;
    bool joined_ = false;
    Duration interval_;
    std::map<protocol::Uuid, std::string> topic_names_;
    std::map<std::string, protocol::Uuid> topic_ids_;
    std::optional<std::set<TopicPartitionName>> target_;  // a new assignment to reconcile
    bool lost_pending_ = false;
    bool send_now_ = true;
    std::optional<Error> fatal_;
    std::vector<TopicPartitionName> positions_pending_;

    bool closed_ = false;
    bool closing_ = false;
    bool stopping_ = false;
    bool heartbeat_started_ = false;
    env::Event heartbeat_wake_;
    env::Event heartbeat_done_;
};

}  // namespace keel::client
