// GroupCoordinator: Kafka's classic group coordinator (kafka-semantics.md §1.4, §3), one
// per broker. It serves the groups whose __consumer_offsets partition this broker leads
// (partition_for_group, offsets_records.h) and keeps their state in memory, writing every
// change that must survive (group metadata after a rebalance, committed offsets) to that
// partition through GroupLog with acks=all before answering.
//
// Group states (Kafka's names): Empty, PreparingRebalance, CompletingRebalance, Stable,
// Dead. Generations, member ids (a first JoinGroup without a member id, v4+, gets
// MEMBER_ID_REQUIRED and a fresh id), session timeout (a member not heard from is removed
// and the group rebalances), rebalance timeout (members that do not rejoin within it are
// removed), group.initial.rebalance.delay.ms for a new group, static membership (KIP-345:
// group.instance.id keeps its assignment across a restart within the session timeout; a
// second member claiming the instance fences the first with FENCED_INSTANCE_ID).
//
// Offsets: OffsetCommit from the current generation's members (or with generation -1 and
// no member id for "simple" groups that never joined) is written with acks=all; from an
// old generation ILLEGAL_GENERATION, an unknown member UNKNOWN_MEMBER_ID, during a
// rebalance (CompletingRebalance) REBALANCE_IN_PROGRESS. OffsetFetch with null topics
// returns every committed offset of the group. Offsets of Empty groups expire after
// offsets.retention (tombstones are written).
//
// Partition leadership: on_became_leader() loads the partition's groups from the log in a
// fiber; until loaded, requests for its groups get COORDINATOR_LOAD_IN_PROGRESS. Requests
// for groups of partitions this broker does not lead get NOT_COORDINATOR.
// on_resigned() drops them (members' parked JoinGroup/SyncGroup get NOT_COORDINATOR).
//
// Deleted topics (Kafka's onPartitionsDeleted): on_topics_deleted() removes the topics'
// committed offsets from every group this coordinator hosts and writes tombstones for them,
// so a reload (another coordinator, a restart) or compaction does not bring them back; an
// Empty classic group left without offsets becomes Dead (its metadata tombstoned too). A
// partition still loading purges once loaded; a commit in flight for a purged topic is not
// kept. OffsetFetch then answers -1, and a topic created again under the name starts with
// no committed offsets.
//
// KIP-848's consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe; member
// epochs, server-side assignors, incremental reconciliation): see consumer_protocol.h. A
// group id in use by the other protocol gets GROUP_ID_NOT_FOUND (heartbeat) or
// INCONSISTENT_GROUP_PROTOCOL (JoinGroup); an empty group (offsets only) converts.
//
// Threading: all calls from fibers of the env's node. JoinGroup and SyncGroup park their
// request fiber until the rebalance phase completes (or the request's timeout); everything
// else answers at once apart from the log append.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/env.h"
#include "core/group/group_log.h"
#include "core/protocol/generated/consumer_group_describe_request.h"
#include "core/protocol/generated/consumer_group_describe_response.h"
#include "core/protocol/generated/consumer_group_heartbeat_request.h"
#include "core/protocol/generated/consumer_group_heartbeat_response.h"
#include "core/protocol/generated/delete_groups_request.h"
#include "core/protocol/generated/delete_groups_response.h"
#include "core/protocol/generated/describe_groups_request.h"
#include "core/protocol/generated/describe_groups_response.h"
#include "core/protocol/generated/heartbeat_request.h"
#include "core/protocol/generated/heartbeat_response.h"
#include "core/protocol/generated/join_group_request.h"
#include "core/protocol/generated/join_group_response.h"
#include "core/protocol/generated/leave_group_request.h"
#include "core/protocol/generated/leave_group_response.h"
#include "core/protocol/generated/list_groups_request.h"
#include "core/protocol/generated/list_groups_response.h"
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_commit_response.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/offset_fetch_response.h"
#include "core/protocol/generated/sync_group_request.h"
#include "core/protocol/generated/sync_group_response.h"

namespace keel::group {

// Planted bugs for the negative tests (property_tests/negative/): the real code path with one
// rule broken, which the simulator's group checker must catch. All off by default.
struct PlantedGroupBugs {
    bool commit_without_fencing = false;  // OffsetCommit skips the member and generation checks
};

struct GroupCoordinatorConfig {
    int32_t offsets_topic_partitions = 50;                 // offsets.topic.num.partitions
    Duration min_session_timeout = ms(6'000);              // group.min.session.timeout.ms
    Duration max_session_timeout = ms(1'800'000);          // group.max.session.timeout.ms
    Duration initial_rebalance_delay = ms(3'000);          // group.initial.rebalance.delay.ms
    int32_t max_group_size = 0x7fffffff;                   // group.max.size
    Duration offsets_retention = ms(7LL * 24 * 3600'000);  // offsets.retention.minutes (7 days)
    Duration offsets_retention_check = ms(600'000);        // offsets.retention.check.interval.ms
    Duration commit_timeout = ms(5'000);                   // offsets.commit.timeout.ms
    Duration tick = ms(100);                               // how often timers are checked
    PlantedGroupBugs bugs;
    // KIP-848 consumer groups (consumer_protocol.h).
    Duration consumer_session_timeout = ms(45'000);        // group.consumer.session.timeout.ms
    Duration consumer_heartbeat_interval = ms(5'000);      // group.consumer.heartbeat.interval.ms
};

// The topics the KIP-848 coordinator assigns: names, ids and partition counts, from the
// broker's metadata image (tests supply their own).
struct TopicInfo {
    std::string name;
    protocol::Uuid id;
    int32_t partitions = 0;
};
struct TopicSource {
    std::function<std::optional<TopicInfo>(const std::string&)> by_name;
    std::function<std::optional<TopicInfo>(const protocol::Uuid&)> by_id;
};

struct GroupCoordinatorStats {
    uint64_t rebalances = 0;          // generations completed (CompletingRebalance entered)
    uint64_t members_expired = 0;     // session timeouts
    uint64_t members_fenced = 0;      // static members replaced (FENCED_INSTANCE_ID)
    uint64_t offsets_committed = 0;   // partitions whose commit reached the log
    uint64_t offsets_expired = 0;
    uint64_t offsets_purged = 0;      // committed offsets of deleted topics removed
    uint64_t groups_loaded = 0;
    uint64_t load_failures = 0;
};

class GroupCoordinator {
public:
    GroupCoordinator(env::Env& env, GroupLog& log, GroupCoordinatorConfig config = {});
    ~GroupCoordinator();
    GroupCoordinator(const GroupCoordinator&) = delete;
    GroupCoordinator& operator=(const GroupCoordinator&) = delete;

    // The timer loop (session and rebalance timeouts, offset retention) until stop().
    Status run();
    void stop();

    // Leadership of a __consumer_offsets partition, from the replica manager.
    void on_became_leader(int32_t partition, LeaderEpoch leader_epoch);
    void on_resigned(int32_t partition);
    // Topics gone from the metadata image (every partition of each). Does not park: the
    // tombstones are written by a fiber (retried while this broker still leads).
    void on_topics_deleted(const std::vector<std::string>& topics);

    int32_t partition_for(std::string_view group_id) const;

    // The handlers (the broker decodes, calls, encodes). `version` is the request's.
    protocol::JoinGroupResponse join_group(const protocol::JoinGroupRequest& req, int16_t version,
                                           const std::string& client_id, const std::string& client_host);
    protocol::SyncGroupResponse sync_group(const protocol::SyncGroupRequest& req, int16_t version);
    protocol::HeartbeatResponse heartbeat(const protocol::HeartbeatRequest& req, int16_t version);
    protocol::LeaveGroupResponse leave_group(const protocol::LeaveGroupRequest& req, int16_t version);
    protocol::OffsetCommitResponse offset_commit(const protocol::OffsetCommitRequest& req, int16_t version);
    protocol::OffsetFetchResponse offset_fetch(const protocol::OffsetFetchRequest& req, int16_t version);
    protocol::DescribeGroupsResponse describe_groups(const protocol::DescribeGroupsRequest& req, int16_t version);
    protocol::ListGroupsResponse list_groups(const protocol::ListGroupsRequest& req, int16_t version);
    protocol::DeleteGroupsResponse delete_groups(const protocol::DeleteGroupsRequest& req, int16_t version);
    // KIP-848 (consumer_protocol.h). The heartbeat parks while the group's records are written.
    // A joining member (epoch 0) records client_id and client_host, as join_group does.
    protocol::ConsumerGroupHeartbeatResponse consumer_group_heartbeat(const protocol::ConsumerGroupHeartbeatRequest& req,
                                                                      int16_t version, const std::string& client_id = {},
                                                                      const std::string& client_host = {});
    protocol::ConsumerGroupDescribeResponse consumer_group_describe(const protocol::ConsumerGroupDescribeRequest& req,
                                                                    int16_t version);
    // Where topic ids and partition counts come from (set before serving KIP-848 groups;
    // without it their subscriptions match no topic).
    void set_topic_source(TopicSource source);
    bool has_topic_source() const;

    const GroupCoordinatorStats& stats() const { return stats_; }

    // The groups this coordinator serves now (their __consumer_offsets partition is led
    // here and loaded), each with its committed offsets; in group id order. For metrics
    // (consumer group lag); does not park.
    struct HostedGroup {
        std::string group_id;
        std::map<std::pair<std::string, int32_t>, int64_t> committed;  // (topic, partition) -> offset
    };
    std::vector<HostedGroup> hosted_groups() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    GroupCoordinatorStats stats_;
};

}  // namespace keel::group
