// The log checker: judges a History (history.h) of sends and polls against the data
// plane's client-visible guarantees, kafka-semantics.md §3, with Jepsen's names
// (jepsen.tests.kafka) so that results compare with published analyses. Pure and
// deterministic: the same history gives the same result, reports in a stable order.
// docs/checker.md explains each anomaly with an example.
//
// The version order of a partition is what the clients were told it holds: offset →
// value from every acknowledged send and every polled record. Its dense index numbers
// the offsets known to hold something (offsets may be sparse: transaction markers,
// compaction, offsets nobody happened to observe).
//
// Anomalies (each report names the operations involved and explains itself in one line):
//   lost-write            an acknowledged send whose value no poll ever returned in its
//                         partition, although some poll returned an offset >= its offset
//                         (P1: consumers read past it, so it should have been read)
//   unseen                an acknowledged send never polled and above every polled offset.
//                         Always counted (LogCheckResult::unseen); an anomaly only when
//                         options.final_reads_complete says the history ends with polls
//                         that read every partition to its end
//   inconsistent-offsets  one offset of a partition bound to two different values, or
//                         one value found in two different partitions, or polled in a
//                         partition other than the one its send named (P2)
//   duplicate             one value at more than one offset of its partition (P4). Always
//                         counted (LogCheckResult::duplicates); an anomaly with idempotence
//   poll-skip             a consumer's successive reads of a partition (within a poll or
//                         across polls, with no assign/seek/crash between that drops the
//                         partition) jump over offsets the version order holds (P6)
//   nonmonotonic-poll     a consumer reads an offset at or below one it already read in
//                         that partition, or below the position it was seeked to (P7)
//   nonmonotonic-send     a producer's acknowledged send gets an offset at or below that of
//                         an earlier send of the same producer to the same partition which
//                         had completed before it was invoked (sequential sends), or, with
//                         idempotence, any earlier send (per-partition FIFO, P7).
//                         Concurrent sends reordered without idempotence are legal: counted
//                         in LogCheckResult::reordered_sends
//   aborted-read          a poll returned the value of a send that definitely failed (P3)
//   unknown-value         a poll returned a value that no send in the history wrote
//   malformed-history     the History API was misused (History::errors())
// Polls that ended info may have moved the consumer: its next read of each partition is
// not checked against the reads before (as after a crash). Failed polls change nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/checkers/history.h"

namespace keel::sim {

struct LogCheckOptions {
    // The producers are idempotent (max.in.flight <= 5): a duplicate and any reordering of
    // one producer's sends to a partition are anomalies.
    bool idempotence = false;
    // The history ends with polls that read every partition up to its end after the
    // faults healed: an acknowledged value never polled is an anomaly (unseen).
    bool final_reads_complete = false;
    // Per partition, its log start offset at the end (retention, DeleteRecords): offsets
    // below it may have been deleted before anyone read them, so neither skipping them
    // nor never polling them is an anomaly (counted in LogCheckResult::below_log_start).
    std::map<PartitionName, int64_t> log_start_offsets{};
    // Reports listed per anomaly kind (and per kind of note); all are counted.
    size_t reports_per_kind_max = 20;
};

struct LogReport {
    std::string kind;         // "lost-write", ...
    PartitionName partition;  // empty topic when not about one partition
    std::vector<OpId> ops;    // the operations involved, ascending
    std::string explanation;  // one line
};

struct LogCheckResult {
    // Sends and polls by outcome (notes not counted); a never-completed op counts as info.
    int64_t ops_ok = 0;
    int64_t ops_fail = 0;
    int64_t ops_info = 0;
    int64_t sends_acked = 0;
    int64_t records_polled = 0;
    // Counted whether or not they are anomalies under the options.
    int64_t unseen = 0;           // acknowledged, never polled, above every polled offset
    int64_t duplicates = 0;       // values at more than one offset of their partition
    int64_t reordered_sends = 0;  // concurrent sends of one producer acknowledged out of order
    int64_t below_log_start = 0;  // acknowledged, never polled, below the log start offset
    // Anomaly kind → count (only kinds that occurred).
    std::map<std::string, int64_t> anomaly_counts;
    // Up to reports_per_kind_max per kind, sorted by (kind, first op).
    std::vector<LogReport> anomalies;
    // Legal under the options but worth reading: duplicates without idempotence, unseen
    // without final reads, reordered concurrent sends.
    std::vector<LogReport> notes;

    bool valid() const { return anomaly_counts.empty(); }
    int64_t anomaly_total() const;
    // "valid: 120 ok, 3 fail, 7 info; ..." then one line per listed anomaly.
    std::string summary() const;
    // {"valid":true,"ops_ok":..,"ops_fail":..,"ops_info":..,"sends_acked":..,
    //  "records_polled":..,"unseen":..,"duplicates":..,"reordered_sends":..,"below_log_start":..,
    //  "anomalies":{"lost-write":1},"reports":[{"kind":..,"partition":..,"ops":[..],
    //  "explanation":..}]}
    std::string to_json() const;
};

LogCheckResult check_history(const History& history, const LogCheckOptions& options = {});

}  // namespace keel::sim
