// History: what the clients of a simulated cluster did, Jepsen-style, for the log checker
// (log_checker.h, kafka-semantics.md §3). Each client operation is invoked once and
// completes at most once:
//   ok    it happened, with its result (a send's offset, a poll's records)
//   fail  it definitely did not happen (the broker refused it before appending)
//   info  indeterminate: it may or may not have happened (a timeout, a lost response,
//         NOT_ENOUGH_REPLICAS_AFTER_APPEND). An operation never completed counts as info.
// Besides send and poll, a consumer records notes that change what its next poll may
// return: an assignment, a seek (or an offset reset) and a crash/restart. Notes are
// instantaneous (one ok event).
//
// A "process" is one client: a producer or a consumer (or both, under one name). Its
// operations are checked in the order they were recorded. Values are unique per send in
// the workloads: the checker finds a polled record's writer by its value.
//
// Usage (the data-chaos scenario, tests):
//   OpId s = h.invoke_send("p1", "orders", std::nullopt, "k", "v17", now);
//   h.ok_send(s, /*partition=*/0, /*offset=*/42, later);   // or h.fail / h.info
//   OpId p = h.invoke_poll("c1", now);
//   h.ok_poll(p, {{"orders", 0, 42, "k", "v17"}}, later);
//   h.note_seek("c1", {"orders", 0}, 0, now);               // c1 rewinds to offset 0
// Misuse (completing an unknown or completed operation, a poll completed as a send) is not
// a crash: it is listed in errors() and the checker reports it as malformed-history.
//
// to_jsonl() writes one JSON object per event (an invoke or a completion), in order:
//   {"index":0,"op":0,"process":"p1","type":"invoke","f":"send","time_ns":5,
//    "topic":"orders","key":"k","value":"v17"}
//   {"index":1,"op":0,"process":"p1","type":"ok","f":"send","time_ns":9,
//    "topic":"orders","partition":0,"offset":42,"key":"k","value":"v17"}
//   {"index":3,"op":1,"process":"c1","type":"ok","f":"poll","time_ns":12,
//    "records":[{"topic":"orders","partition":0,"offset":42,"key":"k","value":"v17"}]}
// fail/info lines carry "error"; seek lines "topic","partition","offset" (null: unknown);
// assign lines "partitions":[{"topic":..,"partition":..}].
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/types.h"

namespace keel::sim {

// An operation's id: its position in History::ops(), in invocation order.
using OpId = StrongInt<struct OpIdTag, int64_t>;

// A partition of a topic by name, as clients see it.
struct PartitionName {
    std::string topic{};
    int32_t partition = 0;
    auto operator<=>(const PartitionName&) const = default;
    std::string str() const { return topic + "-" + std::to_string(partition); }
};

struct PolledRecord {
    std::string topic{};
    int32_t partition = 0;
    int64_t offset = 0;
    std::string key{};
    std::string value{};
    PartitionName where() const { return {topic, partition}; }
};

enum class OpType : uint8_t { invoke, ok, fail, info };
enum class OpFunction : uint8_t { send, poll, assign, seek, crash };

std::string_view name_of(OpType type);
std::string_view name_of(OpFunction f);

// One logical operation: its invocation and, once known, its completion.
struct Operation {
    OpId id{0};
    std::string process;
    OpFunction f = OpFunction::send;
    OpType outcome = OpType::invoke;  // invoke while pending
    Instant invoked_at;
    Instant completed_at;
    size_t invoke_event = 0;               // positions in History::events()
    std::optional<size_t> complete_event;  // nullopt while pending (notes: == invoke_event)
    std::string reason;                    // fail / info
    // send (and seek: topic, partition, offset)
    std::string topic;
    std::optional<int32_t> partition;  // a send's may be unknown until ok
    bool partition_at_invoke = false;  // the client chose the send's partition itself
    std::string key;
    std::string value;
    std::optional<int64_t> offset;  // send: assigned on ok; seek: nullopt = unknown
    // poll (ok)
    std::vector<PolledRecord> records;
    std::map<PartitionName, int64_t> positions;  // where the poll read from, if known
    // assign
    std::vector<PartitionName> assigned;

    bool pending() const { return !complete_event.has_value(); }
    // Indeterminate: completed info, or never completed.
    bool indeterminate() const { return outcome == OpType::info || outcome == OpType::invoke; }
};

// One line of the history: an invocation or a completion of `op`.
struct HistoryEvent {
    OpId op{0};
    OpType type = OpType::invoke;
    Instant at;
};

class History {
public:
    // A send of (key, value) to `topic`; `partition` if the client chose it already.
    OpId invoke_send(std::string process, std::string topic, std::optional<int32_t> partition,
                     std::string key, std::string value, Instant at);
    // The broker acknowledged the send at (partition, offset).
    void ok_send(OpId id, int32_t partition, int64_t offset, Instant at);

    OpId invoke_poll(std::string process, Instant at);
    // The poll returned `records` (in the order returned). `positions`: for partitions
    // where it is known, the consumer's position when the poll began (optional).
    void ok_poll(OpId id, std::vector<PolledRecord> records, Instant at,
                 std::map<PartitionName, int64_t> positions = {});

    // Completes a pending send or poll: definitely did not happen / may have happened.
    // An info poll may have moved the consumer's position: its next poll is not checked
    // for skips against the one before.
    void fail(OpId id, std::string reason, Instant at);
    void info(OpId id, std::string reason, Instant at);

    // The consumer's assignment is now `partitions` (assign or a rebalance). What it read
    // of partitions it keeps still constrains its next polls; the others start afresh.
    OpId note_assign(std::string process, std::vector<PartitionName> partitions, Instant at);
    // The consumer's position in `partition` was set to `offset` (seek, or an offset reset
    // whose target is known); nullopt when the target is unknown (reset to earliest or
    // latest): its next poll there may start anywhere.
    OpId note_seek(std::string process, PartitionName partition, std::optional<int64_t> offset,
                   Instant at);
    // The client crashed or restarted: its next polls start afresh everywhere.
    OpId note_crash(std::string process, Instant at);

    const std::vector<Operation>& ops() const { return ops_; }
    // nullptr for an unknown id.
    const Operation* op(OpId id) const;
    const std::vector<HistoryEvent>& events() const { return events_; }
    // API misuse, one sentence each, in order.
    const std::vector<std::string>& errors() const { return errors_; }

    // One JSON object per event, '\n'-terminated (see the top of this file).
    std::string to_jsonl() const;
    std::string event_json(size_t index) const;
    // A short sentence: "send 3 by p1 of v17 (key k) to orders-0: ok at offset 42".
    std::string describe(OpId id) const;

private:
    OpId begin(std::string process, OpFunction f, Instant at);
    Operation* completable(OpId id, OpFunction f, const char* what);
    void complete(Operation& op, OpType type, Instant at);

    std::vector<Operation> ops_;
    std::vector<HistoryEvent> events_;
    std::vector<std::string> errors_;
};

// JSON string escaping (quotes, backslashes, control characters).
std::string history_json_escape(std::string_view s);

}  // namespace keel::sim
