// The log checker on hand-built histories: each anomaly class of kafka-semantics.md §3
// is fed a history with exactly that anomaly and must name it with the operations
// involved; clean histories (indeterminate sends that did or did not land, failed sends,
// seeks backwards, reassignments, crashes) must pass. The generated histories are in
// log_checker_property_test.cc.
#include "sim/checkers/log_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/checkers/history.h"

namespace keel::sim {
namespace {

const PartitionName kP0{"orders", 0};
const PartitionName kP1{"orders", 1};

// Builds histories with a clock that ticks once per call.
struct Builder {
    History h;
    int64_t clock = 0;
    Instant now() { return Instant{clock += 10}; }

    OpId sent(const std::string& process, const PartitionName& p, const std::string& value,
              int64_t offset) {
        OpId id = h.invoke_send(process, p.topic, p.partition, "k", value, now());
        h.ok_send(id, p.partition, offset, now());
        return id;
    }
    OpId send_info(const std::string& process, const PartitionName& p, const std::string& value) {
        OpId id = h.invoke_send(process, p.topic, std::nullopt, "k", value, now());
        h.info(id, "request timed out", now());
        return id;
    }
    OpId send_fail(const std::string& process, const PartitionName& p, const std::string& value) {
        OpId id = h.invoke_send(process, p.topic, p.partition, "k", value, now());
        h.fail(id, "NOT_ENOUGH_REPLICAS", now());
        return id;
    }
    // A poll returning (offset, value) pairs of partition p.
    OpId polled(const std::string& process, const PartitionName& p,
                const std::vector<std::pair<int64_t, std::string>>& records) {
        OpId id = h.invoke_poll(process, now());
        std::vector<PolledRecord> rs;
        for (const auto& [offset, value] : records)
            rs.push_back({p.topic, p.partition, offset, "k", value});
        h.ok_poll(id, std::move(rs), now());
        return id;
    }
};

std::set<std::string> kinds(const LogCheckResult& r) {
    std::set<std::string> out;
    for (const auto& [kind, count] : r.anomaly_counts) out.insert(kind);
    return out;
}

const LogReport* report(const LogCheckResult& r, const std::string& kind) {
    for (const LogReport& rep : r.anomalies) {
        if (rep.kind == kind) return &rep;
    }
    return nullptr;
}

TEST(LogChecker, CleanHistoryWithInfoFailAndSeeksIsValid) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.send_info("p1", kP0, "b");  // landed at 1 (a poll shows it)
    b.sent("p2", kP0, "c", 2);
    b.send_info("p2", kP0, "lost-in-flight");  // never landed: fine, it was indeterminate
    b.send_fail("p1", kP0, "refused");         // never seen: fine, it failed
    b.sent("p2", kP1, "x", 0);
    b.polled("c1", kP0, {{0, "a"}, {1, "b"}});
    b.polled("c1", kP0, {{2, "c"}});
    b.h.note_seek("c1", kP0, 1, b.now());  // rewind: re-reading 1 is legal
    b.polled("c1", kP0, {{1, "b"}, {2, "c"}});
    b.polled("c2", kP1, {{0, "x"}});
    LogCheckResult r = check_history(b.h, {.idempotence = true, .final_reads_complete = true});
    EXPECT_TRUE(r.valid()) << r.summary();
    EXPECT_EQ(r.ops_ok, 7);
    EXPECT_EQ(r.ops_fail, 1);
    EXPECT_EQ(r.ops_info, 2);
    EXPECT_EQ(r.sends_acked, 3);
    EXPECT_EQ(r.records_polled, 6);
    EXPECT_EQ(r.unseen, 0);
    EXPECT_EQ(r.duplicates, 0);
}

TEST(LogChecker, AcknowledgedWriteBelowAPolledOffsetButNeverPolledIsLost) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    OpId lost = b.sent("p1", kP0, "b", 1);
    b.sent("p1", kP0, "c", 2);
    b.polled("c1", kP0, {{0, "a"}});
    b.h.note_seek("c2", kP0, 2, b.now());
    OpId reader = b.polled("c2", kP0, {{2, "c"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"lost-write"}) << r.summary();
    const LogReport* rep = report(r, "lost-write");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->ops, (std::vector<OpId>{lost, reader}));
    EXPECT_EQ(rep->partition, kP0);
}

TEST(LogChecker, AcknowledgedWriteAboveEveryPollIsUnseenAndAnAnomalyOnlyAfterCompleteFinalReads) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    OpId tail = b.sent("p1", kP0, "b", 1);
    b.polled("c1", kP0, {{0, "a"}});
    LogCheckResult during = check_history(b.h);
    EXPECT_TRUE(during.valid()) << during.summary();
    EXPECT_EQ(during.unseen, 1);
    ASSERT_EQ(during.notes.size(), 1u);
    EXPECT_EQ(during.notes[0].kind, "unseen");

    LogCheckResult final_reads = check_history(b.h, {.final_reads_complete = true});
    EXPECT_EQ(kinds(final_reads), std::set<std::string>{"unseen"});
    ASSERT_NE(report(final_reads, "unseen"), nullptr);
    EXPECT_EQ(report(final_reads, "unseen")->ops, std::vector<OpId>{tail});
}

TEST(LogChecker, RetentionExcusesUnreadAndSkippedOffsetsBelowTheLogStartOnly) {
    Builder b;
    for (int i = 0; i < 5; ++i) b.sent("p1", kP0, "v" + std::to_string(i), i);
    b.polled("c1", kP0, {{0, "v0"}});  // read before retention deleted 0..2
    b.h.note_crash("c1", b.now());
    OpId before = b.polled("c1", kP0, {{1, "v1"}});
    OpId jump = b.polled("c1", kP0, {{3, "v3"}, {4, "v4"}});  // 2 deleted meanwhile
    LogCheckResult strict = check_history(b.h, {.final_reads_complete = true});
    EXPECT_EQ(kinds(strict), (std::set<std::string>{"lost-write", "poll-skip"}))
        << strict.summary();

    LogCheckResult retained =
        check_history(b.h, {.final_reads_complete = true, .log_start_offsets = {{kP0, 3}}});
    EXPECT_TRUE(retained.valid()) << retained.summary();
    EXPECT_EQ(retained.below_log_start, 1);  // v2

    LogCheckResult too_low =
        check_history(b.h, {.final_reads_complete = true, .log_start_offsets = {{kP0, 2}}});
    EXPECT_EQ(kinds(too_low), (std::set<std::string>{"lost-write", "poll-skip"}))
        << too_low.summary();
    EXPECT_EQ(report(too_low, "poll-skip")->ops, (std::vector<OpId>{before, jump}));
}

TEST(LogChecker, AValuePolledInAnotherPartitionThanItsSendNamedIsInconsistent) {
    Builder b;
    OpId send = b.h.invoke_send("p1", "orders", 0, "k", "a", b.now());
    b.h.info(send, "request timed out", b.now());
    OpId stray = b.polled("c1", kP1, {{0, "a"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"inconsistent-offsets"}) << r.summary();
    EXPECT_EQ(report(r, "inconsistent-offsets")->ops, (std::vector<OpId>{send, stray}));
}

TEST(LogChecker, TwoValuesAtOneOffsetAreInconsistent) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    OpId send_b = b.sent("p1", kP0, "b", 1);
    b.send_info("p2", kP0, "x");
    OpId saw_b = b.polled("c1", kP0, {{0, "a"}, {1, "b"}});
    OpId saw_x = b.polled("c2", kP0, {{0, "a"}, {1, "x"}});  // a divergent replica served c2
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"inconsistent-offsets"}) << r.summary();
    const LogReport* rep = report(r, "inconsistent-offsets");
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->ops, (std::vector<OpId>{send_b, saw_b, saw_x}));
    EXPECT_NE(rep->explanation.find("orders-0 offset 1"), std::string::npos) << rep->explanation;
}

TEST(LogChecker, OneValueInTwoPartitionsIsInconsistent) {
    Builder b;
    OpId send = b.sent("p1", kP0, "a", 0);
    b.polled("c1", kP0, {{0, "a"}});
    OpId stray = b.polled("c2", kP1, {{0, "a"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"inconsistent-offsets"}) << r.summary();
    EXPECT_EQ(report(r, "inconsistent-offsets")->ops, (std::vector<OpId>{send, stray}));
}

TEST(LogChecker, ValueAtTwoOffsetsIsADuplicateCountedAlwaysAndAnAnomalyWithIdempotence) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    OpId retried = b.sent("p1", kP0, "b", 2);  // its first attempt landed at 1, the retry at 2
    b.sent("p2", kP0, "c", 3);
    OpId saw = b.polled("c1", kP0, {{0, "a"}, {1, "b"}, {2, "b"}, {3, "c"}});
    LogCheckResult plain = check_history(b.h);
    EXPECT_TRUE(plain.valid()) << plain.summary();
    EXPECT_EQ(plain.duplicates, 1);
    ASSERT_EQ(plain.notes.size(), 1u);
    EXPECT_EQ(plain.notes[0].kind, "duplicate");

    LogCheckResult idempotent = check_history(b.h, {.idempotence = true});
    EXPECT_EQ(kinds(idempotent), std::set<std::string>{"duplicate"}) << idempotent.summary();
    EXPECT_EQ(report(idempotent, "duplicate")->ops, (std::vector<OpId>{retried, saw}));
}

TEST(LogChecker, ConsecutivePollsThatJumpOverAnExistingOffsetSkip) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 1);
    b.sent("p1", kP0, "c", 2);
    b.polled("c2", kP0, {{0, "a"}, {1, "b"}, {2, "c"}});  // b was not lost
    OpId first = b.polled("c1", kP0, {{0, "a"}});
    OpId second = b.polled("c1", kP0, {{2, "c"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"poll-skip"}) << r.summary();
    EXPECT_EQ(report(r, "poll-skip")->ops, (std::vector<OpId>{first, second}));
}

TEST(LogChecker, ASkipInsideOnePollIsReportedAgainstThatPoll) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 1);
    b.sent("p1", kP0, "c", 2);
    b.polled("c2", kP0, {{0, "a"}, {1, "b"}, {2, "c"}});
    OpId gappy = b.polled("c1", kP0, {{0, "a"}, {2, "c"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"poll-skip"}) << r.summary();
    EXPECT_EQ(report(r, "poll-skip")->ops, std::vector<OpId>{gappy});
}

TEST(LogChecker, SparseOffsetsNobodyObservedAreNoSkip) {
    Builder b;  // offsets 1 and 3 hold transaction markers or compacted records: never seen
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 2);
    b.sent("p1", kP0, "c", 4);
    b.polled("c1", kP0, {{0, "a"}, {2, "b"}});
    b.polled("c1", kP0, {{4, "c"}});
    LogCheckResult r = check_history(b.h, {.idempotence = true, .final_reads_complete = true});
    EXPECT_TRUE(r.valid()) << r.summary();
}

TEST(LogChecker, ASeekOrAnAssignmentOrACrashOrAnInfoPollExcusesAJump) {
    Builder b;
    for (int i = 0; i < 6; ++i) b.sent("p1", kP0, "v" + std::to_string(i), i);
    b.polled("c2", kP0, {{0, "v0"}, {1, "v1"}, {2, "v2"}, {3, "v3"}, {4, "v4"}, {5, "v5"}});
    b.polled("c1", kP0, {{0, "v0"}});
    b.h.note_seek("c1", kP0, 2, b.now());
    b.polled("c1", kP0, {{2, "v2"}});
    b.h.note_assign("c1", {kP1}, b.now());       // orders-0 revoked ...
    b.h.note_assign("c1", {kP0, kP1}, b.now());  // ... and back, from a committed offset
    b.polled("c1", kP0, {{3, "v3"}});
    b.h.note_crash("c1", b.now());
    b.polled("c1", kP0, {{0, "v0"}});
    OpId lost = b.h.invoke_poll("c1", b.now());
    b.h.info(lost, "client crashed mid-poll", b.now());  // it may have read 1..3
    b.polled("c1", kP0, {{4, "v4"}});
    b.h.note_seek("c1", kP0, std::nullopt, b.now());  // auto.offset.reset=earliest
    b.polled("c1", kP0, {{0, "v0"}});
    LogCheckResult r = check_history(b.h, {.idempotence = true, .final_reads_complete = true});
    EXPECT_TRUE(r.valid()) << r.summary();
}

TEST(LogChecker, AFirstPollThatStartsPastItsKnownPositionSkips) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 1);
    b.polled("c2", kP0, {{0, "a"}, {1, "b"}});
    OpId poll = b.h.invoke_poll("c1", b.now());
    b.h.ok_poll(poll, {{"orders", 0, 1, "k", "b"}}, b.now(), {{kP0, 0}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"poll-skip"}) << r.summary();
    EXPECT_EQ(report(r, "poll-skip")->ops, std::vector<OpId>{poll});
}

TEST(LogChecker, ReReadingAnOffsetWithoutASeekIsNonmonotonic) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 1);
    OpId first = b.polled("c1", kP0, {{0, "a"}, {1, "b"}});
    OpId again = b.polled("c1", kP0, {{1, "b"}});
    LogCheckResult r = check_history(b.h, {.idempotence = true, .final_reads_complete = true});
    EXPECT_EQ(kinds(r), std::set<std::string>{"nonmonotonic-poll"}) << r.summary();
    EXPECT_EQ(report(r, "nonmonotonic-poll")->ops, (std::vector<OpId>{first, again}));
}

TEST(LogChecker, ReadingBelowTheSeekTargetIsNonmonotonic) {
    Builder b;
    b.sent("p1", kP0, "a", 0);
    b.sent("p1", kP0, "b", 1);
    OpId seek = b.h.note_seek("c1", kP0, 1, b.now());
    OpId poll = b.polled("c1", kP0, {{0, "a"}, {1, "b"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"nonmonotonic-poll"}) << r.summary();
    EXPECT_EQ(report(r, "nonmonotonic-poll")->ops, (std::vector<OpId>{seek, poll}));
}

TEST(LogChecker, ASequentialSendAcknowledgedBelowAnEarlierOneIsNonmonotonic) {
    Builder b;
    OpId first = b.sent("p1", kP0, "a", 1);
    OpId second = b.sent("p1", kP0, "b", 0);  // invoked after `first` completed
    b.polled("c1", kP0, {{0, "b"}, {1, "a"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"nonmonotonic-send"}) << r.summary();
    EXPECT_EQ(report(r, "nonmonotonic-send")->ops, (std::vector<OpId>{first, second}));
}

TEST(LogChecker, ConcurrentSendsReorderedAreLegalWithoutIdempotenceOnly) {
    Builder b;
    OpId first = b.h.invoke_send("p1", "orders", 0, "k", "a", b.now());
    OpId second = b.h.invoke_send("p1", "orders", 0, "k", "b", b.now());
    b.h.ok_send(second, 0, 0, b.now());  // the first batch was retried behind the second
    b.h.ok_send(first, 0, 1, b.now());
    b.polled("c1", kP0, {{0, "b"}, {1, "a"}});
    LogCheckResult plain = check_history(b.h, {.final_reads_complete = true});
    EXPECT_TRUE(plain.valid()) << plain.summary();
    EXPECT_EQ(plain.reordered_sends, 1);

    LogCheckResult idempotent = check_history(b.h, {.idempotence = true});
    EXPECT_EQ(kinds(idempotent), std::set<std::string>{"nonmonotonic-send"})
        << idempotent.summary();
    EXPECT_EQ(report(idempotent, "nonmonotonic-send")->ops, (std::vector<OpId>{first, second}));
}

TEST(LogChecker, PollingTheValueOfAFailedSendIsAnAbortedRead) {
    Builder b;
    OpId failed = b.send_fail("p1", kP0, "x");
    OpId reader = b.polled("c1", kP0, {{0, "x"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"aborted-read"}) << r.summary();
    EXPECT_EQ(report(r, "aborted-read")->ops, (std::vector<OpId>{failed, reader}));
}

TEST(LogChecker, PollingAValueNobodySentIsReported) {
    Builder b;
    OpId reader = b.polled("c1", kP0, {{0, "garbage"}});
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"unknown-value"}) << r.summary();
    EXPECT_EQ(report(r, "unknown-value")->ops, std::vector<OpId>{reader});
}

TEST(LogChecker, MisusingTheHistoryApiIsReportedNotACrash) {
    Builder b;
    OpId s = b.sent("p1", kP0, "a", 0);
    b.h.ok_send(s, 0, 0, b.now());     // completed twice
    b.h.info(OpId{99}, "?", b.now());  // no such op
    OpId p = b.h.invoke_poll("c1", b.now());
    b.h.ok_send(p, 0, 1, b.now());  // a poll completed as a send
    EXPECT_EQ(b.h.errors().size(), 3u);
    LogCheckResult r = check_history(b.h);
    EXPECT_EQ(kinds(r), std::set<std::string>{"malformed-history"});
    EXPECT_EQ(r.anomaly_counts.at("malformed-history"), 3);
}

TEST(LogChecker, ReportsAreCappedPerKindButAllCounted) {
    Builder b;
    for (int i = 0; i < 10; ++i) b.sent("p1", kP0, "v" + std::to_string(i), i);
    b.polled("c1", kP0, {{10, "v0"}});  // stray: v0 also at 10 (a duplicate) ...
    for (int i = 0; i < 10; ++i) b.sent("p1", kP0, "w" + std::to_string(i), 11 + i);
    LogCheckResult r = check_history(b.h, {.reports_per_kind_max = 3});
    // ... and v1..v9 lie below offset 10, which a poll read, yet nobody read them.
    EXPECT_EQ(r.anomaly_counts.at("lost-write"), 9);
    EXPECT_EQ(std::count_if(r.anomalies.begin(), r.anomalies.end(),
                            [](const LogReport& rep) { return rep.kind == "lost-write"; }),
              3);
}

TEST(History, WritesOneJsonLinePerEventAndDescribesOperations) {
    Builder b;
    OpId s = b.sent("p1", kP0, "v\"1", 7);
    OpId f = b.send_info("p2", kP0, "v2");
    OpId p = b.polled("c1", kP0, {{7, "v\"1"}});
    b.h.note_seek("c1", kP0, std::nullopt, b.now());
    std::string jsonl = b.h.to_jsonl();
    EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 7);
    EXPECT_NE(
        jsonl.find(
            R"("type":"ok","f":"send","time_ns":20,"topic":"orders","partition":0,"offset":7,)"
            R"("key":"k","value":"v\"1"})"),
        std::string::npos)
        << jsonl;
    EXPECT_NE(jsonl.find(R"("error":"request timed out")"), std::string::npos) << jsonl;
    EXPECT_NE(
        jsonl.find(
            R"("records":[{"topic":"orders","partition":0,"offset":7,"key":"k","value":"v\"1"}])"),
        std::string::npos)
        << jsonl;
    EXPECT_NE(jsonl.find(R"("f":"seek","time_ns":70,"topic":"orders","partition":0,"offset":null)"),
              std::string::npos)
        << jsonl;
    EXPECT_EQ(b.h.describe(s), "send 0 by p1 of v\"1 (key k) to orders-0: ok at offset 7");
    EXPECT_EQ(b.h.describe(f), "send 1 by p2 of v2 (key k) to orders: info (request timed out)");
    EXPECT_EQ(b.h.describe(p), "poll 2 by c1 (1 records): ok");
    EXPECT_EQ(b.h.describe(OpId{42}), "op 42 (unknown)");
}

TEST(LogChecker, ResultJsonNamesCountsAndReports) {
    Builder b;
    OpId failed = b.send_fail("p1", kP0, "x");
    b.polled("c1", kP0, {{0, "x"}});
    std::string json = check_history(b.h).to_json();
    EXPECT_NE(json.find(R"("valid":false,"ops_ok":1,"ops_fail":1,"ops_info":0)"), std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("anomalies":{"aborted-read":1})"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("ops":[)" + std::to_string(failed.value()) + ",1]"), std::string::npos)
        << json;
}

}  // namespace
}  // namespace keel::sim
