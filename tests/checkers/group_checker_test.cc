// The group checker on hand-built group histories: each anomaly is fed a history with
// exactly that anomaly and must name it with the processes, the partition and the events
// involved; clean histories (a member dies and its uncommitted records are redelivered, a
// zombie's commit refused, a static member restarting, resets, expired offsets,
// concurrent commits and fetches) must pass and measure what they should.
#include "sim/checkers/group_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "sim/checkers/history.h"

namespace keel::sim {
namespace {

const PartitionName kP0{"orders", 0};
const PartitionName kP1{"orders", 1};

// Builds group histories with a clock that ticks once per call.
struct Builder {
    GroupHistory h;
    int64_t clock = 0;
    Instant now() { return Instant{clock += 10}; }

    void acked(const PartitionName& p, int64_t from, int64_t to) {
        for (int64_t o = from; o < to; ++o) h.acked(p, o, p.str() + "-v" + std::to_string(o));
    }
    void assign(const std::string& process, int32_t generation,
                const std::vector<PartitionName>& ps, const std::string& member = "") {
        h.assignment(process, "g", generation, member.empty() ? "m-" + process : member, ps,
                     now());
    }
    void process(const std::string& process, int32_t generation, const PartitionName& p,
                 int64_t from, int64_t to) {
        for (int64_t o = from; o < to; ++o)
            h.processed(process, "g", generation, p, o, p.str() + "-v" + std::to_string(o), now());
    }
    GroupOpId commit(const std::string& process, int32_t generation, const PartitionName& p,
                     int64_t offset) {
        GroupOpId id = h.invoke_commit(process, "g", generation, {{p, offset}}, now());
        h.ok_commit(id, now());
        return id;
    }
    void read(const std::string& process, const PartitionName& p, int64_t offset) {
        h.committed_read(process, "g", p, offset, now());
    }
};

std::set<std::string> kinds(const GroupCheckResult& r) {
    std::set<std::string> out;
    for (const auto& [kind, count] : r.anomaly_counts) out.insert(kind);
    return out;
}

const GroupReport* report(const GroupCheckResult& r, const std::string& kind) {
    for (const GroupReport& rep : r.anomalies) {
        if (rep.kind == kind) return &rep;
    }
    return nullptr;
}

GroupCheckOptions at_least_once() {
    GroupCheckOptions o;
    o.process_then_commit_groups = {"g"};
    return o;
}

// c1 owns both partitions, commits part of what it processed and dies; c2 takes over in
// generation 2 from the committed offsets and processes again what was not committed. The
// zombie c1 then tries to commit with generation 1 and is refused.
Builder rebalance_with_redelivery() {
    Builder b;
    b.acked(kP0, 0, 6);
    b.acked(kP1, 0, 4);
    b.assign("c1", 1, {kP0, kP1});
    b.read("c1", kP0, -1);
    b.read("c1", kP1, -1);
    b.process("c1", 1, kP0, 0, 3);
    b.commit("c1", 1, kP0, 3);
    b.process("c1", 1, kP1, 0, 2);
    b.commit("c1", 1, kP1, 2);
    b.process("c1", 1, kP0, 3, 5);  // processed, never committed
    b.assign("c2", 2, {kP0, kP1});
    b.read("c2", kP0, 3);
    b.read("c2", kP1, 2);
    b.process("c2", 2, kP0, 3, 6);  // 3 and 4 again: redelivered
    b.process("c2", 2, kP1, 2, 4);
    GroupOpId zombie = b.h.invoke_commit("c1", "g", 1, {{kP0, 5}}, b.now());
    b.h.fail(zombie, "ILLEGAL_GENERATION", b.now());
    GroupOpId lost = b.h.invoke_commit("c2", "g", 2, {{kP0, 6}, {kP1, 4}}, b.now());
    b.h.info(lost, "request timed out", b.now());
    b.commit("c2", 2, kP0, 6);
    b.commit("c2", 2, kP1, 4);
    return b;
}

TEST(GroupChecker, ARebalanceWithRedeliveryIsValidAndMeasured) {
    Builder b = rebalance_with_redelivery();
    GroupCheckResult r = check_group_history(b.h, at_least_once());
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.generations, 2);
    EXPECT_EQ(r.assignments, 2);
    EXPECT_EQ(r.commits_ok, 4);
    EXPECT_EQ(r.commits_fail, 1);
    EXPECT_EQ(r.commits_info, 1);
    EXPECT_EQ(r.fetches_ok, 4);
    EXPECT_EQ(r.processed, 12);
    EXPECT_EQ(r.duplicates_processed, 2);
    EXPECT_EQ(r.acked_checked, 10);
    EXPECT_NE(r.to_json().find("\"valid\":true"), std::string::npos);
    EXPECT_NE(r.to_json().find("\"duplicates_processed\":2"), std::string::npos);
}

TEST(GroupChecker, AStaticMemberRestartingWithANewMemberIdIsOneOwner) {
    Builder b;
    b.h.assignment("c1", "g", 4, "m-a", {kP0}, b.now(), "instance-1");
    b.h.assignment("c1", "g", 4, "m-b", {kP0}, b.now(), "instance-1");  // restarted
    b.h.assignment("c1", "g", 4, "m-b", {kP0}, b.now(), "instance-1");  // recorded twice
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.generations, 1);
}

TEST(GroupChecker, TwoOwnersInOneGenerationAreCaught) {
    Builder b;
    b.assign("c1", 1, {kP0, kP1});
    b.assign("c1", 2, {kP0});
    b.assign("c2", 2, {kP0, kP1});  // kP0 is c1's in generation 2 too
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"two-owners-in-generation"}) << r.summary();
    EXPECT_EQ(r.anomaly_counts.at("two-owners-in-generation"), 1);
    const GroupReport* rep = report(r, "two-owners-in-generation");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->group, "g");
    EXPECT_EQ(rep->partition, kP0);
    EXPECT_EQ(rep->processes, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(rep->events, (std::vector<size_t>{1, 2}));
    EXPECT_NE(rep->explanation.find("generation 2"), std::string::npos) << rep->explanation;
    EXPECT_NE(rep->explanation.find("orders-0"), std::string::npos) << rep->explanation;
}

TEST(GroupChecker, AFetchBelowAnAcknowledgedCommitIsALostCommit) {
    Builder b;
    b.assign("c1", 1, {kP0});
    b.commit("c1", 1, kP0, 10);  // events 1, 2
    b.assign("c2", 2, {kP0});
    b.read("c2", kP0, 5);  // events 4, 5
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"committed-offset-regressed"}) << r.summary();
    const GroupReport* rep = report(r, "committed-offset-regressed");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->partition, kP0);
    EXPECT_EQ(rep->processes, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(rep->events, (std::vector<size_t>{1, 2, 4, 5}));
    EXPECT_NE(rep->explanation.find("saw 5, below 10"), std::string::npos) << rep->explanation;
}

TEST(GroupChecker, ACommitBelowAnEarlierOneIsCaughtAndNoneAtAllToo) {
    Builder b;
    b.assign("c1", 1, {kP0, kP1});
    b.commit("c1", 1, kP0, 10);
    b.commit("c1", 1, kP0, 7);   // backwards
    b.commit("c1", 1, kP1, 4);
    b.read("c1", kP1, -1);  // the commit vanished
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(r.anomaly_counts["committed-offset-regressed"], 2) << r.summary();
    std::set<PartitionName> where;
    for (const GroupReport& rep : r.anomalies) where.insert(rep.partition);
    EXPECT_EQ(where, (std::set<PartitionName>{kP0, kP1}));
}

TEST(GroupChecker, ResetsDeletionsAndConcurrentObservationsAreNotRegressions) {
    Builder b;
    b.assign("c1", 1, {kP0, kP1});
    b.commit("c1", 1, kP0, 10);
    b.h.reset("c1", "g", kP0, 2, b.now());  // an explicit rewind
    b.commit("c1", 1, kP0, 3);
    b.commit("c1", 1, kP1, 8);
    b.h.offsets_deleted("g", std::nullopt, b.now());  // retention expired the group's offsets
    b.read("c1", kP1, -1);
    // A fetch that began before a commit was acknowledged may return what was there before.
    GroupOpId fetch = b.h.invoke_fetch("c2", "g", b.now());
    b.commit("c1", 1, kP1, 12);
    b.h.ok_fetch(fetch, {{kP1, 8}}, b.now());
    // An indeterminate commit is not an observation: the value before it may be read.
    GroupOpId unsure = b.h.invoke_commit("c1", "g", 1, {{kP0, 50}}, b.now());
    b.h.info(unsure, "request timed out", b.now());
    b.read("c1", kP0, 3);
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.resets, 1);
}

TEST(GroupChecker, AnAcknowledgedRecordNobodyProcessedIsCaught) {
    Builder b;
    b.acked(kP0, 0, 5);
    b.assign("c1", 1, {kP0});
    b.process("c1", 1, kP0, 0, 2);
    b.process("c1", 1, kP0, 3, 5);  // offset 2 skipped
    b.commit("c1", 1, kP0, 5);
    GroupCheckResult r = check_group_history(b.h, at_least_once());
    EXPECT_EQ(kinds(r), std::set<std::string>{"acked-record-not-processed"}) << r.summary();
    EXPECT_EQ(r.anomaly_counts.at("acked-record-not-processed"), 1);
    const GroupReport* rep = report(r, "acked-record-not-processed");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->partition, kP0);
    EXPECT_EQ(rep->processes, std::vector<std::string>{"c1"});
    EXPECT_NE(rep->explanation.find("offset 2 (orders-0-v2)"), std::string::npos)
        << rep->explanation;
    // Only for groups declared process-then-commit (commit-then-process loses on purpose).
    EXPECT_TRUE(check_group_history(b.h).valid());
}

TEST(GroupChecker, RecordsBelowAResetOrTheLogStartNeedNotBeProcessed) {
    Builder b;
    b.acked(kP0, 0, 10);
    b.acked(kP1, 0, 10);
    b.assign("c1", 1, {kP0, kP1});
    b.h.reset("c1", "g", kP0, 6, b.now());  // auto.offset.reset=latest skipped 0..5
    b.process("c1", 1, kP0, 6, 10);
    b.commit("c1", 1, kP0, 10);
    b.process("c1", 1, kP1, 4, 10);  // 0..3 were deleted by retention before anyone read them
    b.commit("c1", 1, kP1, 10);
    GroupCheckOptions options = at_least_once();
    options.log_start_offsets[kP1] = 4;
    GroupCheckResult r = check_group_history(b.h, options);
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.acked_exempt, 10);
    EXPECT_EQ(r.acked_checked, 10);
    // Without the log start, the four deleted records are missing.
    EXPECT_EQ(check_group_history(b.h, at_least_once()).anomaly_counts["acked-record-not-processed"],
              4);
}

TEST(GroupChecker, AStaleGenerationCommitAcceptedIsCaught) {
    Builder b;
    b.assign("c1", 1, {kP0});
    b.assign("c2", 2, {kP0});                            // event 1
    GroupOpId zombie = b.commit("c1", 1, kP0, 7);        // events 2, 3
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"commit-from-stale-generation-accepted"})
        << r.summary();
    const GroupReport* rep = report(r, "commit-from-stale-generation-accepted");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->partition, kP0);
    EXPECT_EQ(rep->processes, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(rep->events, (std::vector<size_t>{1, 2, 3}));
    EXPECT_NE(rep->explanation.find("generation 1 was accepted"), std::string::npos)
        << rep->explanation;
    EXPECT_EQ(b.h.ops()[static_cast<size_t>(zombie.value())].outcome, OpType::ok);
    EXPECT_EQ(r.stale_commits_sent, 1);
}

TEST(GroupChecker, CommitsRacingTheRebalanceOrRefusedAreFine) {
    Builder b;
    b.assign("c1", 1, {kP0});
    // Sent before the new generation was known: the coordinator may have taken it first.
    GroupOpId racing = b.h.invoke_commit("c1", "g", 1, {{kP0, 4}}, b.now());
    b.assign("c2", 2, {kP0});
    b.h.ok_commit(racing, b.now());
    GroupOpId refused = b.h.invoke_commit("c1", "g", 1, {{kP0, 6}}, b.now());
    b.h.fail(refused, "ILLEGAL_GENERATION", b.now());
    // The same process moving on to a newer generation is not "another member".
    b.assign("c2", 3, {kP0});
    b.commit("c2", 2, kP0, 6);
    b.commit("c1", -1, kP1, 3);  // no group management
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.stale_commits_sent, 1);  // the refused one: sent after generation 2 moved kP0
}

TEST(GroupChecker, AMemberEpochGoingBackIsCaught) {
    Builder b;
    b.h.member_epoch("c1", "g", "m1", 1, 1, b.now());
    b.h.member_epoch("c1", "g", "m1", 3, 2, b.now());
    b.h.member_epoch("c1", "g", "m1", 3, 3, b.now());
    b.h.member_epoch("c2", "g", "m2", 1, 1, b.now());  // another member may be behind
    b.h.member_epoch("c1", "g", "m1", -1, -1, b.now());  // leaving: not checked
    EXPECT_TRUE(check_group_history(b.h).valid());
    b.h.member_epoch("c1", "g", "m1", 2, 3, b.now());  // event 5: epoch 3 → 2
    b.h.member_epoch("c1", "g", "m1", 4, 1, b.now());  // event 6: assignment epoch 3 → 1
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(r.anomaly_counts["member-epoch-regressed"], 2) << r.summary();
    ASSERT_EQ(r.anomalies.size(), 2u);
    EXPECT_EQ(r.anomalies[0].processes, std::vector<std::string>{"c1"});
    EXPECT_EQ(r.anomalies[0].events, (std::vector<size_t>{1, 5}));
    EXPECT_NE(r.anomalies[0].explanation.find("member m1: member epoch 2"), std::string::npos)
        << r.anomalies[0].explanation;
    EXPECT_NE(r.anomalies[1].explanation.find("assignment epoch 1"), std::string::npos)
        << r.anomalies[1].explanation;
    EXPECT_EQ(r.member_epochs, 7);
}

TEST(GroupChecker, MisuseIsAMalformedHistoryNotACrash) {
    Builder b;
    GroupOpId fetch = b.h.invoke_fetch("c1", "g", b.now());
    b.h.ok_commit(fetch, b.now());                  // a fetch completed as a commit
    b.h.ok_commit(GroupOpId(42), b.now());          // unknown
    b.h.fail(fetch, "timeout", b.now());
    b.h.fail(fetch, "timeout", b.now());            // twice
    b.h.processed("c1", "g", 1, kP0, -3, "v", b.now());
    b.h.acked(kP0, 1, "a");
    b.h.acked(kP0, 1, "b");  // one offset, two values
    EXPECT_EQ(b.h.errors().size(), 5u);
    GroupCheckResult r = check_group_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"malformed-history"});
    EXPECT_EQ(r.anomaly_counts.at("malformed-history"), 5);
}

TEST(GroupChecker, AckedRecordsComeFromTheDataHistory) {
    History data;
    OpId s = data.invoke_send("p1", "orders", 0, "k", "v0", Instant{1});
    data.ok_send(s, 0, 0, Instant{2});
    OpId lost = data.invoke_send("p1", "orders", 0, "k", "v1", Instant{3});
    data.info(lost, "timeout", Instant{4});  // not acknowledged: not required
    OpId t = data.invoke_send("p1", "orders", 0, "k", "v2", Instant{5});
    data.ok_send(t, 0, 2, Instant{6});
    Builder b;
    b.h.acked_from(data);
    ASSERT_EQ(b.h.acked_records().count(kP0), 1u);
    EXPECT_EQ(b.h.acked_records().at(kP0).size(), 2u);
    b.assign("c1", 1, {kP0});
    b.h.processed("c1", "g", 1, kP0, 0, "v0", b.now());
    b.commit("c1", 1, kP0, 3);
    GroupCheckResult r = check_group_history(b.h, at_least_once());
    EXPECT_EQ(r.anomaly_counts["acked-record-not-processed"], 1) << r.summary();
    EXPECT_NE(r.anomalies.at(0).explanation.find("offset 2 (v2)"), std::string::npos);
}

TEST(GroupChecker, TheHistoryWritesJsonLinesAndDescribesEvents) {
    Builder b = rebalance_with_redelivery();
    std::string jsonl = b.h.to_jsonl();
    EXPECT_EQ(static_cast<size_t>(std::count(jsonl.begin(), jsonl.end(), '\n')),
              b.h.events().size());
    EXPECT_NE(jsonl.find("\"kind\":\"assignment\",\"type\":\"ok\",\"process\":\"c1\","
                         "\"group\":\"g\",\"time_ns\":"),
              std::string::npos);
    EXPECT_NE(jsonl.find("\"error\":\"ILLEGAL_GENERATION\""), std::string::npos);
    EXPECT_NE(b.h.event_json(0).find("\"partitions\":[{\"topic\":\"orders\",\"partition\":0}"),
              std::string::npos)
        << b.h.event_json(0);
    EXPECT_EQ(b.h.describe(0), "event 0: c1 assignment in g generation 1 as m-c1 of "
                               "[orders-0 orders-1]");
    EXPECT_EQ(b.h.describe(1), "event 1: c1 fetch invoke in g");
    EXPECT_EQ(b.h.describe(2), "event 2: c1 fetch ok in g: orders-0@-1");
    EXPECT_EQ(b.h.event_json(100000), "{}");
}

TEST(GroupChecker, ReportsAreCappedPerKindButAllCounted) {
    Builder b;
    b.acked(kP0, 0, 30);
    b.assign("c1", 1, {kP0});
    b.commit("c1", 1, kP0, 30);  // nothing processed: 30 missing
    GroupCheckOptions options = at_least_once();
    options.reports_per_kind_max = 3;
    GroupCheckResult r = check_group_history(b.h, options);
    EXPECT_EQ(r.anomaly_counts.at("acked-record-not-processed"), 30);
    EXPECT_EQ(r.anomalies.size(), 3u);
    EXPECT_EQ(r.anomaly_total(), 30);
    EXPECT_NE(r.summary().find("INVALID"), std::string::npos);
}

}  // namespace
}  // namespace keel::sim
