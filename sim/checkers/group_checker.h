// The group checker: judges what the members of consumer groups did — their assignments,
// the records they handed to the application, their offset commits and what OffsetFetch
// told them — against the guarantees of kafka-semantics.md §1.4 and §3 (P15, P17).
// docs/groups.md explains groups; docs/checkers.md the checkers. Pure and deterministic:
// the same GroupHistory gives the same result, reports in a stable order.
//
// A GroupHistory is recorded by the scenario's consumers, in the order things happened
// (the order of recording is the order the checker believes). A "process" is one client,
// as in history.h; a member of a group is named by its member id (or, for a static member,
// its group.instance.id, which survives restarts with a new member id). Events:
//   assignment     a member's whole assignment in a generation (what SyncGroup returned,
//                  also under cooperative rebalancing where the callback gets only the
//                  added partitions; KIP-848: the member epoch stands in for the generation)
//   revoked, lost  partitions given up (onPartitionsRevoked / onPartitionsLost)
//   processed      one record handed to the application
//   commit         OffsetCommit: invoke, then ok / fail / info (indeterminate) as in
//                  history.h; offsets are the next offsets to read
//   fetch          OffsetFetch: invoke, then ok with the committed offsets (-1: none);
//                  committed_read() records an instantaneous one
//   reset          an explicit seek / offset reset of a member: committed offsets may go
//                  back, and records below the target need not be processed
//   offsets_deleted the group's offsets expired or were deleted (a reset for every member)
//   member_epoch   KIP-848: the member epoch (and assignment epoch) a heartbeat returned
// Acknowledged produces (acks=all) come from the data history: acked() or acked_from().
//
// Anomalies (each names the processes, the partition and the events involved):
//   two-owners-in-generation   one partition assigned to two members in one generation
//   committed-offset-regressed a group-partition's committed offset, observed by ok commits
//                              and fetches, goes below an earlier observation that
//                              completed before the later one began, with no reset or
//                              deletion in between (a fetch below an ok commit: a lost
//                              commit). Indeterminate commits are not observations.
//   acked-record-not-processed an acknowledged record below the final committed offset of
//                              a group-partition that no member of the group processed;
//                              only for GroupCheckOptions::process_then_commit_groups, and
//                              not below a reset target or the log start offset
//   commit-from-stale-generation-accepted
//                              an ok commit of generation g for a partition that, before
//                              the commit was invoked, was assigned to another process in a
//                              generation > g
//   member-epoch-regressed     (KIP-848) a member's epoch or assignment epoch decreased
//   malformed-history          the GroupHistory API was misused
// Measured, not anomalies: generations, assignments, commits by outcome, records processed
// and duplicates processed (one record processed again: a redelivery).
//
// Usage (a scenario's consumer loop, tests):
//   GroupHistory gh;
//   gh.assignment("c1", "g", 3, "m-1", {{"orders", 0}}, now);
//   gh.committed_read("c1", "g", {"orders", 0}, 40, now);
//   gh.processed("c1", "g", 3, {"orders", 0}, 40, "v17", now);
//   GroupOpId c = gh.invoke_commit("c1", "g", 3, {{{"orders", 0}, 41}}, now);
//   gh.ok_commit(c, later);                  // or gh.fail(c, ..) / gh.info(c, ..)
//   gh.acked_from(data_history);             // every ok send
//   GroupCheckResult r = check_group_history(gh, {.process_then_commit_groups = {"g"}});
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/types.h"
#include "sim/checkers/history.h"

namespace keel::sim {

// A commit's or fetch's id: its position in GroupHistory::ops().
using GroupOpId = StrongInt<struct GroupOpIdTag, int64_t>;

enum class GroupEventKind : uint8_t {
    assignment,
    revoked,
    lost,
    processed,
    commit,
    fetch,
    reset,
    offsets_deleted,
    member_epoch,
};
std::string_view name_of(GroupEventKind kind);

// One line of a GroupHistory. Fields not used by its kind keep their defaults.
struct GroupEvent {
    size_t index = 0;  // position in GroupHistory::events()
    GroupEventKind kind = GroupEventKind::assignment;
    OpType type = OpType::ok;  // commit/fetch: invoke, ok, fail, info; the others: ok
    GroupOpId op{-1};          // commit/fetch: the operation
    std::string process;
    std::string group;
    std::string member_id;                   // assignment, member_epoch
    std::optional<std::string> instance_id;  // assignment: group.instance.id (static member)
    int32_t generation = -1;  // assignment, revoked, lost, processed, commit; member_epoch: epoch
    int32_t assignment_epoch = -1;           // member_epoch
    std::vector<PartitionName> partitions;   // assignment, revoked, lost
    PartitionName partition;                 // processed, reset, offsets_deleted (empty: all)
    int64_t offset = -1;                     // processed, reset
    std::string value;                       // processed
    std::map<PartitionName, int64_t> offsets;  // commit (every event), fetch ok (-1: none)
    std::string reason;                        // fail, info
    Instant at;
};

// A commit or a fetch: its invocation and, once known, its completion.
struct GroupOp {
    GroupOpId id{0};
    GroupEventKind kind = GroupEventKind::commit;
    OpType outcome = OpType::invoke;  // invoke while pending
    size_t invoke_event = 0;
    std::optional<size_t> complete_event;
    bool pending() const { return !complete_event.has_value(); }
};

class GroupHistory {
public:
    // The member's whole assignment in `generation`.
    void assignment(std::string process, std::string group, int32_t generation,
                    std::string member_id, std::vector<PartitionName> partitions, Instant at,
                    std::optional<std::string> instance_id = std::nullopt);
    void revoked(std::string process, std::string group, int32_t generation,
                 std::vector<PartitionName> partitions, Instant at);
    void lost(std::string process, std::string group, int32_t generation,
              std::vector<PartitionName> partitions, Instant at);
    void processed(std::string process, std::string group, int32_t generation,
                   PartitionName partition, int64_t offset, std::string value, Instant at);

    // OffsetCommit of `offsets` (partition → next offset to read) with `generation` (-1:
    // no group management; KIP-848: the member epoch).
    GroupOpId invoke_commit(std::string process, std::string group, int32_t generation,
                            std::map<PartitionName, int64_t> offsets, Instant at);
    void ok_commit(GroupOpId id, Instant at);
    // OffsetFetch; ok with partition → committed offset (-1: none committed).
    GroupOpId invoke_fetch(std::string process, std::string group, Instant at);
    void ok_fetch(GroupOpId id, std::map<PartitionName, int64_t> offsets, Instant at);
    // Completes a pending commit or fetch: definitely did not happen / may have happened.
    void fail(GroupOpId id, std::string reason, Instant at);
    void info(GroupOpId id, std::string reason, Instant at);
    // An OffsetFetch of one partition, invoked and answered at `at`.
    void committed_read(std::string process, std::string group, PartitionName partition,
                        int64_t offset, Instant at);

    // The member's position in `partition` was set to `offset` on purpose (seek, reset).
    void reset(std::string process, std::string group, PartitionName partition, int64_t offset,
               Instant at);
    // The group's committed offsets of `partition` (nullopt: all) expired or were deleted.
    void offsets_deleted(std::string group, std::optional<PartitionName> partition, Instant at);
    // KIP-848: a heartbeat gave `member_id` this member epoch and assignment epoch (-1:
    // unknown). Negative epochs (leaving) are recorded and not checked.
    void member_epoch(std::string process, std::string group, std::string member_id,
                      int32_t epoch, int32_t assignment_epoch, Instant at);

    // A produce acknowledged at (partition, offset).
    void acked(PartitionName partition, int64_t offset, std::string value);
    // Every ok send of a data history.
    void acked_from(const History& data);

    const std::vector<GroupEvent>& events() const { return events_; }
    const std::vector<GroupOp>& ops() const { return ops_; }
    // partition → offset → value of every acknowledged produce.
    const std::map<PartitionName, std::map<int64_t, std::string>>& acked_records() const {
        return acked_;
    }
    // API misuse, one sentence each, in order.
    const std::vector<std::string>& errors() const { return errors_; }

    // One JSON object per event, '\n'-terminated:
    //   {"index":3,"kind":"commit","type":"ok","op":1,"process":"c1","group":"g",
    //    "generation":3,"time_ns":40,"offsets":[{"topic":"orders","partition":0,"offset":41}]}
    std::string to_jsonl() const;
    std::string event_json(size_t index) const;
    // A short sentence: "event 7: c1 commit ok in g generation 3 of orders-0@41".
    std::string describe(size_t index) const;

private:
    GroupEvent& push(GroupEventKind kind, std::string process, std::string group, Instant at);
    GroupOp* completable(GroupOpId id, std::optional<GroupEventKind> kind, const char* what);
    void complete(GroupOp& op, OpType type, std::string reason, Instant at);

    std::vector<GroupEvent> events_;
    std::vector<GroupOp> ops_;
    std::map<PartitionName, std::map<int64_t, std::string>> acked_;
    std::vector<std::string> errors_;
};

struct GroupCheckOptions {
    // Groups whose members commit only offsets of records they processed
    // (process-then-commit, auto-commit included): acked-record-not-processed applies.
    std::set<std::string> process_then_commit_groups{};
    // Per partition, its log start offset at the end: records below it may have been
    // deleted before anyone read them.
    std::map<PartitionName, int64_t> log_start_offsets{};
    size_t reports_per_kind_max = 20;
};

struct GroupReport {
    std::string kind;  // "two-owners-in-generation", ...
    std::string group;
    PartitionName partition;             // empty topic when not about one partition
    std::vector<std::string> processes;  // the processes involved, sorted
    std::vector<size_t> events;          // GroupHistory::events() indices, ascending
    std::string explanation;             // one line
};

struct GroupCheckResult {
    int64_t generations = 0;  // distinct (group, generation) with an assignment
    int64_t assignments = 0;
    int64_t commits_ok = 0;
    int64_t commits_fail = 0;
    int64_t commits_info = 0;  // info or never completed
    int64_t fetches_ok = 0;
    int64_t processed = 0;
    int64_t duplicates_processed = 0;  // processings of a record already processed in the group
    int64_t resets = 0;
    int64_t member_epochs = 0;
    // Commits sent with a generation older than one that had given one of their partitions
    // to another member (a zombie's commits), whatever their outcome: the fenced ones are
    // what a correct coordinator refuses; an accepted one is also an anomaly.
    int64_t stale_commits_sent = 0;
    int64_t acked_checked = 0;  // acknowledged records checked for at-least-once
    int64_t acked_exempt = 0;   // below a reset target or the log start: not required
    std::map<std::string, int64_t> anomaly_counts;
    std::vector<GroupReport> anomalies;  // up to reports_per_kind_max per kind

    bool valid() const { return anomaly_counts.empty(); }
    int64_t anomaly_total() const;
    // "valid: 4 generations, 12 assignments, ..." then one line per listed anomaly.
    std::string summary() const;
    // {"valid":true,"generations":..,"assignments":..,"commits_ok":..,"commits_fail":..,
    //  "commits_info":..,"fetches_ok":..,"processed":..,"duplicates_processed":..,
    //  "resets":..,"member_epochs":..,"stale_commits_sent":..,"acked_checked":..,
    //  "acked_exempt":..,
    //  "anomalies":{"two-owners-in-generation":1},"reports":[{"kind":..,"group":..,
    //  "partition":..,"processes":[..],"events":[..],"explanation":..}]}
    std::string to_json() const;
};

GroupCheckResult check_group_history(const GroupHistory& history,
                                     const GroupCheckOptions& options = {});

}  // namespace keel::sim
