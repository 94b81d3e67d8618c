#include "core/client/group_admin.h"

#include <algorithm>

#include "core/client/assignor.h"
#include "core/protocol/generated/describe_groups_request.h"
#include "core/protocol/generated/describe_groups_response.h"
#include "core/protocol/generated/find_coordinator_request.h"
#include "core/protocol/generated/find_coordinator_response.h"
#include "core/protocol/generated/list_groups_request.h"
#include "core/protocol/generated/list_groups_response.h"
#include "core/protocol/generated/list_offsets_request.h"
#include "core/protocol/generated/list_offsets_response.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/offset_fetch_response.h"

namespace keel::client {

namespace {

constexpr int64_t kLatestTimestamp = -1;

bool retriable(protocol::ErrorCode e) {
    return e == protocol::ErrorCode::coordinator_not_available || e == protocol::ErrorCode::not_coordinator ||
           e == protocol::ErrorCode::coordinator_load_in_progress;
}

}  // namespace

GroupAdmin::GroupAdmin(env::Env& env, std::vector<env::Address> bootstrap, Duration timeout)
    : env_(env),
      timeout_(timeout),
      pool_(env, ConnectionOptions{"keel-groups"}),
      metadata_(env, pool_, MetadataOptions{std::move(bootstrap), ms(300'000), timeout, false}) {}

GroupAdmin::~GroupAdmin() { pool_.close_all(); }

Result<std::vector<GroupListing>> GroupAdmin::list_groups() {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    std::vector<GroupListing> out;
    Status last = ok_status();
    for (const env::Address& a : metadata_.any_brokers()) {
        auto r = pool_.get(a).call<protocol::ListGroupsResponse>(protocol::ListGroupsRequest{}, 0, 5, deadline);
        if (!r.ok()) {
            last = r.error();
            continue;
        }
        for (const auto& g : r->groups) {
            bool seen = std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.group_id == g.group_id; });
            if (!seen) out.push_back({g.group_id, g.protocol_type, g.group_state});
        }
    }
    if (out.empty() && !last.ok()) return last.error();
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
    return out;
}

// FindCoordinator (key type 0), retried while the coordinator is being elected or loaded.
Result<std::pair<NodeId, env::Address>> GroupAdmin::coordinator(const std::string& group, Instant deadline) {
    protocol::FindCoordinatorRequest req;
    req.key = group;
    Status last(Errc::timeout, "FindCoordinator " + group + ": no answer");
    while (env_.now() < deadline) {
        for (const env::Address& a : metadata_.any_brokers()) {
            auto r = pool_.get(a).call<protocol::FindCoordinatorResponse>(req, 0, 3, deadline);
            if (!r.ok()) {
                last = r.error();
                continue;
            }
            if (r->error_code == protocol::ErrorCode::none) {
                return std::make_pair(r->node_id, env::Address{r->host, static_cast<uint16_t>(r->port)});
            }
            last = protocol::status_from(r->error_code, "FindCoordinator " + group);
            if (!retriable(r->error_code)) return last.error();
            break;
        }
        env_.executor().sleep_for(ms(200));
    }
    return last.error();
}

Result<GroupDescription> GroupAdmin::describe(const std::string& group) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    KEEL_TRY_ASSIGN(auto coord, coordinator(group, deadline));
    protocol::DescribeGroupsRequest req;
    req.groups = {group};
    KEEL_TRY_ASSIGN(auto resp, pool_.get(coord.second).call<protocol::DescribeGroupsResponse>(req, 0, 5, deadline));
    if (resp.groups.size() != 1) return Error{Errc::invalid_request, "DescribeGroups: expected one group"};
    const auto& g = resp.groups[0];
    if (g.error_code != protocol::ErrorCode::none && g.error_code != protocol::ErrorCode::group_id_not_found) {
        return protocol::status_from(g.error_code, "DescribeGroups " + group).error();
    }
    GroupDescription d{group, g.error_code == protocol::ErrorCode::none ? g.group_state : "Dead", g.protocol_type,
                       g.protocol_data, coord.first, {}};
    for (const auto& m : g.members) {
        GroupMemberDescription md{m.member_id, m.group_instance_id, m.client_id, m.client_host, {}};
        if (g.protocol_type == "consumer" && !m.member_assignment.empty()) {
            if (auto a = decode_assignment(m.member_assignment); a.ok()) md.assignment = a->partitions;
        }
        d.members.push_back(std::move(md));
    }
    return d;
}

// OffsetFetch with null topics (v2+): every partition the group committed.
Result<std::vector<PartitionLag>> GroupAdmin::committed(const std::string& group, const env::Address& coord,
                                                        Instant deadline) {
    protocol::OffsetFetchRequest req;
    req.group_id = group;
    req.topics = std::nullopt;
    KEEL_TRY_ASSIGN(auto resp, pool_.get(coord).call<protocol::OffsetFetchResponse>(req, 2, 7, deadline));
    if (resp.error_code != protocol::ErrorCode::none) {
        return protocol::status_from(resp.error_code, "OffsetFetch " + group).error();
    }
    std::vector<PartitionLag> out;
    for (const auto& t : resp.topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code != protocol::ErrorCode::none || p.committed_offset < 0) continue;
            PartitionLag l;
            l.partition = {t.name, p.partition_index};
            l.committed = Offset(p.committed_offset);
            out.push_back(std::move(l));
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.partition < b.partition; });
    return out;
}

// ListOffsets latest (the high watermark) from each partition's leader.
void GroupAdmin::fill_log_ends(std::vector<PartitionLag>& lags, Instant deadline) {
    for (const PartitionLag& l : lags) metadata_.add_topic(l.partition.topic);
    if (!metadata_.refresh(deadline).ok()) return;
    for (PartitionLag& l : lags) {
        auto pm = metadata_.partition(l.partition);
        auto addr = pm ? metadata_.broker_address(pm->leader) : std::nullopt;
        if (!addr) continue;
        protocol::ListOffsetsRequest req;
        req.replica_id = NodeId(-1);
        protocol::ListOffsetsRequest::ListOffsetsPartition p;
        p.partition_index = l.partition.partition;
        p.timestamp = kLatestTimestamp;
        req.topics.push_back({l.partition.topic, {p}, {}});
        auto r = pool_.get(*addr).call<protocol::ListOffsetsResponse>(req, 1, 7, deadline);
        if (!r.ok() || r->topics.size() != 1 || r->topics[0].partitions.size() != 1) continue;
        const auto& pr = r->topics[0].partitions[0];
        if (pr.error_code != protocol::ErrorCode::none) continue;
        l.log_end = Offset(pr.offset);
        l.lag = std::max<int64_t>(0, pr.offset - l.committed.value());
    }
}

Result<std::vector<PartitionLag>> GroupAdmin::lag(const std::string& group) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    KEEL_TRY_ASSIGN(auto coord, coordinator(group, deadline));
    KEEL_TRY_ASSIGN(std::vector<PartitionLag> out, committed(group, coord.second, deadline));
    fill_log_ends(out, deadline);
    if (auto d = describe(group); d.ok()) {
        for (const GroupMemberDescription& m : d->members) {
            for (PartitionLag& l : out) {
                if (std::find(m.assignment.begin(), m.assignment.end(), l.partition) != m.assignment.end()) {
                    l.owner = m.member_id;
                }
            }
        }
    }
    return out;
}

}  // namespace keel::client
