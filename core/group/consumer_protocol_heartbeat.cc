// ConsumerGroupHeartbeat and ConsumerGroupDescribe (KIP-848, consumer_protocol.h), the
// session and revocation timers of consumer groups, their offset-commit validation and
// their installation after a partition load.
#include <algorithm>

#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::ConsumerGroupHeartbeatRequest;
using HbResponse = protocol::ConsumerGroupHeartbeatResponse;

namespace {

HbResponse hb_error(ErrorCode e, std::string message = {}) {
    HbResponse r;
    r.error_code = e;
    if (!message.empty()) r.error_message = std::move(message);
    return r;
}

// INVALID_REQUEST checks of Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid.
std::optional<std::string> invalid(const ConsumerGroupHeartbeatRequest& req, int16_t version) {
    if (req.group_id.empty()) return "GroupId can't be empty";
    if (version >= 1 && req.member_id.empty()) return "MemberId can't be empty";
    if (req.member_epoch > 0 && req.member_id.empty()) return "MemberId can't be empty";
    if (req.member_epoch < -2) return "MemberEpoch is invalid";
    if (req.member_epoch == 0 && !req.subscribed_topic_names) return "SubscribedTopicNames must be set in first request";
    return std::nullopt;
}

std::vector<std::string> sorted_topics(const std::vector<std::string>& topics) {
    std::vector<std::string> out = topics;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

void GroupCoordinator::set_topic_source(TopicSource source) { impl_->topic_source = std::move(source); }
bool GroupCoordinator::has_topic_source() const { return static_cast<bool>(impl_->topic_source.by_name); }

HbResponse GroupCoordinator::consumer_group_heartbeat(const ConsumerGroupHeartbeatRequest& req, int16_t version,
                                                      const std::string& client_id, const std::string& client_host) {
    Impl& s = *impl_;
    if (auto why = invalid(req, version)) return hb_error(ErrorCode::invalid_request, *why);
    if (req.server_assignor && !known_assignor(*req.server_assignor)) {
        return hb_error(ErrorCode::unsupported_assignor, "unknown assignor " + *req.server_assignor);
    }
    if (ErrorCode st = s.partition_status(req.group_id); st != ErrorCode::none) return hb_error(st);
    Group* g = s.find(req.group_id);
    if (g && g->state == GroupState::dead) return hb_error(ErrorCode::coordinator_not_available);
    if (req.member_epoch < 0) return s.cg_leave(g, req);
    return s.cg_heartbeat(g, req, client_id, client_host);
}

std::optional<PartitionSet> GroupCoordinator::Impl::cg_owned(const ConsumerGroupHeartbeatRequest& req) {
    if (!req.topic_partitions) return std::nullopt;
    PartitionSet out;
    for (const auto& tp : *req.topic_partitions) {
        auto info = topic_source.by_id ? topic_source.by_id(tp.topic_id) : std::nullopt;
        if (!info) continue;  // a deleted topic: nothing to revoke
        for (PartitionIndex p : tp.partitions) out[info->name].insert(p.value());
    }
    return out;
}

std::map<std::string, int32_t> GroupCoordinator::Impl::cg_topic_counts(const ConsumerGroupState& cg) {
    std::map<std::string, int32_t> out;
    if (!topic_source.by_name) return out;
    for (const auto& [id, m] : cg.members) {
        for (const auto& t : m.topics) {
            if (out.count(t)) continue;
            auto info = topic_source.by_name(t);
            if (info && info->partitions > 0) out[t] = info->partitions;
        }
    }
    return out;
}

HbResponse GroupCoordinator::Impl::cg_heartbeat(Group* g, const ConsumerGroupHeartbeatRequest& req,
                                              const std::string& client_id, const std::string& client_host) {
    if (g && !g->cg) {
        if (!g->members.empty() || g->state != GroupState::empty) {
            return hb_error(ErrorCode::group_id_not_found, "group " + req.group_id + " is not a consumer group");
        }
        g->cg = std::make_shared<ConsumerGroupState>();  // an empty classic group converts
    }
    if (!g) {
        if (req.member_epoch != 0) return hb_error(ErrorCode::unknown_member_id);
        g = &get_or_create(req.group_id);
        g->cg = std::make_shared<ConsumerGroupState>();
    }
    ConsumerGroupState& cg = *g->cg;
    std::optional<PartitionSet> owned = cg_owned(req);
    std::string id = req.member_id;
    bool changed = false;
    if (ErrorCode e = cg_upsert_member(cg, req, owned, id, changed); e != ErrorCode::none) return hb_error(e);
    CgMember& m = cg.members[id];
    if (req.member_epoch == 0) {  // (re)joining: who it is now
        m.client_id = client_id;
        m.client_host = client_host;
    }
    m.session_deadline = now() + config.consumer_session_timeout;
    std::map<std::string, int32_t> counts = cg_topic_counts(cg);
    if (changed || counts != cg.topic_partitions) {
        cg.group_epoch++;
        compute_target(cg, counts);
        stats.rebalances++;
        if (tracing()) {
            trace("group.epoch", "{\"group\":" + json_str(g->id) + ",\"epoch\":" + std::to_string(cg.group_epoch) +
                                     ",\"members\":" + std::to_string(cg.members.size()) + "}");
        }
    }
    bool dirty = reconcile(cg, m, owned, now()) || changed;
    if (dirty && tracing()) trace_member(*g, m);
    g->state = GroupState::stable;
    std::string group_id = g->id;
    if (dirty) {
        Status st = cg_store(*g, {});
        if (!st.ok()) return hb_error(append_error(st.error(), false));
        g = find(group_id);
        if (!g || !g->cg) return hb_error(ErrorCode::not_coordinator);
    }
    auto it = g->cg->members.find(id);
    if (it == g->cg->members.end()) return hb_error(ErrorCode::unknown_member_id);
    return cg_response(it->second);
}

ErrorCode GroupCoordinator::Impl::cg_upsert_member(ConsumerGroupState& cg, const ConsumerGroupHeartbeatRequest& req,
                                                   const std::optional<PartitionSet>& owned, std::string& id,
                                                   bool& changed) {
    if (req.member_epoch == 0) {
        if (id.empty()) id = new_member_id("consumer", req.instance_id);
        CgMember& m = cg.members[id];  // a known member joining again lost its partitions
        m = CgMember{};
        m.id = id;
        m.instance_id = req.instance_id;
        m.rack_id = req.rack_id;
        m.topics = sorted_topics(*req.subscribed_topic_names);
        m.assignor = req.server_assignor.value_or("");
        if (req.rebalance_timeout_ms > 0) m.rebalance_timeout_ms = req.rebalance_timeout_ms;
        changed = true;
        return ErrorCode::none;
    }
    auto it = cg.members.find(id);
    if (it == cg.members.end()) return ErrorCode::unknown_member_id;
    CgMember& m = it->second;
    if (req.member_epoch != m.epoch) {
        bool lost_response = req.member_epoch == m.previous_epoch && owned && minus(*owned, m.assigned).empty();
        if (!lost_response) return ErrorCode::fenced_member_epoch;
    }
    if (req.subscribed_topic_names) {
        std::vector<std::string> t = sorted_topics(*req.subscribed_topic_names);
        if (t != m.topics) {
            m.topics = std::move(t);
            changed = true;
        }
    }
    if (req.server_assignor && *req.server_assignor != m.assignor) {
        m.assignor = *req.server_assignor;
        changed = true;
    }
    return ErrorCode::none;
}

HbResponse GroupCoordinator::Impl::cg_response(const CgMember& m) {
    HbResponse r;
    r.member_id = m.id;
    r.member_epoch = m.epoch;
    r.heartbeat_interval_ms = static_cast<int32_t>(to_ms(config.consumer_heartbeat_interval));
    HbResponse::Assignment a;
    for (const auto& [t, ps] : m.assigned) {
        auto info = topic_source.by_name ? topic_source.by_name(t) : std::nullopt;
        if (!info) continue;
        HbResponse::TopicPartitions tp;
        tp.topic_id = info->id;
        for (int32_t p : ps) tp.partitions.push_back(PartitionIndex(p));
        a.topic_partitions.push_back(std::move(tp));
    }
    r.assignment = std::move(a);
    return r;
}

HbResponse GroupCoordinator::Impl::cg_leave(Group* g, const ConsumerGroupHeartbeatRequest& req) {
    if (!g || !g->cg || !g->cg->members.count(req.member_id)) return hb_error(ErrorCode::unknown_member_id);
    cg_remove_member(*g, req.member_id, req.member_epoch == -2 ? "static member left" : "left the group");
    Status st = cg_store(*g, {});  // with the member's tombstones (ConsumerGroupState::removed)
    if (!st.ok()) return hb_error(append_error(st.error(), false));
    HbResponse r;
    r.member_id = req.member_id;
    r.member_epoch = req.member_epoch;
    r.heartbeat_interval_ms = static_cast<int32_t>(to_ms(config.consumer_heartbeat_interval));
    return r;
}

void GroupCoordinator::Impl::cg_remove_member(Group& g, const std::string& member_id, const char* reason) {
    ConsumerGroupState& cg = *g.cg;
    cg.members.erase(member_id);
    cg.target.erase(member_id);
    cg.removed.insert(member_id);
    cg.group_epoch++;
    compute_target(cg, cg_topic_counts(cg));
    stats.rebalances++;
    if (cg.members.empty()) g.state = GroupState::empty;
    if (tracing()) {
        trace("group.member_removed", "{\"group\":" + json_str(g.id) + ",\"member\":" + json_str(member_id) +
                                          ",\"reason\":" + json_str(reason) +
                                          ",\"epoch\":" + std::to_string(cg.group_epoch) + "}");
    }
}

Status GroupCoordinator::Impl::cg_store(Group& g, std::vector<OffsetsRecord> extra) {
    std::vector<OffsetsRecord> recs = std::move(extra);
    for (auto& r : consumer_group_records(g.id, *g.cg)) recs.push_back(std::move(r));
    std::set<std::string> tombstoned = g.cg->removed;
    std::string group_id = g.id;
    Status st = append(g.partition, std::move(recs));
    if (st.ok()) cg_stored_removals(group_id, tombstoned);
    return st;
}

void GroupCoordinator::Impl::cg_store_async(Group& g, std::vector<OffsetsRecord> extra) {
    std::vector<OffsetsRecord> recs = std::move(extra);
    for (auto& r : consumer_group_records(g.id, *g.cg)) recs.push_back(std::move(r));
    int32_t partition = g.partition;
    std::shared_ptr<bool> a = alive;
    env.executor().spawn("group-store", [this, a, partition, group_id = g.id, tombstoned = g.cg->removed,
                                         recs = std::move(recs)]() mutable {
        if (!*a) return;
        Status st = append(partition, std::move(recs));
        if (st.ok() && *a) cg_stored_removals(group_id, tombstoned);
    });
}

// The tombstones of `tombstoned` are in the log: later stores need not write them again.
void GroupCoordinator::Impl::cg_stored_removals(const std::string& group_id, const std::set<std::string>& tombstoned) {
    Group* g = find(group_id);
    if (g == nullptr || !g->cg) return;
    for (const std::string& id : tombstoned) g->cg->removed.erase(id);
}

void GroupCoordinator::Impl::check_consumer_group(Group& g) {
    Instant t = now();
    std::vector<std::string> expired;
    for (const auto& [id, m] : g.cg->members) {
        bool stuck = m.state == CgMemberState::unrevoked && t >= m.revoke_deadline;
        if (t >= m.session_deadline || stuck) expired.push_back(id);
    }
    if (expired.empty()) return;
    for (const auto& id : expired) {
        stats.members_expired++;
        cg_remove_member(g, id, "session or revocation timeout");
    }
    cg_store_async(g, {});  // with the members' tombstones (ConsumerGroupState::removed)
}

// KIP-848 commits carry the member epoch (OffsetCommit v9+): a different one is stale.
ErrorCode GroupCoordinator::Impl::validate_consumer_commit(Group& g, const protocol::OffsetCommitRequest& req) {
    if (req.member_id.empty() && req.generation_id_or_member_epoch < 0) {
        return g.cg->members.empty() ? ErrorCode::none : ErrorCode::unknown_member_id;
    }
    auto it = g.cg->members.find(req.member_id);
    if (it == g.cg->members.end()) return ErrorCode::unknown_member_id;
    if (req.generation_id_or_member_epoch != it->second.epoch) return ErrorCode::stale_member_epoch;
    return ErrorCode::none;
}

void GroupCoordinator::Impl::install_consumer_groups(int32_t partition) {
    auto it = cg_loads.find(partition);
    if (it == cg_loads.end()) return;
    std::map<std::string, ConsumerGroupState> loaded = it->second.take();
    cg_loads.erase(it);
    for (auto& [id, state] : loaded) {
        if (partition_for_group(id, config.offsets_topic_partitions) != partition) continue;
        Group& g = get_or_create(id);
        g.cg = std::make_shared<ConsumerGroupState>(std::move(state));
        g.cg->topic_partitions = cg_topic_counts(*g.cg);  // not persisted: today's counts
        for (auto& [mid, m] : g.cg->members) {
            m.session_deadline = now() + config.consumer_session_timeout;
            m.revoke_deadline = now() + ms(m.rebalance_timeout_ms);
        }
        g.state = g.cg->members.empty() ? GroupState::empty : GroupState::stable;
        stats.groups_loaded++;
    }
}

// "group.member": a KIP-848 member's epoch, state and partitions after a reconciliation
// (what the coordinator believes it owns and must still revoke).
void GroupCoordinator::Impl::trace_member(const Group& g, const CgMember& m) {
    auto text = [](const PartitionSet& ps) {
        std::string s;
        for (const auto& [t, parts] : ps) {
            for (int32_t p : parts) s += (s.empty() ? "" : ",") + t + "-" + std::to_string(p);
        }
        return json_str(s);
    };
    trace("group.member", "{\"group\":" + json_str(g.id) + ",\"member\":" + json_str(m.id) +
                              ",\"epoch\":" + std::to_string(m.epoch) + ",\"state\":" +
                              std::to_string(static_cast<int>(m.state)) + ",\"assigned\":" + text(m.assigned) +
                              ",\"revoking\":" + text(m.revoking) + "}");
}

}  // namespace keel::group
