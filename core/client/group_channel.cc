// GroupChannel (group_channel.h): coordinator discovery, OffsetCommit/OffsetFetch and async
// commits for both group memberships.
#include "core/client/group_channel.h"

#include <algorithm>

#include "core/client/consumer.h"
#include "core/protocol/generated/find_coordinator_request.h"
#include "core/protocol/generated/find_coordinator_response.h"
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_commit_response.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/offset_fetch_response.h"

namespace keel::client {

namespace {

using protocol::ErrorCode;

// The highest versions Keel's generated messages encode; the broker's ApiVersions bound
// them further (BrokerConnection::version_for).
constexpr int16_t kFindCoordinatorMax = 6;
constexpr int16_t kOffsetCommitMemberEpoch = 9;  // generation_id_or_member_epoch
constexpr int16_t kOffsetFetchMin = 1;           // v1: offsets in Kafka, not ZooKeeper
constexpr int16_t kOffsetFetchMax = 7;           // v8+ batches groups

ConnectionOptions coordinator_connection_options(const ConsumerConfig& c) {
    ConnectionOptions o;
    o.client_id = c.client_id;
    o.connect_timeout = c.request_timeout;
    return o;
}

}  // namespace

bool is_coordinator_error(ErrorCode code) {
    return code == ErrorCode::not_coordinator || code == ErrorCode::coordinator_not_available;
}

GroupChannel::GroupChannel(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata, int16_t commit_min,
                           int16_t commit_max, GroupChannelHooks hooks)
    : env_(env),
      config_(config),
      metadata_(metadata),
      commit_min_(commit_min),
      commit_max_(commit_max),
      hooks_(std::move(hooks)),
      pool_(env, coordinator_connection_options(config)),
      async_done_(env.executor()) {
    if (hooks_.on_side) side_pool_.emplace(env, coordinator_connection_options(config));
    next_auto_commit_ = env_.now() + config_.auto_commit_interval;
}

// ---- the coordinator ----

Status GroupChannel::ensure_coordinator(Instant deadline) {
    while (!coordinator_) {
        KEEL_TRY(hooks_.may_continue());
        auto found = find_coordinator_once(deadline);
        if (found.ok()) {
            coordinator_ = *found;
            break;
        }
        if (env_.now() >= deadline) return Status(found.error().code, "FindCoordinator: " + found.error().message);
        if (!back_off()) return Status(Errc::closed, "FindCoordinator: the node is stopping");
    }
    return ok_status();
}

Result<env::Address> GroupChannel::find_coordinator_once(Instant deadline) {
    protocol::FindCoordinatorRequest req;
    req.key = *config_.group_id;                 // v0-v3
    req.key_type = 0;                            // a group
    req.coordinator_keys = {*config_.group_id};  // v4+
    Error last{Errc::unknown, "no broker to ask"};
    for (const auto& address : metadata_.any_brokers()) {
        Instant d = std::min(deadline, env_.now() + config_.request_timeout);
        auto resp = pool_.get(address).call<protocol::FindCoordinatorResponse>(req, 0, kFindCoordinatorMax, d);
        if (!resp.ok()) {
            last = resp.error();
            continue;
        }
        ErrorCode code = resp->error_code;
        std::string host = resp->host;
        int32_t port = resp->port;
        if (!resp->coordinators.empty()) {
            const auto& c = resp->coordinators.front();
            code = c.error_code;
            host = c.host;
            port = c.port;
        }
        if (code != ErrorCode::none) return protocol::status_from(code, "FindCoordinator").error();
        return env::Address{host, static_cast<uint16_t>(port)};
    }
    return last;
}

void GroupChannel::forget_coordinator() {
    if (coordinator_) {
        pool_.get(*coordinator_).close();
        if (side_pool_) side_pool_->get(*coordinator_).close();
    }
    coordinator_.reset();
}

bool GroupChannel::back_off() {
    return env_.executor().park(env_.now() + config_.retry_backoff) != env::WakeReason::dying;
}

// ---- commits ----

void GroupChannel::maybe_auto_commit(Instant deadline, bool force) {
    if (!config_.enable_auto_commit || (!force && env_.now() < next_auto_commit_)) return;
    next_auto_commit_ = env_.now() + config_.auto_commit_interval;
    OffsetMap positions = hooks_.consumer.positions();
    if (positions.empty()) return;
    Status s = commit(positions, std::min(deadline, env_.now() + config_.request_timeout));
    (void)s;  // as Java: a failed auto-commit is retried at the next interval
}

void GroupChannel::commit_async(OffsetMap offsets, CommitCallback callback) {
    if (shut_) {
        if (callback) callback(offsets, Status(Errc::closed, "the consumer is closed"));
        return;
    }
    async_commits_++;
    env::FiberId f = env_.executor().spawn("consumer-commit-" + config_.client_id, [this, offsets, callback] {
        struct Done {
            GroupChannel* c;
            ~Done() {
                c->async_commits_--;
                c->async_done_.notify_all();
            }
        } done{this};
        Status s = commit(offsets, env_.now() + config_.request_timeout);
        if (callback) callback(offsets, s);
    });
    if (f == 0) async_commits_--;
}

Status GroupChannel::commit(const OffsetMap& offsets, Instant deadline) {
    if (offsets.empty()) return ok_status();
    if (hooks_.before_commit) hooks_.before_commit(deadline);
    while (true) {
        bool retry = false;
        Status s = commit_once(offsets, deadline, retry);
        if (!retry) return s;
        if (env_.now() >= deadline) return s.ok() ? Status(Errc::timeout, "OffsetCommit: timed out") : s;
        if (!back_off()) return Status(Errc::closed, "OffsetCommit: the node is stopping");
    }
}

Status GroupChannel::commit_once(const OffsetMap& offsets, Instant deadline, bool& retry) {
    KEEL_TRY_ASSIGN(CommitMember member, hooks_.commit_member());
    protocol::OffsetCommitRequest req;
    req.group_id = *config_.group_id;
    req.generation_id_or_member_epoch = member.generation_or_epoch;
    req.member_id = std::move(member.member_id);
    req.group_instance_id = config_.group_instance_id;  // v7+
    for (const auto& [tp, offset] : offsets) {
        if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}, {}});
        protocol::OffsetCommitRequest::OffsetCommitRequestPartition p;
        p.partition_index = tp.partition;
        p.committed_offset = offset.value();
        p.committed_metadata = "";
        req.topics.back().partitions.push_back(p);
    }
    auto resp = call<protocol::OffsetCommitResponse>(req, commit_min_, commit_max_,
                                                     std::min(deadline, env_.now() + config_.request_timeout));
    if (!resp.ok()) {
        retry = resp.error().code != Errc::closed && resp.error().code != Errc::unsupported_version;
        return resp.error();
    }
    for (const auto& t : resp->topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code == ErrorCode::none) continue;
            std::string where = "OffsetCommit " + t.name + "-" + std::to_string(p.partition_index.value());
            // STALE_MEMBER_EPOCH: the next heartbeat answer brings the epoch the commit needs.
            bool stale = commit_min_ >= kOffsetCommitMemberEpoch && p.error_code == ErrorCode::stale_member_epoch;
            retry = is_coordinator_error(p.error_code) || p.error_code == ErrorCode::coordinator_load_in_progress ||
                    stale ||
                    (protocol::is_retriable(p.error_code) && p.error_code != ErrorCode::unknown_topic_or_partition);
            if (is_coordinator_error(p.error_code)) forget_coordinator();
            if (hooks_.on_commit_error) hooks_.on_commit_error(p.error_code, where);
            return protocol::status_from(p.error_code, where);
        }
    }
    return ok_status();
}

// ---- committed offsets ----

Result<OffsetMap> GroupChannel::committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) {
    OffsetMap out;
    if (partitions.empty()) return out;
    while (true) {
        bool retry = false;
        out.clear();
        Status s = committed_once(partitions, deadline, out, retry);
        if (s.ok()) return out;
        if (!retry || env_.now() >= deadline) return s.error();
        if (!back_off()) return Error{Errc::closed, "OffsetFetch: the node is stopping"};
    }
}

Status GroupChannel::committed_once(const std::vector<TopicPartitionName>& partitions, Instant deadline,
                                    OffsetMap& out, bool& retry) {
    protocol::OffsetFetchRequest req;
    req.group_id = *config_.group_id;
    req.topics.emplace();
    for (const auto& tp : partitions) {
        auto& topics = *req.topics;
        auto it = std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.name == tp.topic; });
        if (it == topics.end()) it = topics.insert(topics.end(), {tp.topic, {}, {}});
        it->partition_indexes.push_back(tp.partition);
    }
    req.require_stable = true;  // v7+: wait out pending transactional commits
    auto resp = call<protocol::OffsetFetchResponse>(req, kOffsetFetchMin, kOffsetFetchMax,
                                                    std::min(deadline, env_.now() + config_.request_timeout));
    retry = true;
    if (!resp.ok()) {
        retry = resp.error().code != Errc::closed && resp.error().code != Errc::unsupported_version;
        return resp.error();
    }
    auto retriable = [](ErrorCode c) {
        return is_coordinator_error(c) || c == ErrorCode::coordinator_load_in_progress ||
               c == ErrorCode::unstable_offset_commit;
    };
    if (resp->error_code != ErrorCode::none) {  // v2+
        retry = retriable(resp->error_code);
        return protocol::status_from(resp->error_code, "OffsetFetch for group " + *config_.group_id);
    }
    for (const auto& t : resp->topics) {
        for (const auto& p : t.partitions) {
            TopicPartitionName tp{t.name, p.partition_index};
            if (p.error_code != ErrorCode::none) {
                retry = retriable(p.error_code);
                return protocol::status_from(p.error_code, "OffsetFetch " + tp.to_string());
            }
            if (p.committed_offset >= 0) out[tp] = Offset(p.committed_offset);
        }
    }
    return ok_status();
}

Status GroupChannel::seek_to_committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) {
    Instant d = std::min(deadline, env_.now() + config_.request_timeout);
    KEEL_TRY_ASSIGN(OffsetMap committed_offsets, committed(partitions, d));
    OffsetMap positions = hooks_.consumer.positions();
    auto assigned = hooks_.consumer.assignment();
    for (const auto& [tp, offset] : committed_offsets) {
        bool mine = std::find(assigned.begin(), assigned.end(), tp) != assigned.end();
        if (mine && !positions.contains(tp)) hooks_.consumer.seek(tp, offset);
    }
    return ok_status();
}

// ---- close ----

void GroupChannel::wait_async_commits(Instant deadline) {
    while (async_commits_ > 0 && env_.now() < deadline) {
        if (async_done_.wait(deadline) == env::WakeReason::dying) break;
    }
}

void GroupChannel::shut() {
    shut_ = true;
    pool_.close_all();  // a heartbeat or an async commit in flight returns now
    if (side_pool_) side_pool_->close_all();
}

}  // namespace keel::client
