// RaftNode: construction, transitions between roles, the Ready hand-off, plumbing.
#include "core/raft/raft_node.h"

#include <algorithm>
#include <type_traits>

namespace keel::raft {

using namespace keel::protocol;

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Status check_config(const RaftConfig& c) {
    if (c.voters.empty()) return Status(Errc::invalid_argument, "no voters configured");
    std::set<NodeId> unique(c.voters.begin(), c.voters.end());
    if (unique.size() != c.voters.size()) {
        return Status(Errc::invalid_argument, "duplicate voter ids");
    }
    for (NodeId v : c.voters) {
        if (v.value() < 0) return Status(Errc::invalid_argument, "negative voter id");
    }
    return ok_status();
}

}  // namespace

// ------------------------------------------------------------------ construction

RaftNode::RaftNode(NodeId id, RaftConfig config, RaftLog log, uint64_t random_seed, Instant now)
    : id_(id), config_(std::move(config)), rng_state_(random_seed), now_(now), log_(std::move(log)) {
    std::sort(config_.voters.begin(), config_.voters.end());
    listed_voter_ = is_voter(id_);
    // Correlation ids start at a random point so that responses addressed to an earlier
    // incarnation of this node cannot be mistaken for answers to this one.
    next_correlation_id_ = static_cast<int32_t>(splitmix64(rng_state_) & 0x3fffffff);
    high_watermark_ = applied_ = log_.start();
    durable_end_ = handed_end_ = unsynced_from_ = log_.end();
}

Result<RaftNode> RaftNode::create(NodeId id, RaftConfig config, Restored restored,
                                  EmptyDisk empty_disk, uint64_t random_seed, Instant now) {
    KEEL_TRY(check_config(config));
    std::optional<SnapshotId> snap_id;
    if (restored.snapshot) snap_id = restored.snapshot->id;
    KEEL_TRY_ASSIGN(RaftLog log, RaftLog::restore(snap_id, std::move(restored.log)));
    RaftNode node(id, std::move(config), std::move(log), random_seed, now);
    node.snapshot_ = std::move(restored.snapshot);
    if (restored.quorum_state) {
        node.qs_ = *restored.quorum_state;
        if (node.log_.last_epoch() > node.qs_.epoch) {
            return Error{Errc::corrupt, "log holds entries of an epoch later than the quorum state's"};
        }
    } else {
        // Empty disk. Outside bootstrap a listed voter may have lost committed entries it
        // once acknowledged: it must not vote until it has them again.
        node.qs_ = QuorumState{};
        node.qs_.catching_up = node.listed_voter_ && empty_disk == EmptyDisk::rejoin;
        node.persist();
    }
    if (!node.listed_voter_ && node.qs_.catching_up) {
        node.qs_.catching_up = false;
        node.persist();
    }
    node.restore_role();
    return node;
}

void RaftNode::restore_role() {
    if (qs_.leader_id == id_) {
        // A restarted leader lost its in-memory state; it resigns (it already voted for
        // itself in this epoch) and waits for the next election.
        become_unattached(qs_.epoch, id_);
    } else if (qs_.leader_id) {
        become_follower(qs_.epoch, *qs_.leader_id);
    } else {
        role_ = Role::unattached;
        election_deadline_ = now_ + random_election_timeout();
        next_fetch_at_ = now_;
    }
}

// ------------------------------------------------------------------- transitions

void RaftNode::leave_role() {
    if (role_ == Role::leader) {
        // Answer parked fetches so followers learn about the change at once.
        std::map<NodeId, ParkedFetch> parked = std::move(parked_);
        parked_.clear();
        for (const auto& [to, pf] : parked) answer_not_leader(to, pf.correlation_id);
        voter_progress_.clear();
        observer_progress_.clear();
        begin_quorum_acked_.clear();
        begin_quorum_resend_at_ = Instant::max();
    }
    granted_.clear();
    rejected_.clear();
    fetch_in_flight_.reset();
    download_.reset();
    election_deadline_ = backoff_until_ = fetch_deadline_ = next_fetch_at_ = Instant::max();
}

void RaftNode::become_unattached(QuorumEpoch epoch, std::optional<NodeId> voted_for) {
    KEEL_ASSERT(epoch >= qs_.epoch);
    // An election timer already running keeps running: otherwise a candidate that keeps
    // losing (and bumping the epoch) would reset everyone's timer forever (livelock).
    Instant pending = std::min(election_deadline_, backoff_until_);
    leave_role();
    if (epoch > qs_.epoch) qs_.voted_for.reset();
    if (voted_for) qs_.voted_for = voted_for;
    qs_.epoch = epoch;
    qs_.leader_id.reset();
    persist();
    role_ = Role::unattached;
    election_deadline_ = std::min(pending, now_ + random_election_timeout());
    next_fetch_at_ = now_;  // observers and catching-up voters look for the leader
}

void RaftNode::become_follower(QuorumEpoch epoch, NodeId leader) {
    KEEL_ASSERT(epoch >= qs_.epoch);
    KEEL_ASSERT(leader != id_);
    leave_role();
    if (epoch > qs_.epoch) qs_.voted_for.reset();
    qs_.epoch = epoch;
    qs_.leader_id = leader;
    persist();
    role_ = Role::follower;
    // Not contact yet: only a successful fetch or the leader's BeginQuorumEpoch counts
    // (a node going back to a dead leader must keep granting pre-votes).
    fetch_deadline_ = now_ + config_.fetch_timeout;
    send_fetch();
}

void RaftNode::start_election() {
    KEEL_ASSERT(is_active_voter());
    if (config_.pre_vote) {
        become_prospective();
    } else {
        become_candidate();
    }
}

void RaftNode::become_prospective() {
    leave_role();
    role_ = Role::prospective;
    granted_.insert(id_);
    election_deadline_ = now_ + random_election_timeout();
    send_vote_requests(/*pre_vote=*/true);
    if (granted_.size() >= majority()) become_candidate();
}

void RaftNode::become_candidate() {
    leave_role();
    qs_.epoch = qs_.epoch + 1;
    qs_.voted_for = id_;
    qs_.leader_id.reset();
    persist();
    role_ = Role::candidate;
    granted_.insert(id_);
    election_deadline_ = now_ + random_election_timeout();
    send_vote_requests(/*pre_vote=*/false);
    if (granted_.size() >= majority()) become_leader();
}

void RaftNode::become_leader() {
    KEEL_ASSERT(role_ == Role::candidate && qs_.voted_for == id_);
    std::set<NodeId> granting = granted_;
    leave_role();
    role_ = Role::leader;
    qs_.leader_id = id_;
    persist();
    epoch_start_offset_ = log_.end();
    for (NodeId v : config_.voters) voter_progress_[v] = Progress{std::nullopt, now_, false};
    // The LeaderChange control record opens the epoch: committing it commits every earlier
    // entry too, which a leader may not do by counting replicas alone (Raft figure 8).
    LeaderChangeMessage lc;
    lc.leader_id = id_;
    for (NodeId v : config_.voters) lc.voters.push_back({v});
    for (NodeId v : granting) lc.granting_voters.push_back({v});
    log_.append(LogEntry{log_.end(), qs_.epoch, EntryKind::leader_change, lc.encode_to_bytes(0)});
    for (NodeId v : config_.voters) {
        if (v != id_) send_begin_quorum_epoch(v);
    }
    begin_quorum_resend_at_ = now_ + config_.request_timeout;
}

// ----------------------------------------------------------------------- inputs

void RaftNode::tick(Instant now) {
    KEEL_ASSERT(now >= now_);
    now_ = now;
    expire_outstanding();
    switch (role_) {
        case Role::leader: tick_leader(); break;
        case Role::follower: tick_follower(); break;
        case Role::unattached: tick_unattached(); break;
        case Role::prospective:
        case Role::candidate:
            if (now_ < backoff_until_ && now_ < election_deadline_) break;
            if (role_ == Role::prospective && qs_.leader_id) {
                // The pre-vote round went nowhere: back to fetching from the last known
                // leader, which may be reachable again (KIP-996).
                become_follower(qs_.epoch, *qs_.leader_id);
            } else {
                start_election();
            }
            break;
    }
}

void RaftNode::step(const Message& m) {
    if (m.to != id_) return;
    if (is_request(m.body)) {
        std::visit(
            [&](const auto& req) {
                using T = std::decay_t<decltype(req)>;
                if constexpr (std::is_same_v<T, VoteRequest>) on_vote_request(m, req);
                if constexpr (std::is_same_v<T, BeginQuorumEpochRequest>) on_begin_quorum_epoch(m, req);
                if constexpr (std::is_same_v<T, EndQuorumEpochRequest>) on_end_quorum_epoch(m, req);
                if constexpr (std::is_same_v<T, FetchRequest>) on_fetch_request(m, req);
                if constexpr (std::is_same_v<T, FetchSnapshotRequest>) on_fetch_snapshot_request(m, req);
            },
            m.body);
        return;
    }
    auto it = outstanding_.find(m.correlation_id);
    if (it == outstanding_.end() || it->second.to != m.from || it->second.api != api_key_of(m.body)) {
        return;  // late, duplicated, or not ours
    }
    Outstanding out = it->second;
    outstanding_.erase(it);
    std::visit(
        [&](const auto& resp) {
            using T = std::decay_t<decltype(resp)>;
            if constexpr (std::is_same_v<T, VoteResponse>) on_vote_response(out, m.from, resp);
            if constexpr (std::is_same_v<T, FetchResponse>) on_fetch_response(out, m.from, resp);
            if constexpr (std::is_same_v<T, FetchSnapshotResponse>)
                on_fetch_snapshot_response(out, m.from, resp);
            if constexpr (std::is_same_v<T, BeginQuorumEpochResponse> ||
                          std::is_same_v<T, EndQuorumEpochResponse>) {
                if (resp.topics.size() == 1 && resp.topics[0].partitions.size() == 1) {
                    const auto& p = resp.topics[0].partitions[0];
                    on_leader_hint(p.leader_id, p.leader_epoch);
                    if constexpr (std::is_same_v<T, BeginQuorumEpochResponse>) {
                        if (role_ == Role::leader && p.error_code == ErrorCode::none &&
                            out.epoch == qs_.epoch) {
                            begin_quorum_acked_.insert(m.from);
                        }
                    }
                }
            }
        },
        m.body);
}

Result<Offset> RaftNode::propose(Bytes record) {
    if (role_ != Role::leader) {
        std::string hint = qs_.leader_id ? "leader is node " + std::to_string(qs_.leader_id->value())
                                         : "leader unknown";
        return Error{Errc::not_leader, hint + " (epoch " + std::to_string(qs_.epoch.value()) + ")"};
    }
    if (record.size() > config_.record_bytes_max) {
        return Error{Errc::message_too_large, "record of " + std::to_string(record.size()) +
                                                  " bytes exceeds " +
                                                  std::to_string(config_.record_bytes_max)};
    }
    if (static_cast<size_t>(log_.end() - high_watermark_) >= config_.uncommitted_entries_max) {
        return Error{Errc::not_enough_replicas,
                     "uncommitted backlog full; the quorum is not keeping up"};
    }
    Offset offset = log_.end();
    log_.append(LogEntry{offset, qs_.epoch, EntryKind::data, std::move(record)});
    answer_parked_fetches();
    return offset;
}

Status RaftNode::resign() {
    if (role_ != Role::leader) return Status(Errc::not_leader, "only the leader can resign");
    // Most caught-up voters first: they are the likeliest to win quickly.
    std::vector<std::pair<Offset, NodeId>> ranked;
    for (const auto& [v, p] : voter_progress_) {
        if (v != id_) ranked.push_back({p.fetch_offset.value_or(Offset(-1)), v});
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    EndQuorumEpochRequest req;
    req.cluster_id = config_.cluster_id;
    EndQuorumEpochRequest::PartitionData p;
    p.partition_index = metadata_partition;
    p.leader_id = id_;
    p.leader_epoch = qs_.epoch;
    for (const auto& [off, v] : ranked) p.preferred_candidates.push_back({v, Uuid{}});
    req.topics.push_back({std::string(metadata_topic_name), {p}});
    QuorumEpoch epoch = qs_.epoch;
    become_unattached(epoch, id_);
    for (const auto& [off, v] : ranked) {
        send_request(v, req, Outstanding{ApiKey::end_quorum_epoch, v, epoch});
    }
    return ok_status();
}

Status RaftNode::snapshot_taken(SnapshotId id, Bytes data) {
    if (id.end_offset > applied_) {
        return Status(Errc::invalid_argument, "snapshot at " + std::to_string(id.end_offset.value()) +
                                                  " is beyond the applied offset " +
                                                  std::to_string(applied_.value()));
    }
    if (id.end_offset <= log_.start() || id.end_offset > log_.end()) {
        return Status(Errc::invalid_argument, "snapshot does not advance the log start");
    }
    if (log_.epoch_at(id.end_offset - 1) != id.epoch) {
        return Status(Errc::invalid_argument, "snapshot epoch does not match the log");
    }
    log_.compact_to(id);
    snapshot_ = Snapshot{id, std::move(data)};
    pending_log_start_ = id.end_offset;
    return ok_status();
}

// ------------------------------------------------------------------------ Ready

bool RaftNode::has_ready() const {
    return qs_dirty_ || pending_install_ || pending_truncate_ || pending_log_start_ ||
           unsynced_from_ < log_.end() || handed_end_ != durable_end_ || !outbox_.empty() ||
           applied_ < std::min(high_watermark_, log_.end());
}

Ready RaftNode::take_ready() {
    // The previous Ready has been processed: what it appended is durable now.
    durable_end_ = handed_end_;
    if (role_ == Role::leader) advance_high_watermark();
    if (qs_.catching_up && catch_up_target_ && durable_end_ >= *catch_up_target_) {
        // Everything committed when the leader answered is on our disk: we may vote again.
        qs_.catching_up = false;
        catch_up_target_.reset();
        persist();
    }
    Ready r;
    if (qs_dirty_) r.quorum_state = qs_;
    qs_dirty_ = false;
    r.install_snapshot = std::move(pending_install_);
    pending_install_.reset();
    if (!r.install_snapshot) r.truncate_to = pending_truncate_;
    pending_truncate_.reset();
    if (unsynced_from_ < log_.end()) r.append = log_.slice(std::max(unsynced_from_, log_.start()), log_.end());
    unsynced_from_ = handed_end_ = log_.end();
    r.log_start = pending_log_start_;
    pending_log_start_.reset();
    r.messages = std::move(outbox_);
    outbox_.clear();
    Offset commit_end = std::min(high_watermark_, log_.end());
    for (; applied_ < commit_end && r.committed.size() < config_.apply_entries_max; ++applied_) {
        r.committed.push_back(log_.at(applied_));
    }
    return r;
}

std::map<NodeId, std::optional<Offset>> RaftNode::voter_fetch_offsets() const {
    std::map<NodeId, std::optional<Offset>> out;
    for (const auto& [v, p] : voter_progress_) out[v] = v == id_ ? durable_end_ : p.fetch_offset;
    return out;
}

// --------------------------------------------------------------------- plumbing

int32_t RaftNode::send_request(NodeId to, Body body, Outstanding out) {
    int32_t corr = next_correlation_id_;
    next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 0 : next_correlation_id_ + 1;
    out.to = to;
    out.deadline = now_ + config_.request_timeout;
    out.correlation_id = corr;
    if (outstanding_.size() >= config_.outstanding_requests_max) {
        // Bounded: forget the oldest-numbered entry (its response will be ignored).
        outstanding_.erase(outstanding_.begin());
    }
    outstanding_[corr] = out;
    outbox_.push_back(Message{id_, to, corr, std::move(body)});
    return corr;
}

void RaftNode::send_response(NodeId to, int32_t correlation_id, Body body) {
    outbox_.push_back(Message{id_, to, correlation_id, std::move(body)});
}

void RaftNode::expire_outstanding() {
    for (auto it = outstanding_.begin(); it != outstanding_.end();) {
        if (it->second.deadline <= now_) {
            if (fetch_in_flight_ == it->first) {
                fetch_in_flight_.reset();
                next_fetch_at_ = now_;  // resend
            }
            it = outstanding_.erase(it);
        } else {
            ++it;
        }
    }
}

Duration RaftNode::random_duration(Duration lo, Duration hi) {
    KEEL_ASSERT(lo <= hi);
    uint64_t span = static_cast<uint64_t>((hi - lo).count()) + 1;
    return lo + Duration(static_cast<int64_t>(splitmix64(rng_state_) % span));
}

Duration RaftNode::random_election_timeout() {
    return random_duration(config_.election_timeout, 2 * config_.election_timeout - Duration(1));
}

Duration RaftNode::random_backoff() { return random_duration(Duration(0), config_.election_backoff_max); }

bool RaftNode::is_voter(NodeId n) const {
    return std::binary_search(config_.voters.begin(), config_.voters.end(), n);
}

bool RaftNode::heard_from_leader_recently() const {
    if (role_ == Role::leader) return true;
    return role_ == Role::follower && now_ < last_leader_contact_ + config_.fetch_timeout;
}

std::optional<ErrorCode> RaftNode::check_cluster_id(const std::optional<std::string>& id) const {
    if (id && config_.cluster_id && *id != *config_.cluster_id) return ErrorCode::inconsistent_cluster_id;
    return std::nullopt;
}

}  // namespace keel::raft
