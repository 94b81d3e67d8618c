// The rebalance machinery: state transitions, preparing a rebalance (with the initial
// delay of a new group), completing the join phase (a new generation), removing members,
// timers (session, rebalance and pending-sync timeouts), and static member replacement.
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::JoinGroupResponse;
using protocol::SyncGroupResponse;

void GroupCoordinator::Impl::transition(Group& g, GroupState to) {
    if (tracing()) {
        trace("group.state", "{\"group\":" + json_str(g.id) + ",\"from\":" + json_str(state_name(g.state)) +
                                 ",\"to\":" + json_str(state_name(to)) +
                                 ",\"generation\":" + std::to_string(g.generation) + "}");
    }
    g.state = to;
    g.state_timestamp_ms = wall_ms();
}

void GroupCoordinator::Impl::maybe_prepare_rebalance(Group& g, const char* reason) {
    if (g.state == GroupState::stable || g.state == GroupState::completing_rebalance ||
        g.state == GroupState::empty) {
        prepare_rebalance(g, reason);
    }
}

void GroupCoordinator::Impl::prepare_rebalance(Group& g, const char* /*reason*/) {
    if (g.state == GroupState::completing_rebalance) {
        propagate_assignment_error(g, ErrorCode::rebalance_in_progress);
    }
    for (auto& [id, m] : g.members) m->pending_sync = false;
    Duration rebalance = ms(g.max_rebalance_timeout_ms());
    Duration delay = config.initial_rebalance_delay;
    if (g.state == GroupState::empty && delay > Duration(0)) {
        g.initial_delay = true;
        g.new_member_added = false;
        g.join_deadline = now() + std::min(delay, rebalance);
        g.initial_delay_remaining = std::max(rebalance - delay, Duration(0));
    } else {
        g.initial_delay = false;
        g.join_deadline = now() + rebalance;
    }
    transition(g, GroupState::preparing_rebalance);
}

bool GroupCoordinator::Impl::try_complete_join(Group& g) {
    if (g.state != GroupState::preparing_rebalance || g.initial_delay || !g.all_joined()) return false;
    complete_join(g);
    return true;
}

void GroupCoordinator::Impl::remove_member(Group& g, const std::string& member_id, const char* reason) {
    auto it = g.members.find(member_id);
    if (it == g.members.end()) return;
    std::unique_ptr<Member> m = std::move(it->second);
    g.members.erase(it);
    if (m->join) m->join->set([&] {
            JoinGroupResponse r;
            r.error_code = ErrorCode::unknown_member_id;
            r.member_id = member_id;
            return r;
        }());
    if (m->sync) {
        SyncGroupResponse r;
        r.error_code = ErrorCode::unknown_member_id;
        m->sync->set(std::move(r));
    }
    if (m->instance_id) {
        auto inst = g.instances.find(*m->instance_id);
        if (inst != g.instances.end() && inst->second == member_id) g.instances.erase(inst);
    }
    if (g.is_leader(member_id)) {
        g.leader = g.members.empty() ? std::nullopt : std::optional<std::string>(g.members.begin()->first);
    }
    if (tracing()) {
        trace("group.member_removed", "{\"group\":" + json_str(g.id) + ",\"member\":" + json_str(member_id) +
                                          ",\"reason\":" + json_str(reason) + "}");
    }
}

// After a member left or expired: the group reacts as Kafka's removeMemberAndUpdateGroup.
void GroupCoordinator::Impl::after_removal(Group& g, const char* reason) {
    if (g.state == GroupState::stable || g.state == GroupState::completing_rebalance) {
        prepare_rebalance(g, reason);
    }
    try_complete_join(g);
}

void GroupCoordinator::Impl::propagate_assignment_error(Group& g, ErrorCode error) {
    for (auto& [id, m] : g.members) {
        if (!m->sync) continue;
        SyncGroupResponse r;
        r.error_code = error;
        m->sync->set(std::move(r));
        m->sync.reset();
    }
}

// A new leader among the members that rejoined, if the old one did not.
bool GroupCoordinator::Impl::elect_joined_leader(Group& g) {
    if (g.leader) {
        Member* l = g.member(*g.leader);
        if (l && l->awaiting_join()) return true;
    }
    for (auto& [id, m] : g.members) {
        if (m->awaiting_join()) {
            g.leader = id;
            return true;
        }
    }
    return false;
}

void GroupCoordinator::Impl::complete_join(Group& g) {
    std::vector<std::string> gone;
    for (auto& [id, m] : g.members) {
        if (!m->awaiting_join() && !m->instance_id) gone.push_back(id);
    }
    for (const auto& id : gone) remove_member(g, id, "did not rejoin within the rebalance timeout");
    g.initial_delay = false;
    if (!elect_joined_leader(g) && !g.members.empty()) {
        g.join_deadline = now() + ms(g.max_rebalance_timeout_ms());  // wait for sessions to expire
        return;
    }
    g.generation++;
    if (g.members.empty()) {
        g.protocol = std::nullopt;
        g.leader = std::nullopt;
        transition(g, GroupState::empty);
        store_group_async(g);
        return;
    }
    g.protocol = g.select_protocol();
    transition(g, GroupState::completing_rebalance);
    stats.rebalances++;
    g.sync_deadline = now() + ms(g.max_rebalance_timeout_ms());
    if (tracing()) {
        trace("group.rebalance", "{\"group\":" + json_str(g.id) + ",\"generation\":" + std::to_string(g.generation) +
                                     ",\"members\":" + std::to_string(g.members.size()) +
                                     ",\"protocol\":" + json_str(g.protocol.value_or("")) +
                                     ",\"leader\":" + json_str(g.leader.value_or("")) + "}");
    }
    for (auto& [id, m] : g.members) {
        if (m->join) {
            m->join->set(current_join_result(g, *m, g.is_leader(id), false));
            m->join.reset();
        }
        heartbeat_ok(g, *m);
        m->pending_sync = true;
    }
}

void GroupCoordinator::Impl::heartbeat_ok(Group& /*g*/, Member& m) {
    m.session_deadline = now() + ms(m.session_timeout_ms);
}

void GroupCoordinator::Impl::check_group_timers(Group& g) {
    if (g.cg) return check_consumer_group(g);
    check_session_expiry(g);
    check_join_deadline(g);
    check_sync_deadline(g);
}

void GroupCoordinator::Impl::check_session_expiry(Group& g) {
    Instant t = now();
    std::vector<std::string> expired;
    for (auto& [id, m] : g.members) {
        if (!m->join && !m->sync && t >= m->session_deadline) expired.push_back(id);
    }
    bool pending_expired = false;
    for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
        if (t >= it->second) {
            it = g.pending_members.erase(it);
            pending_expired = true;
        } else {
            ++it;
        }
    }
    for (const auto& id : expired) {
        stats.members_expired++;
        remove_member(g, id, "session timeout");
    }
    if (!expired.empty() || pending_expired) after_removal(g, "session timeout");
}

void GroupCoordinator::Impl::check_join_deadline(Group& g) {
    if (g.state != GroupState::preparing_rebalance || now() < g.join_deadline) return;
    if (g.initial_delay && g.new_member_added && g.initial_delay_remaining > Duration(0)) {
        g.new_member_added = false;
        Duration d = std::min(config.initial_rebalance_delay, g.initial_delay_remaining);
        g.initial_delay_remaining = std::max(g.initial_delay_remaining - d, Duration(0));
        g.join_deadline = now() + d;
        return;
    }
    complete_join(g);
}

void GroupCoordinator::Impl::check_sync_deadline(Group& g) {
    if (g.state != GroupState::completing_rebalance && g.state != GroupState::stable) return;
    if (now() < g.sync_deadline) return;
    std::vector<std::string> late;
    for (auto& [id, m] : g.members) {
        if (m->pending_sync) late.push_back(id);
    }
    if (late.empty()) return;
    for (const auto& id : late) remove_member(g, id, "did not sync within the rebalance timeout");
    prepare_rebalance(g, "pending sync expired");
    try_complete_join(g);
}

}  // namespace keel::group
