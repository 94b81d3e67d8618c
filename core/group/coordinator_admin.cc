// DescribeGroups, ListGroups and DeleteGroups.
#include <algorithm>
#include <cctype>

#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::DeleteGroupsRequest;
using protocol::DeleteGroupsResponse;
using protocol::DescribeGroupsRequest;
using protocol::DescribeGroupsResponse;
using protocol::ListGroupsRequest;
using protocol::ListGroupsResponse;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

DescribeGroupsResponse::DescribedGroup describe(Group& g) {
    DescribeGroupsResponse::DescribedGroup d;
    d.group_id = g.id;
    d.group_state = std::string(state_name(g.state));
    d.protocol_type = g.protocol_type.value_or("");
    bool stable = g.state == GroupState::stable;
    if (stable) d.protocol_data = g.protocol.value_or("");
    for (const auto& [id, m] : g.members) {
        DescribeGroupsResponse::DescribedGroupMember dm;
        dm.member_id = id;
        dm.group_instance_id = m->instance_id;
        dm.client_id = m->client_id;
        dm.client_host = m->client_host;
        if (stable && g.protocol) {
            if (const Bytes* meta = m->metadata(*g.protocol)) dm.member_metadata = *meta;
            dm.member_assignment = m->assignment;
        }
        d.members.push_back(std::move(dm));
    }
    return d;
}

}  // namespace

DescribeGroupsResponse GroupCoordinator::describe_groups(const DescribeGroupsRequest& req, int16_t version) {
    Impl& s = *impl_;
    DescribeGroupsResponse r;
    for (const auto& id : req.groups) {
        DescribeGroupsResponse::DescribedGroup d;
        d.group_id = id;
        d.error_code = s.partition_status(id);
        if (d.error_code == ErrorCode::none) {
            if (Group* g = s.find(id)) {
                d = describe(*g);
            } else {
                d.group_state = "Dead";
                if (version >= 6) d.error_code = ErrorCode::group_id_not_found;
            }
        }
        r.groups.push_back(std::move(d));
    }
    return r;
}

ListGroupsResponse GroupCoordinator::list_groups(const ListGroupsRequest& req, int16_t version) {
    Impl& s = *impl_;
    ListGroupsResponse r;
    for (const auto& [p, st] : s.partitions) {
        if (st.loading) r.error_code = ErrorCode::coordinator_load_in_progress;
    }
    auto wanted = [&](const std::vector<std::string>& filter, std::string_view v) {
        return filter.empty() ||
               std::any_of(filter.begin(), filter.end(), [&](const std::string& f) { return iequals(f, v); });
    };
    for (const auto& [id, g] : s.groups) {
        auto p = s.partitions.find(g->partition);
        if (p == s.partitions.end() || p->second.loading) continue;
        if (version >= 4 && !wanted(req.states_filter, state_name(g->state))) continue;
        if (version >= 5 && !wanted(req.types_filter, g->cg ? "consumer" : "classic")) continue;
        ListGroupsResponse::ListedGroup lg;
        lg.group_id = id;
        lg.protocol_type = g->cg ? "consumer" : g->protocol_type.value_or("");
        lg.group_state = std::string(state_name(g->state));
        lg.group_type = g->cg ? "consumer" : "classic";
        r.groups.push_back(std::move(lg));
    }
    return r;
}

ErrorCode GroupCoordinator::Impl::delete_group(const std::string& id) {
    ErrorCode e = partition_status(id);
    if (e != ErrorCode::none) return e;
    Group* g = find(id);
    if (!g || g->state == GroupState::dead) return ErrorCode::group_id_not_found;
    if (g->state != GroupState::empty || !g->members.empty()) return ErrorCode::non_empty_group;
    std::vector<OffsetsRecord> recs;
    for (const auto& [tp, v] : g->offsets) {
        recs.push_back({encode_key(OffsetCommitKey{id, tp.topic, tp.partition}), std::nullopt});
    }
    recs.push_back({encode_key(GroupMetadataKey{id}), std::nullopt});
    if (g->cg) {
        for (auto& r : consumer_group_tombstones(id)) recs.push_back(std::move(r));
    }
    transition(*g, GroupState::dead);
    Status st = append(g->partition, std::move(recs));
    g = find(id);
    if (!st.ok()) {
        if (g && g->state == GroupState::dead) transition(*g, GroupState::empty);
        return append_error(st.error(), false);
    }
    if (g && g->state == GroupState::dead) remove_group(id);
    return ErrorCode::none;
}

DeleteGroupsResponse GroupCoordinator::delete_groups(const DeleteGroupsRequest& req, int16_t /*version*/) {
    DeleteGroupsResponse r;
    for (const auto& id : req.groups_names) {
        DeleteGroupsResponse::DeletableGroupResult res;
        res.group_id = id;
        res.error_code = impl_->delete_group(id);
        r.results.push_back(std::move(res));
    }
    return r;
}

}  // namespace keel::group
