// History of client operations (history.h): recording, JSON lines, descriptions.
#include "sim/checkers/history.h"

#include <cstdio>

namespace keel::sim {

std::string_view name_of(OpType type) {
    switch (type) {
        case OpType::invoke:
            return "invoke";
        case OpType::ok:
            return "ok";
        case OpType::fail:
            return "fail";
        case OpType::info:
            return "info";
    }
    return "?";
}

std::string_view name_of(OpFunction f) {
    switch (f) {
        case OpFunction::send:
            return "send";
        case OpFunction::poll:
            return "poll";
        case OpFunction::assign:
            return "assign";
        case OpFunction::seek:
            return "seek";
        case OpFunction::crash:
            return "crash";
    }
    return "?";
}

std::string history_json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

OpId History::begin(std::string process, OpFunction f, Instant at) {
    Operation op;
    op.id = OpId(static_cast<int64_t>(ops_.size()));
    op.process = std::move(process);
    op.f = f;
    op.invoked_at = at;
    op.invoke_event = events_.size();
    events_.push_back({op.id, OpType::invoke, at});
    ops_.push_back(std::move(op));
    return ops_.back().id;
}

const Operation* History::op(OpId id) const {
    if (id.value() < 0 || static_cast<size_t>(id.value()) >= ops_.size()) return nullptr;
    return &ops_[static_cast<size_t>(id.value())];
}

// The pending send or poll `id` (of function `f`, if given), or nullptr after noting why not.
Operation* History::completable(OpId id, OpFunction f, const char* what) {
    std::string prefix = std::string(what) + " of op " + std::to_string(id.value()) + ": ";
    if (op(id) == nullptr) {
        errors_.push_back(prefix + "no such operation");
        return nullptr;
    }
    Operation* o = &ops_[static_cast<size_t>(id.value())];
    if (o->f != f) {
        errors_.push_back(prefix + "it is a " + std::string(name_of(o->f)));
        return nullptr;
    }
    if (!o->pending()) {
        errors_.push_back(prefix + "already completed " + std::string(name_of(o->outcome)));
        return nullptr;
    }
    return o;
}

void History::complete(Operation& op, OpType type, Instant at) {
    op.outcome = type;
    op.completed_at = at;
    op.complete_event = events_.size();
    events_.push_back({op.id, type, at});
}

OpId History::invoke_send(std::string process, std::string topic, std::optional<int32_t> partition,
                          std::string key, std::string value, Instant at) {
    OpId id = begin(std::move(process), OpFunction::send, at);
    Operation& o = ops_.back();
    o.topic = std::move(topic);
    o.partition = partition;
    o.partition_at_invoke = partition.has_value();
    o.key = std::move(key);
    o.value = std::move(value);
    return id;
}

void History::ok_send(OpId id, int32_t partition, int64_t offset, Instant at) {
    Operation* o = completable(id, OpFunction::send, "ok_send");
    if (o == nullptr) return;
    if (o->partition && *o->partition != partition) {
        errors_.push_back("ok_send of op " + std::to_string(id.value()) +
                          ": acknowledged in partition " + std::to_string(partition) +
                          ", sent to " + std::to_string(*o->partition));
    }
    o->partition = partition;
    o->offset = offset;
    complete(*o, OpType::ok, at);
}

OpId History::invoke_poll(std::string process, Instant at) {
    return begin(std::move(process), OpFunction::poll, at);
}

void History::ok_poll(OpId id, std::vector<PolledRecord> records, Instant at,
                      std::map<PartitionName, int64_t> positions) {
    Operation* o = completable(id, OpFunction::poll, "ok_poll");
    if (o == nullptr) return;
    o->records = std::move(records);
    o->positions = std::move(positions);
    complete(*o, OpType::ok, at);
}

void History::fail(OpId id, std::string reason, Instant at) {
    const Operation* found = op(id);
    Operation* o = completable(id, found ? found->f : OpFunction::send, "fail");
    if (o == nullptr) return;
    o->reason = std::move(reason);
    complete(*o, OpType::fail, at);
}

void History::info(OpId id, std::string reason, Instant at) {
    const Operation* found = op(id);
    Operation* o = completable(id, found ? found->f : OpFunction::send, "info");
    if (o == nullptr) return;
    o->reason = std::move(reason);
    complete(*o, OpType::info, at);
}

OpId History::note_assign(std::string process, std::vector<PartitionName> partitions, Instant at) {
    OpId id = begin(std::move(process), OpFunction::assign, at);
    ops_.back().assigned = std::move(partitions);
    // A note is instantaneous: one event, completed where it was invoked.
    ops_.back().outcome = OpType::ok;
    ops_.back().completed_at = at;
    ops_.back().complete_event = ops_.back().invoke_event;
    events_.back().type = OpType::ok;
    return id;
}

OpId History::note_seek(std::string process, PartitionName partition, std::optional<int64_t> offset,
                        Instant at) {
    OpId id = note_assign(std::move(process), {}, at);
    Operation& o = ops_.back();
    o.f = OpFunction::seek;
    o.topic = std::move(partition.topic);
    o.partition = partition.partition;
    o.offset = offset;
    return id;
}

OpId History::note_crash(std::string process, Instant at) {
    OpId id = note_assign(std::move(process), {}, at);
    ops_.back().f = OpFunction::crash;
    return id;
}

namespace {

std::string quoted(std::string_view s) {
    return "\"" + history_json_escape(s) + "\"";
}

std::string partition_json(const PartitionName& p) {
    return "{\"topic\":" + quoted(p.topic) + ",\"partition\":" + std::to_string(p.partition) + "}";
}

std::string records_json(const std::vector<PolledRecord>& records) {
    std::string s = "[";
    for (const PolledRecord& r : records) {
        if (s.size() > 1) s += ",";
        s += "{\"topic\":" + quoted(r.topic) + ",\"partition\":" + std::to_string(r.partition) +
             ",\"offset\":" + std::to_string(r.offset) + ",\"key\":" + quoted(r.key) +
             ",\"value\":" + quoted(r.value) + "}";
    }
    return s + "]";
}

std::string positions_json(const std::map<PartitionName, int64_t>& positions) {
    std::string s = "[";
    for (const auto& [p, offset] : positions) {
        if (s.size() > 1) s += ",";
        s += partition_json(p);
        s.insert(s.size() - 1, ",\"offset\":" + std::to_string(offset));
    }
    return s + "]";
}

// An invocation shows the partition only if the client chose it before sending.
std::string send_fields(const Operation& o, bool completion) {
    std::string s = ",\"topic\":" + quoted(o.topic);
    if (o.partition && (completion || o.partition_at_invoke))
        s += ",\"partition\":" + std::to_string(*o.partition);
    if (completion && o.offset) s += ",\"offset\":" + std::to_string(*o.offset);
    return s + ",\"key\":" + quoted(o.key) + ",\"value\":" + quoted(o.value);
}

}  // namespace

std::string History::event_json(size_t index) const {
    if (index >= events_.size()) return "{}";
    const HistoryEvent& e = events_[index];
    const Operation& o = ops_[static_cast<size_t>(e.op.value())];
    bool completion = e.type != OpType::invoke;
    std::string s =
        "{\"index\":" + std::to_string(index) + ",\"op\":" + std::to_string(o.id.value()) +
        ",\"process\":" + quoted(o.process) + ",\"type\":\"" + std::string(name_of(e.type)) +
        "\",\"f\":\"" + std::string(name_of(o.f)) + "\",\"time_ns\":" + std::to_string(e.at.ns);
    switch (o.f) {
        case OpFunction::send:
            s += send_fields(o, completion);
            break;
        case OpFunction::poll:
            if (completion && o.outcome == OpType::ok) {
                s += ",\"records\":" + records_json(o.records);
                if (!o.positions.empty()) s += ",\"positions\":" + positions_json(o.positions);
            }
            break;
        case OpFunction::assign: {
            std::string parts = "[";
            for (const PartitionName& p : o.assigned)
                parts += (parts.size() > 1 ? "," : "") + partition_json(p);
            s += ",\"partitions\":" + parts + "]";
            break;
        }
        case OpFunction::seek:
            s += ",\"topic\":" + quoted(o.topic) +
                 ",\"partition\":" + std::to_string(o.partition.value_or(0)) +
                 ",\"offset\":" + (o.offset ? std::to_string(*o.offset) : std::string("null"));
            break;
        case OpFunction::crash:
            break;
    }
    if (completion && (o.outcome == OpType::fail || o.outcome == OpType::info))
        s += ",\"error\":" + quoted(o.reason);
    return s + "}";
}

std::string History::to_jsonl() const {
    std::string out;
    for (size_t i = 0; i < events_.size(); ++i) out += event_json(i) + "\n";
    return out;
}

std::string History::describe(OpId id) const {
    const Operation* o = op(id);
    if (o == nullptr) return "op " + std::to_string(id.value()) + " (unknown)";
    std::string s =
        std::string(name_of(o->f)) + " " + std::to_string(id.value()) + " by " + o->process;
    switch (o->f) {
        case OpFunction::send:
            s += " of " + o->value + " (key " + o->key + ") to " + o->topic;
            if (o->partition) s += "-" + std::to_string(*o->partition);
            break;
        case OpFunction::poll:
            s += " (" + std::to_string(o->records.size()) + " records)";
            break;
        case OpFunction::assign:
            s += " (" + std::to_string(o->assigned.size()) + " partitions)";
            break;
        case OpFunction::seek:
            s += " in " + o->topic + "-" + std::to_string(o->partition.value_or(0)) + " to " +
                 (o->offset ? "offset " + std::to_string(*o->offset)
                            : std::string("an unknown offset"));
            return s;
        case OpFunction::crash:
            return s;
    }
    if (o->pending()) return s + ": never completed";
    s += ": " + std::string(name_of(o->outcome));
    if (o->f == OpFunction::send && o->offset) s += " at offset " + std::to_string(*o->offset);
    if (!o->reason.empty()) s += " (" + o->reason + ")";
    return s;
}

}  // namespace keel::sim
