// Static member replacement (KIP-345), SyncGroup, Heartbeat and LeaveGroup.
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::JoinGroupResponse;
using protocol::SyncGroupRequest;
using protocol::SyncGroupResponse;

namespace {

SyncGroupResponse sync_error(ErrorCode e) {
    SyncGroupResponse r;
    r.error_code = e;
    return r;
}

}  // namespace

// A known group.instance.id joins with no member id: the old member is replaced by a new
// member id (the old one is fenced) keeping its assignment. Stable with unchanged
// protocols: the group metadata is persisted and the current generation returned, with no
// rebalance; otherwise a rebalance.
JoinOutcome GroupCoordinator::Impl::replace_static_member(Group& g, const JoinArgs& a) {
    const std::string inst = *a.req.group_instance_id;
    std::string old_id = g.instances[inst];
    std::string new_id = new_member_id(a.client_id, inst);
    std::unique_ptr<Member> m = std::move(g.members[old_id]);
    g.members.erase(old_id);
    if (m->join) m->join->set([&] {
            JoinGroupResponse r;
            r.error_code = ErrorCode::fenced_instance_id;
            r.member_id = old_id;
            return r;
        }());
    m->join.reset();
    if (m->sync) m->sync->set(sync_error(ErrorCode::fenced_instance_id));
    m->sync.reset();
    stats.members_fenced++;
    auto old_protocols = m->protocols;
    m->id = new_id;
    fill_member(*m, a);
    auto fut = park_join(*m);
    Member& ref = *m;
    g.members[new_id] = std::move(m);
    g.instances[inst] = new_id;
    if (g.is_leader(old_id)) g.leader = new_id;
    if (g.state == GroupState::completing_rebalance) {
        prepare_rebalance(g, "static member replaced during sync");
    } else if (g.state == GroupState::stable) {
        if (g.select_protocol() != g.protocol) {
            prepare_rebalance(g, "static member changed protocols");
        } else {
            return static_rejoin_stable(g, ref, a, std::move(fut));
        }
    }
    try_complete_join(g);
    return fut;
}

JoinOutcome GroupCoordinator::Impl::static_rejoin_stable(Group& g, Member& m, const JoinArgs& a,
                                                         env::Future<JoinGroupResponse> fut) {
    std::string group_id = g.id;
    std::string member_id = m.id;
    Status st = append(g.partition, {group_record(g)});
    Group* now_g = find(group_id);
    Member* now_m = now_g ? now_g->member(member_id) : nullptr;
    if (!now_m || !now_m->join) return fut;  // answered meanwhile (removed, rebalanced)
    if (!st.ok()) {
        now_m->join->set([&] {
            JoinGroupResponse r;
            r.error_code = append_error(st.error(), false);
            r.member_id = member_id;
            return r;
        }());
        now_m->join.reset();
        return fut;
    }
    if (now_g->state == GroupState::stable) {
        bool leader = now_g->is_leader(member_id);
        bool skip = leader && a.version >= 9;
        now_m->join->set(current_join_result(*now_g, *now_m, skip, skip));
        now_m->join.reset();
        heartbeat_ok(*now_g, *now_m);
    }
    return fut;
}

OffsetsRecord GroupCoordinator::Impl::group_record(const Group& g) const {
    return {encode_key(GroupMetadataKey{g.id}), encode_value(g.to_record())};
}

void GroupCoordinator::Impl::store_group_async(Group& g) {
    std::vector<OffsetsRecord> recs{group_record(g)};
    int32_t partition = g.partition;
    std::shared_ptr<bool> a = alive;
    env.executor().spawn("group-store", [this, a, partition, recs = std::move(recs)]() mutable {
        if (*a) (void)append(partition, std::move(recs));
    });
}

SyncGroupResponse GroupCoordinator::sync_group(const SyncGroupRequest& req, int16_t version) {
    Impl& s = *impl_;
    if (req.group_id.empty()) return sync_error(ErrorCode::invalid_group_id);
    if (ErrorCode st = s.partition_status(req.group_id); st != ErrorCode::none) return sync_error(st);
    Group* g = s.find(req.group_id);
    if (!g) return sync_error(ErrorCode::unknown_member_id);
    if (g->state == GroupState::dead) return sync_error(ErrorCode::coordinator_not_available);
    if (g->fenced(req.group_instance_id, req.member_id)) return sync_error(ErrorCode::fenced_instance_id);
    Member* m = g->member(req.member_id);
    if (!m) return sync_error(ErrorCode::unknown_member_id);
    if (req.generation_id != g->generation) return sync_error(ErrorCode::illegal_generation);
    if (version >= 5 && ((req.protocol_type && req.protocol_type != g->protocol_type) ||
                         (req.protocol_name && req.protocol_name != g->protocol))) {
        return sync_error(ErrorCode::inconsistent_group_protocol);
    }
    switch (g->state) {
        case GroupState::preparing_rebalance: return sync_error(ErrorCode::rebalance_in_progress);
        case GroupState::stable: {
            m->pending_sync = false;
            s.heartbeat_ok(*g, *m);
            SyncGroupResponse r;
            r.protocol_type = g->protocol_type;
            r.protocol_name = g->protocol;
            r.assignment = m->assignment;
            return r;
        }
        case GroupState::completing_rebalance: break;
        default: return sync_error(ErrorCode::unknown_member_id);
    }
    m->pending_sync = false;
    if (m->sync) m->sync->set(sync_error(ErrorCode::rebalance_in_progress));  // a superseded request
    m->sync = std::make_unique<SyncPromise>(s.env.executor());
    env::Future<SyncGroupResponse> fut = m->sync->future();
    Duration wait = ms(std::max(m->rebalance_timeout_ms, m->session_timeout_ms)) + s.config.commit_timeout +
                    ms(10'000);
    if (g->is_leader(m->id)) s.leader_sync(*g, req);
    auto res = fut.get(s.env.now() + wait);
    if (res.ok()) return std::move(res.value());
    return sync_error(res.code() == Errc::timeout ? ErrorCode::rebalance_in_progress : ErrorCode::not_coordinator);
}

// The leader's assignments: persisted with the group metadata, then every parked
// SyncGroup gets its member's assignment and the group is Stable.
void GroupCoordinator::Impl::leader_sync(Group& g, const SyncGroupRequest& req) {
    std::map<std::string, Bytes> assignment;
    for (const auto& [id, m] : g.members) assignment[id] = {};
    for (const auto& as : req.assignments) {
        if (assignment.count(as.member_id)) assignment[as.member_id] = as.assignment;
    }
    GroupMetadataValue v = g.to_record();
    for (auto& rec : v.members) rec.assignment = assignment[rec.member_id];
    std::string group_id = g.id;
    int32_t generation = g.generation;
    Status st = append(g.partition, {{encode_key(GroupMetadataKey{g.id}), encode_value(v)}});
    Group* now_g = find(group_id);
    if (!now_g || now_g->state != GroupState::completing_rebalance || now_g->generation != generation) return;
    if (!st.ok()) {
        propagate_assignment_error(*now_g, append_error(st.error(), false));
        prepare_rebalance(*now_g, "the group metadata could not be written");
        return;
    }
    for (auto& [id, m] : now_g->members) {
        m->assignment = assignment.count(id) ? assignment[id] : Bytes{};
        if (!m->sync) continue;
        SyncGroupResponse r;
        r.protocol_type = now_g->protocol_type;
        r.protocol_name = now_g->protocol;
        r.assignment = m->assignment;
        m->sync->set(std::move(r));
        m->sync.reset();
    }
    transition(*now_g, GroupState::stable);
}

}  // namespace keel::group
