// RaftDriver: inputs into the node and the Ready out of it, in raft_types.h's order:
// persist (quorum state, snapshot, truncation, appends — synced) before sending, apply
// last; then snapshots and the observer's view.
#include "core/raft/raft_driver_internal.h"

namespace keel::raft {

namespace {

ObservedEntry observed(const LogEntry& e) {
    return {e.offset, e.epoch, payload_hash(e.payload), e.kind != EntryKind::data};
}

}  // namespace

Status RaftDriver::handle_input(Input in) {
    switch (in.kind) {
        case Input::Kind::message: node_->step(in.message); break;
        case Input::Kind::resign: (void)node_->resign(); break;
        case Input::Kind::propose: {
            if (pending_.size() >= options_.pending_proposals_max) {
                in.promise->set(Error{Errc::not_enough_replicas, "too many proposals awaiting commit"});
                break;
            }
            Result<Offset> offset = node_->propose(std::move(in.record));
            if (!offset.ok()) {
                in.promise->set(offset.error());
                break;
            }
            if (pending_.empty()) pending_epoch_ = node_->epoch();
            pending_.emplace(*offset, Pending{node_->epoch(), std::move(*in.promise)});
            break;
        }
    }
    return process_ready();
}

Status RaftDriver::process_ready() {
    while (node_->has_ready()) {
        Ready r = node_->take_ready();
        report_leadership();
        KEEL_TRY(persist_ready(r));
        for (Message& m : r.messages) send(std::move(m));
        if (options_.observer != nullptr && node_->high_watermark() != reported_high_watermark_) {
            reported_high_watermark_ = node_->high_watermark();
            options_.observer->on_high_watermark(options_.id, node_->epoch(), reported_high_watermark_);
        }
        apply_committed(r.committed);
        KEEL_TRY(maybe_snapshot());
    }
    after_ready();
    return ok_status();
}

// Everything the Ready asks to store, durable before any of its messages leave.
Status RaftDriver::persist_ready(Ready& r) {
    RaftObserver* obs = options_.observer;
    if (r.quorum_state) {
        const QuorumState& qs = *r.quorum_state;
        KEEL_TRY(storage_->save_quorum_state(qs));
        bool new_vote = qs.voted_for && (!persisted_qs_ || persisted_qs_->epoch != qs.epoch ||
                                         persisted_qs_->voted_for != qs.voted_for);
        if (new_vote && obs != nullptr) obs->on_vote_persisted(options_.id, qs.epoch, *qs.voted_for);
        if (new_vote && env_.tracer().enabled()) {
            env_.tracer().event("raft.vote", "{\"epoch\":" + std::to_string(qs.epoch.value()) + ",\"candidate\":" +
                                                 std::to_string(qs.voted_for->value()) + "}");
        }
        persisted_qs_ = qs;
    }
    if (r.install_snapshot) KEEL_TRY(install_snapshot(*r.install_snapshot));
    if (r.truncate_to) {
        // The observer hears first: a crash part-way through may leave the log cut, and
        // the entries past the cut are no longer owed (quorum-chaos seed 519).
        if (obs != nullptr) obs->on_truncated(options_.id, *r.truncate_to);
        KEEL_TRY(storage_->truncate_to(*r.truncate_to));
        if (env_.tracer().enabled()) {
            env_.tracer().event("raft.truncate", "{\"to\":" + std::to_string(r.truncate_to->value()) + "}");
        }
    }
    if (!r.append.empty()) {
        KEEL_TRY(storage_->append(r.append));
        if (obs != nullptr) {
            for (const LogEntry& e : r.append) obs->on_appended(options_.id, observed(e));
        }
    }
    if (r.log_start) KEEL_TRY(storage_->delete_before(*r.log_start));
    return ok_status();
}

Status RaftDriver::install_snapshot(const Snapshot& s) {
    KEEL_TRY(storage_->install_snapshot(s));
    Status loaded = options_.state_machine->restore_snapshot(s.id.end_offset, s.data);
    if (!loaded.ok()) {
        return Error{Errc::corrupt, "the leader's snapshot at " + std::to_string(s.id.end_offset.value()) +
                                        " does not load: " + loaded.error().message};
    }
    last_snapshot_end_ = s.id.end_offset;
    if (options_.observer != nullptr) options_.observer->on_snapshot_installed(options_.id, s.id.end_offset, s.id.epoch);
    return ok_status();
}

void RaftDriver::apply_committed(const std::vector<LogEntry>& entries) {
    for (const LogEntry& e : entries) {
        if (e.kind == EntryKind::data) options_.state_machine->apply(e.offset, e.epoch, e.payload);
        if (options_.observer != nullptr) options_.observer->on_applied(options_.id, observed(e));
        auto it = pending_.find(e.offset);
        if (it == pending_.end()) continue;
        if (it->second.epoch == e.epoch) {
            it->second.promise.set(e.offset);
        } else {
            it->second.promise.set(Error{Errc::not_leader, "another leader's entry was committed at offset " +
                                                               std::to_string(e.offset.value())});
        }
        pending_.erase(it);
    }
}

// Every snapshot_interval_entries applied entries: the state machine's snapshot, stored
// durably, then handed to the node (whose next Ready lets the log before it go).
Status RaftDriver::maybe_snapshot() {
    size_t interval = options_.snapshot_interval_entries;
    Offset applied = node_->applied_offset();
    if (interval == 0 || applied <= last_snapshot_end_) return ok_status();
    // Buggify: a snapshot at an odd point (a few entries after the last one, mid-epoch,
    // right after a restart), not only every `interval` entries.
    int64_t since = applied - last_snapshot_end_;
    bool due = since >= static_cast<int64_t>(interval);
    bool odd = since >= std::max<int64_t>(3, static_cast<int64_t>(interval / 8));
    if (!due && !(odd && KEEL_BUGGIFY(env_, "raft.snapshot_early"))) return ok_status();
    if (applied <= node_->log().start() || applied > node_->log().end()) return ok_status();
    SnapshotId id{applied, node_->log().epoch_at(applied - 1)};
    Bytes data = options_.state_machine->take_snapshot(applied);
    Snapshot snap{id, data};
    KEEL_TRY(storage_->save_snapshot(snap));
    Status taken = node_->snapshot_taken(id, std::move(data));
    KEEL_ASSERT_MSG(taken.ok(), taken.ok() ? "" : taken.error().message.c_str());
    last_snapshot_end_ = applied;
    if (env_.tracer().enabled()) {
        env_.tracer().event("raft.snapshot", "{\"end_offset\":" + std::to_string(applied.value()) +
                                                 ",\"epoch\":" + std::to_string(id.epoch.value()) + "}");
    }
    return ok_status();
}

void RaftDriver::report_leadership() {
    if (node_->role() != Role::leader || node_->epoch() == reported_leader_epoch_) return;
    reported_leader_epoch_ = node_->epoch();
    status_.elections_won++;
    if (options_.observer != nullptr) options_.observer->on_became_leader(options_.id, node_->epoch());
    if (env_.tracer().enabled()) {
        env_.tracer().event("raft.leader", "{\"epoch\":" + std::to_string(node_->epoch().value()) + "}");
    }
}

void RaftDriver::after_ready() {
    // Proposals of an epoch this node no longer leads will never be confirmed here.
    if (!pending_.empty() && (node_->role() != Role::leader || node_->epoch() != pending_epoch_)) {
        fail_pending(Errc::not_leader, "leadership lost before the commit (the record may still commit)");
    }
    update_status();
}

void RaftDriver::fail_pending(Errc code, const std::string& why) {
    std::map<Offset, Pending> pending = std::move(pending_);
    pending_.clear();
    for (auto& [offset, p] : pending) p.promise.set(Error{code, why});
}

void RaftDriver::update_status() {
    if (!node_) return;
    const RaftNode& n = *node_;
    bool changed = status_.role != n.role() || status_.epoch != n.epoch();
    status_.role = n.role();
    status_.epoch = n.epoch();
    status_.leader = n.leader();
    status_.voted_for = n.voted_for();
    status_.catching_up = n.quorum_state().catching_up;
    status_.log_start = n.log().start();
    status_.log_end = n.log().end();
    status_.high_watermark = n.high_watermark();
    status_.applied = n.applied_offset();
    status_.snapshot = n.log().snapshot_id();
    if (n.role() == Role::leader) {
        status_.voter_fetch_offsets = n.voter_fetch_offsets();
    } else {
        status_.voter_fetch_offsets.clear();
    }
    if (changed && env_.tracer().enabled()) {
        env_.tracer().event("raft.role", "{\"role\":\"" + std::string(role_name(n.role())) +
                                             "\",\"epoch\":" + std::to_string(n.epoch().value()) + "}");
    }
}

}  // namespace keel::raft
