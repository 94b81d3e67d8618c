// KIP-848's consumer group protocol on the client (consumer_group_848.h) and the choice
// between it and the classic ConsumerCoordinator.
#include "core/client/consumer_group_848.h"

#include <algorithm>
#include <cstdio>

#include "core/client/consumer.h"
#include "core/protocol/generated/consumer_group_heartbeat_request.h"
#include "core/protocol/generated/consumer_group_heartbeat_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"

namespace keel::client {

namespace {

using protocol::ErrorCode;

constexpr int16_t kOffsetCommitVersion = 9;  // generation_id_or_member_epoch

// The classic protocol behind the GroupMembership interface.
class ClassicMembership final : public GroupMembership {
public:
    ClassicMembership(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata, ConsumerGroupHooks hooks)
        : c_(env, config, metadata, std::move(hooks)) {}
    Status subscribe(std::vector<std::string> topics, RebalanceListener* listener) override {
        return c_.subscribe(std::move(topics), listener);
    }
    void unsubscribe() override { c_.unsubscribe(); }
    bool subscribed() const override { return c_.subscribed(); }
    Status poll(Instant deadline) override { return c_.poll(deadline); }
    Status commit_sync(const OffsetMap& offsets, Instant deadline) override { return c_.commit_sync(offsets, deadline); }
    void commit_async(OffsetMap offsets, CommitCallback callback) override {
        c_.commit_async(std::move(offsets), std::move(callback));
    }
    Result<OffsetMap> committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) override {
        return c_.committed(partitions, deadline);
    }
    GroupMetadata group_metadata() const override { return c_.group_metadata(); }
    void close(Instant deadline) override { c_.close(deadline); }

private:
    ConsumerCoordinator c_;
};

std::string random_member_id(env::Env& env) {
    uint64_t a = env.random().next_u64();
    uint64_t b = env.random().next_u64();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return buf;
}

std::vector<TopicPartitionName> minus(const std::vector<TopicPartitionName>& a, const std::set<TopicPartitionName>& b) {
    std::vector<TopicPartitionName> out;
    for (const auto& tp : a) {
        if (!b.count(tp)) out.push_back(tp);
    }
    return out;
}

}  // namespace

std::unique_ptr<GroupMembership> make_group_membership(env::Env& env, const ConsumerConfig& config,
                                                       MetadataCache& metadata, ConsumerGroupHooks hooks) {
    if (config.group_protocol == "consumer") {
        return std::make_unique<ConsumerMembership848>(env, config, metadata, std::move(hooks));
    }
    return std::make_unique<ClassicMembership>(env, config, metadata, std::move(hooks));
}

ConsumerMembership848::ConsumerMembership848(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata,
                                             ConsumerGroupHooks hooks)
    : env_(env),
      config_(config),
      metadata_(metadata),
      hooks_(std::move(hooks)),
      channel_(env, config, metadata, kOffsetCommitVersion, kOffsetCommitVersion, channel_hooks()),
      interval_(config.heartbeat_interval),
      heartbeat_wake_(env.executor()),
      heartbeat_done_(env.executor()) {}

ConsumerMembership848::~ConsumerMembership848() { close(env_.now() + config_.request_timeout); }

Status ConsumerMembership848::subscribe(std::vector<std::string> topics, RebalanceListener* listener) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (!config_.group_id || config_.group_id->empty()) return Status(Errc::invalid_argument, "no group_id");
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    if (topics.empty() || topics.front().empty()) return Status(Errc::invalid_argument, "subscribe: no topics");
    for (const auto& t : topics) metadata_.add_topic(t);
    topics_ = std::move(topics);
    listener_ = listener;
    if (member_id_.empty()) member_id_ = random_member_id(env_);
    send_now_ = true;
    heartbeat_wake_.set();
    if (!heartbeat_started_) {
        heartbeat_started_ = true;
        env::spawn_joinable(env_.executor(), "consumer-heartbeat-" + config_.client_id, heartbeat_done_,
                            [this] { heartbeat_loop(); });
    }
    return ok_status();
}

void ConsumerMembership848::unsubscribe() {
    if (!subscribed()) return;
    Instant deadline = env_.now() + config_.request_timeout;
    if (joined_) channel_.maybe_auto_commit(deadline, true);
    revoke(hooks_.assignment(), false);
    leave(deadline);
    topics_.clear();
}

GroupMetadata ConsumerMembership848::group_metadata() const {
    return {config_.group_id.value_or(""), joined_ ? epoch_ : -1, member_id_, config_.group_instance_id};
}

void ConsumerMembership848::revoke(const std::vector<TopicPartitionName>& partitions, bool lost) {
    if (!partitions.empty() && listener_ != nullptr) {
        if (lost) {
            listener_->on_partitions_lost(partitions);
        } else {
            listener_->on_partitions_revoked(partitions);
        }
    }
    std::set<TopicPartitionName> gone(partitions.begin(), partitions.end());
    hooks_.assign(minus(hooks_.assignment(), gone));
    std::erase_if(positions_pending_, [&](const TopicPartitionName& tp) { return gone.count(tp) != 0; });
}

// ---- the coordinator ----

GroupChannelHooks ConsumerMembership848::channel_hooks() {
    GroupChannelHooks h;
    h.may_continue = [this] {
        return closed_ || stopping_ ? Status(Errc::closed, "the consumer is closed") : ok_status();
    };
    h.may_commit = [this] {
        if (closed_) return Status(Errc::closed, "the consumer is closed");
        return fatal_ ? Status(fatal_->code, fatal_->message) : ok_status();
    };
    // As the classic member's: subscribed but not (or no longer) in the group, a commit as a
    // "simple" consumer would be taken by an Empty group over the new owners' offsets.
    h.commit_member = [this]() -> Result<CommitMember> {
        if (joined_) return CommitMember{epoch_, member_id_};
        if (!subscribed()) return CommitMember{-1, ""};
        return protocol::status_from(ErrorCode::unknown_member_id,
                                     "OffsetCommit: the consumer is not a member of group " + *config_.group_id)
            .error();
    };
    h.consumer = hooks_;
    return h;
}

}  // namespace keel::client
