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
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_commit_response.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/offset_fetch_response.h"

namespace keel::client {

namespace {

constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

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
    bool answered = false;  // a bootstrap address that is down fails only if none answers
    for (const env::Address& a : metadata_.any_brokers()) {
        auto r = pool_.get(a).call<protocol::ListGroupsResponse>(protocol::ListGroupsRequest{}, 0, 5, deadline);
        if (!r.ok()) {
            last = r.error();
            continue;
        }
        answered = true;
        for (const auto& g : r->groups) {
            bool seen = std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.group_id == g.group_id; });
            if (!seen) out.push_back({g.group_id, g.protocol_type, g.group_state});
        }
    }
    if (!answered && !last.ok()) return last.error();
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
    protocol::DescribeGroupsRequest req;
    req.groups = {group};
    std::pair<NodeId, env::Address> coord;
    protocol::DescribeGroupsResponse resp;
    // The coordinator can move or start loading the group between FindCoordinator and
    // DescribeGroups: find it again until the deadline, as Kafka's admin client does.
    while (true) {
        KEEL_TRY_ASSIGN(coord, coordinator(group, deadline));
        KEEL_TRY_ASSIGN(resp, pool_.get(coord.second).call<protocol::DescribeGroupsResponse>(req, 0, 5, deadline));
        if (resp.groups.size() != 1) return Error{Errc::invalid_request, "DescribeGroups: expected one group"};
        if (!retriable(resp.groups[0].error_code) || env_.now() >= deadline) break;
        env_.executor().sleep_for(ms(200));
    }
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

Result<int64_t> GroupAdmin::list_offset(const TopicPartitionName& tp, int64_t timestamp, Instant deadline) {
    auto pm = metadata_.partition(tp);
    auto addr = pm ? metadata_.broker_address(pm->leader) : std::nullopt;
    if (!addr) return Error{Errc::not_leader, "ListOffsets " + tp.to_string() + ": no leader known"};
    protocol::ListOffsetsRequest req;
    req.replica_id = NodeId(-1);
    protocol::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = tp.partition;
    p.timestamp = timestamp;
    req.topics.push_back({tp.topic, {p}, {}});
    KEEL_TRY_ASSIGN(auto r, pool_.get(*addr).call<protocol::ListOffsetsResponse>(req, 1, 7, deadline));
    if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1) {
        return Error{Errc::invalid_request, "ListOffsets " + tp.to_string() + ": malformed answer"};
    }
    const auto& pr = r.topics[0].partitions[0];
    if (pr.error_code != protocol::ErrorCode::none) {
        return protocol::status_from(pr.error_code, "ListOffsets " + tp.to_string()).error();
    }
    return pr.offset;
}

Result<std::vector<OffsetResetPlan>> GroupAdmin::plan_reset(const std::string& group, const env::Address& coord,
                                                            const OffsetResetSpec& spec, Instant deadline) {
    metadata_.add_topic(spec.topic);
    KEEL_TRY(metadata_.refresh(deadline));
    const TopicMetadata* t = metadata_.topic(spec.topic);
    if (t == nullptr) return Error{Errc::unknown_topic_or_partition, "topic " + spec.topic + " does not exist"};
    KEEL_TRY_ASSIGN(std::vector<PartitionLag> committed_now, committed(group, coord, deadline));
    std::vector<OffsetResetPlan> plan;
    for (const PartitionMetadata& pm : t->partitions) {
        OffsetResetPlan p;
        p.partition = {spec.topic, pm.partition};
        for (const PartitionLag& l : committed_now) {
            if (l.partition == p.partition) p.current = l.committed;
        }
        KEEL_TRY_ASSIGN(int64_t earliest, list_offset(p.partition, kEarliestTimestamp, deadline));
        KEEL_TRY_ASSIGN(int64_t latest, list_offset(p.partition, kLatestTimestamp, deadline));
        int64_t target = spec.to == ResetTo::earliest ? earliest
                         : spec.to == ResetTo::latest ? latest
                                                      : std::clamp(spec.offset, earliest, std::max(earliest, latest));
        p.target = Offset(target);
        plan.push_back(std::move(p));
    }
    return plan;
}

// OffsetCommit outside any generation (Kafka's AdminClient.alterConsumerGroupOffsets).
Status GroupAdmin::commit_plan(const std::string& group, const env::Address& coord,
                               const std::vector<OffsetResetPlan>& plan, Instant deadline) {
    protocol::OffsetCommitRequest req;
    req.group_id = group;
    req.generation_id_or_member_epoch = -1;
    for (const OffsetResetPlan& p : plan) {
        if (req.topics.empty() || req.topics.back().name != p.partition.topic) req.topics.push_back({p.partition.topic, {}, {}});
        protocol::OffsetCommitRequest::OffsetCommitRequestPartition part;
        part.partition_index = p.partition.partition;
        part.committed_offset = p.target.value();
        req.topics.back().partitions.push_back(std::move(part));
    }
    KEEL_TRY_ASSIGN(auto resp, pool_.get(coord).call<protocol::OffsetCommitResponse>(req, 2, 8, deadline));
    for (const auto& t : resp.topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code == protocol::ErrorCode::none) continue;
            return protocol::status_from(p.error_code, "OffsetCommit " + group + " " + t.name + "-" +
                                                           std::to_string(p.partition_index.value()));
        }
    }
    return ok_status();
}

Result<std::vector<OffsetResetPlan>> GroupAdmin::reset_offsets(const std::string& group, const OffsetResetSpec& spec,
                                                               bool execute) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    KEEL_TRY_ASSIGN(auto coord, coordinator(group, deadline));
    KEEL_TRY_ASSIGN(GroupDescription d, describe(group));
    if (!d.members.empty() || (d.state != "Empty" && d.state != "Dead")) {
        return Error{Errc::invalid_request, "offsets can only be reset if the group '" + group +
                                                "' is inactive, but its state is " + d.state + " with " +
                                                std::to_string(d.members.size()) + " member(s)"};
    }
    KEEL_TRY_ASSIGN(std::vector<OffsetResetPlan> plan, plan_reset(group, coord.second, spec, deadline));
    if (execute && !plan.empty()) KEEL_TRY(commit_plan(group, coord.second, plan, deadline));
    return plan;
}

}  // namespace keel::client
