// The group checker (group_checker.h): recording a GroupHistory, then one pass per
// anomaly. Everything is keyed by ordered maps and event indices, so reports come out in
// the same order for the same history.
#include "sim/checkers/group_checker.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace keel::sim {

std::string_view name_of(GroupEventKind kind) {
    switch (kind) {
        case GroupEventKind::assignment:
            return "assignment";
        case GroupEventKind::revoked:
            return "revoked";
        case GroupEventKind::lost:
            return "lost";
        case GroupEventKind::processed:
            return "processed";
        case GroupEventKind::commit:
            return "commit";
        case GroupEventKind::fetch:
            return "fetch";
        case GroupEventKind::reset:
            return "reset";
        case GroupEventKind::offsets_deleted:
            return "offsets-deleted";
        case GroupEventKind::member_epoch:
            return "member-epoch";
    }
    return "?";
}

// ---- recording ----

GroupEvent& GroupHistory::push(GroupEventKind kind, std::string process, std::string group,
                               Instant at) {
    GroupEvent e;
    e.index = events_.size();
    e.kind = kind;
    e.process = std::move(process);
    e.group = std::move(group);
    e.at = at;
    events_.push_back(std::move(e));
    return events_.back();
}

void GroupHistory::assignment(std::string process, std::string group, int32_t generation,
                              std::string member_id, std::vector<PartitionName> partitions,
                              Instant at, std::optional<std::string> instance_id) {
    GroupEvent& e = push(GroupEventKind::assignment, std::move(process), std::move(group), at);
    e.generation = generation;
    e.member_id = std::move(member_id);
    e.instance_id = std::move(instance_id);
    e.partitions = std::move(partitions);
}

void GroupHistory::revoked(std::string process, std::string group, int32_t generation,
                           std::vector<PartitionName> partitions, Instant at) {
    GroupEvent& e = push(GroupEventKind::revoked, std::move(process), std::move(group), at);
    e.generation = generation;
    e.partitions = std::move(partitions);
}

void GroupHistory::lost(std::string process, std::string group, int32_t generation,
                        std::vector<PartitionName> partitions, Instant at) {
    GroupEvent& e = push(GroupEventKind::lost, std::move(process), std::move(group), at);
    e.generation = generation;
    e.partitions = std::move(partitions);
}

void GroupHistory::processed(std::string process, std::string group, int32_t generation,
                             PartitionName partition, int64_t offset, std::string value,
                             Instant at) {
    if (offset < 0) {
        errors_.push_back("processed by " + process + ": negative offset " +
                          std::to_string(offset) + " in " + partition.str());
        return;
    }
    GroupEvent& e = push(GroupEventKind::processed, std::move(process), std::move(group), at);
    e.generation = generation;
    e.partition = std::move(partition);
    e.offset = offset;
    e.value = std::move(value);
}

GroupOpId GroupHistory::invoke_commit(std::string process, std::string group,
                                      int32_t generation,
                                      std::map<PartitionName, int64_t> offsets, Instant at) {
    GroupOpId id(static_cast<int64_t>(ops_.size()));
    GroupEvent& e = push(GroupEventKind::commit, std::move(process), std::move(group), at);
    e.type = OpType::invoke;
    e.op = id;
    e.generation = generation;
    e.offsets = std::move(offsets);
    ops_.push_back({id, GroupEventKind::commit, OpType::invoke, e.index, std::nullopt});
    return id;
}

GroupOpId GroupHistory::invoke_fetch(std::string process, std::string group, Instant at) {
    GroupOpId id(static_cast<int64_t>(ops_.size()));
    GroupEvent& e = push(GroupEventKind::fetch, std::move(process), std::move(group), at);
    e.type = OpType::invoke;
    e.op = id;
    ops_.push_back({id, GroupEventKind::fetch, OpType::invoke, e.index, std::nullopt});
    return id;
}

// The pending operation `id` of `kind` (any kind if nullopt), or nullptr after noting why not.
GroupOp* GroupHistory::completable(GroupOpId id, std::optional<GroupEventKind> kind,
                                   const char* what) {
    std::string prefix = std::string(what) + " of op " + std::to_string(id.value()) + ": ";
    if (id.value() < 0 || static_cast<size_t>(id.value()) >= ops_.size()) {
        errors_.push_back(prefix + "no such operation");
        return nullptr;
    }
    GroupOp* o = &ops_[static_cast<size_t>(id.value())];
    if (kind && o->kind != *kind) {
        errors_.push_back(prefix + "it is a " + std::string(name_of(o->kind)));
        return nullptr;
    }
    if (!o->pending()) {
        errors_.push_back(prefix + "already completed " + std::string(name_of(o->outcome)));
        return nullptr;
    }
    return o;
}

// A completion event repeats what its invocation said (process, group, generation, offsets).
void GroupHistory::complete(GroupOp& op, OpType type, std::string reason, Instant at) {
    GroupEvent invoked = events_[op.invoke_event];
    GroupEvent& e = push(op.kind, std::move(invoked.process), std::move(invoked.group), at);
    e.type = type;
    e.op = op.id;
    e.generation = invoked.generation;
    e.offsets = std::move(invoked.offsets);
    e.reason = std::move(reason);
    op.outcome = type;
    op.complete_event = e.index;
}

void GroupHistory::ok_commit(GroupOpId id, Instant at) {
    GroupOp* o = completable(id, GroupEventKind::commit, "ok_commit");
    if (o != nullptr) complete(*o, OpType::ok, "", at);
}

void GroupHistory::ok_fetch(GroupOpId id, std::map<PartitionName, int64_t> offsets, Instant at) {
    GroupOp* o = completable(id, GroupEventKind::fetch, "ok_fetch");
    if (o == nullptr) return;
    complete(*o, OpType::ok, "", at);
    events_.back().offsets = std::move(offsets);
}

void GroupHistory::fail(GroupOpId id, std::string reason, Instant at) {
    GroupOp* o = completable(id, std::nullopt, "fail");
    if (o != nullptr) complete(*o, OpType::fail, std::move(reason), at);
}

void GroupHistory::info(GroupOpId id, std::string reason, Instant at) {
    GroupOp* o = completable(id, std::nullopt, "info");
    if (o != nullptr) complete(*o, OpType::info, std::move(reason), at);
}

void GroupHistory::committed_read(std::string process, std::string group,
                                  PartitionName partition, int64_t offset, Instant at) {
    GroupOpId id = invoke_fetch(std::move(process), std::move(group), at);
    ok_fetch(id, {{std::move(partition), offset}}, at);
}

void GroupHistory::reset(std::string process, std::string group, PartitionName partition,
                         int64_t offset, Instant at) {
    GroupEvent& e = push(GroupEventKind::reset, std::move(process), std::move(group), at);
    e.partition = std::move(partition);
    e.offset = offset;
}

void GroupHistory::offsets_deleted(std::string group, std::optional<PartitionName> partition,
                                   Instant at) {
    GroupEvent& e = push(GroupEventKind::offsets_deleted, "", std::move(group), at);
    if (partition) e.partition = std::move(*partition);
}

void GroupHistory::member_epoch(std::string process, std::string group, std::string member_id,
                                int32_t epoch, int32_t assignment_epoch, Instant at) {
    GroupEvent& e = push(GroupEventKind::member_epoch, std::move(process), std::move(group), at);
    e.member_id = std::move(member_id);
    e.generation = epoch;
    e.assignment_epoch = assignment_epoch;
}

void GroupHistory::acked(PartitionName partition, int64_t offset, std::string value) {
    auto [it, inserted] = acked_[partition].emplace(offset, value);
    if (!inserted && it->second != value) {
        errors_.push_back("acked " + partition.str() + " offset " + std::to_string(offset) +
                          ": " + value + ", already acked as " + it->second);
    }
}

void GroupHistory::acked_from(const History& data) {
    for (const Operation& o : data.ops()) {
        if (o.f == OpFunction::send && o.outcome == OpType::ok && o.partition && o.offset)
            acked({o.topic, *o.partition}, *o.offset, o.value);
    }
}

// ---- JSON and descriptions ----

namespace {

std::string quoted(std::string_view s) {
    return "\"" + history_json_escape(s) + "\"";
}

std::string partitions_json(const std::vector<PartitionName>& ps) {
    std::string s = "[";
    for (const PartitionName& p : ps) {
        if (s.size() > 1) s += ",";
        s += "{\"topic\":" + quoted(p.topic) + ",\"partition\":" + std::to_string(p.partition) +
             "}";
    }
    return s + "]";
}

std::string offsets_json(const std::map<PartitionName, int64_t>& offsets) {
    std::string s = "[";
    for (const auto& [p, offset] : offsets) {
        if (s.size() > 1) s += ",";
        s += "{\"topic\":" + quoted(p.topic) + ",\"partition\":" + std::to_string(p.partition) +
             ",\"offset\":" + std::to_string(offset) + "}";
    }
    return s + "]";
}

std::string offsets_text(const std::map<PartitionName, int64_t>& offsets) {
    std::string s;
    for (const auto& [p, offset] : offsets)
        s += (s.empty() ? "" : ", ") + p.str() + "@" + std::to_string(offset);
    return s;
}

std::string partitions_text(const std::vector<PartitionName>& ps) {
    std::string s = "[";
    for (const PartitionName& p : ps) s += (s.size() > 1 ? " " : "") + p.str();
    return s + "]";
}

// The fields of an event beyond index, kind, type, process, group and time.
std::string event_fields(const GroupEvent& e) {
    std::string s;
    if (!e.member_id.empty()) s += ",\"member_id\":" + quoted(e.member_id);
    if (e.instance_id) s += ",\"instance_id\":" + quoted(*e.instance_id);
    if (e.kind != GroupEventKind::reset && e.kind != GroupEventKind::offsets_deleted &&
        e.kind != GroupEventKind::fetch)
        s += ",\"generation\":" + std::to_string(e.generation);
    if (e.kind == GroupEventKind::member_epoch)
        s += ",\"assignment_epoch\":" + std::to_string(e.assignment_epoch);
    if (e.kind == GroupEventKind::assignment || e.kind == GroupEventKind::revoked ||
        e.kind == GroupEventKind::lost)
        s += ",\"partitions\":" + partitions_json(e.partitions);
    if (!e.partition.topic.empty())
        s += ",\"topic\":" + quoted(e.partition.topic) +
             ",\"partition\":" + std::to_string(e.partition.partition);
    if (e.kind == GroupEventKind::processed || e.kind == GroupEventKind::reset)
        s += ",\"offset\":" + std::to_string(e.offset);
    if (e.kind == GroupEventKind::processed) s += ",\"value\":" + quoted(e.value);
    if (!e.offsets.empty()) s += ",\"offsets\":" + offsets_json(e.offsets);
    if (e.type == OpType::fail || e.type == OpType::info) s += ",\"error\":" + quoted(e.reason);
    return s;
}

}  // namespace

std::string GroupHistory::event_json(size_t index) const {
    if (index >= events_.size()) return "{}";
    const GroupEvent& e = events_[index];
    std::string s = "{\"index\":" + std::to_string(index) + ",\"kind\":\"" +
                    std::string(name_of(e.kind)) + "\",\"type\":\"" +
                    std::string(name_of(e.type)) + "\"";
    if (e.op.value() >= 0) s += ",\"op\":" + std::to_string(e.op.value());
    s += ",\"process\":" + quoted(e.process) + ",\"group\":" + quoted(e.group) +
         ",\"time_ns\":" + std::to_string(e.at.ns);
    return s + event_fields(e) + "}";
}

std::string GroupHistory::to_jsonl() const {
    std::string out;
    for (size_t i = 0; i < events_.size(); ++i) out += event_json(i) + "\n";
    return out;
}

std::string GroupHistory::describe(size_t index) const {
    if (index >= events_.size()) return "event " + std::to_string(index) + " (unknown)";
    const GroupEvent& e = events_[index];
    std::string s = "event " + std::to_string(index) + ": " +
                    (e.process.empty() ? std::string("the coordinator") : e.process) + " " +
                    std::string(name_of(e.kind));
    if (e.kind == GroupEventKind::commit || e.kind == GroupEventKind::fetch)
        s += " " + std::string(name_of(e.type));
    s += " in " + e.group;
    switch (e.kind) {
        case GroupEventKind::assignment:
            return s + " generation " + std::to_string(e.generation) + " as " + e.member_id +
                   " of " + partitions_text(e.partitions);
        case GroupEventKind::revoked:
        case GroupEventKind::lost:
            return s + " generation " + std::to_string(e.generation) + " of " +
                   partitions_text(e.partitions);
        case GroupEventKind::processed:
            return s + " generation " + std::to_string(e.generation) + " of " +
                   e.partition.str() + "@" + std::to_string(e.offset) + " (" + e.value + ")";
        case GroupEventKind::commit:
            return s + " generation " + std::to_string(e.generation) + " of " +
                   offsets_text(e.offsets);
        case GroupEventKind::fetch:
            return e.offsets.empty() ? s : s + ": " + offsets_text(e.offsets);
        case GroupEventKind::reset:
            return s + " of " + e.partition.str() + " to " + std::to_string(e.offset);
        case GroupEventKind::offsets_deleted:
            return s + " of " + (e.partition.topic.empty() ? "all partitions" : e.partition.str());
        case GroupEventKind::member_epoch:
            return s + ": " + e.member_id + " epoch " + std::to_string(e.generation) +
                   ", assignment epoch " + std::to_string(e.assignment_epoch);
    }
    return s;
}

// ---- the checker ----

namespace {

constexpr const char* kTwoOwners = "two-owners-in-generation";
constexpr const char* kRegressed = "committed-offset-regressed";
constexpr const char* kNotProcessed = "acked-record-not-processed";
constexpr const char* kStaleCommit = "commit-from-stale-generation-accepted";
constexpr const char* kEpochRegressed = "member-epoch-regressed";
constexpr const char* kMalformed = "malformed-history";

using GroupPartition = std::pair<std::string, PartitionName>;

struct Analysis {
    const GroupHistory& h;
    const GroupCheckOptions& options;
    GroupCheckResult result{};

    void anomaly(const std::string& kind, const std::string& group, const PartitionName& p,
                 std::vector<std::string> processes, std::vector<size_t> events,
                 std::string why) {
        int64_t& count = result.anomaly_counts[kind];
        ++count;
        if (static_cast<size_t>(count) > options.reports_per_kind_max) return;
        std::sort(processes.begin(), processes.end());
        processes.erase(std::unique(processes.begin(), processes.end()), processes.end());
        std::sort(events.begin(), events.end());
        events.erase(std::unique(events.begin(), events.end()), events.end());
        result.anomalies.push_back(
            {kind, group, p, std::move(processes), std::move(events), std::move(why)});
    }

    // "c1 (event 7)"
    std::string who(size_t event) const {
        const GroupEvent& e = h.events()[event];
        return (e.process.empty() ? std::string("the coordinator") : e.process) + " (event " +
               std::to_string(event) + ")";
    }
};

// ---- the summary ----

void count_events(Analysis& a) {
    std::set<std::pair<std::string, int32_t>> generations;
    std::set<std::tuple<std::string, PartitionName, int64_t>> processed;
    GroupCheckResult& r = a.result;
    for (const GroupEvent& e : a.h.events()) {
        switch (e.kind) {
            case GroupEventKind::assignment:
                ++r.assignments;
                generations.insert({e.group, e.generation});
                break;
            case GroupEventKind::processed:
                ++r.processed;
                if (!processed.insert({e.group, e.partition, e.offset}).second)
                    ++r.duplicates_processed;
                break;
            case GroupEventKind::commit:
                if (e.type == OpType::ok) ++r.commits_ok;
                if (e.type == OpType::fail) ++r.commits_fail;
                if (e.type == OpType::info) ++r.commits_info;
                break;
            case GroupEventKind::fetch:
                if (e.type == OpType::ok) ++r.fetches_ok;
                break;
            case GroupEventKind::reset:
                ++r.resets;
                break;
            case GroupEventKind::member_epoch:
                ++r.member_epochs;
                break;
            default:
                break;
        }
    }
    for (const GroupOp& op : a.h.ops()) {
        if (op.kind == GroupEventKind::commit && op.pending()) ++r.commits_info;
    }
    r.generations = static_cast<int64_t>(generations.size());
}

// ---- two-owners-in-generation ----

std::string owner_of(const GroupEvent& e) {
    return e.instance_id ? "instance " + *e.instance_id : "member " + e.member_id;
}

void check_owners(Analysis& a) {
    // (group, generation, partition) → the first assignment event naming it
    std::map<std::tuple<std::string, int32_t, PartitionName>, size_t> first;
    std::set<std::tuple<std::string, int32_t, PartitionName, std::string>> reported;
    for (const GroupEvent& e : a.h.events()) {
        if (e.kind != GroupEventKind::assignment) continue;
        for (const PartitionName& p : e.partitions) {
            auto [it, inserted] = first.emplace(std::make_tuple(e.group, e.generation, p), e.index);
            if (inserted) continue;
            const GroupEvent& earlier = a.h.events()[it->second];
            std::string owner = owner_of(e);
            if (owner == owner_of(earlier)) continue;
            if (!reported.insert({e.group, e.generation, p, owner}).second) continue;
            a.anomaly(kTwoOwners, e.group, p, {earlier.process, e.process},
                      {earlier.index, e.index},
                      e.group + " generation " + std::to_string(e.generation) + ": " +
                          p.str() + " assigned to " + owner_of(earlier) + " of " +
                          a.who(earlier.index) + " and to " + owner + " of " + a.who(e.index));
        }
    }
}

// ---- committed-offset-regressed ----

// One observation of a committed offset: an ok commit or an ok fetch, spanning its
// invocation (start) to its completion (end).
struct Observation {
    size_t start = 0;
    size_t end = 0;
    int64_t value = 0;
};

struct OffsetTimeline {
    std::vector<Observation> seen;
    std::vector<size_t> resets;  // reset and offsets_deleted events, ascending
};

std::map<GroupPartition, OffsetTimeline> collect_timelines(const GroupHistory& h) {
    std::map<GroupPartition, OffsetTimeline> out;
    std::map<std::string, std::vector<size_t>> group_deletes;  // deletions of all partitions
    for (const GroupEvent& e : h.events()) {
        bool observed = (e.kind == GroupEventKind::commit || e.kind == GroupEventKind::fetch) &&
                        e.type == OpType::ok;
        if (observed) {
            size_t start = h.ops()[static_cast<size_t>(e.op.value())].invoke_event;
            for (const auto& [p, offset] : e.offsets)
                out[{e.group, p}].seen.push_back({start, e.index, offset});
        } else if (e.kind == GroupEventKind::reset ||
                   (e.kind == GroupEventKind::offsets_deleted && !e.partition.topic.empty())) {
            out[{e.group, e.partition}].resets.push_back(e.index);
        } else if (e.kind == GroupEventKind::offsets_deleted) {
            group_deletes[e.group].push_back(e.index);
        }
    }
    for (auto& [key, timeline] : out) {
        auto deletes = group_deletes.find(key.first);
        if (deletes != group_deletes.end()) {
            timeline.resets.insert(timeline.resets.end(), deletes->second.begin(),
                                   deletes->second.end());
            std::sort(timeline.resets.begin(), timeline.resets.end());
        }
    }
    return out;
}

// Observations are sorted by end. For observation y, the candidates are those that ended
// before y started and after the last reset before y ended; best[k] is the index of the
// highest value among the observations of k's reset segment up to k.
void check_timeline(Analysis& a, const GroupPartition& key, const OffsetTimeline& t) {
    std::vector<Observation> seen = t.seen;
    std::sort(seen.begin(), seen.end(),
              [](const Observation& x, const Observation& y) { return x.end < y.end; });
    auto segment = [&](size_t event) {
        return std::lower_bound(t.resets.begin(), t.resets.end(), event) - t.resets.begin();
    };
    std::vector<size_t> best(seen.size());
    for (size_t k = 0; k < seen.size(); ++k) {
        best[k] = k;
        if (k > 0 && segment(seen[k - 1].end) == segment(seen[k].end) &&
            seen[best[k - 1]].value > seen[k].value)
            best[k] = best[k - 1];
    }
    for (const Observation& y : seen) {
        auto before = std::lower_bound(seen.begin(), seen.end(), y.start,
                                       [](const Observation& x, size_t s) { return x.end < s; });
        if (before == seen.begin()) continue;
        size_t k = static_cast<size_t>(before - seen.begin()) - 1;
        if (segment(seen[k].end) != segment(y.end)) continue;
        const Observation& x = seen[best[k]];
        if (y.value >= x.value) continue;
        const GroupEvent& ye = a.h.events()[y.end];
        const GroupEvent& xe = a.h.events()[x.end];
        std::string what = ye.kind == GroupEventKind::fetch ? "a fetch by " : "a commit by ";
        a.anomaly(kRegressed, key.first, key.second, {xe.process, ye.process},
                  {x.start, x.end, y.start, y.end},
                  key.first + " " + key.second.str() + ": " + what + a.who(y.end) + " saw " +
                      std::to_string(y.value) + ", below " + std::to_string(x.value) +
                      " committed or read by " + a.who(x.end) +
                      " before it began, with no reset in between");
    }
}

void check_regressions(Analysis& a, const std::map<GroupPartition, OffsetTimeline>& timelines) {
    for (const auto& [key, timeline] : timelines) check_timeline(a, key, timeline);
}

// ---- acked-record-not-processed ----

// The highest offset ever committed (or read as committed) and the event that showed it.
std::optional<Observation> highest(const OffsetTimeline& t) {
    std::optional<Observation> top;
    for (const Observation& o : t.seen) {
        if (!top || o.value > top->value) top = o;
    }
    return top;
}

void check_processed(Analysis& a, const std::map<GroupPartition, OffsetTimeline>& timelines) {
    std::set<std::tuple<std::string, PartitionName, int64_t>> processed;
    std::map<GroupPartition, int64_t> reset_floor;  // the highest reset target
    for (const GroupEvent& e : a.h.events()) {
        if (e.kind == GroupEventKind::processed) processed.insert({e.group, e.partition, e.offset});
        if (e.kind == GroupEventKind::reset) {
            auto [it, inserted] = reset_floor.emplace(GroupPartition{e.group, e.partition}, e.offset);
            if (!inserted) it->second = std::max(it->second, e.offset);
        }
    }
    for (const auto& [key, timeline] : timelines) {
        const auto& [group, p] = key;
        if (!a.options.process_then_commit_groups.contains(group)) continue;
        std::optional<Observation> top = highest(timeline);
        auto acked = a.h.acked_records().find(p);
        if (!top || acked == a.h.acked_records().end()) continue;
        int64_t exempt_below = -1;
        if (auto r = reset_floor.find(key); r != reset_floor.end()) exempt_below = r->second;
        if (auto ls = a.options.log_start_offsets.find(p); ls != a.options.log_start_offsets.end())
            exempt_below = std::max(exempt_below, ls->second);
        for (const auto& [offset, value] : acked->second) {
            if (offset >= top->value) break;
            if (offset < exempt_below) {
                ++a.result.acked_exempt;
                continue;
            }
            ++a.result.acked_checked;
            if (processed.contains({group, p, offset})) continue;
            a.anomaly(kNotProcessed, group, p, {a.h.events()[top->end].process}, {top->end},
                      group + " " + p.str() + ": offset " + std::to_string(offset) + " (" +
                          value + ") was acknowledged and is below the committed offset " +
                          std::to_string(top->value) + " of " + a.who(top->end) +
                          ", but no member of " + group + " processed it");
        }
    }
}

// ---- commit-from-stale-generation-accepted ----

// The highest generation a partition was assigned in, per process, kept as the top two
// processes: the best generation among processes other than a given one is one of them.
struct Owners {
    struct Entry {
        int32_t generation = -1;
        std::string process;
        size_t event = 0;
    };
    Entry first, second;

    void add(int32_t generation, const std::string& process, size_t event) {
        if (generation < 0) return;
        Entry e{generation, process, event};
        if (first.generation >= 0 && process == first.process) {
            if (generation > first.generation) first = e;
        } else if (generation > first.generation) {
            second = first;
            first = e;
        } else if (process == second.process) {
            if (generation > second.generation) second = e;
        } else if (generation > second.generation) {
            second = e;
        }
    }
    const Entry& other_than(const std::string& process) const {
        return process == first.process ? second : first;
    }
};

void check_stale_commit(Analysis& a, const GroupEvent& c, const std::map<GroupPartition, Owners>& owners) {
    if (c.generation < 0) return;
    const GroupOp& op = a.h.ops()[static_cast<size_t>(c.op.value())];
    bool counted = false;
    for (const auto& [p, offset] : c.offsets) {
        auto it = owners.find({c.group, p});
        if (it == owners.end()) continue;
        const Owners::Entry& newer = it->second.other_than(c.process);
        if (newer.generation <= c.generation) continue;
        if (!counted) ++a.result.stale_commits_sent;
        counted = true;
        if (op.outcome != OpType::ok) continue;
        a.anomaly(kStaleCommit, c.group, p, {c.process, newer.process},
                  {newer.event, c.index, *op.complete_event},
                  c.group + " " + p.str() + ": the commit of " + std::to_string(offset) +
                      " by " + a.who(c.index) + " with generation " +
                      std::to_string(c.generation) + " was accepted, although generation " +
                      std::to_string(newer.generation) + " had given the partition to " +
                      a.who(newer.event) + " before it was sent");
    }
}

void check_stale_commits(Analysis& a) {
    std::map<GroupPartition, Owners> owners;
    for (const GroupEvent& e : a.h.events()) {
        if (e.kind == GroupEventKind::assignment) {
            for (const PartitionName& p : e.partitions)
                owners[{e.group, p}].add(e.generation, e.process, e.index);
        } else if (e.kind == GroupEventKind::commit && e.type == OpType::invoke) {
            check_stale_commit(a, e, owners);
        }
    }
}

// ---- member-epoch-regressed ----

void check_epochs(Analysis& a) {
    // (group, member id, which) → (highest epoch, its event); which: 0 epoch, 1 assignment
    std::map<std::tuple<std::string, std::string, int>, std::pair<int32_t, size_t>> high;
    for (const GroupEvent& e : a.h.events()) {
        if (e.kind != GroupEventKind::member_epoch) continue;
        for (int which = 0; which < 2; ++which) {
            int32_t epoch = which == 0 ? e.generation : e.assignment_epoch;
            if (epoch < 0) continue;
            auto [it, inserted] = high.emplace(std::make_tuple(e.group, e.member_id, which),
                                               std::make_pair(epoch, e.index));
            if (inserted) continue;
            auto& [top, top_event] = it->second;
            if (epoch < top) {
                a.anomaly(kEpochRegressed, e.group, {}, {a.h.events()[top_event].process, e.process},
                          {top_event, e.index},
                          e.group + " member " + e.member_id + ": " +
                              (which == 0 ? "member epoch " : "assignment epoch ") +
                              std::to_string(epoch) + " at " + a.who(e.index) + " after " +
                              std::to_string(top) + " at " + a.who(top_event));
            } else if (epoch > top) {
                top = epoch;
                top_event = e.index;
            }
        }
    }
}

std::string reports_json(const std::vector<GroupReport>& reports) {
    std::string s = "[";
    for (const GroupReport& r : reports) {
        if (s.size() > 1) s += ",";
        s += "{\"kind\":\"" + r.kind + "\",\"group\":" + quoted(r.group) + ",\"partition\":" +
             quoted(r.partition.topic.empty() ? "" : r.partition.str()) + ",\"processes\":[";
        for (size_t i = 0; i < r.processes.size(); ++i)
            s += (i ? "," : "") + quoted(r.processes[i]);
        s += "],\"events\":[";
        for (size_t i = 0; i < r.events.size(); ++i)
            s += (i ? "," : "") + std::to_string(r.events[i]);
        s += "],\"explanation\":" + quoted(r.explanation) + "}";
    }
    return s + "]";
}

}  // namespace

GroupCheckResult check_group_history(const GroupHistory& history,
                                     const GroupCheckOptions& options) {
    Analysis a{history, options};
    for (const std::string& e : history.errors()) a.anomaly(kMalformed, "", {}, {}, {}, e);
    count_events(a);
    check_owners(a);
    std::map<GroupPartition, OffsetTimeline> timelines = collect_timelines(history);
    check_regressions(a, timelines);
    check_processed(a, timelines);
    check_stale_commits(a);
    check_epochs(a);
    std::stable_sort(a.result.anomalies.begin(), a.result.anomalies.end(),
                     [](const GroupReport& x, const GroupReport& y) {
                         if (x.kind != y.kind) return x.kind < y.kind;
                         return x.events < y.events;
                     });
    return std::move(a.result);
}

int64_t GroupCheckResult::anomaly_total() const {
    int64_t total = 0;
    for (const auto& [kind, count] : anomaly_counts) total += count;
    return total;
}

std::string GroupCheckResult::summary() const {
    std::string s = std::string(valid() ? "valid" : "INVALID") + ": " +
                    std::to_string(generations) + " generations, " +
                    std::to_string(assignments) + " assignments, commits " +
                    std::to_string(commits_ok) + " ok / " + std::to_string(commits_fail) +
                    " fail / " + std::to_string(commits_info) + " info, " +
                    std::to_string(fetches_ok) + " fetches, " + std::to_string(processed) +
                    " processed (" + std::to_string(duplicates_processed) + " duplicates), " +
                    std::to_string(resets) + " resets, " + std::to_string(stale_commits_sent) +
                    " stale commits sent, " + std::to_string(acked_checked) +
                    " acknowledged records checked";
    for (const auto& [kind, count] : anomaly_counts) s += "; " + kind + " " + std::to_string(count);
    s += "\n";
    for (const GroupReport& r : anomalies) s += "  " + r.kind + ": " + r.explanation + "\n";
    return s;
}

std::string GroupCheckResult::to_json() const {
    std::string s = "{\"valid\":" + std::string(valid() ? "true" : "false");
    const std::pair<const char*, int64_t> counts[] = {
        {"generations", generations},   {"assignments", assignments},
        {"commits_ok", commits_ok},     {"commits_fail", commits_fail},
        {"commits_info", commits_info}, {"fetches_ok", fetches_ok},
        {"processed", processed},       {"duplicates_processed", duplicates_processed},
        {"resets", resets},             {"member_epochs", member_epochs},
        {"stale_commits_sent", stale_commits_sent},
        {"acked_checked", acked_checked}, {"acked_exempt", acked_exempt}};
    for (const auto& [name, value] : counts)
        s += ",\"" + std::string(name) + "\":" + std::to_string(value);
    s += ",\"anomalies\":{";
    bool first = true;
    for (const auto& [kind, count] : anomaly_counts) {
        s += std::string(first ? "" : ",") + "\"" + kind + "\":" + std::to_string(count);
        first = false;
    }
    return s + "},\"reports\":" + reports_json(anomalies) + "}";
}

}  // namespace keel::sim
