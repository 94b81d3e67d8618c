// GroupCoordinator::Impl: the coordinator's private state and the helpers its handlers
// share. Split over group_coordinator.cc (timers, leadership, loading),
// coordinator_join.cc (JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the rebalance),
// coordinator_offsets.cc (OffsetCommit, OffsetFetch, retention), coordinator_admin.cc
// (DescribeGroups, ListGroups, DeleteGroups) and coordinator_purge.cc (deleted topics).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/group/consumer_protocol.h"
#include "core/group/group.h"
#include "core/group/group_coordinator.h"
#include "core/protocol/error_codes.h"

namespace keel::group {

using protocol::ErrorCode;

// A JoinGroup's answer: at once, or later (the request fiber parks on the future).
using JoinOutcome = std::variant<protocol::JoinGroupResponse, env::Future<protocol::JoinGroupResponse>>;

struct JoinArgs {
    const protocol::JoinGroupRequest& req;
    int16_t version;
    const std::string& client_id;
    const std::string& client_host;
    int32_t rebalance_ms;
    std::vector<std::pair<std::string, Bytes>> protocols;
};

struct FetchWant {
    std::string name;
    std::vector<int32_t> partitions;
};
struct FetchedPartition {
    int32_t partition = 0;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
};
struct FetchedTopic {
    std::string name;
    std::vector<FetchedPartition> partitions;
};

struct PartitionState {
    LeaderEpoch epoch{0};
    bool loading = true;
    uint64_t load_id = 0;  // which load attempt is current
};

struct GroupCoordinator::Impl {
    Impl(env::Env& e, GroupLog& l, GroupCoordinatorConfig c, GroupCoordinatorStats& s)
        : env(e), log(l), config(c), stats(s), wake(e.executor()) {}

    env::Env& env;
    GroupLog& log;
    GroupCoordinatorConfig config;
    GroupCoordinatorStats& stats;
    env::Event wake;  // stop() wakes the timer loop
    bool stopped = false;
    // Set to false on destruction: fibers that parked in the log check it before touching
    // the coordinator again.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    std::map<int32_t, PartitionState> partitions;
    std::map<std::string, std::unique_ptr<Group>> groups;
    uint64_t next_load_id = 1;
    TopicSource topic_source;                                // KIP-848's topic metadata
    std::map<int32_t, ConsumerGroupLoader> cg_loads;      // partitions being loaded
    Instant next_retention_check{};
    // Deleted topics (coordinator_purge.cc): topics to purge from a partition once it has
    // loaded; and when each topic was last purged (a commit that started before is dropped).
    std::map<int32_t, std::set<std::string>> purge_after_load;
    uint64_t purge_seq = 0;
    std::map<std::string, uint64_t> purged_at;

    // Lookup. `status` is NONE, NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS.
    ErrorCode partition_status(const std::string& group_id) const;
    Group* find(const std::string& group_id);
    Group& get_or_create(const std::string& group_id);
    void remove_group(const std::string& group_id);

    // Time.
    int64_t wall_ms() { return env.clock().wall_now().ms(); }
    Instant now() { return env.now(); }

    // JoinGroup (coordinator_join.cc, coordinator_members.cc).
    JoinOutcome join_new_member(Group& g, const JoinArgs& a);
    JoinOutcome join_known_member(Group& g, const JoinArgs& a);
    JoinOutcome add_member_and_rebalance(Group& g, const JoinArgs& a, const std::string& id);
    JoinOutcome update_member_and_rebalance(Group& g, Member& m, const JoinArgs& a);
    JoinOutcome replace_static_member(Group& g, const JoinArgs& a);
    JoinOutcome static_rejoin_stable(Group& g, Member& m, const JoinArgs& a,
                                     env::Future<protocol::JoinGroupResponse> fut);
    void fill_member(Member& m, const JoinArgs& a);
    env::Future<protocol::JoinGroupResponse> park_join(Member& m);
    protocol::JoinGroupResponse current_join_result(Group& g, Member& m, bool with_members, bool skip_assignment);
    void leader_sync(Group& g, const protocol::SyncGroupRequest& req);
    ErrorCode leave_one(Group& g, const std::string& member_id, const std::optional<std::string>& instance_id);
    ErrorCode delete_group(const std::string& id);

    // Transitions and members (coordinator_rebalance.cc).
    void transition(Group& g, GroupState to);
    void after_removal(Group& g, const char* reason);
    bool elect_joined_leader(Group& g);
    std::string new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);
    void prepare_rebalance(Group& g, const char* reason);
    void maybe_prepare_rebalance(Group& g, const char* reason);
    bool try_complete_join(Group& g);
    void complete_join(Group& g);
    void remove_member(Group& g, const std::string& member_id, const char* reason);
    void propagate_assignment_error(Group& g, ErrorCode error);
    void heartbeat_ok(Group& g, Member& m);
    void check_group_timers(Group& g);
    void check_join_deadline(Group& g);
    void check_session_expiry(Group& g);
    void check_sync_deadline(Group& g);

    // Log writes (the caller's fiber parks). Groups may change meanwhile: callers re-find.
    Status append(int32_t partition, std::vector<OffsetsRecord> records);
    OffsetsRecord group_record(const Group& g) const;
    void store_group_async(Group& g);

    // Offsets (coordinator_offsets.cc, coordinator_fetch.cc).
    ErrorCode validate_commit(const protocol::OffsetCommitRequest& req);
    void finish_commit(const protocol::OffsetCommitRequest& req, std::vector<OffsetsRecord> recs,
                       std::vector<std::pair<TopicPartitionKey, OffsetCommitValue>>& values,
                       const std::vector<ErrorCode*>& slots);
    std::vector<FetchedTopic> fetch_offsets(const std::string& group_id,
                                            const std::optional<std::vector<FetchWant>>& topics);
    void expire_offsets();
    void expire_group_offsets(Group& g, std::vector<OffsetsRecord>& tombstones,
                              std::vector<std::string>& dead);

    // Deleted topics (coordinator_purge.cc). `only` limits the purge to one partition's groups.
    void purge_topics(const std::set<std::string>& topics, std::optional<int32_t> only);
    void write_purge_tombstones(int32_t partition, std::vector<OffsetsRecord> records);
    bool purged_since(const std::string& topic, uint64_t seq) const;

    // KIP-848 (consumer_protocol_*.cc).
    ErrorCode validate_consumer_commit(Group& g, const protocol::OffsetCommitRequest& req);
    void check_consumer_group(Group& g);
    void install_consumer_groups(int32_t partition);
    void cg_bump(Group& g, const char* reason);
    void cg_remove_member(Group& g, const std::string& member_id, const char* reason);
    Status cg_store(Group& g, std::vector<OffsetsRecord> extra);
    void cg_store_async(Group& g, std::vector<OffsetsRecord> extra);
    void cg_stored_removals(const std::string& group_id, const std::set<std::string>& tombstoned);
    protocol::ConsumerGroupHeartbeatResponse cg_heartbeat(Group* g, const protocol::ConsumerGroupHeartbeatRequest& req,
                                                          const std::string& client_id, const std::string& client_host);
    protocol::ConsumerGroupHeartbeatResponse cg_leave(Group* g, const protocol::ConsumerGroupHeartbeatRequest& req);
    ErrorCode cg_upsert_member(ConsumerGroupState& cg, const protocol::ConsumerGroupHeartbeatRequest& req,
                               const std::optional<PartitionSet>& owned, std::string& member_id, bool& changed);
    std::optional<PartitionSet> cg_owned(const protocol::ConsumerGroupHeartbeatRequest& req);
    std::map<std::string, int32_t> cg_topic_counts(const ConsumerGroupState& s);
    void trace_member(const Group& g, const CgMember& m);
    protocol::ConsumerGroupHeartbeatResponse cg_response(const CgMember& m);

    // Loading (group_coordinator.cc).
    void load_partition(int32_t partition, LeaderEpoch epoch, uint64_t load_id);
    Status read_partition(int32_t partition, LeaderEpoch epoch, std::map<std::string, GroupMetadataValue>& metas,
                          std::map<std::string, std::map<TopicPartitionKey, OffsetCommitValue>>& offsets);
    void install_loaded(int32_t partition, std::map<std::string, GroupMetadataValue>& metas,
                        std::map<std::string, std::map<TopicPartitionKey, OffsetCommitValue>>& offsets);

    void trace(std::string_view kind, const std::string& json) {
        if (env.tracer().enabled()) env.tracer().event(kind, json);
    }
    bool tracing() { return env.tracer().enabled(); }
};

// Maps a log append error to Kafka's answer (GroupMetadataManager's mapping).
ErrorCode append_error(const Error& e, bool offset_commit);
// A JSON string literal (quoted, escaped).
std::string json_str(std::string_view s);

}  // namespace keel::group
