// The log checker (log_checker.h): builds each partition's version order from the
// history, then runs one pass per anomaly family. Everything is keyed by ordered maps and
// op ids, so reports come out in the same order for the same history.
#include "sim/checkers/log_checker.h"

#include <algorithm>
#include <queue>
#include <set>
#include <utility>

namespace keel::sim {

namespace {

constexpr const char* kLostWrite = "lost-write";
constexpr const char* kUnseen = "unseen";
constexpr const char* kInconsistent = "inconsistent-offsets";
constexpr const char* kDuplicate = "duplicate";
constexpr const char* kPollSkip = "poll-skip";
constexpr const char* kNonmonotonicPoll = "nonmonotonic-poll";
constexpr const char* kNonmonotonicSend = "nonmonotonic-send";
constexpr const char* kReorderedSend = "reordered-send";  // a note only
constexpr const char* kAbortedRead = "aborted-read";
constexpr const char* kUnknownValue = "unknown-value";
constexpr const char* kMalformed = "malformed-history";

constexpr size_t kOpsNamedMax = 4;  // per value in an explanation

// What the clients were told one partition holds.
struct PartitionOrder {
    // offset → value → the operations that bound it there (ascending, no repeats)
    std::map<int64_t, std::map<std::string, std::vector<OpId>>> at;
    std::vector<int64_t> offsets;  // dense index → offset (filled once all ops are in)
    int64_t max_polled = -1;       // highest offset any ok poll returned
    OpId max_poller{-1};           // the first poll that returned it

    // Dense index of the first known offset >= `offset`.
    size_t lower_index(int64_t offset) const {
        return static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), offset) -
                                   offsets.begin());
    }
};

struct Analysis {
    const History& h;
    const LogCheckOptions& options;
    std::map<PartitionName, PartitionOrder> orders;
    std::map<std::string, std::vector<OpId>> writers;  // value → sends of it
    std::map<std::string, std::set<std::pair<PartitionName, int64_t>>>
        locations;  // value → where bound
    std::map<std::string, std::set<PartitionName>>
        polled_in;                             // value → partitions polls returned it in
    std::map<std::string, OpId> first_reader;  // value → first poll returning it
    LogCheckResult result;
    std::map<std::string, size_t> notes_listed;

    const PartitionOrder& order(const PartitionName& p) const {
        static const PartitionOrder empty;
        auto it = orders.find(p);
        return it == orders.end() ? empty : it->second;
    }

    void anomaly(const std::string& kind, const PartitionName& p, std::vector<OpId> ops,
                 std::string why) {
        int64_t& count = result.anomaly_counts[kind];
        ++count;
        if (static_cast<size_t>(count) > options.reports_per_kind_max) return;
        std::sort(ops.begin(), ops.end());
        ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
        result.anomalies.push_back({kind, p, std::move(ops), std::move(why)});
    }

    void note(const std::string& kind, const PartitionName& p, std::vector<OpId> ops,
              std::string why) {
        if (++notes_listed[kind] > options.reports_per_kind_max) return;
        std::sort(ops.begin(), ops.end());
        result.notes.push_back({kind, p, std::move(ops), std::move(why)});
    }

    // "send 3 (p1)"
    std::string name(OpId id) const {
        const Operation* o = h.op(id);
        if (o == nullptr) return "op " + std::to_string(id.value());
        return std::string(name_of(o->f)) + " " + std::to_string(id.value()) + " (" + o->process +
               ")";
    }
};

std::string at_offset(const PartitionName& p, int64_t offset) {
    return p.str() + " offset " + std::to_string(offset);
}

// ---- collecting the version order ----

void bind_value(Analysis& a, const PartitionName& p, int64_t offset, const std::string& value,
                OpId op) {
    std::vector<OpId>& ops = a.orders[p].at[offset][value];
    if (ops.empty() || ops.back() != op) ops.push_back(op);
    a.locations[value].insert({p, offset});
}

void count_outcome(LogCheckResult& r, const Operation& o) {
    if (o.outcome == OpType::ok) ++r.ops_ok;
    if (o.outcome == OpType::fail) ++r.ops_fail;
    if (o.indeterminate()) ++r.ops_info;
}

void collect_poll(Analysis& a, const Operation& o) {
    for (const PolledRecord& r : o.records) {
        PartitionName p = r.where();
        bind_value(a, p, r.offset, r.value, o.id);
        ++a.result.records_polled;
        a.polled_in[r.value].insert(p);
        a.first_reader.emplace(r.value, o.id);
        PartitionOrder& order = a.orders[p];
        if (r.offset > order.max_polled) {
            order.max_polled = r.offset;
            order.max_poller = o.id;
        }
    }
}

void collect(Analysis& a) {
    for (const Operation& o : a.h.ops()) {
        if (o.f == OpFunction::send) {
            count_outcome(a.result, o);
            a.writers[o.value].push_back(o.id);
            if (o.outcome == OpType::ok && o.partition && o.offset) {
                ++a.result.sends_acked;
                bind_value(a, {o.topic, *o.partition}, *o.offset, o.value, o.id);
            }
        } else if (o.f == OpFunction::poll) {
            count_outcome(a.result, o);
            if (o.outcome == OpType::ok) collect_poll(a, o);
        }
    }
    for (auto& [p, order] : a.orders) {
        for (const auto& [offset, values] : order.at) order.offsets.push_back(offset);
    }
}

// ---- inconsistent-offsets, duplicate ----

// "v1 (send 3, poll 7)"
std::string bound_by(const Analysis& a, const std::string& value, const std::vector<OpId>& ops) {
    std::string s = value + " (";
    for (size_t i = 0; i < ops.size() && i < kOpsNamedMax; ++i)
        s += (i ? ", " : "") + a.name(ops[i]);
    if (ops.size() > kOpsNamedMax) s += ", ...";
    return s + ")";
}

void check_offsets(Analysis& a) {
    for (const auto& [p, order] : a.orders) {
        for (const auto& [offset, values] : order.at) {
            if (values.size() < 2) continue;
            std::vector<OpId> ops;
            std::string why =
                at_offset(p, offset) + " holds " + std::to_string(values.size()) + " values:";
            for (const auto& [value, by] : values) {
                ops.insert(ops.end(), by.begin(), by.end());
                why += " " + bound_by(a, value, by);
            }
            a.anomaly(kInconsistent, p, std::move(ops), why);
        }
    }
}

void check_values(Analysis& a) {
    for (const auto& [value, where] : a.locations) {
        std::map<PartitionName, std::vector<int64_t>> by_partition;
        std::vector<OpId> ops;
        for (const auto& [p, offset] : where) {
            by_partition[p].push_back(offset);
            const std::vector<OpId>& by = a.order(p).at.at(offset).at(value);
            ops.push_back(by.front());
        }
        if (by_partition.size() > 1) {
            std::string why = "value " + value + " appears in " +
                              std::to_string(by_partition.size()) + " partitions:";
            for (const auto& [p, offsets] : by_partition)
                why += " " + at_offset(p, offsets.front());
            a.anomaly(kInconsistent, by_partition.begin()->first, ops, why);
        }
        for (const auto& [p, offsets] : by_partition) {
            if (offsets.size() < 2) continue;
            ++a.result.duplicates;
            std::string why = "value " + value + " is at " + std::to_string(offsets.size()) +
                              " offsets of " + p.str() + ":";
            for (int64_t o : offsets) why += " " + std::to_string(o);
            if (a.options.idempotence) {
                a.anomaly(kDuplicate, p, ops, why + " (idempotence is on)");
            } else {
                a.note(kDuplicate, p, ops, why + " (legal without idempotence)");
            }
        }
    }
}

// ---- aborted-read, unknown-value ----

// A polled value whose (not acknowledged) send named another topic or partition. An
// acknowledged one is bound where it was acknowledged, so check_values sees it.
void check_routing(Analysis& a, const std::string& value, const std::set<PartitionName>& polled_in,
                   const std::vector<OpId>& writers, OpId reader) {
    const Operation& w = *a.h.op(writers.front());
    if (w.outcome == OpType::ok) return;
    for (const PartitionName& p : polled_in) {
        if (p.topic == w.topic && (!w.partition || *w.partition == p.partition)) continue;
        std::string target = w.topic + (w.partition ? "-" + std::to_string(*w.partition) : "");
        a.anomaly(kInconsistent, p, {w.id, reader},
                  "value " + value + " was sent to " + target + " (" + a.name(w.id) +
                      ") but polled in " + p.str());
    }
}

void check_readers(Analysis& a) {
    for (const auto& [value, partitions] : a.polled_in) {
        OpId reader = a.first_reader.at(value);
        const PartitionName& p = *partitions.begin();
        auto w = a.writers.find(value);
        if (w == a.writers.end()) {
            a.anomaly(kUnknownValue, p, {reader},
                      a.name(reader) + " returned " + value + " in " + p.str() +
                          ", which no send in the history wrote");
            continue;
        }
        check_routing(a, value, partitions, w->second, reader);
        bool all_failed = std::all_of(w->second.begin(), w->second.end(),
                                      [&](OpId id) { return a.h.op(id)->outcome == OpType::fail; });
        if (!all_failed) continue;
        std::vector<OpId> ops = w->second;
        ops.push_back(reader);
        a.anomaly(kAbortedRead, p, ops,
                  a.name(reader) + " returned " + value + " in " + p.str() + ", but " +
                      a.name(w->second.front()) + " of it definitely failed");
    }
}

// ---- lost-write, unseen ----

void check_acknowledged(Analysis& a) {
    for (const Operation& o : a.h.ops()) {
        if (o.f != OpFunction::send || o.outcome != OpType::ok || !o.partition || !o.offset)
            continue;
        PartitionName p{o.topic, *o.partition};
        auto seen = a.polled_in.find(o.value);
        if (seen != a.polled_in.end() && seen->second.count(p) != 0) continue;
        const PartitionOrder& order = a.order(p);
        auto start = a.options.log_start_offsets.find(p);
        if (start != a.options.log_start_offsets.end() && *o.offset < start->second) {
            ++a.result.below_log_start;  // deleted by retention, maybe before anyone could read it
            continue;
        }
        std::string what =
            a.name(o.id) + " of " + o.value + " was acknowledged at " + at_offset(p, *o.offset);
        if (*o.offset <= order.max_polled) {
            a.anomaly(kLostWrite, p, {o.id, order.max_poller},
                      what + ", never polled, though " + a.name(order.max_poller) +
                          " read up to offset " + std::to_string(order.max_polled));
            continue;
        }
        ++a.result.unseen;
        std::string why = what + " and never polled (polls reached offset " +
                          std::to_string(order.max_polled) + ")";
        if (a.options.final_reads_complete) {
            a.anomaly(kUnseen, p, {o.id}, why + " after complete final reads");
        } else {
            a.note(kUnseen, p, {o.id}, why);
        }
    }
}

// ---- poll-skip, nonmonotonic-poll ----

// What a consumer's next read of one partition must be.
struct Track {
    size_t expected = 0;                 // dense index of the next read
    OpId op{-1};                         // the read, seek or poll that set it
    std::optional<int64_t> last_offset;  // the offset last read; nullopt: set by a seek/position
    int64_t start_offset = 0;            // the seek target or poll position otherwise
};

std::string since(const Analysis& a, const Track& t) {
    if (t.last_offset)
        return "after offset " + std::to_string(*t.last_offset) + " (" + a.name(t.op) + ")";
    return "after being positioned at offset " + std::to_string(t.start_offset) + " (" +
           a.name(t.op) + ")";
}

void check_read(Analysis& a, const Operation& poll, const PolledRecord& r,
                std::map<PartitionName, Track>& tracks) {
    PartitionName p = r.where();
    const PartitionOrder& order = a.order(p);
    size_t index = order.lower_index(r.offset);
    auto it = tracks.find(p);
    if (it == tracks.end()) {
        Track fresh{index, poll.id, std::nullopt, r.offset};
        auto pos = poll.positions.find(p);
        if (pos != poll.positions.end())
            fresh = Track{order.lower_index(pos->second), poll.id, std::nullopt, pos->second};
        it = tracks.emplace(p, fresh).first;
    }
    Track& t = it->second;
    std::string who =
        poll.process + " read " + at_offset(p, r.offset) + " (" + a.name(poll.id) + ") ";
    // Offsets below the log start offset may have been deleted before this read: skipping
    // them is no anomaly (reading them was fine too, if it came before the deletion).
    size_t first_kept = t.expected;
    auto start = a.options.log_start_offsets.find(p);
    if (start != a.options.log_start_offsets.end())
        first_kept = std::max(first_kept, order.lower_index(start->second));
    if (index > first_kept) {
        std::string skipped;
        for (size_t i = first_kept; i < index && i < first_kept + 8; ++i)
            skipped += " " + std::to_string(order.offsets[i]);
        if (index - first_kept > 8) skipped += " ...";
        a.anomaly(kPollSkip, p, {t.op, poll.id},
                  who + since(a, t) + ", skipping " + std::to_string(index - first_kept) +
                      " existing offset(s):" + skipped);
    } else if (index < t.expected) {
        a.anomaly(kNonmonotonicPoll, p, {t.op, poll.id},
                  who + since(a, t) + ": it did not move forward");
    }
    t = Track{index + 1, poll.id, r.offset, r.offset};
}

void apply_note(Analysis& a, const Operation& o, std::map<PartitionName, Track>& tracks) {
    if (o.f == OpFunction::crash) {
        tracks.clear();
    } else if (o.f == OpFunction::assign) {
        std::set<PartitionName> keep(o.assigned.begin(), o.assigned.end());
        std::erase_if(tracks, [&](const auto& kv) { return keep.count(kv.first) == 0; });
    } else if (o.f == OpFunction::seek) {
        PartitionName p{o.topic, o.partition.value_or(0)};
        if (!o.offset) {
            tracks.erase(p);
        } else {
            tracks[p] = Track{a.order(p).lower_index(*o.offset), o.id, std::nullopt, *o.offset};
        }
    }
}

void check_polls(Analysis& a) {
    // Per process, its polls (at completion) and notes, in history order.
    std::map<std::string, std::map<size_t, const Operation*>> by_process;
    for (const Operation& o : a.h.ops()) {
        if (o.f == OpFunction::send) continue;
        by_process[o.process][o.complete_event.value_or(o.invoke_event)] = &o;
    }
    for (const auto& [process, ops] : by_process) {
        std::map<PartitionName, Track> tracks;
        for (const auto& [event, o] : ops) {
            if (o->f != OpFunction::poll) {
                apply_note(a, *o, tracks);
            } else if (o->outcome == OpType::ok) {
                for (const PolledRecord& r : o->records) check_read(a, *o, r, tracks);
            } else if (o->indeterminate()) {
                tracks.clear();  // it may have read (and moved past) records we never saw
            }
        }
    }
}

// ---- nonmonotonic-send ----

struct Acked {
    int64_t offset = 0;
    OpId op{-1};
};

void check_send_order(Analysis& a, const PartitionName& p,
                      const std::vector<const Operation*>& sends) {
    // Sends in invocation order; those completed before the current one was invoked are
    // moved from `in_flight` (ordered by completion) into `completed_max`.
    using Entry = std::pair<size_t, Acked>;
    auto later = [](const Entry& x, const Entry& y) { return x.first > y.first; };
    std::priority_queue<Entry, std::vector<Entry>, decltype(later)> in_flight(later);
    std::optional<Acked> completed_max;
    std::optional<Acked> prior_max;
    for (const Operation* c : sends) {
        while (!in_flight.empty() && in_flight.top().first < c->invoke_event) {
            Acked done = in_flight.top().second;
            in_flight.pop();
            if (!completed_max || done.offset > completed_max->offset) completed_max = done;
        }
        int64_t offset = *c->offset;
        std::string who =
            c->process + "'s " + a.name(c->id) + " got " + at_offset(p, offset) + ", ";
        if (completed_max && offset <= completed_max->offset) {
            a.anomaly(kNonmonotonicSend, p, {completed_max->op, c->id},
                      who + "not after " + a.name(completed_max->op) + " at offset " +
                          std::to_string(completed_max->offset) +
                          ", which completed before it was sent");
        } else if (prior_max && offset <= prior_max->offset) {
            std::string why = who + "not after the earlier " + a.name(prior_max->op) +
                              " at offset " + std::to_string(prior_max->offset);
            if (a.options.idempotence) {
                a.anomaly(kNonmonotonicSend, p, {prior_max->op, c->id},
                          why + " (idempotence is on)");
            } else {
                ++a.result.reordered_sends;
                a.note(kReorderedSend, p, {prior_max->op, c->id},
                       why + " (concurrent, legal without idempotence)");
            }
        }
        in_flight.push({*c->complete_event, Acked{offset, c->id}});
        if (!prior_max || offset > prior_max->offset) prior_max = Acked{offset, c->id};
    }
}

void check_sends(Analysis& a) {
    std::map<std::pair<std::string, PartitionName>, std::vector<const Operation*>> groups;
    for (const Operation& o : a.h.ops()) {
        if (o.f != OpFunction::send || o.outcome != OpType::ok || !o.partition || !o.offset)
            continue;
        groups[{o.process, PartitionName{o.topic, *o.partition}}].push_back(&o);
    }
    for (const auto& [key, sends] : groups) check_send_order(a, key.second, sends);
}

std::string reports_json(const std::vector<LogReport>& reports) {
    std::string s = "[";
    for (const LogReport& r : reports) {
        if (s.size() > 1) s += ",";
        s += "{\"kind\":\"" + r.kind + "\",\"partition\":\"" +
             history_json_escape(r.partition.topic.empty() ? "" : r.partition.str()) +
             "\",\"ops\":[";
        for (size_t i = 0; i < r.ops.size(); ++i)
            s += (i ? "," : "") + std::to_string(r.ops[i].value());
        s += "],\"explanation\":\"" + history_json_escape(r.explanation) + "\"}";
    }
    return s + "]";
}

}  // namespace

LogCheckResult check_history(const History& history, const LogCheckOptions& options) {
    Analysis a{history, options, {}, {}, {}, {}, {}, {}, {}};
    for (const std::string& e : history.errors()) a.anomaly(kMalformed, {}, {}, e);
    collect(a);
    check_offsets(a);
    check_values(a);
    check_readers(a);
    check_acknowledged(a);
    check_polls(a);
    check_sends(a);
    auto by_kind = [](const LogReport& x, const LogReport& y) {
        if (x.kind != y.kind) return x.kind < y.kind;
        return x.ops < y.ops;
    };
    std::stable_sort(a.result.anomalies.begin(), a.result.anomalies.end(), by_kind);
    std::stable_sort(a.result.notes.begin(), a.result.notes.end(), by_kind);
    return std::move(a.result);
}

int64_t LogCheckResult::anomaly_total() const {
    int64_t total = 0;
    for (const auto& [kind, count] : anomaly_counts) total += count;
    return total;
}

std::string LogCheckResult::summary() const {
    std::string s = std::string(valid() ? "valid" : "INVALID") + ": " + std::to_string(ops_ok) +
                    " ok, " + std::to_string(ops_fail) + " fail, " + std::to_string(ops_info) +
                    " info; " + std::to_string(sends_acked) + " sends acknowledged, " +
                    std::to_string(records_polled) + " records polled; unseen " +
                    std::to_string(unseen) + ", duplicates " + std::to_string(duplicates) +
                    ", reordered sends " + std::to_string(reordered_sends);
    for (const auto& [kind, count] : anomaly_counts) s += "; " + kind + " " + std::to_string(count);
    s += "\n";
    for (const LogReport& r : anomalies) s += "  " + r.kind + ": " + r.explanation + "\n";
    return s;
}

std::string LogCheckResult::to_json() const {
    std::string s =
        "{\"valid\":" + std::string(valid() ? "true" : "false") +
        ",\"ops_ok\":" + std::to_string(ops_ok) + ",\"ops_fail\":" + std::to_string(ops_fail) +
        ",\"ops_info\":" + std::to_string(ops_info) +
        ",\"sends_acked\":" + std::to_string(sends_acked) +
        ",\"records_polled\":" + std::to_string(records_polled) +
        ",\"unseen\":" + std::to_string(unseen) + ",\"duplicates\":" + std::to_string(duplicates) +
        ",\"reordered_sends\":" + std::to_string(reordered_sends) +
        ",\"below_log_start\":" + std::to_string(below_log_start) + ",\"anomalies\":{";
    bool first = true;
    for (const auto& [kind, count] : anomaly_counts) {
        s += std::string(first ? "" : ",") + "\"" + kind + "\":" + std::to_string(count);
        first = false;
    }
    return s + "},\"reports\":" + reports_json(anomalies) + "}";
}

}  // namespace keel::sim
