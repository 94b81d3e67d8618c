// Heartbeat and LeaveGroup (Kafka's doHeartbeat and removeMembersFromGroup).
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::HeartbeatRequest;
using protocol::HeartbeatResponse;
using protocol::LeaveGroupRequest;
using protocol::LeaveGroupResponse;

namespace {

HeartbeatResponse hb(ErrorCode e) {
    HeartbeatResponse r;
    r.error_code = e;
    return r;
}

}  // namespace

HeartbeatResponse GroupCoordinator::heartbeat(const HeartbeatRequest& req, int16_t /*version*/) {
    Impl& s = *impl_;
    if (req.group_id.empty()) return hb(ErrorCode::invalid_group_id);
    if (ErrorCode st = s.partition_status(req.group_id); st != ErrorCode::none) return hb(st);
    Group* g = s.find(req.group_id);
    if (!g) return hb(ErrorCode::unknown_member_id);
    if (g->state == GroupState::dead) return hb(ErrorCode::coordinator_not_available);
    if (g->fenced(req.group_instance_id, req.member_id)) return hb(ErrorCode::fenced_instance_id);
    Member* m = g->member(req.member_id);
    if (!m) return hb(ErrorCode::unknown_member_id);
    if (req.generation_id != g->generation) return hb(ErrorCode::illegal_generation);
    switch (g->state) {
        case GroupState::completing_rebalance:
        case GroupState::stable: s.heartbeat_ok(*g, *m); return hb(ErrorCode::none);
        case GroupState::preparing_rebalance: s.heartbeat_ok(*g, *m); return hb(ErrorCode::rebalance_in_progress);
        default: return hb(ErrorCode::unknown_member_id);
    }
}

ErrorCode GroupCoordinator::Impl::leave_one(Group& g, const std::string& member_id,
                                            const std::optional<std::string>& instance_id) {
    std::string id = member_id;
    if (id.empty() && instance_id) {
        auto it = g.instances.find(*instance_id);
        if (it == g.instances.end()) return ErrorCode::unknown_member_id;
        id = it->second;
    } else if (g.fenced(instance_id, id)) {
        return ErrorCode::fenced_instance_id;
    }
    if (g.pending_members.erase(id)) return ErrorCode::none;
    if (!g.has(id)) return ErrorCode::unknown_member_id;
    remove_member(g, id, "left the group");
    return ErrorCode::none;
}

LeaveGroupResponse GroupCoordinator::leave_group(const LeaveGroupRequest& req, int16_t version) {
    Impl& s = *impl_;
    LeaveGroupResponse r;
    auto top = [&](ErrorCode e) {
        r.error_code = e;
        return r;
    };
    if (req.group_id.empty()) return top(ErrorCode::invalid_group_id);
    if (ErrorCode st = s.partition_status(req.group_id); st != ErrorCode::none) return top(st);
    std::vector<LeaveGroupRequest::MemberIdentity> who = req.members;
    if (version < 3) who = {LeaveGroupRequest::MemberIdentity{req.member_id, std::nullopt, std::nullopt, {}}};
    Group* g = s.find(req.group_id);
    if (g && g->state == GroupState::dead) return top(ErrorCode::coordinator_not_available);
    bool removed = false;
    for (const auto& w : who) {
        LeaveGroupResponse::MemberResponse mr;
        mr.member_id = w.member_id;
        mr.group_instance_id = w.group_instance_id;
        mr.error_code = g ? s.leave_one(*g, w.member_id, w.group_instance_id) : ErrorCode::unknown_member_id;
        removed = removed || mr.error_code == ErrorCode::none;
        r.members.push_back(std::move(mr));
    }
    if (g && removed) s.after_removal(*g, "members left");
    if (version < 3) {
        r.error_code = r.members.front().error_code;
        r.members.clear();
    }
    return r;
}

}  // namespace keel::group
