// JoinGroup: new members (MEMBER_ID_REQUIRED), known members, static members (KIP-345),
// and the join phase of a rebalance (Kafka's GroupCoordinator.doJoinGroup and friends).
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::JoinGroupRequest;
using protocol::JoinGroupResponse;

namespace {

JoinGroupResponse join_error(ErrorCode e, const std::string& member_id) {
    JoinGroupResponse r;
    r.error_code = e;
    r.member_id = member_id;
    return r;
}

}  // namespace

JoinGroupResponse GroupCoordinator::Impl::current_join_result(Group& g, Member& m, bool with_members,
                                                             bool skip_assignment) {
    JoinGroupResponse r;
    r.generation_id = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol;
    r.leader = g.leader.value_or("");
    r.member_id = m.id;
    r.skip_assignment = skip_assignment;
    if (with_members) {
        for (const auto& [id, other] : g.members) {
            JoinGroupResponse::JoinGroupResponseMember jm;
            jm.member_id = id;
            jm.group_instance_id = other->instance_id;
            if (g.protocol) {
                if (const Bytes* meta = other->metadata(*g.protocol)) jm.metadata = *meta;
            }
            r.members.push_back(std::move(jm));
        }
    }
    return r;
}

JoinGroupResponse GroupCoordinator::join_group(const JoinGroupRequest& req, int16_t version,
                                               const std::string& client_id, const std::string& client_host) {
    Impl& s = *impl_;
    if (req.group_id.empty()) return join_error(ErrorCode::invalid_group_id, req.member_id);
    if (ErrorCode st = s.partition_status(req.group_id); st != ErrorCode::none) return join_error(st, req.member_id);
    if (req.session_timeout_ms < to_ms(s.config.min_session_timeout) ||
        req.session_timeout_ms > to_ms(s.config.max_session_timeout)) {
        return join_error(ErrorCode::invalid_session_timeout, req.member_id);
    }
    JoinArgs a{req, version, client_id, client_host,
               version == 0 || req.rebalance_timeout_ms < 0 ? req.session_timeout_ms : req.rebalance_timeout_ms, {}};
    for (const auto& p : req.protocols) a.protocols.emplace_back(p.name, p.metadata);
    Group* g = s.find(req.group_id);
    if (g && g->cg) {  // a KIP-848 group: an empty one converts to classic
        if (!g->cg->members.empty()) return join_error(ErrorCode::inconsistent_group_protocol, req.member_id);
        g->cg.reset();
    }
    if (!g && !req.member_id.empty()) return join_error(ErrorCode::unknown_member_id, req.member_id);
    bool created = g == nullptr;
    if (!g) g = &s.get_or_create(req.group_id);
    JoinOutcome out = req.member_id.empty() ? s.join_new_member(*g, a) : s.join_known_member(*g, a);
    if (auto* r = std::get_if<JoinGroupResponse>(&out)) {
        Group* now = s.find(req.group_id);
        if (created && now && now->members.empty() && now->pending_members.empty() && now->offsets.empty() &&
            now->state == GroupState::empty) {
            s.remove_group(req.group_id);
        }
        return std::move(*r);
    }
    auto& fut = std::get<env::Future<JoinGroupResponse>>(out);
    Duration wait = ms(2LL * std::max(a.rebalance_ms, req.session_timeout_ms)) + s.config.initial_rebalance_delay +
                    s.config.commit_timeout + ms(10'000);
    auto res = fut.get(s.env.now() + wait);
    if (res.ok()) return std::move(res.value());
    return join_error(res.code() == Errc::timeout ? ErrorCode::rebalance_in_progress : ErrorCode::not_coordinator,
                      req.member_id);
}

JoinOutcome GroupCoordinator::Impl::join_new_member(Group& g, const JoinArgs& a) {
    const JoinGroupRequest& req = a.req;
    if (g.state == GroupState::dead) return join_error(ErrorCode::coordinator_not_available, "");
    if (!g.supports(req.protocol_type, a.protocols)) return join_error(ErrorCode::inconsistent_group_protocol, "");
    if (req.group_instance_id && g.instances.count(*req.group_instance_id)) return replace_static_member(g, a);
    if (static_cast<int64_t>(g.members.size()) >= config.max_group_size) {
        return join_error(ErrorCode::group_max_size_reached, "");
    }
    std::string id = new_member_id(a.client_id, req.group_instance_id);
    if (!req.group_instance_id && a.version >= 4) {
        g.pending_members[id] = now() + ms(req.session_timeout_ms);
        return join_error(ErrorCode::member_id_required, id);
    }
    return add_member_and_rebalance(g, a, id);
}

JoinOutcome GroupCoordinator::Impl::join_known_member(Group& g, const JoinArgs& a) {
    const JoinGroupRequest& req = a.req;
    if (g.state == GroupState::dead) return join_error(ErrorCode::coordinator_not_available, req.member_id);
    if (!g.supports(req.protocol_type, a.protocols)) {
        return join_error(ErrorCode::inconsistent_group_protocol, req.member_id);
    }
    if (g.pending_members.erase(req.member_id)) return add_member_and_rebalance(g, a, req.member_id);
    if (g.fenced(req.group_instance_id, req.member_id)) {
        return join_error(ErrorCode::fenced_instance_id, req.member_id);
    }
    Member* m = g.member(req.member_id);
    if (!m) return join_error(ErrorCode::unknown_member_id, req.member_id);
    switch (g.state) {
        case GroupState::preparing_rebalance: return update_member_and_rebalance(g, *m, a);
        case GroupState::completing_rebalance:
            if (m->same_protocols(a.protocols)) {
                heartbeat_ok(g, *m);
                return current_join_result(g, *m, g.is_leader(m->id), false);
            }
            return update_member_and_rebalance(g, *m, a);
        case GroupState::stable:
            if (g.is_leader(m->id) || !m->same_protocols(a.protocols)) return update_member_and_rebalance(g, *m, a);
            heartbeat_ok(g, *m);
            return current_join_result(g, *m, false, false);
        default: return join_error(ErrorCode::unknown_member_id, req.member_id);
    }
}

void GroupCoordinator::Impl::fill_member(Member& m, const JoinArgs& a) {
    m.client_id = a.client_id;
    m.client_host = a.client_host;
    m.session_timeout_ms = a.req.session_timeout_ms;
    m.rebalance_timeout_ms = a.rebalance_ms;
    m.protocol_type = a.req.protocol_type;
    m.protocols = a.protocols;
    m.session_deadline = now() + ms(m.session_timeout_ms);
}

env::Future<JoinGroupResponse> GroupCoordinator::Impl::park_join(Member& m) {
    if (m.join) m.join->set(join_error(ErrorCode::rebalance_in_progress, m.id));  // a superseded request
    m.join = std::make_unique<JoinPromise>(env.executor());
    return m.join->future();
}

JoinOutcome GroupCoordinator::Impl::add_member_and_rebalance(Group& g, const JoinArgs& a, const std::string& id) {
    auto m = std::make_unique<Member>();
    m->id = id;
    m->instance_id = a.req.group_instance_id;
    fill_member(*m, a);
    auto fut = park_join(*m);
    if (m->instance_id) g.instances[*m->instance_id] = id;
    if (g.members.empty()) g.protocol_type = a.req.protocol_type;
    if (!g.leader) g.leader = id;
    g.members[id] = std::move(m);
    g.new_member_added = true;
    maybe_prepare_rebalance(g, "a new member joined");
    try_complete_join(g);
    return fut;
}

JoinOutcome GroupCoordinator::Impl::update_member_and_rebalance(Group& g, Member& m, const JoinArgs& a) {
    fill_member(m, a);
    auto fut = park_join(m);
    maybe_prepare_rebalance(g, "a member rejoined");
    try_complete_join(g);
    return fut;
}

std::string GroupCoordinator::Impl::new_member_id(const std::string& client_id,
                                                  const std::optional<std::string>& instance_id) {
    uint64_t a = env.random().next_u64();
    uint64_t b = env.random().next_u64();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return instance_id.value_or(client_id) + "-" + buf;
}

}  // namespace keel::group
