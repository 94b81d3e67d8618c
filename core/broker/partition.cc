#include "core/broker/partition.h"

#include <algorithm>

#include "core/base/assert.h"
#include "core/controller/metadata_records.h"

namespace keel::broker {

const char* role_name(ReplicaRole r) {
    switch (r) {
        case ReplicaRole::none: return "none";
        case ReplicaRole::leader: return "leader";
        case ReplicaRole::follower: return "follower";
    }
    return "?";
}

Partition::Partition(env::Env& env, const BrokerConfig& config, TopicPartitionName tp, Uuid topic_id,
                     std::unique_ptr<log::PartitionLog> log)
    : env_(env),
      config_(config),
      tp_(std::move(tp)),
      topic_id_(topic_id),
      log_(std::move(log)),
      producers_(ProducerStateConfig{config.producer_id_expiration_ms}),
      append_mutex_(env.executor()),
      changed_(env.executor()) {}

Partition::~Partition() { changed_.notify_all(); }

Status Partition::apply(const controller::PartitionState& wanted, const controller::MetadataImage& image) {
    // A follower's append parked on the disk finishes first: were this replica to lead
    // meanwhile, a produce would check its sequence against a producer state without that
    // batch, and a retry of it would go in twice (data-chaos seed 915).
    env::LockGuard guard(append_mutex_);
    if (!guard.held()) return ok_status();  // the node is dying
    // The image may have moved on while we waited: apply its state, not a leadership the
    // controller has already taken away (a stale leader of an older epoch, however briefly).
    const controller::PartitionState* now = image.partition(topic_id_, PartitionIndex(tp_.partition));
    bool newer = now != nullptr && (now->leader_epoch > wanted.leader_epoch ||
                                    (now->leader_epoch == wanted.leader_epoch &&
                                     now->partition_epoch > wanted.partition_epoch));
    const controller::PartitionState& state = newer ? *now : wanted;
    bool epoch_changed = state.leader_epoch != leader_epoch_;
    replicas_ = state.replicas;
    isr_ = state.isr;
    partition_epoch_ = state.partition_epoch;
    leader_recovery_state_ = state.leader_recovery_state;
    if (in_flight_ && state.partition_epoch > in_flight_->partition_epoch) in_flight_.reset();
    // The epoch first: the role changes below may park on the disk, and anything appended
    // meanwhile must carry the new epoch.
    NodeId previous_leader = leader_;
    leader_ = state.leader;
    leader_epoch_ = state.leader_epoch;
    if (state.leader == config_.id) {
        if (role_ != ReplicaRole::leader || epoch_changed) become_leader(state);
        // Followers no longer replicas are forgotten; new replicas start unknown.
        std::map<NodeId, FollowerState> kept;
        for (NodeId r : replicas_) {
            if (r == config_.id) continue;
            auto it = followers_.find(r);
            kept[r] = it != followers_.end() ? it->second : FollowerState{};
        }
        followers_ = std::move(kept);
        maybe_advance_high_watermark();
    } else if (state.is_replica(config_.id)) {
        if (role_ != ReplicaRole::follower || epoch_changed || previous_leader != state.leader) {
            KEEL_TRY(become_follower(state));
        }
    } else {
        role_ = ReplicaRole::none;
    }
    changed_.notify_all();
    return ok_status();
}

void Partition::become_leader(const controller::PartitionState& state) {
    role_ = ReplicaRole::leader;
    in_flight_.reset();
    epoch_start_offset_ = log_->log_end_offset();
    // Kafka resets every follower; ISR members count as caught up now, so that a new
    // leader does not shrink its ISR before they had a chance to fetch. Before anything
    // parks: the ISR maintainer, seeing a leader with no followers, would shrink the ISR
    // to the leader alone.
    followers_.clear();
    Instant now = env_.now();
    for (NodeId r : state.replicas) {
        if (r == config_.id) continue;
        FollowerState f;
        if (state.in_isr(r)) f.last_caught_up = now;
        followers_[r] = f;
    }
    if (high_watermark_ > log_->log_end_offset()) high_watermark_ = log_->log_end_offset();
    // Where this epoch starts (persisted in leader-epoch-checkpoint). A failure leaves the
    // log offline, which every later append reports.
    (void)log_->assign_epoch_start_offset(state.leader_epoch);
}

Status Partition::become_follower(const controller::PartitionState& state) {
    role_ = ReplicaRole::follower;
    followers_.clear();
    in_flight_.reset();
    (void)state;
    if (config_.kip101_off && high_watermark_ < log_->log_end_offset()) {
        // Before KIP-101 a new follower cut its log at its high watermark, which could lose
        // acknowledged records the leader did not have yet acknowledged to it.
        KEEL_TRY(log_->truncate_to(high_watermark_));
        KEEL_TRY(rebuild_producer_state());
    }
    if (high_watermark_ > log_->log_end_offset()) high_watermark_ = log_->log_end_offset();
    return ok_status();
}

std::vector<NodeId> Partition::maximal_isr() const {
    std::vector<NodeId> m = isr_;
    if (in_flight_) {
        for (NodeId n : in_flight_->new_isr) {
            if (std::find(m.begin(), m.end(), n) == m.end()) m.push_back(n);
        }
    }
    return m;
}

Errc Partition::check_leader(int32_t client_leader_epoch) const {
    if (role_ != ReplicaRole::leader) return Errc::not_leader;
    if (client_leader_epoch >= 0) {
        if (client_leader_epoch < leader_epoch_.value()) return Errc::fenced_leader_epoch;
        if (client_leader_epoch > leader_epoch_.value()) return Errc::unknown_leader_epoch;
    }
    return Errc{};
}

bool Partition::update_follower(NodeId follower, BrokerEpoch broker_epoch, Offset fetch_offset, Offset log_start) {
    auto it = followers_.find(follower);
    if (role_ != ReplicaRole::leader || it == followers_.end()) return false;
    FollowerState& f = it->second;
    if (log_start > f.log_start) {
        f.log_start = log_start;
        changed_.notify_all();  // rare (DeleteRecords, retention): a DeleteRecords may be waiting
    }
    Instant now = env_.now();
    Offset leader_end = log_->log_end_offset();
    if (fetch_offset >= leader_end) {
        f.last_caught_up = std::max(f.last_caught_up, now);
    } else if (f.leader_end_at_last_fetch.value() >= 0 && fetch_offset >= f.leader_end_at_last_fetch) {
        f.last_caught_up = std::max(f.last_caught_up, f.last_fetch);
    }
    f.log_end = std::min(fetch_offset, leader_end);
    f.last_fetch = now;
    f.leader_end_at_last_fetch = leader_end;
    f.broker_epoch = broker_epoch;
    Offset before = high_watermark_;
    maybe_advance_high_watermark();
    return high_watermark_ != before;
}

Offset Partition::low_watermark() const {
    Offset low = log_->log_start_offset();
    for (NodeId m : isr_) {
        if (m == config_.id) continue;
        auto it = followers_.find(m);
        low = std::min(low, it == followers_.end() ? Offset(0) : std::max(it->second.log_start, Offset(0)));
    }
    return low;
}

Status Partition::follow_leader_log_start(Offset leader_log_start) {
    if (role_ != ReplicaRole::follower) return ok_status();
    Offset to = std::min(leader_log_start, high_watermark_);
    if (to <= log_->log_start_offset()) return ok_status();
    return log_->advance_log_start_offset(to);
}

void Partition::maybe_advance_high_watermark() {
    if (role_ != ReplicaRole::leader) return;
    // A topic that flushes every message (flush.messages=1) promises that what is
    // acknowledged is on disk: the leader then counts only what it has synced (its recovery
    // point), as followers do by fetching only after their own flush. Otherwise Kafka's
    // rule: the leader's log end, durable or not.
    Offset hw = log_->config().flush_messages == 1 ? std::min(log_->recovery_point(), log_->log_end_offset())
                                                   : log_->log_end_offset();
    if (!config_.bugs.hw_leader_alone) {
        for (NodeId m : maximal_isr()) {
            if (m == config_.id) continue;
            auto it = followers_.find(m);
            // An ISR member that has not fetched in this epoch holds the high watermark.
            if (it == followers_.end() || it->second.log_end.value() < 0) return;
            hw = std::min(hw, it->second.log_end);
        }
    }
    if (hw > high_watermark_) set_high_watermark(hw);
}

void Partition::set_high_watermark(Offset hw) {
    high_watermark_ = hw;
    changed_.notify_all();
}

std::optional<Divergence> Partition::divergence(int32_t last_fetched_epoch, Offset fetch_offset) const {
    if (last_fetched_epoch < 0) return std::nullopt;
    log::EpochEntry e = log_->end_offset_for_epoch(LeaderEpoch(last_fetched_epoch));
    if (config_.kip279_off) {
        // Pre-KIP-279: the answer is the end offset of the follower's epoch only, never an
        // earlier epoch's, so a follower whose log diverged further back keeps its tail.
        if (e.epoch.value() != last_fetched_epoch) return std::nullopt;
    }
    if (e.epoch.value() < last_fetched_epoch || e.start_offset < fetch_offset) {
        return Divergence{e.epoch, e.start_offset};
    }
    return std::nullopt;
}

std::optional<IsrChange> Partition::isr_change_to_send(const controller::MetadataImage& image) {
    if (role_ != ReplicaRole::leader) return std::nullopt;
    if (in_flight_) {
        // Never a different change while one may have been applied: the high watermark
        // counts its additions until the image or the controller settles it.
        if (!in_flight_resend_) return std::nullopt;
        in_flight_resend_ = false;
        return in_flight_;
    }
    Instant now = env_.now();
    std::vector<NodeId> next;
    bool changed = false;
    for (NodeId m : isr_) {
        if (m == config_.id) {
            next.push_back(m);
            continue;
        }
        auto it = followers_.find(m);
        bool lagging = it == followers_.end() || now - it->second.last_caught_up > config_.replica_lag_time_max;
        if (lagging) {
            changed = true;
        } else {
            next.push_back(m);
        }
    }
    for (const auto& [r, f] : followers_) {
        if (std::find(isr_.begin(), isr_.end(), r) != isr_.end()) continue;
        bool caught_up = f.log_end.value() >= 0 && f.log_end >= high_watermark_ && f.log_end >= epoch_start_offset_;
        if (caught_up && image.is_active(r)) {
            next.push_back(r);
            changed = true;
        }
    }
    // A leader chosen by an unclean election is RECOVERING until it says it has recovered
    // (KIP-704); with no transactions to abort, it has as soon as it leads.
    if (leader_recovery_state_ == controller::leader_recovering) changed = true;
    if (!changed) return std::nullopt;
    IsrChange c;
    c.new_isr = next;
    for (NodeId m : next) {
        auto it = followers_.find(m);
        c.broker_epochs.push_back(it != followers_.end() ? it->second.broker_epoch : BrokerEpoch(-1));
    }
    c.leader_epoch = leader_epoch_;
    c.partition_epoch = partition_epoch_;
    c.leader_recovery_state = leader_recovery_state_;
    in_flight_ = c;
    in_flight_resend_ = false;
    maybe_advance_high_watermark();
    return c;
}

namespace {
bool same_change(const std::optional<IsrChange>& a, const IsrChange& b) {
    return a && a->leader_epoch == b.leader_epoch && a->partition_epoch == b.partition_epoch &&
           a->new_isr == b.new_isr;
}
}  // namespace

void Partition::isr_change_refused(const IsrChange& c) {
    if (!same_change(in_flight_, c)) return;
    in_flight_.reset();
    in_flight_resend_ = false;
}

void Partition::isr_change_unknown(const IsrChange& c) {
    if (same_change(in_flight_, c)) in_flight_resend_ = true;
}

Result<log::AppendResult> Partition::append_as_follower(ByteView records, Offset leader_high_watermark,
                                                        LeaderEpoch fetched_at) {
    env::LockGuard guard(append_mutex_);
    if (!guard.held()) return Error{Errc::cancelled, tp_.to_string() + ": the broker is stopping"};
    if (role_ != ReplicaRole::follower) return Error{Errc::not_leader, tp_.to_string() + ": not a follower"};
    if (!follower_at(fetched_at)) {
        return Error{Errc::fenced_leader_epoch, tp_.to_string() + ": fetched in another leader epoch"};
    }
    log::AppendResult r;
    if (!records.empty()) {
        KEEL_TRY_ASSIGN(r, log_->append_replicated(records));
        // Followers rebuild the producers' state from what they replicate, so that a new
        // leader can detect retries of batches its predecessor appended.
        ByteView rest = records;
        while (rest.size() >= log::batch_format::kLogOverhead) {
            auto h = log::parse_batch_header(rest);
            if (!h.ok() || h->size_bytes() > rest.size()) break;
            producers_.apply_replicated_batch(*h, h->base_offset);
            rest = rest.subspan(h->size_bytes());
        }
    }
    set_follower_high_watermark(leader_high_watermark);
    changed_.notify_all();
    return r;
}

void Partition::set_follower_high_watermark(Offset leader_high_watermark) {
    Offset hw = std::min(leader_high_watermark, log_->log_end_offset());
    if (hw > high_watermark_) high_watermark_ = hw;
}

Status Partition::truncate_for_divergence(const Divergence& d, Offset leader_log_start, LeaderEpoch fetched_at) {
    if (config_.bugs.skip_divergence_truncation) return ok_status();
    env::LockGuard guard(append_mutex_);
    // The image moved while the fetch was out (or waited for the lock): the answer is stale.
    if (!guard.held() || !follower_at(fetched_at)) return ok_status();
    if (d.epoch.value() < 0 || d.end_offset.value() < 0) {
        // The leader has no epoch at or below ours: nothing of our log is known to match.
        KEEL_TRY(log_->truncate_fully_and_start_at(std::max(leader_log_start, Offset(0))));
        return rebuild_producer_state();
    }
    log::EpochEntry ours = log_->end_offset_for_epoch(d.epoch);
    Offset to = std::min(d.end_offset, log_->log_end_offset());
    // Our own end of that epoch (or of the largest one below it that we have): what lies
    // past it was written in another epoch than the leader's at those offsets.
    if (ours.epoch.value() >= 0) to = std::min(to, ours.start_offset);
    if (to < log_->log_end_offset()) {
        KEEL_TRY(log_->truncate_to(to));
        KEEL_TRY(rebuild_producer_state());
    } else {
        // Nothing to cut, but an epoch we led from our log end without appending (the
        // leader never saw it) must go, or our next fetch names it and diverges again.
        KEEL_TRY(log_->truncate_epochs_at_end());
    }
    if (high_watermark_ > log_->log_end_offset()) high_watermark_ = log_->log_end_offset();
    return ok_status();
}

Status Partition::restart_at_leader_log_start(Offset leader_log_start, LeaderEpoch fetched_at) {
    env::LockGuard guard(append_mutex_);
    if (!guard.held() || !follower_at(fetched_at) || leader_log_start <= log_->log_end_offset()) return ok_status();
    KEEL_TRY(log_->truncate_fully_and_start_at(leader_log_start));
    // Kafka's truncateFullyAndStartAt empties the producers' state too: batches no longer in
    // the log must not answer a retry as a duplicate.
    KEEL_TRY(rebuild_producer_state());
    if (high_watermark_ > log_->log_end_offset()) high_watermark_ = log_->log_end_offset();
    return ok_status();
}

int32_t Partition::last_fetched_epoch() const {
    auto latest = log_->leader_epochs().latest();
    return latest ? latest->epoch.value() : -1;
}

Status Partition::close() {
    role_ = ReplicaRole::none;
    changed_.notify_all();
    KEEL_TRY(log_->close());
    if (log_->offline()) return ok_status();
    // Named by the offset the state covers (Kafka's lastMapOffset), not the log end: if an
    // append's state update never ran, recovery replays that batch from the log.
    Offset covered = std::min(producers_.map_end_offset(), log_->log_end_offset());
    return producers_.write_snapshot(env_.disk(), log_->dir(), covered);
}

}  // namespace keel::broker
