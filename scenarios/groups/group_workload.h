// GroupWorkload: consumer groups of Keel's own client library against a DataCluster, every
// assignment, processed record and commit recorded in a GroupHistory for the group checker
// (sim/checkers/group_checker.h).
//
//   <group>-m<i>  member nodes. A member lives in "lives": it creates a Consumer with the
//                 group's config, subscribes, and polls; every record a poll returns is
//                 processed (recorded) before the next poll, and then committed
//                 (process-then-commit): commit_sync of the next offsets after each poll
//                 (GroupSpec::commit = sync), or Kafka's auto-commit (auto), in which case the
//                 member reads its committed offsets now and then (OffsetFetch) so that lost
//                 commits show. A life ends gracefully (close: commit, LeaveGroup) after a
//                 random time; the churn script also crashes members (kill -9) and pauses them
//                 past their session timeout (a zombie that the group must fence: SC-27).
//   drain         after the faults: members keep consuming until every group's committed
//                 offsets reach each partition's high watermark (liveness), then close. What
//                 a group committed is what its members saw: ok commits and OffsetFetch reads
//                 (idle members read every 2 s while draining: a commit that timed out may
//                 have landed, and the coordinator has no later one to commit).
//
// Member nodes are never hit by the cluster's fault schedule; the churn is the workload's.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/client/consumer.h"
#include "core/group/group_coordinator.h"
#include "scenarios/data/data_cluster.h"
#include "sim/checkers/group_checker.h"

namespace keel::scenarios {

struct GroupSpec {
    std::string name;
    int members = 3;
    std::vector<std::string> strategy = {"range"};  // partition.assignment.strategy
    bool static_members = false;                     // group.instance.id = the node name
    enum class Commit : uint8_t { sync, auto_commit } commit = Commit::sync;
    int late = 0;  // the last `late` members' nodes are added stopped: a story starts them
    std::string protocol = "classic";  // group.protocol: "classic" or "consumer" (KIP-848)
};

struct GroupWorkloadOptions {
    std::string topic = "orders";
    int32_t partitions = 6;
    std::vector<GroupSpec> groups;
    client::ConsumerConfig consumer;  // bootstrap, group, client id filled in
    Duration life_min = ms(5'000);     // a member's life before a graceful close
    Duration life_max = ms(30'000);    // 0: members live until stop()
    bool churn = true;                 // random crashes and pauses of members
    Duration churn_gap = ms(4'000);    // mean gap between churn events (crash / pause)
    Duration pause_min = ms(1'000);    // a paused member stays paused this long ...
    Duration pause_max = ms(15'000);   // ... up to this (past the session timeout: a zombie)
};

struct GroupWorkloadStats {
    uint64_t lives = 0;
    uint64_t polls = 0;
    uint64_t poll_errors = 0;
    uint64_t processed = 0;
    uint64_t commits_ok = 0;
    uint64_t commits_failed = 0;
    uint64_t crashes = 0;
    uint64_t pauses = 0;
};

class GroupWorkload : public std::enable_shared_from_this<GroupWorkload> {
public:
    static std::shared_ptr<GroupWorkload> create(DataCluster& cluster, GroupWorkloadOptions options);
    GroupWorkload(DataCluster& cluster, GroupWorkloadOptions options);  // use create()

    // Adds the member nodes and starts the churn script until `churn_until`.
    void start(Duration churn_until);
    // Waits until every group committed up to each partition's high watermark (as the
    // leaders see it now: call after the producers stopped); what is still missing if not.
    bool drain(Duration limit, std::string& missing);
    // The member's current generation and assignment per the history ({-1, {}} if none).
    std::pair<int32_t, std::vector<sim::PartitionName>> assignment_of(const std::string& member) const;
    // The highest generation any member of `group` recorded (-1 if none).
    int32_t generation_of(const std::string& group) const;
    // Members close gracefully; true when all did within `limit`.
    bool stop(Duration limit);

    sim::GroupHistory& history() { return history_; }
    const GroupWorkloadStats& stats() const { return stats_; }
    std::vector<std::string> member_names() const;

private:
    class Listener;
    struct Member;
    void member_main(Member& m, env::Env& env);
    bool all_done() const;
    void live_once(Member& m, env::Env& env, Instant end);
    void process(Member& m, client::Consumer& c, const std::vector<client::ConsumerRecord>& records, env::Env& env);
    void commit(Member& m, client::Consumer& c, env::Env& env);
    void read_committed(Member& m, client::Consumer& c, env::Env& env);
    void churn(Duration until);
    std::map<std::pair<std::string, int32_t>, int64_t> high_watermarks();

    DataCluster& cluster_;
    sim::World& world_;
    GroupWorkloadOptions options_;
    sim::GroupHistory history_;
    GroupWorkloadStats stats_;
    std::vector<std::unique_ptr<Member>> members_;
    // group → partition → highest committed offset seen (ok commits and OffsetFetch reads).
    std::map<std::string, std::map<int32_t, int64_t>> committed_;
    bool stopping_ = false;
    bool draining_ = false;
};

// The `group_bug` param of the group scenarios: none | commit-without-fencing, a planted
// coordinator bug (group::GroupCoordinatorConfig::bugs) that the group checker must catch
// (property_tests/negative/group_bugs.cc). An unknown name is a violation.
void apply_group_bug_param(sim::ScenarioContext& ctx, group::GroupCoordinatorConfig& config);

}  // namespace keel::scenarios
