// Helpers shared by the coordinator tests: joining with the MEMBER_ID_REQUIRED round
// trip, forming a group of n members, syncing everyone.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/group/group_test_util.h"

namespace keel::group::testing {

using protocol::ErrorCode;
using protocol::JoinGroupResponse;
using protocol::SyncGroupResponse;
using Ctx = CoordSim::Ctx;

// JoinGroup v9 as the Java client does it: a first join without a member id, then again
// with the id from MEMBER_ID_REQUIRED.
inline JoinGroupResponse join(Ctx& c, JoinSpec s, const std::string& client = "client", int16_t version = 9) {
    JoinGroupResponse r = c.coord.join_group(join_req(s), version, client, "/127.0.0.1");
    if (r.error_code != ErrorCode::member_id_required) return r;
    s.member_id = r.member_id;
    return c.coord.join_group(join_req(s), version, client, "/127.0.0.1");
}

inline Async<JoinGroupResponse> join_async(Ctx& c, JoinSpec s, const std::string& client = "client") {
    return async(c.env, [&c, s, client] { return join(c, s, client); });
}

// n members join group `s.group` concurrently; their answers, leader first.
inline std::vector<JoinGroupResponse> form_group(Ctx& c, int n, JoinSpec s = {}) {
    std::vector<Async<JoinGroupResponse>> pending;
    for (int i = 0; i < n; i++) {
        JoinSpec si = s;
        si.protocols = {{"range", "meta-" + std::to_string(i)}};
        if (s.instance_id) si.instance_id = *s.instance_id + std::to_string(i);
        pending.push_back(join_async(c, si, "client" + std::to_string(i)));
    }
    std::vector<JoinGroupResponse> out;
    for (auto& p : pending) out.push_back(p.get());
    std::stable_sort(out.begin(), out.end(), [](const JoinGroupResponse& a, const JoinGroupResponse& b) {
        return (a.leader == a.member_id) > (b.leader == b.member_id);
    });
    return out;
}

// Every member syncs; the leader assigns "a-<member id>" to each.
inline std::vector<SyncGroupResponse> sync_all(Ctx& c, const std::vector<JoinGroupResponse>& joined,
                                               const std::string& group = "g") {
    std::vector<Async<SyncGroupResponse>> pending;
    for (size_t i = 1; i < joined.size(); i++) {
        auto req = sync_req(group, joined[i].generation_id, joined[i].member_id);
        pending.push_back(async(c.env, [&c, req] { return c.coord.sync_group(req, 5); }));
    }
    std::vector<std::pair<std::string, std::string>> as;
    for (const auto& m : joined[0].members) as.emplace_back(m.member_id, "a-" + m.member_id);
    auto leader_req = sync_req(group, joined[0].generation_id, joined[0].member_id, as);
    c.sleep(ms(1));  // the followers park first
    std::vector<SyncGroupResponse> out{c.coord.sync_group(leader_req, 5)};
    for (auto& p : pending) out.push_back(p.get());
    return out;
}

inline std::string state_of(Ctx& c, const std::string& group) {
    protocol::DescribeGroupsRequest req;
    req.groups = {group};
    return c.coord.describe_groups(req, 5).groups.at(0).group_state;
}

inline int64_t fetched_offset(Ctx& c, const std::string& group, const std::string& topic, int32_t partition) {
    protocol::OffsetFetchRequest req;
    req.group_id = group;
    req.topics.emplace();
    req.topics->push_back({topic, {PartitionIndex(partition)}, {}});
    auto r = c.coord.offset_fetch(req, 7);
    if (r.error_code != ErrorCode::none) return -100 - static_cast<int64_t>(r.error_code);
    return r.topics.at(0).partitions.at(0).committed_offset;
}

inline ErrorCode commit(Ctx& c, const protocol::OffsetCommitRequest& req) {
    return c.coord.offset_commit(req, 8).topics.at(0).partitions.at(0).error_code;
}

}  // namespace keel::group::testing
