#include "sim/scenario.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/base/assert.h"

namespace keel::sim {

namespace {

std::vector<Scenario>& registry() {
    static std::vector<Scenario> r;
    return r;
}

// What the assert hook prints if an invariant breaks mid-run.
struct ActiveRun {
    const RunOptions* options = nullptr;
    const std::string* scenario = nullptr;
    World* world = nullptr;
};
ActiveRun g_active;

void print_active_run() {
    if (g_active.options == nullptr) return;
    std::fprintf(stderr, "  simulation: scenario %s, seed %llu, event %llu, sim time %lld ns\n",
                 g_active.scenario->c_str(), static_cast<unsigned long long>(g_active.options->seed),
                 static_cast<unsigned long long>(g_active.world ? g_active.world->scheduler().events() : 0),
                 static_cast<long long>(g_active.world ? g_active.world->now().ns : 0));
    std::fprintf(stderr, "  replay: %s\n", replay_command(*g_active.scenario, *g_active.options).c_str());
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

void collect_faults(World& w, RunResult& r) {
    const FaultCounters& f = w.faults();
    r.faults = {
        {"crashes", f.crashes},           {"restarts", f.restarts},
        {"pauses", f.pauses},             {"pause_ns_served", f.pause_ns_served},
        {"clock_jumps", f.clock_jumps},   {"clock_jump_ns_abs", f.clock_jump_ns_abs},
        {"disk_wipes", f.disk_wipes},     {"partitions", f.partitions},
        {"heals", f.heals},               {"clogs", f.clogs},
        {"connection_resets", f.connection_resets}, {"disk_faults_set", f.disk_faults_set},
        {"skipped", f.skipped},           {"supervisor_restarts", f.supervisor_restarts},
        {"clock_jumps_observed", f.clock_jumps_observed},
    };
    const NetworkCounters& n = w.network().counters();
    r.faults["net_frames_sent"] = n.frames_sent;
    r.faults["net_frames_delivered"] = n.frames_delivered;
    r.faults["net_frames_held_by_partition"] = n.frames_held_by_partition;
    r.faults["net_frames_delayed_by_clog"] = n.frames_delayed_by_clog;
    r.faults["net_frames_dropped_by_crash"] = n.frames_dropped_by_crash;
    r.faults["net_connections_reset_by_partition"] = n.connections_reset_by_partition;
    r.faults["net_connections_reset_by_fault"] = n.connections_reset_by_fault;
    r.faults["net_connections_reset_by_crash"] = n.connections_reset_by_crash;
    r.faults["net_connects_refused"] = n.connects_refused;
    r.faults["net_connects_timed_out"] = n.connects_timed_out;
    DiskCounters d{};
    for (const auto& name : w.node_names()) {
        const DiskCounters& c = w.node(name).disk().counters();
        d.unsynced_bytes_lost += c.unsynced_bytes_lost;
        d.unsynced_writes_kept += c.unsynced_writes_kept;
        d.torn_writes += c.torn_writes;
        d.bit_flips_on_read += c.bit_flips_on_read;
        d.enospc_errors += c.enospc_errors;
        d.io_errors += c.io_errors;
        d.sync_failures += c.sync_failures;
        d.ops_slowed += c.ops_slowed;
        d.corrupt_bytes_read += c.corrupt_bytes_read;
        d.corruptions_injected += c.corruptions_injected;
        d.dir_ops_lost += c.dir_ops_lost;
        d.syncs += c.syncs;
    }
    r.faults["disk_unsynced_bytes_lost"] = d.unsynced_bytes_lost;
    r.faults["disk_unsynced_writes_kept"] = d.unsynced_writes_kept;
    r.faults["disk_torn_writes"] = d.torn_writes;
    r.faults["disk_bit_flips_on_read"] = d.bit_flips_on_read;
    r.faults["disk_enospc_errors"] = d.enospc_errors;
    r.faults["disk_io_errors"] = d.io_errors;
    r.faults["disk_sync_failures"] = d.sync_failures;
    r.faults["disk_ops_slowed"] = d.ops_slowed;
    r.faults["disk_corrupt_bytes_read"] = d.corrupt_bytes_read;
    r.faults["disk_corruptions_injected"] = d.corruptions_injected;
    r.faults["disk_dir_ops_lost"] = d.dir_ops_lost;
    r.faults["disk_syncs"] = d.syncs;
}

void json_string_array(std::string& out, const std::vector<std::string>& v) {
    out += "[";
    for (size_t i = 0; i < v.size(); i++) {
        if (i > 0) out += ",";
        out += "\"" + json_escape(v[i]) + "\"";
    }
    out += "]";
}

}  // namespace

std::string efficacy_json(const std::map<std::string, KindEfficacy>& e) {
    std::string out = "{";
    bool first = true;
    for (FaultKind k : all_fault_kinds()) {
        auto it = e.find(std::string(fault_kind_name(k)));
        if (it == e.end()) continue;
        const KindEfficacy& v = it->second;
        out += std::string(first ? "" : ",") + "\"" + it->first + "\":{\"requested\":" + std::to_string(v.requested) +
               ",\"fired\":" + std::to_string(v.fired) + ",\"effect\":" + std::to_string(v.effect) +
               ",\"effect_unit\":\"" + json_escape(fault_effect_unit(k)) + "\"}";
        first = false;
    }
    return out + "}";
}

void ScenarioRegistry::add(Scenario s) {
    auto& r = registry();
    r.push_back(std::move(s));
    std::sort(r.begin(), r.end(), [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
}

const Scenario* ScenarioRegistry::find(const std::string& name) {
    for (const auto& s : registry()) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

const std::vector<Scenario>& ScenarioRegistry::all() { return registry(); }

FaultSchedule ScenarioContext::faults_or(const FaultSchedule& fallback) {
    faults_consulted_ = true;
    if (options_.faults) {
        auto parsed = FaultSchedule::parse(*options_.faults);
        if (!parsed.ok()) {
            violation("bad --faults: " + parsed.error().to_string());
            schedule_ = {};
        } else {
            schedule_ = *parsed;
        }
    } else {
        schedule_ = fallback;
    }
    return schedule_;
}

std::string ScenarioContext::param(const std::string& key, const std::string& fallback) const {
    auto it = options_.params.find(key);
    return it == options_.params.end() ? fallback : it->second;
}

int64_t ScenarioContext::param_int(const std::string& key, int64_t fallback) const {
    auto it = options_.params.find(key);
    if (it == options_.params.end()) return fallback;
    int64_t v = fallback;
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    return v;
}

std::string replay_command(const std::string& scenario, const RunOptions& o) {
    std::string cmd = "keel sim run " + scenario + " --seed " + std::to_string(o.seed);
    if (o.faults) cmd += " --faults " + shell_quote(*o.faults);
    for (const auto& [k, v] : o.params) cmd += " --param " + shell_quote(k + "=" + v);
    if (!o.buggify) cmd += " --no-buggify";
    return cmd;
}

RunResult run_scenario(const std::string& name, const RunOptions& options) {
    const Scenario* s = ScenarioRegistry::find(name);
    KEEL_ASSERT_MSG(s != nullptr, ("no scenario named " + name).c_str());
    return run_scenario(*s, options);
}

RunResult run_scenario(const Scenario& s, const RunOptions& options) {
    WorldOptions wo = s.world_options ? s.world_options(options.seed) : WorldOptions{};
    wo.seed = options.seed;
    if (!options.buggify) wo.buggify.enabled = false;
    RunResult r;
    r.scenario = s.name;
    r.seed = options.seed;
    r.replay = replay_command(s.name, options);
    {
        World w(wo);
        if (!options.trace_path.empty() && !w.trace().open_file(options.trace_path)) {
            r.argument_errors.push_back("cannot write trace file " + options.trace_path);
            r.violations.push_back("argument error: " + r.argument_errors.back());
            return r;
        }
        w.trace().keep_in_memory(options.trace_in_memory);
        w.trace().set_scheduler_events(options.trace_scheduler);
        g_active = ActiveRun{&options, &s.name, &w};
        set_assert_context_hook(&print_active_run);
        ScenarioContext ctx(w, options);
        s.run(ctx);
        r.events = w.scheduler().events();
        r.sim_time_ns = w.now().ns;
        r.trace_hash = w.scheduler().hash();
        r.violations = ctx.violations();
        r.metrics = ctx.metrics();
        r.notes = ctx.notes();
        r.schedule = ctx.schedule().to_string();
        collect_faults(w, r);
        r.efficacy = w.efficacy();
        r.argument_errors = w.argument_errors();
        for (const auto& e : r.argument_errors) r.violations.push_back("argument error: " + e);
        if (options.faults && (!s.takes_faults || !ctx.faults_consulted())) {
            r.argument_errors.push_back("scenario " + s.name + " runs a scripted story and ignores --faults");
            r.violations.push_back("argument error: " + r.argument_errors.back());
        }
        for (const auto& [site, info] : w.buggify().sites()) {
            if (info.enabled) r.buggify_fired[site] = info.fired;
        }
        if (options.trace_in_memory) r.trace_lines = w.trace().lines();
    }  // the world (and every fiber) is gone before the hook is removed
    set_assert_context_hook(nullptr);
    g_active = ActiveRun{};
    r.ok = r.violations.empty();
    return r;
}

std::string result_json(const RunResult& r, int64_t wall_ns) {
    std::string out = "{";
    out += "\"scenario\":\"" + json_escape(r.scenario) + "\"";
    out += ",\"seed\":" + std::to_string(r.seed);
    out += ",\"events\":" + std::to_string(r.events);
    out += ",\"sim_time_ns\":" + std::to_string(r.sim_time_ns);
    out += ",\"wall_ns\":" + std::to_string(wall_ns);
    out += ",\"trace_hash\":\"" + hex64(r.trace_hash) + "\"";
    out += ",\"ok\":" + std::string(r.ok ? "true" : "false");
    out += ",\"faults\":{";
    bool first = true;
    for (const auto& [k, v] : r.faults) {
        out += (first ? "" : ",") + std::string("\"") + k + "\":" + std::to_string(v);
        first = false;
    }
    out += "},\"fault_efficacy\":" + efficacy_json(r.efficacy);
    out += ",\"buggify\":{";
    first = true;
    for (const auto& [k, v] : r.buggify_fired) {
        out += (first ? "" : ",") + std::string("\"") + json_escape(k) + "\":" + std::to_string(v);
        first = false;
    }
    out += "},\"metrics\":{";
    first = true;
    for (const auto& [k, v] : r.metrics) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v);
        out += (first ? "" : ",") + std::string("\"") + json_escape(k) + "\":" + buf;
        first = false;
    }
    out += "},\"violations\":";
    json_string_array(out, r.violations);
    out += ",\"notes\":";
    json_string_array(out, r.notes);
    out += ",\"schedule\":\"" + json_escape(r.schedule) + "\"";
    out += ",\"replay\":\"" + json_escape(r.replay) + "\"";
    out += "}";
    return out;
}

}  // namespace keel::sim
