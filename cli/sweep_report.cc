#include "cli/sweep_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "sim/nemesis.h"
#include "sim/trace.h"

namespace keel::cli {

namespace {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string quote(const std::string& s) { return "\"" + sim::json_escape(s) + "\""; }

std::map<std::string, std::vector<double>> metric_values(const SweepReport& r) {
    std::map<std::string, std::vector<double>> m;
    for (const auto& o : r.outcomes) {
        for (const auto& [k, v] : o.metrics) m[k].push_back(v);
    }
    return m;
}

// Kind names in the simulator's order (unknown names from other builds last, sorted).
std::vector<std::string> kind_order(const std::map<std::string, EfficacyRow>& rows) {
    std::vector<std::string> out;
    for (sim::FaultKind k : sim::all_fault_kinds()) {
        std::string n(sim::fault_kind_name(k));
        if (rows.count(n) != 0) out.push_back(n);
    }
    for (const auto& [n, row] : rows) {
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    return out;
}

std::string seed_json(const SeedOutcome& o) {
    std::string j = "{\"seed\":" + std::to_string(o.seed) + ",\"ok\":" + (o.ok ? "true" : "false") +
                    ",\"events\":" + std::to_string(o.events) + ",\"sim_time_ns\":" + std::to_string(o.sim_time_ns) +
                    ",\"metrics\":{";
    bool first = true;
    for (const auto& [k, v] : o.metrics) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        j += std::string(first ? "" : ",") + quote(k) + ":" + buf;
        first = false;
    }
    j += "},\"efficacy\":{";
    first = true;
    for (const auto& [k, e] : o.efficacy) {
        j += std::string(first ? "" : ",") + quote(k) + ":[" + std::to_string(e.requested) + "," +
             std::to_string(e.fired) + "," + std::to_string(e.effect) + "]";
        first = false;
    }
    return j + "}}";
}

std::string efficacy_section(const SweepReport& r) {
    auto rows = efficacy_rows(r);
    std::string j = "{";
    bool first = true;
    for (const auto& k : kind_order(rows)) {
        const EfficacyRow& e = rows[k];
        double share = e.runs_requested > 0 ? static_cast<double>(e.runs_with_effect) / static_cast<double>(e.runs_requested) : 0;
        j += std::string(first ? "" : ",") + quote(k) + ":{\"runs_requested\":" + std::to_string(e.runs_requested) +
             ",\"runs_with_effect\":" + std::to_string(e.runs_with_effect) + ",\"share\":" + num(share) +
             ",\"requested\":" + std::to_string(e.requested) + ",\"effect\":" + std::to_string(e.effect) + "}";
        first = false;
    }
    return j + "}";
}

std::string failures_json(const SweepReport& r) {
    std::string seeds = "[", failed = "[";
    for (const auto& o : r.outcomes) {
        if (o.ok) continue;
        bool first = seeds.size() == 1;
        seeds += (first ? "" : ",") + std::to_string(o.seed);
        failed += std::string(first ? "" : ",") + "{\"seed\":" + std::to_string(o.seed) + ",\"why\":" + quote(o.why) +
                  ",\"replay\":" + quote(o.replay) + "}";
    }
    return "\"failed_seeds\":" + seeds + "],\"failed\":" + failed + "]";
}

std::string metrics_json(const SweepReport& r) {
    auto metrics = metric_values(r);
    std::string j = "\"metrics\":{";
    bool first = true;
    for (const auto& [k, v] : metrics) {
        j += std::string(first ? "" : ",") + quote(k) + ":{\"p50\":" + num(percentile(v, 50)) +
             ",\"p99\":" + num(percentile(v, 99)) + ",\"max\":" + num(*std::max_element(v.begin(), v.end())) +
             ",\"n\":" + std::to_string(v.size()) + "}";
        first = false;
    }
    j += "}";
    for (const auto& [k, v] : metrics) {
        j += "," + quote(k + "_p50") + ":" + num(percentile(v, 50));
        j += "," + quote(k + "_p99") + ":" + num(percentile(v, 99));
    }
    // The history checker's totals over every seed (data-chaos and the data stories): a
    // contract of the sweep JSON (issue 12), present when the scenario reports them; and the
    // group checker's (group-chaos, issue 9).
    for (const char* k : {"ops_ok", "ops_info", "ops_fail", "anomalies", "rebalances", "commits", "group_anomalies"}) {
        auto it = metrics.find(k);
        if (it == metrics.end()) continue;
        double sum = 0;
        for (double x : it->second) sum += x;
        j += "," + quote(k) + ":" + num(sum);
    }
    return j;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    auto lo = static_cast<size_t>(rank);
    size_t hi = std::min(lo + 1, v.size() - 1);
    double frac = rank - static_cast<double>(lo);
    return v[lo] + (v[hi] - v[lo]) * frac;
}

std::map<std::string, EfficacyRow> efficacy_rows(const SweepReport& r) {
    std::map<std::string, EfficacyRow> rows;
    for (const auto& o : r.outcomes) {
        for (const auto& [k, e] : o.efficacy) {
            if (e.requested == 0) continue;
            EfficacyRow& row = rows[k];
            row.runs_requested++;
            row.runs_with_effect += e.effect > 0 ? 1 : 0;
            row.requested += e.requested;
            row.effect += e.effect;
        }
    }
    return rows;
}

std::vector<std::string> efficacy_below(const std::map<std::string, EfficacyRow>& rows, double min_share,
                                        uint64_t min_runs) {
    std::vector<std::string> out;
    for (const auto& [k, e] : rows) {
        if (e.runs_requested < min_runs) continue;
        double share = static_cast<double>(e.runs_with_effect) / static_cast<double>(e.runs_requested);
        if (share >= min_share) continue;
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: took effect in %" PRIu64 " of %" PRIu64 " runs (%.0f%%, minimum %.0f%%)",
                      k.c_str(), e.runs_with_effect, e.runs_requested, share * 100, min_share * 100);
        out.push_back(buf);
    }
    return out;
}

void print_report(const SweepReport& r) {
    uint64_t events = 0;
    double sim_s = 0;
    size_t failures = 0;
    for (const auto& o : r.outcomes) {
        events += o.events;
        sim_s += static_cast<double>(o.sim_time_ns) / 1e9;
        failures += o.ok ? 0 : 1;
    }
    double wall_s = static_cast<double>(r.wall_ns) / 1e9, cores = static_cast<double>(r.jobs);
    std::printf("sweep %s seeds %s: %zu runs, %zu failures, %.1fs wall, %" PRIu64 " events\n", r.scenario.c_str(),
                r.seeds.c_str(), r.outcomes.size(), failures, wall_s, events);
    if (wall_s > 0) {
        std::printf("  %.0f seeds per core-hour, %.0fx real time per core, %.0f events/s per core\n",
                    static_cast<double>(r.outcomes.size()) * 3600.0 / (wall_s * cores), sim_s / (wall_s * cores),
                    static_cast<double>(events) / (wall_s * cores));
    }
    if (r.cpu_ns > 0) {  // the same per CPU second: what a core gives when nothing else runs on it
        double cpu_s = static_cast<double>(r.cpu_ns) / 1e9;
        std::printf("  by CPU time (%.1fs): %.0f seeds per CPU-hour, %.0fx real time, %.0f events/s\n", cpu_s,
                    static_cast<double>(r.outcomes.size()) * 3600.0 / cpu_s, sim_s / cpu_s,
                    static_cast<double>(events) / cpu_s);
    }
    for (const auto& [k, v] : metric_values(r)) {
        std::printf("  %s: p50 %s  p99 %s  max %s  (n=%zu)\n", k.c_str(), num(percentile(v, 50)).c_str(),
                    num(percentile(v, 99)).c_str(), num(*std::max_element(v.begin(), v.end())).c_str(), v.size());
    }
    auto rows = efficacy_rows(r);
    if (!rows.empty()) std::printf("  fault efficacy (runs with effect / runs requesting the kind):\n");
    for (const auto& k : kind_order(rows)) {
        const EfficacyRow& e = rows[k];
        std::printf("    %-16s %4" PRIu64 "/%-4" PRIu64 " (%3.0f%%)  ops %" PRIu64 ", effect %" PRIu64 "\n", k.c_str(),
                    e.runs_with_effect, e.runs_requested,
                    100.0 * static_cast<double>(e.runs_with_effect) / static_cast<double>(e.runs_requested), e.requested,
                    e.effect);
    }
    for (const auto& o : r.outcomes) {
        if (!o.ok) std::printf("  FAILED seed %" PRIu64 ": %s\n    replay: %s\n", o.seed, o.why.c_str(), o.replay.c_str());
    }
}

std::string report_json(const SweepReport& r) {
    uint64_t events = 0, failures = 0;
    double sim_s = 0;
    for (const auto& o : r.outcomes) {
        events += o.events;
        sim_s += static_cast<double>(o.sim_time_ns) / 1e9;
        failures += o.ok ? 0 : 1;
    }
    std::string j = "{\"scenario\":" + quote(r.scenario) + ",\"seeds\":" + quote(r.seeds);
    j += ",\"runs\":" + std::to_string(r.outcomes.size()) + ",\"failures\":" + std::to_string(failures);
    j += "," + failures_json(r);
    j += ",\"jobs\":" + std::to_string(r.jobs) + ",\"wall_ns\":" + std::to_string(r.wall_ns) +
         ",\"cpu_ns\":" + std::to_string(r.cpu_ns) +
         ",\"events\":" + std::to_string(events) + ",\"sim_time_s\":" + num(sim_s);
    j += "," + metrics_json(r);
    j += ",\"fault_efficacy\":" + efficacy_section(r);
    j += ",\"per_seed\":[";
    for (size_t i = 0; i < r.outcomes.size(); i++) j += (i ? "," : "") + seed_json(r.outcomes[i]);
    return j + "]}\n";
}

namespace {

bool seed_from_json(const JsonValue& s, SeedOutcome& o) {
    if (s.type != JsonValue::Type::object || s.get("seed") == nullptr) return false;
    o.seed = s.get("seed")->u64();
    o.ok = s.get("ok") != nullptr && s.get("ok")->boolean;
    if (const auto* e = s.get("events")) o.events = e->u64();
    if (const auto* t = s.get("sim_time_ns")) o.sim_time_ns = static_cast<int64_t>(t->number());
    if (const auto* m = s.get("metrics")) {
        for (const auto& [k, v] : m->members) o.metrics[k] = v.number();
    }
    if (const auto* m = s.get("efficacy")) {
        for (const auto& [k, v] : m->members) {
            if (v.items.size() != 3) return false;
            o.efficacy[k] = sim::KindEfficacy{v.items[0].u64(), v.items[1].u64(), v.items[2].u64()};
        }
    }
    return true;
}

}  // namespace

bool report_from_json(const JsonValue& j, SweepReport& out, std::string& error) {
    const JsonValue* scenario = j.get("scenario");
    const JsonValue* per_seed = j.get("per_seed");
    if (scenario == nullptr || per_seed == nullptr || per_seed->type != JsonValue::Type::array) {
        error = "not a sweep result with per-seed records (from 'keel sim sweep --json')";
        return false;
    }
    out.scenario = scenario->text;
    if (const auto* s = j.get("seeds")) out.seeds = s->text;
    if (const auto* w = j.get("wall_ns")) out.wall_ns = static_cast<int64_t>(w->number());
    if (const auto* c = j.get("cpu_ns")) out.cpu_ns = static_cast<int64_t>(c->number());
    if (const auto* n = j.get("jobs")) out.jobs = std::max<uint64_t>(1, n->u64());
    std::map<uint64_t, std::pair<std::string, std::string>> failed;  // seed -> why, replay
    if (const auto* f = j.get("failed")) {
        for (const auto& x : f->items) {
            if (x.get("seed") == nullptr) continue;
            failed[x.get("seed")->u64()] = {x.get("why") ? x.get("why")->text : "", x.get("replay") ? x.get("replay")->text : ""};
        }
    }
    for (const auto& s : per_seed->items) {
        SeedOutcome o;
        if (!seed_from_json(s, o)) {
            error = "a per_seed record is malformed";
            return false;
        }
        if (auto it = failed.find(o.seed); it != failed.end()) std::tie(o.why, o.replay) = it->second;
        out.outcomes.push_back(std::move(o));
    }
    return true;
}

}  // namespace keel::cli
