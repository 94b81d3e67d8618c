// keel sim list | run | sweep | check-determinism
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "sim/scenario.h"

namespace keel::cli {

namespace {

const char* kSimHelp = R"(usage: keel sim <command> [options]

Deterministic simulation: a whole cluster in one thread, one seed, virtual time,
injected faults. The same seed and the same binary give the same run, byte for byte.

commands:
  list                                  the scenarios, with one line each
  run [NAME] --seed N                   run one scenario (no NAME: the demo)
        [--trace FILE]                  write the trace (one JSON line per event)
        [--trace-scheduler]             ... including every fiber slice and timer
        [--summary-json FILE]           write the run summary as JSON
        [--faults SPEC]                 replace the scenario's fault schedule
        [--param KEY=VALUE]...          scenario parameters
        [--no-buggify]                  turn every buggify site off
  sweep NAME --seeds A-B [--jobs N] [--json FILE] [--faults SPEC] [--param K=V]...
        [--shard K/N]                   only the K-th of N interleaved slices of the range
        [--min-efficacy P]              exit 1 if a fault kind took effect in fewer than
                                        P (0..1) of the runs that requested it
                                        run a seed range on all cores; failing seeds
                                        are listed with the command that replays each
  merge A.json B.json ... [--json FILE] [--min-efficacy P]
                                        combine sweep results (e.g. shards): failures,
                                        replay commands, percentiles, fault efficacy
  check-determinism [NAME] --seed N [--runs K]
                                        run a seed K times (default 2) and compare trace
                                        hashes; on a mismatch name the first divergent event

Fault SPEC: '2s crash n1 for 3s; 4s partition n1|n2,n3 for 2s' (see docs/simulator.md).
)";

std::string demo_name() {
    if (sim::ScenarioRegistry::find("quorum-chaos") != nullptr) return "quorum-chaos";
    return "counter-chaos";
}

struct Common {
    sim::RunOptions run;
    std::string summary_json;
};

const ArgSpec kRunSpec{{"--seed", "--trace", "--summary-json", "--faults", "--runs", "--seeds", "--jobs", "--json"},
                       {"--help", "--no-buggify", "--trace-scheduler", "--quiet"},
                       {"--param"}};

// Fills RunOptions from parsed args; returns an error message or "".
std::string fill_run_options(Args& a, sim::RunOptions& o) {
    if (auto seed = a.u64("--seed")) o.seed = *seed;
    if (!a.ok()) return a.error();
    if (auto t = a.value("--trace")) o.trace_path = *t;
    if (auto f = a.value("--faults")) {
        auto parsed = sim::FaultSchedule::parse(*f);
        if (!parsed.ok()) return "bad --faults: " + parsed.error().to_string();
        o.faults = *f;
    }
    for (const auto& p : a.values("--param")) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0) return "--param needs KEY=VALUE, got '" + p + "'";
        o.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    o.trace_scheduler = a.flag("--trace-scheduler");
    o.buggify = !a.flag("--no-buggify");
    return "";
}

const sim::Scenario* find_scenario(const std::string& name) {
    const sim::Scenario* s = sim::ScenarioRegistry::find(name);
    if (s == nullptr) {
        std::fprintf(stderr, "keel sim: no scenario named '%s'; 'keel sim list' shows them\n", name.c_str());
    }
    return s;
}

// What a run is refused for before it starts: --faults on a scripted scenario, a trace
// file that cannot be written.
std::string refuse(const sim::Scenario& s, const sim::RunOptions& o) {
    if (o.faults && !s.takes_faults) {
        return "scenario " + s.name + " runs a scripted story with its own faults and refuses --faults";
    }
    if (!o.trace_path.empty()) {
        std::FILE* f = std::fopen(o.trace_path.c_str(), "w");
        if (f == nullptr) return "cannot write --trace " + o.trace_path + ": " + std::strerror(errno);
        std::fclose(f);
    }
    return "";
}

void print_efficacy(const sim::RunResult& r) {
    std::string line;
    for (sim::FaultKind k : sim::all_fault_kinds()) {
        auto it = r.efficacy.find(std::string(sim::fault_kind_name(k)));
        if (it == r.efficacy.end()) continue;
        line += " " + it->first + "=" + std::to_string(it->second.requested) + "/" + std::to_string(it->second.fired) +
                "/" + std::to_string(it->second.effect);
    }
    if (!line.empty()) std::printf("  fault efficacy (requested/fired/effect):%s\n", line.c_str());
}

void print_result(const sim::RunResult& r, int64_t wall_ns) {
    double sim_s = static_cast<double>(r.sim_time_ns) / 1e9;
    double wall_s = static_cast<double>(wall_ns) / 1e9;
    std::printf("scenario %s  seed %" PRIu64 "\n", r.scenario.c_str(), r.seed);
    std::printf("  events %" PRIu64 "  sim time %.3fs  wall %.3fs  (%.0fx real time, %.0f events/s)\n", r.events,
                sim_s, wall_s, wall_s > 0 ? sim_s / wall_s : 0.0,
                wall_s > 0 ? static_cast<double>(r.events) / wall_s : 0.0);
    std::printf("  trace hash %s\n", sim::hex64(r.trace_hash).c_str());
    if (!r.schedule.empty()) std::printf("  schedule: %s\n", r.schedule.c_str());
    std::string faults;
    for (const auto& [k, v] : r.faults) {
        if (v != 0) faults += " " + k + "=" + std::to_string(v);
    }
    std::printf("  faults:%s\n", faults.empty() ? " none" : faults.c_str());
    print_efficacy(r);
    if (!r.buggify_fired.empty()) {
        std::string b;
        for (const auto& [k, v] : r.buggify_fired) b += " " + k + "=" + std::to_string(v);
        std::printf("  buggify (enabled sites, times fired):%s\n", b.c_str());
    }
    if (!r.metrics.empty()) {
        std::string m;
        char buf[96];
        for (const auto& [k, v] : r.metrics) {
            std::snprintf(buf, sizeof buf, " %s=%g", k.c_str(), v);
            m += buf;
        }
        std::printf("  metrics:%s\n", m.c_str());
    }
    for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
    if (r.ok) {
        std::printf("  result: OK (no violations)\n");
    } else {
        std::printf("  result: FAILED, %zu violation(s)\n", r.violations.size());
        for (const auto& v : r.violations) std::printf("    - %s\n", v.c_str());
    }
    std::printf("  replay: %s\n", r.replay.c_str());
}

int cmd_list() {
    for (const auto& s : sim::ScenarioRegistry::all()) {
        std::printf("%-34s %s%s\n", s.name.c_str(), s.description.c_str(),
                    s.name == demo_name() ? "  [demo]" : "");
    }
    return 0;
}

int cmd_run(int argc, char** argv) {
    Args a(argc, argv, 3, kRunSpec);
    if (a.flag("--help")) {
        std::fputs(kSimHelp, stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("sim", a.error());
    if (a.positionals().size() > 1) return usage_error("sim", "run takes at most one scenario name");
    sim::RunOptions o;
    if (auto err = fill_run_options(a, o); !err.empty()) return usage_error("sim", err);
    if (!a.value("--seed")) return usage_error("sim", "run needs --seed N");
    std::string name = a.positionals().empty() ? demo_name() : a.positionals()[0];
    const sim::Scenario* s = find_scenario(name);
    if (s == nullptr) return 2;
    if (auto err = refuse(*s, o); !err.empty()) return usage_error("sim", err);
    int64_t t0 = wall_now_ns();
    sim::RunResult r = sim::run_scenario(*s, o);
    int64_t wall = wall_now_ns() - t0;
    if (!r.argument_errors.empty()) return usage_error("sim", r.argument_errors[0]);
    print_result(r, wall);
    if (!o.trace_path.empty()) std::printf("  trace: %s\n", o.trace_path.c_str());
    if (auto path = a.value("--summary-json")) {
        if (!write_file(*path, sim::result_json(r, wall) + "\n")) return 2;
        std::printf("  summary: %s\n", path->c_str());
    }
    return r.ok ? 0 : 1;
}

int cmd_check_determinism(int argc, char** argv) {
    Args a(argc, argv, 3, kRunSpec);
    if (a.flag("--help")) {
        std::fputs(kSimHelp, stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("sim", a.error());
    sim::RunOptions o;
    if (auto err = fill_run_options(a, o); !err.empty()) return usage_error("sim", err);
    if (!a.value("--seed")) return usage_error("sim", "check-determinism needs --seed N");
    uint64_t runs = a.u64("--runs").value_or(2);
    if (!a.ok()) return usage_error("sim", a.error());
    if (runs < 2) return usage_error("sim", "--runs must be at least 2");
    std::string name = a.positionals().empty() ? demo_name() : a.positionals()[0];
    const sim::Scenario* s = find_scenario(name);
    if (s == nullptr) return 2;
    if (auto err = refuse(*s, o); !err.empty()) return usage_error("sim", err);
    o.trace_in_memory = true;
    o.trace_scheduler = true;
    sim::RunResult first = sim::run_scenario(*s, o);
    if (!first.argument_errors.empty()) return usage_error("sim", first.argument_errors[0]);
    std::printf("run 1: %" PRIu64 " events, trace hash %s\n", first.events, sim::hex64(first.trace_hash).c_str());
    for (uint64_t i = 2; i <= runs; i++) {
        sim::RunResult again = sim::run_scenario(*s, o);
        std::printf("run %" PRIu64 ": %" PRIu64 " events, trace hash %s\n", i, again.events,
                    sim::hex64(again.trace_hash).c_str());
        if (again.trace_hash == first.trace_hash && again.trace_lines == first.trace_lines) continue;
        size_t n = std::min(first.trace_lines.size(), again.trace_lines.size());
        size_t k = 0;
        while (k < n && first.trace_lines[k] == again.trace_lines[k]) k++;
        std::printf("NOT DETERMINISTIC: runs 1 and %" PRIu64 " diverge at trace line %zu\n", i, k + 1);
        std::printf("  run 1:  %s\n", k < first.trace_lines.size() ? first.trace_lines[k].c_str() : "(end of trace)");
        std::printf("  run %" PRIu64 ":  %s\n", i, k < again.trace_lines.size() ? again.trace_lines[k].c_str() : "(end of trace)");
        if (k > 0) std::printf("  last common line: %s\n", first.trace_lines[k - 1].c_str());
        std::printf("  replay: %s\n", first.replay.c_str());
        return 1;
    }
    std::printf("deterministic: %" PRIu64 " runs of %s seed %" PRIu64 " agree (%zu trace lines)\n", runs,
                name.c_str(), o.seed, first.trace_lines.size());
    return 0;
}

}  // namespace

int cmd_sim_sweep(int argc, char** argv);  // cmd_sweep.cc
int cmd_sim_merge(int argc, char** argv);  // cmd_merge.cc

int cmd_sim(int argc, char** argv) {
    if (argc < 3 || std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0) {
        std::fputs(kSimHelp, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    std::string sub = argv[2];
    if (sub == "list") return cmd_list();
    if (sub == "run") return cmd_run(argc, argv);
    if (sub == "sweep") return cmd_sim_sweep(argc, argv);
    if (sub == "merge") return cmd_sim_merge(argc, argv);
    if (sub == "check-determinism") return cmd_check_determinism(argc, argv);
    return usage_error("sim", "unknown command '" + sub + "'");
}

const char* sim_help() { return kSimHelp; }

}  // namespace keel::cli
