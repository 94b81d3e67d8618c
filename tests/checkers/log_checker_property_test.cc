// RapidCheck properties of the log checker: a history generated from a model (one log per
// partition; producers sending alone or in pipelined batches with ok/fail/info outcomes;
// consumers polling, seeking back and forth, being reassigned, crashing, losing polls;
// a final reader that reads every partition) is clean, and one chosen mutation of it
// (a record dropped from a poll, two values swapped in a poll, a value duplicated, two
// sequential sends stored in reverse) makes exactly the expected anomalies appear.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/checkers/history.h"
#include "sim/checkers/log_checker.h"

namespace keel::sim {
namespace {

const std::vector<PartitionName> kPartitions{{"orders", 0}, {"orders", 1}, {"audit", 0}};

enum class SendOutcome { ok, fail, info_landed, info_lost };

struct SendItem {
    std::string value;
    SendOutcome outcome = SendOutcome::ok;
    int64_t offset = -1;  // where it landed (ok, info_landed)
    bool partition_at_invoke = true;
};

// One step of the script; rendered into History calls in order.
struct Step {
    enum class Kind { send, poll, seek, assign, crash } kind = Kind::send;
    std::string process{};
    PartitionName partition{};               // send, seek
    std::vector<SendItem> sends{};           // send: invoked together, one producer, one partition
    std::vector<size_t> completion_order{};  // send: order the items complete in
    OpType poll_outcome = OpType::ok;        // poll
    std::vector<PolledRecord> records{};     // poll (ok)
    std::map<PartitionName, int64_t> positions{};
    std::optional<int64_t> seek_to{};       // seek
    std::vector<PartitionName> assigned{};  // assign
    std::vector<OpId> ids{};  // filled by render(): op id per send item, or the one op
};

struct Consumer {
    std::map<PartitionName, int64_t> position;  // assigned partitions
};

struct Model {
    std::map<PartitionName, std::vector<std::string>> logs;
    std::map<std::string, Consumer> consumers;
    std::vector<Step> script;
    int values = 0;
    size_t partitions = 1;

    PartitionName some_partition() { return kPartitions[*rc::gen::inRange<size_t>(0, partitions)]; }
    int64_t log_end(const PartitionName& p) { return static_cast<int64_t>(logs[p].size()); }
    int64_t some_offset(const PartitionName& p) {
        return *rc::gen::inRange<int64_t>(0, log_end(p) + 1);
    }
};

void gen_send(Model& m) {
    Step s;
    s.kind = Step::Kind::send;
    s.process = "p" + std::to_string(*rc::gen::inRange(1, 4));
    s.partition = m.some_partition();
    size_t n = *rc::gen::element<size_t>(1, 1, 1, 2, 3);  // mostly alone, sometimes pipelined
    for (size_t i = 0; i < n; ++i) {
        SendItem item{
            "v" + std::to_string(m.values++),
            *rc::gen::element(SendOutcome::ok, SendOutcome::ok, SendOutcome::ok, SendOutcome::fail,
                              SendOutcome::info_landed, SendOutcome::info_lost),
            -1, *rc::gen::arbitrary<bool>()};
        if (item.outcome == SendOutcome::ok || item.outcome == SendOutcome::info_landed) {
            item.offset = m.log_end(s.partition);  // appended in invocation order (FIFO)
            m.logs[s.partition].push_back(item.value);
        }
        s.sends.push_back(item);
        s.completion_order.push_back(i);
    }
    // Completions in a random order (the offsets stay in invocation order).
    std::vector<size_t> pending = s.completion_order;
    s.completion_order.clear();
    while (!pending.empty()) {
        size_t k = *rc::gen::inRange<size_t>(0, pending.size());
        s.completion_order.push_back(pending[k]);
        pending.erase(pending.begin() + static_cast<long>(k));
    }
    m.script.push_back(std::move(s));
}

void gen_poll(Model& m, const std::string& c) {
    Step s;
    s.kind = Step::Kind::poll;
    s.process = c;
    s.poll_outcome = *rc::gen::element(OpType::ok, OpType::ok, OpType::ok, OpType::ok, OpType::fail,
                                       OpType::info);
    bool with_positions = *rc::gen::arbitrary<bool>();
    for (auto& [p, position] : m.consumers[c].position) {
        if (s.poll_outcome == OpType::fail) break;
        int64_t n = std::min<int64_t>(*rc::gen::inRange<int64_t>(0, 4), m.log_end(p) - position);
        if (with_positions) s.positions[p] = position;
        for (int64_t i = 0; i < n; ++i, ++position) {
            s.records.push_back(
                {p.topic, p.partition, position, "k", m.logs[p][static_cast<size_t>(position)]});
        }
    }
    if (s.poll_outcome != OpType::ok) s.records.clear();  // an info poll moved, unseen
    m.script.push_back(std::move(s));
}

void gen_consumer_note(Model& m, const std::string& c) {
    Consumer& con = m.consumers[c];
    Step s;
    s.process = c;
    int which = *rc::gen::inRange(0, 3);
    if (which == 0 && !con.position.empty()) {
        s.kind = Step::Kind::seek;
        auto it = con.position.begin();
        std::advance(it, *rc::gen::inRange<size_t>(0, con.position.size()));
        s.partition = it->first;
        it->second = m.some_offset(it->first);                     // backwards or forwards
        if (*rc::gen::inRange(0, 4) != 0) s.seek_to = it->second;  // else: reset, target unknown
    } else if (which == 1) {
        s.kind = Step::Kind::assign;
        std::map<PartitionName, int64_t> next;
        for (size_t i = 0; i < m.partitions; ++i) {
            const PartitionName& p = kPartitions[i];
            if (!*rc::gen::arbitrary<bool>()) continue;
            next[p] = con.position.count(p) ? con.position[p] : m.some_offset(p);
            s.assigned.push_back(p);
        }
        con.position = std::move(next);
    } else {
        s.kind = Step::Kind::crash;
        for (auto& [p, position] : con.position) position = m.some_offset(p);
    }
    m.script.push_back(std::move(s));
}

void gen_final_reads(Model& m) {
    m.script.push_back(
        Step{.kind = Step::Kind::assign,
             .process = "final",
             .assigned = std::vector<PartitionName>(
                 kPartitions.begin(), kPartitions.begin() + static_cast<long>(m.partitions))});
    for (size_t i = 0; i < m.partitions; ++i) {
        const PartitionName& p = kPartitions[i];
        m.script.push_back(
            Step{.kind = Step::Kind::seek, .process = "final", .partition = p, .seek_to = 0});
        Step read{.kind = Step::Kind::poll, .process = "final"};
        for (size_t o = 0; o < m.logs[p].size(); ++o) {
            read.records.push_back(
                {p.topic, p.partition, static_cast<int64_t>(o), "k", m.logs[p][o]});
        }
        m.script.push_back(std::move(read));
    }
}

Model gen_model() {
    Model m;
    m.partitions = *rc::gen::inRange<size_t>(1, kPartitions.size() + 1);
    size_t consumers = *rc::gen::inRange<size_t>(1, 4);
    for (size_t i = 1; i <= consumers; ++i) {
        std::string c = "c" + std::to_string(i);
        Step assign{.kind = Step::Kind::assign, .process = c};
        for (size_t j = 0; j < m.partitions; ++j) {
            m.consumers[c].position[kPartitions[j]] = 0;
            assign.assigned.push_back(kPartitions[j]);
        }
        m.script.push_back(std::move(assign));
    }
    int steps = *rc::gen::inRange(10, 80);
    for (int i = 0; i < steps; ++i) {
        int kind = *rc::gen::inRange(0, 10);
        std::string c = "c" + std::to_string(*rc::gen::inRange<size_t>(1, consumers + 1));
        if (kind < 4) {
            gen_send(m);
        } else if (kind < 8) {
            gen_poll(m, c);
        } else {
            gen_consumer_note(m, c);
        }
    }
    gen_final_reads(m);
    return m;
}

void render_send(History& h, Step& s, int64_t& t) {
    s.ids.clear();
    for (const SendItem& item : s.sends) {
        std::optional<int32_t> chosen;
        if (item.partition_at_invoke) chosen = s.partition.partition;
        s.ids.push_back(
            h.invoke_send(s.process, s.partition.topic, chosen, "k", item.value, Instant{++t}));
    }
    for (size_t i : s.completion_order) {
        const SendItem& item = s.sends[i];
        switch (item.outcome) {
            case SendOutcome::ok:
                h.ok_send(s.ids[i], s.partition.partition, item.offset, Instant{++t});
                break;
            case SendOutcome::fail:
                h.fail(s.ids[i], "NOT_ENOUGH_REPLICAS", Instant{++t});
                break;
            default:
                h.info(s.ids[i], "request timed out", Instant{++t});
                break;
        }
    }
}

History render(std::vector<Step>& script) {
    History h;
    int64_t t = 0;
    for (Step& s : script) {
        switch (s.kind) {
            case Step::Kind::send:
                render_send(h, s, t);
                break;
            case Step::Kind::poll: {
                OpId id = h.invoke_poll(s.process, Instant{++t});
                s.ids = {id};
                if (s.poll_outcome == OpType::ok)
                    h.ok_poll(id, s.records, Instant{++t}, s.positions);
                if (s.poll_outcome == OpType::fail)
                    h.fail(id, "coordinator not available", Instant{++t});
                if (s.poll_outcome == OpType::info) h.info(id, "client crashed", Instant{++t});
                break;
            }
            case Step::Kind::seek:
                s.ids = {h.note_seek(s.process, s.partition, s.seek_to, Instant{++t})};
                break;
            case Step::Kind::assign:
                s.ids = {h.note_assign(s.process, s.assigned, Instant{++t})};
                break;
            case Step::Kind::crash:
                s.ids = {h.note_crash(s.process, Instant{++t})};
                break;
        }
    }
    return h;
}

// Full-size models from the first case (gen::inRange scales with RapidCheck's size, which
// starts at 0: small cases would hold no sends to mutate).
Model sized_model() { return *rc::gen::resize(rc::kNominalSize, rc::gen::exec(gen_model)); }

// What a history exercised, for RC_TAG: the distribution is printed after the property.
void tag_reach(const std::vector<Step>& script) {
    bool info_poll = false, unknown_seek = false, pipelined = false, crash = false;
    for (const Step& s : script) {
        info_poll |= s.kind == Step::Kind::poll && s.poll_outcome == OpType::info;
        unknown_seek |= s.kind == Step::Kind::seek && !s.seek_to;
        pipelined |= s.sends.size() > 1;
        crash |= s.kind == Step::Kind::crash;
    }
    RC_TAG(info_poll ? "info poll" : "-", unknown_seek ? "unknown seek" : "-", pipelined ? "pipelined" : "-",
           crash ? "crash" : "-");
}

std::set<std::string> kinds(const LogCheckResult& r) {
    std::set<std::string> out;
    for (const auto& [kind, count] : r.anomaly_counts) out.insert(kind);
    return out;
}

bool reported(const LogCheckResult& r, const std::string& kind, OpId op) {
    return std::any_of(r.anomalies.begin(), r.anomalies.end(), [&](const LogReport& rep) {
        return rep.kind == kind && std::find(rep.ops.begin(), rep.ops.end(), op) != rep.ops.end();
    });
}

// Values acknowledged by an ok send: the checker knows their offsets without any poll.
std::set<std::string> acked_values(const std::vector<Step>& script) {
    std::set<std::string> out;
    for (const Step& s : script) {
        for (const SendItem& item : s.sends) {
            if (item.outcome == SendOutcome::ok) out.insert(item.value);
        }
    }
    return out;
}

size_t polls_of(const std::vector<Step>& script, const std::string& value, const PartitionName& p) {
    size_t n = 0;
    for (const Step& s : script) {
        for (const PolledRecord& r : s.records) n += (r.value == value && r.where() == p) ? 1 : 0;
    }
    return n;
}

RC_GTEST_PROP(LogCheckerProperty, AModelHistoryIsClean, ()) {
    Model m = sized_model();
    tag_reach(m.script);
    History h = render(m.script);
    bool idempotence = *rc::gen::arbitrary<bool>();
    LogCheckResult r = check_history(h, {.idempotence = idempotence, .final_reads_complete = true});
    RC_LOG() << r.summary() << h.to_jsonl();
    RC_ASSERT(r.valid());
    RC_ASSERT(r.unseen == 0);
    RC_ASSERT(r.duplicates == 0);
    RC_ASSERT(r.reordered_sends == 0);
    RC_ASSERT(r.ops_ok + r.ops_fail + r.ops_info > 0);
    RC_ASSERT(h.to_jsonl().size() > 0);
}

// (step, record index) of acknowledged records with a predecessor and a successor of the
// same partition in the same poll.
std::vector<std::pair<size_t, size_t>> droppable(const std::vector<Step>& script) {
    std::set<std::string> acked = acked_values(script);
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < script.size(); ++i) {
        const std::vector<PolledRecord>& rs = script[i].records;
        for (size_t j = 1; j + 1 < rs.size(); ++j) {
            bool middle = rs[j - 1].where() == rs[j].where() && rs[j].where() == rs[j + 1].where();
            if (middle && acked.count(rs[j].value)) out.push_back({i, j});
        }
    }
    return out;
}

RC_GTEST_PROP(LogCheckerProperty, DroppingARecordFromTheMiddleOfAPollIsASkip, ()) {
    Model m = sized_model();
    auto candidates = droppable(m.script);
    RC_PRE(!candidates.empty());
    auto [step, index] = *rc::gen::elementOf(candidates);
    PolledRecord dropped = m.script[step].records[index];
    m.script[step].records.erase(m.script[step].records.begin() + static_cast<long>(index));
    History h = render(m.script);
    LogCheckResult r = check_history(h, {.idempotence = true, .final_reads_complete = true});
    RC_LOG() << r.summary() << h.to_jsonl();
    std::set<std::string> expected{"poll-skip"};
    // Nobody else read it, and consumers read past it: it is lost too.
    if (polls_of(m.script, dropped.value, dropped.where()) == 0) expected.insert("lost-write");
    RC_ASSERT(kinds(r) == expected);
    RC_ASSERT(reported(r, "poll-skip", m.script[step].ids[0]));
}

RC_GTEST_PROP(LogCheckerProperty, SwappingTwoValuesInAPollIsInconsistent, ()) {
    Model m = sized_model();
    std::set<std::string> acked = acked_values(m.script);
    std::vector<std::pair<size_t, std::pair<size_t, size_t>>> candidates;
    for (size_t i = 0; i < m.script.size(); ++i) {
        const std::vector<PolledRecord>& rs = m.script[i].records;
        for (size_t j = 0; j + 1 < rs.size(); ++j) {
            for (size_t k = j + 1; k < rs.size(); ++k) {
                if (rs[j].where() == rs[k].where() && acked.count(rs[j].value) &&
                    acked.count(rs[k].value)) {
                    candidates.push_back({i, {j, k}});
                }
            }
        }
    }
    RC_PRE(!candidates.empty());
    auto [step, pair] = *rc::gen::elementOf(candidates);
    std::swap(m.script[step].records[pair.first].value, m.script[step].records[pair.second].value);
    History h = render(m.script);
    bool idempotence = *rc::gen::arbitrary<bool>();
    LogCheckResult r = check_history(h, {.idempotence = idempotence, .final_reads_complete = true});
    RC_LOG() << r.summary() << h.to_jsonl();
    std::set<std::string> expected{"inconsistent-offsets"};
    if (idempotence) expected.insert("duplicate");  // each value now sits at two offsets
    RC_ASSERT(kinds(r) == expected);
    RC_ASSERT(r.duplicates >= 2);
    RC_ASSERT(reported(r, "inconsistent-offsets", m.script[step].ids[0]));
}

RC_GTEST_PROP(LogCheckerProperty, ARetryThatAppendsAValueTwiceIsADuplicate, ()) {
    Model m = sized_model();
    std::vector<std::pair<std::string, PartitionName>> candidates;
    for (const Step& s : m.script) {
        for (const SendItem& item : s.sends) {
            if (item.outcome == SendOutcome::ok) candidates.push_back({item.value, s.partition});
        }
    }
    RC_PRE(!candidates.empty());
    auto [value, p] = *rc::gen::elementOf(candidates);
    // The final reader of p (the last poll step reading p) sees the copy at the log's end.
    auto final_read = std::find_if(m.script.rbegin(), m.script.rend(), [&](const Step& s) {
        return s.process == "final" && s.kind == Step::Kind::poll && !s.records.empty() &&
               s.records[0].where() == p;
    });
    RC_ASSERT(final_read != m.script.rend());
    final_read->records.push_back(
        {p.topic, p.partition, static_cast<int64_t>(m.logs[p].size()), "k", value});
    History h = render(m.script);
    LogCheckResult plain = check_history(h, {.final_reads_complete = true});
    RC_LOG() << plain.summary() << h.to_jsonl();
    RC_ASSERT(plain.valid());
    RC_ASSERT(plain.duplicates == 1);
    LogCheckResult idempotent =
        check_history(h, {.idempotence = true, .final_reads_complete = true});
    RC_LOG() << idempotent.summary() << h.to_jsonl();
    RC_ASSERT(kinds(idempotent) == std::set<std::string>{"duplicate"});
    RC_ASSERT(reported(idempotent, "duplicate", final_read->ids[0]));
}

RC_GTEST_PROP(LogCheckerProperty, TwoSequentialSendsStoredInReverseAreNonmonotonic, ()) {
    Model m = sized_model();
    // Consecutive ok sends of one producer to one partition, in separate steps.
    std::map<std::pair<std::string, PartitionName>, std::pair<size_t, size_t>>
        last;  // → (step, item)
    std::vector<std::pair<std::pair<size_t, size_t>, std::pair<size_t, size_t>>> candidates;
    for (size_t i = 0; i < m.script.size(); ++i) {
        for (size_t j = 0; j < m.script[i].sends.size(); ++j) {
            if (m.script[i].sends[j].outcome != SendOutcome::ok) continue;
            auto key = std::make_pair(m.script[i].process, m.script[i].partition);
            auto it = last.find(key);
            if (it != last.end() && it->second.first != i)
                candidates.push_back({it->second, {i, j}});
            last[key] = {i, j};
        }
    }
    RC_PRE(!candidates.empty());
    auto [first, second] = *rc::gen::elementOf(candidates);
    SendItem& a = m.script[first.first].sends[first.second];
    SendItem& b = m.script[second.first].sends[second.second];
    PartitionName p = m.script[first.first].partition;
    // The broker stored b before a and said so truthfully; every poll agrees.
    for (Step& s : m.script) {
        for (PolledRecord& r : s.records) {
            if (r.where() == p && r.offset == a.offset)
                r.value = b.value;
            else if (r.where() == p && r.offset == b.offset)
                r.value = a.value;
        }
    }
    std::swap(a.offset, b.offset);
    History h = render(m.script);
    LogCheckResult r = check_history(
        h, {.idempotence = *rc::gen::arbitrary<bool>(), .final_reads_complete = true});
    RC_LOG() << r.summary() << h.to_jsonl();
    RC_ASSERT(kinds(r) == std::set<std::string>{"nonmonotonic-send"});
    RC_ASSERT(reported(r, "nonmonotonic-send", m.script[second.first].ids[second.second]));
}

}  // namespace
}  // namespace keel::sim
