// ConsumerCoordinator: coordinator discovery, the heartbeat fiber, leaving, joining and
// syncing, committed offsets; and Consumer's group API (subscribe, commit_sync, ...).
#include "core/client/consumer_group.h"

#include <algorithm>

#include "core/client/consumer.h"
#include "core/protocol/generated/join_group_request.h"
#include "core/protocol/generated/join_group_response.h"
#include "core/protocol/generated/sync_group_request.h"
#include "core/protocol/generated/sync_group_response.h"
#include "core/protocol/generated/heartbeat_request.h"
#include "core/protocol/generated/heartbeat_response.h"
#include "core/protocol/generated/leave_group_request.h"
#include "core/protocol/generated/leave_group_response.h"

namespace keel::client {

namespace {

using protocol::ErrorCode;

// The highest versions Keel's generated messages encode; the broker's ApiVersions bound
// them further (BrokerConnection::version_for).
constexpr int16_t kJoinGroupMin = 1;  // v1: rebalance timeout
constexpr int16_t kJoinGroupMax = 9;
constexpr int16_t kSyncGroupMax = 5;
constexpr int16_t kHeartbeatMax = 4;
constexpr int16_t kLeaveGroupMax = 5;
constexpr int16_t kOffsetCommitMin = 2;  // v2: generation, member id
constexpr int16_t kOffsetCommitMax = 8;  // v9 is KIP-848's member epoch

int32_t to_ms32(Duration d) { return static_cast<int32_t>(std::clamp<int64_t>(to_ms(d), 0, INT32_MAX)); }

std::vector<TopicPartitionName> minus(const std::vector<TopicPartitionName>& a, const std::vector<TopicPartitionName>& b) {
    std::vector<TopicPartitionName> out;
    for (const auto& tp : a) {
        if (std::find(b.begin(), b.end(), tp) == b.end()) out.push_back(tp);
    }
    return out;
}

}  // namespace

ConsumerCoordinator::ConsumerCoordinator(env::Env& env, const ConsumerConfig& config, MetadataCache& metadata,
                                         ConsumerGroupHooks hooks)
    : env_(env),
      config_(config),
      metadata_(metadata),
      hooks_(std::move(hooks)),
      channel_(env, config, metadata, kOffsetCommitMin, kOffsetCommitMax, channel_hooks()),
      join_done_(env.executor()),
      heartbeat_wake_(env.executor()),
      heartbeat_done_(env.executor()) {
    for (const auto& name : config_.partition_assignment_strategy) {
        if (auto a = make_assignor(name)) assignors_.push_back(std::move(a));
    }
    bool all_cooperative = !assignors_.empty();
    for (const auto& a : assignors_) all_cooperative &= a->protocol() == RebalanceProtocol::cooperative;
    protocol_ = all_cooperative ? RebalanceProtocol::cooperative : RebalanceProtocol::eager;
    last_poll_ = env_.now();
}

ConsumerCoordinator::~ConsumerCoordinator() { close(env_.now() + config_.request_timeout); }

Status ConsumerCoordinator::validate() const {
    if (config_.group_protocol == "consumer") {
        return Status(Errc::unsupported_version,
                      "group_protocol \"consumer\" (KIP-848) is not supported yet: use \"classic\"");
    }
    if (config_.group_protocol != "classic") {
        return Status(Errc::invalid_argument, "group_protocol must be \"classic\" or \"consumer\", not \"" +
                                                  config_.group_protocol + "\"");
    }
    if (!config_.group_id || config_.group_id->empty()) return Status(Errc::invalid_argument, "no group_id");
    if (config_.partition_assignment_strategy.empty()) {
        return Status(Errc::invalid_argument, "partition_assignment_strategy is empty");
    }
    for (const auto& name : config_.partition_assignment_strategy) {
        if (!make_assignor(name)) {
            return Status(Errc::invalid_argument, "unknown partition_assignment_strategy \"" + name +
                                                      "\" (known: range, roundrobin, cooperative-sticky)");
        }
    }
    if (config_.heartbeat_interval >= config_.session_timeout || config_.heartbeat_interval <= Duration(0)) {
        return Status(Errc::invalid_argument, "heartbeat_interval must be positive and below session_timeout");
    }
    return ok_status();
}

Status ConsumerCoordinator::subscribe(std::vector<std::string> topics, RebalanceListener* listener) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    KEEL_TRY(validate());
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    if (topics.empty() || topics.front().empty()) return Status(Errc::invalid_argument, "subscribe: no topics");
    for (const auto& t : topics) metadata_.add_topic(t);
    if (topics != topics_) {
        rejoin_needed_ = true;
        join_.resubscribe = join_.running;  // a join in flight rejoins once applied
    }
    topics_ = std::move(topics);
    listener_ = listener;
    if (!heartbeat_started_) {
        heartbeat_started_ = true;
        env::spawn_joinable(env_.executor(), "consumer-heartbeat-" + config_.client_id, heartbeat_done_,
                            [this] { heartbeat_loop(); });
    }
    return ok_status();
}

void ConsumerCoordinator::unsubscribe() {
    if (!subscribed()) return;
    Instant deadline = env_.now() + config_.request_timeout;
    stop_background_join();
    if (state_ == State::stable) channel_.maybe_auto_commit(deadline, true);
    revoke(hooks_.assignment(), false);
    leave_group("the consumer unsubscribed", deadline);
    topics_.clear();
}

GroupMetadata ConsumerCoordinator::group_metadata() const {
    if (join_.running) return join_.before;  // Java: the generation of the last completed join
    return {config_.group_id.value_or(""), generation_, member_id_, config_.group_instance_id};
}

void ConsumerCoordinator::revoke(const std::vector<TopicPartitionName>& partitions, bool lost) {
    if (!partitions.empty() && listener_ != nullptr) {
        if (lost) {
            listener_->on_partitions_lost(partitions);
        } else {
            listener_->on_partitions_revoked(partitions);
        }
    }
    std::vector<TopicPartitionName> keep;
    for (const auto& tp : hooks_.assignment()) {
        if (std::find(partitions.begin(), partitions.end(), tp) == partitions.end()) keep.push_back(tp);
    }
    hooks_.assign(std::move(keep));
}

void ConsumerCoordinator::reset_generation(bool reset_member_id) {
    generation_ = -1;
    if (reset_member_id) member_id_.clear();
    state_ = State::unjoined;
    rejoin_needed_ = true;
}

// ---- the coordinator ----

GroupChannelHooks ConsumerCoordinator::channel_hooks() {
    GroupChannelHooks h;
    h.may_continue = [this] { return may_find_coordinator(); };
    h.on_side = [this] { return join_.fiber != 0 && env_.executor().current() == join_.fiber; };
    h.may_commit = [this] { return may_commit(); };
    h.before_commit = [this](Instant deadline) { wait_for_sync(deadline); };
    h.commit_member = [this] { return commit_member(); };
    h.on_commit_error = [this](ErrorCode code, const std::string& where) { on_commit_error(code, where); };
    h.consumer = hooks_;
    return h;
}

Status ConsumerCoordinator::may_commit() const {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    return fatal_ ? Status(fatal_->code, fatal_->message) : ok_status();
}

// Java's generationIfStable(): with a subscription, only a member of a generation commits.
// Expelled (a heartbeat or commit found the member unknown or its generation stale, or
// max_poll_interval passed) the member must not commit as a "simple" consumer (-1, no
// member id): the coordinator takes such a commit once the group is Empty, over what the
// partitions' later owners committed. Its partitions are lost; the next poll rejoins.
Result<CommitMember> ConsumerCoordinator::commit_member() const {
    if (!subscribed() || generation_ >= 0) return CommitMember{generation_, member_id_};
    bool rebalancing = join_.running || state_ == State::joining;
    ErrorCode code = rebalancing ? ErrorCode::rebalance_in_progress : ErrorCode::illegal_generation;
    return protocol::status_from(code, "OffsetCommit: the consumer is not a member of an active generation of group " +
                                           *config_.group_id)
        .error();
}

Status ConsumerCoordinator::may_find_coordinator() const {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (join_abandoned()) return Status(Errc::closed, "the rebalance was abandoned");
    return ok_status();
}

// ---- heartbeats ----

void ConsumerCoordinator::heartbeat_loop() {
    while (!stopping_) {
        heartbeat_wake_.wait(env_.now() + config_.heartbeat_interval);
        heartbeat_wake_.reset();
        if (stopping_) break;
        if (state_ != State::stable || !channel_.coordinator()) continue;
        if (env_.now() - last_poll_ > config_.max_poll_interval) {
            // Java's poll timeout: leave so the group can move the partitions on; the next
            // poll finds them lost and rejoins.
            leave_group("poll() was not called within max_poll_interval", env_.now() + config_.request_timeout);
            lost_pending_ = true;
            continue;
        }
        heartbeat_once();
    }
}

void ConsumerCoordinator::heartbeat_once() {
    protocol::HeartbeatRequest req;
    req.group_id = *config_.group_id;
    req.generation_id = generation_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;  // v3+
    int32_t sent_generation = generation_;
    auto resp = channel_.call<protocol::HeartbeatResponse>(req, 0, kHeartbeatMax, env_.now() + config_.request_timeout);
    if (!resp.ok() || generation_ != sent_generation || state_ != State::stable) return;
    switch (resp->error_code) {
        case ErrorCode::none:
            return;
        case ErrorCode::rebalance_in_progress:
            rejoin_needed_ = true;
            return;
        case ErrorCode::unknown_member_id:
        case ErrorCode::illegal_generation:
            lost_pending_ = true;
            reset_generation(resp->error_code == ErrorCode::unknown_member_id);
            return;
        case ErrorCode::fenced_instance_id:
            fatal_ = protocol::status_from(resp->error_code,
                                           "another consumer uses group_instance_id " +
                                               config_.group_instance_id.value_or(""))
                         .error();
            return;
        default:
            return;  // coordinator errors were handled in channel_.call; others: try again
    }
}

void ConsumerCoordinator::leave_group(const std::string& reason, Instant deadline) {
    bool dynamic = !config_.group_instance_id.has_value();
    if (dynamic && channel_.coordinator() && !member_id_.empty() && generation_ >= 0) {
        protocol::LeaveGroupRequest req;
        req.group_id = *config_.group_id;
        req.member_id = member_id_;  // v0-v2
        protocol::LeaveGroupRequest::MemberIdentity me;
        me.member_id = member_id_;
        me.reason = reason;  // v5+
        req.members.push_back(me);  // v3+
        auto resp = channel_.call<protocol::LeaveGroupResponse>(req, 0, kLeaveGroupMax, deadline);
        (void)resp;  // best effort: the session timeout removes us otherwise
    }
    reset_generation(dynamic);
    rejoin_needed_ = false;
}

// ---- joining ----

Status ConsumerCoordinator::poll(Instant deadline) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    last_poll_ = env_.now();
    if (fatal_) return Status(fatal_->code, fatal_->message);
    if (join_.running && join_done_.is_set()) KEEL_TRY(finish_background_join(deadline));
    if (lost_pending_) {
        lost_pending_ = false;
        revoke(hooks_.assignment(), true);
    }
    if (subscribed() && !join_.running && (state_ != State::stable || rejoin_needed_)) {
        Status found = channel_.ensure_coordinator(deadline);
        if (!found.ok()) return found.code() == Errc::closed ? found : ok_status();  // poll again later
        KEEL_TRY(rejoin(deadline));
        last_poll_ = env_.now();
    }
    if (!positions_pending_.empty()) KEEL_TRY(fetch_initial_positions(positions_pending_, deadline));
    if (!join_.running) channel_.maybe_auto_commit(std::max(deadline, env_.now() + config_.request_timeout), false);
    return ok_status();
}

// Prepares the member (auto-commit, revocations), then joins: on the join fiber when the
// rebalance is cooperative and the member owns partitions to fetch meanwhile, else here.
Status ConsumerCoordinator::rejoin(Instant deadline) {
    Instant limit = std::max(deadline, env_.now() + config_.max_poll_interval + config_.request_timeout);
    on_join_prepare(limit);
    if (can_join_in_background()) {
        start_background_join(limit);
        return ok_status();
    }
    return join_until_stable(limit);
}

Status ConsumerCoordinator::join_until_stable(Instant limit) {
    while (true) {
        if (closed_) return Status(Errc::closed, "the consumer is closed");
        bool retry = false;
        KEEL_TRY(join_once(limit, retry));
        if (!retry && !rejoin_needed_) return ok_status();
        // Cooperative: the second rebalance after a revocation; the next poll starts it on
        // the join fiber when the member still owns partitions.
        if (!retry && can_join_in_background()) return ok_status();
        if (!retry) on_join_prepare(limit);
        if (env_.now() >= limit) return Status(Errc::timeout, "the group did not complete its rebalance");
        if (retry && !channel_.back_off()) return Status(Errc::closed, "the node is stopping");
    }
}

void ConsumerCoordinator::on_join_prepare(Instant deadline) {
    if (generation_ >= 0 && state_ == State::stable) channel_.maybe_auto_commit(deadline, true);
    auto owned = hooks_.assignment();
    if (owned.empty()) return;
    if (generation_ < 0) {
        revoke(owned, true);  // expelled: the partitions may be someone else's already
        lost_pending_ = false;  // handled: the next poll must not drop the new assignment
    } else if (protocol_ == RebalanceProtocol::eager) {
        revoke(owned, false);
    } else {
        std::vector<TopicPartitionName> gone;
        for (const auto& tp : owned) {
            if (!std::binary_search(topics_.begin(), topics_.end(), tp.topic)) gone.push_back(tp);
        }
        revoke(gone, false);
    }
}

Status ConsumerCoordinator::join_once(Instant deadline, bool& retry) {
    state_ = State::joining;
    rejoin_needed_ = false;
    KEEL_TRY_ASSIGN(std::optional<Assignment> assignment, join_and_sync(deadline));
    if (!assignment) {
        retry = true;
        return ok_status();
    }
    return on_join_complete(*assignment, deadline);
}

Result<std::optional<Assignment>> ConsumerCoordinator::join_and_sync(Instant deadline) {
    Members members;
    KEEL_TRY_ASSIGN(bool again, join_request(deadline, members));
    if (again) return std::optional<Assignment>();
    Members assignments;
    if (!members.empty()) {
        KEEL_TRY_ASSIGN(assignments, leader_assign(deadline, members));
    }
    return sync_request(deadline, assignments);
}

// ---- the join fiber of a cooperative rebalance ----

bool ConsumerCoordinator::can_join_in_background() const {
    return protocol_ == RebalanceProtocol::cooperative && generation_ >= 0 && !closing_ && !closed_ &&
           !hooks_.assignment().empty();
}

void ConsumerCoordinator::start_background_join(Instant limit) {
    join_ = BackgroundJoin{};
    join_.before = group_metadata();
    join_.running = true;
    state_ = State::joining;
    rejoin_needed_ = false;
    join_done_.reset();
    env::spawn_joinable(env_.executor(), "consumer-join-" + config_.client_id, join_done_,
                        [this, limit] { background_join(limit); });
}

// The JoinGroup/SyncGroup exchange with its retries, on the join fiber; the outcome waits in
// join_ for poll (finish_background_join). Never calls the listener or changes the assignment.
void ConsumerCoordinator::background_join(Instant limit) {
    join_.fiber = env_.executor().current();
    while (true) {
        if (join_.abandon || closed_) {
            join_.error = Error{Errc::closed, "the rebalance was abandoned"};
            return;
        }
        state_ = State::joining;
        rejoin_needed_ = false;
        auto r = join_and_sync(limit);
        if (!r.ok()) {
            join_.error = r.error();
            return;
        }
        if (*r) {
            join_.assignment = std::move(**r);
            return;
        }
        if (generation_ < 0) {  // UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION: what we own is lost
            join_.lost = true;
            return;
        }
        if (env_.now() >= limit) {
            join_.error = Error{Errc::timeout, "the group did not complete its rebalance"};
            return;
        }
        if (!channel_.back_off()) {
            join_.error = Error{Errc::closed, "the node is stopping"};
            return;
        }
    }
}

// On the poll fiber once the join fiber ended: applies its outcome.
Status ConsumerCoordinator::finish_background_join(Instant deadline) {
    join_done_.wait();
    join_.running = false;
    bool resubscribe = join_.resubscribe;
    Status s = ok_status();
    if (join_.lost) {
        lost_pending_ = true;  // this poll revokes them as lost and rejoins
    } else if (join_.assignment) {
        Assignment a = std::move(*join_.assignment);
        join_.assignment.reset();
        s = on_join_complete(a, deadline);
    } else {
        s = join_.error ? Status(*join_.error) : Status(Errc::closed, "the rebalance was interrupted");
    }
    if (resubscribe) rejoin_needed_ = true;
    return s;
}

// close/unsubscribe: ends a join in flight (the connection it waits on is closed) and joins
// its fiber; the member's generation is whatever the exchange reached.
void ConsumerCoordinator::stop_background_join() {
    if (!join_.running) return;
    join_.abandon = true;
    if (!join_done_.is_set()) {
        std::optional<env::Address> coordinator = channel_.coordinator();
        if (coordinator) channel_.side_pool().get(*coordinator).close();
        if (join_.fiber != 0) env_.executor().unpark(join_.fiber);  // out of a back-off
        join_done_.wait();
        if (coordinator) channel_.remember_coordinator(*coordinator);  // not dead: we hung up on it
    }
    join_.running = false;
    join_.assignment.reset();
}

bool ConsumerCoordinator::join_abandoned() const {
    return join_.abandon && join_.fiber != 0 && env_.executor().current() == join_.fiber;
}

Result<bool> ConsumerCoordinator::join_request(Instant deadline, Members& members) {
    protocol::JoinGroupRequest req;
    req.group_id = *config_.group_id;
    req.session_timeout_ms = to_ms32(config_.session_timeout);
    req.rebalance_timeout_ms = to_ms32(config_.max_poll_interval);  // v1+
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;  // v5+
    req.protocol_type = "consumer";
    Bytes metadata = subscription_bytes();
    for (const auto& a : assignors_) req.protocols.push_back({std::string(a->name()), metadata, {}});
    // The coordinator answers when the rebalance completes: up to the rebalance timeout.
    Instant d = std::min(deadline, env_.now() + config_.max_poll_interval + config_.request_timeout);
    auto resp = channel_.call<protocol::JoinGroupResponse>(req, kJoinGroupMin, kJoinGroupMax, d);
    if (!resp.ok()) {
        if (resp.error().code == Errc::closed || resp.error().code == Errc::unsupported_version) return resp.error();
        return true;  // the coordinator is forgotten; find it again
    }
    if (resp->error_code == ErrorCode::member_id_required) {
        member_id_ = resp->member_id;  // KIP-394: join again under the id the coordinator gave
        return true;
    }
    if (resp->error_code != ErrorCode::none) {
        KEEL_TRY(join_error(resp->error_code, "JoinGroup"));
        return true;
    }
    member_id_ = resp->member_id;
    generation_ = resp->generation_id;
    protocol_name_ = resp->protocol_name.value_or("");
    members.clear();
    if (resp->leader == member_id_ && !resp->skip_assignment) {
        for (const auto& m : resp->members) members.emplace_back(m.member_id, m.metadata);
    }
    return false;
}

Status ConsumerCoordinator::join_error(protocol::ErrorCode code, const char* api) {
    switch (code) {
        case ErrorCode::unknown_member_id:
            reset_generation(true);
            return ok_status();
        case ErrorCode::illegal_generation:
            reset_generation(false);
            return ok_status();
        case ErrorCode::fenced_instance_id:
            fatal_ = protocol::status_from(code, std::string(api) + ": another consumer uses group_instance_id " +
                                                     config_.group_instance_id.value_or(""))
                         .error();
            return Status(fatal_->code, fatal_->message);
        default:
            break;
    }
    if (code == ErrorCode::rebalance_in_progress || is_coordinator_error(code) || protocol::is_retriable(code)) {
        return ok_status();
    }
    return protocol::status_from(code, std::string(api) + " for group " + *config_.group_id);
}

Result<ConsumerCoordinator::Members> ConsumerCoordinator::leader_assign(Instant deadline, const Members& members) {
    const Assignor* assignor = nullptr;
    for (const auto& a : assignors_) {
        if (a->name() == protocol_name_) assignor = a.get();
    }
    if (assignor == nullptr) {
        return Error{Errc::invalid_request, "the coordinator chose assignor \"" + protocol_name_ + "\", not ours"};
    }
    std::map<std::string, Subscription> subscriptions;
    std::set<std::string> topics;
    for (const auto& [id, bytes] : members) {
        auto s = decode_subscription(bytes);
        if (!s.ok()) return Error{s.error().code, "the subscription of member " + id + ": " + s.error().message};
        for (const auto& t : s->topics) topics.insert(t);
        subscriptions[id] = std::move(s).value();
    }
    for (const auto& t : topics) metadata_.add_topic(t);
    Status refreshed = metadata_.refresh(std::min(deadline, env_.now() + config_.request_timeout));
    (void)refreshed;  // topics still unknown get no partitions this generation
    std::map<std::string, int32_t> partitions_per_topic;
    for (const auto& t : topics) {
        const TopicMetadata* tm = metadata_.topic(t);
        if (tm != nullptr && tm->partition_count() > 0) partitions_per_topic[t] = tm->partition_count();
    }
    auto assigned = assignor->assign(partitions_per_topic, subscriptions);
    Members out;
    for (const auto& [id, s] : subscriptions) out.emplace_back(id, encode_assignment(assigned[id]));
    return out;
}

Result<std::optional<Assignment>> ConsumerCoordinator::sync_request(Instant deadline, const Members& assignments) {
    protocol::SyncGroupRequest req;
    req.group_id = *config_.group_id;
    req.generation_id = generation_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;  // v3+
    req.protocol_type = "consumer";                     // v5+
    req.protocol_name = protocol_name_;                 // v5+
    for (const auto& [id, bytes] : assignments) req.assignments.push_back({id, bytes, {}});
    Instant d = std::min(deadline, env_.now() + config_.session_timeout + config_.request_timeout);
    auto resp = channel_.call<protocol::SyncGroupResponse>(req, 0, kSyncGroupMax, d);
    if (!resp.ok()) {
        if (resp.error().code == Errc::closed) return resp.error();
        return std::optional<Assignment>();
    }
    if (resp->error_code != ErrorCode::none) {
        KEEL_TRY(join_error(resp->error_code, "SyncGroup"));
        return std::optional<Assignment>();
    }
    if (resp->assignment.empty()) return std::optional<Assignment>(Assignment{});
    auto a = decode_assignment(resp->assignment);
    if (!a.ok()) return Error{a.error().code, "SyncGroup: our assignment: " + a.error().message};
    return std::optional<Assignment>(std::move(a).value());
}

Status ConsumerCoordinator::on_join_complete(const Assignment& assignment, Instant deadline) {
    rebalances_++;
    state_ = State::stable;
    // A loss signalled before this generation (an auto-commit refused while preparing the
    // join) was about the old assignment; this one is new. Left set, the next poll revoked
    // the new partitions as lost while the group kept them assigned to this member, which
    // never fetched them again (group-chaos seed 1769).
    lost_pending_ = false;
    std::vector<TopicPartitionName> assigned = assignment.partitions;
    std::sort(assigned.begin(), assigned.end());
    assigned.erase(std::unique(assigned.begin(), assigned.end()), assigned.end());
    auto owned = hooks_.assignment();
    auto revoked = minus(owned, assigned);
    auto added = minus(assigned, owned);
    if (!revoked.empty()) {
        // Cooperative (eager revoked everything before joining): commit what we leave
        // behind, give it up, and rejoin so its new owner can have it.
        if (config_.enable_auto_commit) {
            OffsetMap positions = hooks_.positions();
            std::erase_if(positions, [&](const auto& kv) { return !std::binary_search(revoked.begin(), revoked.end(), kv.first); });
            Status s = channel_.commit(positions, std::min(deadline, env_.now() + config_.request_timeout));
            (void)s;  // at least once: the new owner starts from the last commit
        }
        revoke(revoked, false);
        rejoin_needed_ = true;
    }
    hooks_.assign(assigned);
    positions_pending_ = added;
    Status s = fetch_initial_positions(added, deadline);
    if (listener_ != nullptr) listener_->on_partitions_assigned(added);
    last_poll_ = env_.now();
    return s;
}

Status ConsumerCoordinator::fetch_initial_positions(std::vector<TopicPartitionName> partitions, Instant deadline) {
    if (partitions.empty()) return ok_status();
    KEEL_TRY(channel_.seek_to_committed(partitions, deadline));
    positions_pending_.clear();
    return ok_status();
}

Bytes ConsumerCoordinator::subscription_bytes() const {
    Subscription s;
    s.topics = topics_;
    s.owned_partitions = hooks_.assignment();
    s.generation_id = generation_;
    return encode_subscription(s);
}

// ---- offsets ----

// Before a commit: between the JoinGroup and SyncGroup answers of a join in flight the
// group awaits the SyncGroups, and a commit now would be refused (REBALANCE_IN_PROGRESS);
// the SyncGroup is one round trip away.
void ConsumerCoordinator::wait_for_sync(Instant deadline) {
    if (join_.running && !join_done_.is_set() && generation_ != join_.before.generation_id) join_done_.wait(deadline);
}

void ConsumerCoordinator::on_commit_error(ErrorCode code, const std::string& where) {
    if (code == ErrorCode::fenced_instance_id) fatal_ = protocol::status_from(code, where).error();
    // During a join in flight the coordinator refuses commits of the old generation; the
    // join itself finds out whether the member is still in the group.
    if (join_.running) return;
    if (code == ErrorCode::rebalance_in_progress) rejoin_needed_ = true;
    if (code == ErrorCode::unknown_member_id || code == ErrorCode::illegal_generation) {
        lost_pending_ = subscribed();  // Java: CommitFailedException, the partitions are lost
        reset_generation(code == ErrorCode::unknown_member_id);
    }
}

Result<OffsetMap> ConsumerCoordinator::committed(const std::vector<TopicPartitionName>& partitions, Instant deadline) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    return channel_.committed(partitions, deadline);
}

// ---- close ----

void ConsumerCoordinator::close(Instant deadline) {
    if (closed_ || closing_) return;
    closing_ = true;
    stop_background_join();  // before the listener runs for the last time
    // Commits in flight finish first, under the current member id (as Java's close does).
    channel_.wait_async_commits(deadline);
    if (!fatal_ && (state_ == State::stable || !subscribed())) channel_.maybe_auto_commit(deadline, true);
    if (subscribed()) {
        revoke(hooks_.assignment(), false);
        leave_group("the consumer is closing", deadline);
    }
    closed_ = true;
    stopping_ = true;
    heartbeat_wake_.set();
    channel_.shut();  // a heartbeat or an async commit in flight returns now
    if (heartbeat_started_) heartbeat_done_.wait();
    channel_.wait_async_commits(Instant::max());
}


// ---- Consumer's group API ----

Status Consumer::subscribe(std::vector<std::string> topics, RebalanceListener* listener) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (!group_) return Status(Errc::invalid_argument, "subscribe needs a group_id");
    if (!group_->subscribed()) set_assignment({});  // a manual assignment ends here
    return group_->subscribe(std::move(topics), listener);
}

void Consumer::unsubscribe() {
    if (group_ && !closed_) group_->unsubscribe();
}

Status Consumer::commit_sync(std::optional<OffsetMap> offsets, Duration timeout) {
    if (closed_) return Status(Errc::closed, "the consumer is closed");
    if (!group_) return Status(Errc::invalid_argument, "committing offsets needs a group_id");
    return group_->commit_sync(offsets ? *offsets : consumed_positions(), env_.now() + timeout);
}

void Consumer::commit_async(CommitCallback callback) {
    if (!group_ || closed_) {
        if (callback) callback({}, Status(closed_ ? Errc::closed : Errc::invalid_argument, "no group to commit to"));
        return;
    }
    group_->commit_async(consumed_positions(), std::move(callback));
}

Result<OffsetMap> Consumer::committed(const std::vector<TopicPartitionName>& partitions, Duration timeout) {
    if (closed_) return Error{Errc::closed, "the consumer is closed"};
    if (!group_) return Error{Errc::invalid_argument, "committed offsets need a group_id"};
    return group_->committed(partitions, env_.now() + timeout);
}

Status Consumer::pause(const std::vector<TopicPartitionName>& partitions) {
    for (const auto& tp : partitions) {
        if (!assigned_.contains(tp)) return Status(Errc::invalid_argument, "pause: " + tp.to_string() + " is not assigned");
    }
    paused_.insert(partitions.begin(), partitions.end());
    return ok_status();
}

void Consumer::resume(const std::vector<TopicPartitionName>& partitions) {
    for (const auto& tp : partitions) paused_.erase(tp);
}

std::vector<TopicPartitionName> Consumer::paused() const { return {paused_.begin(), paused_.end()}; }

GroupMetadata Consumer::group_metadata() const { return group_ ? group_->group_metadata() : GroupMetadata{}; }

}  // namespace keel::client
