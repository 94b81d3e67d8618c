// Scenarios: named stories run in a World with a seed. A scenario builds its nodes,
// installs its faults (the --faults spec overrides its own schedule), runs, and reports
// violations (safety), metrics (e.g. failover_ms) and whether it ended live.
//
//   KEEL_SCENARIO("counter-chaos", "primary-backup counter under random faults") {
//       auto& w = ctx.world();
//       ...
//       ctx.expect(ok, "every acknowledged increment survives");
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/nemesis.h"
#include "sim/world.h"

namespace keel::sim {

struct RunOptions {
    uint64_t seed = 1;
    std::string trace_path;          // "" = no trace file
    bool trace_in_memory = false;    // keep lines (check-determinism)
    bool trace_scheduler = false;    // also trace every fiber slice and timer
    std::optional<std::string> faults;  // overrides the scenario's own schedule
    std::map<std::string, std::string> params;  // --param key=value
    bool buggify = true;
};

class ScenarioContext {
public:
    ScenarioContext(World& w, const RunOptions& o) : world_(w), options_(o) {}
    World& world() { return world_; }
    const RunOptions& options() const { return options_; }
    uint64_t seed() const { return options_.seed; }

    // The schedule to use: --faults if given (parse errors are violations), else `fallback`.
    FaultSchedule faults_or(const FaultSchedule& fallback);
    const FaultSchedule& schedule() const { return schedule_; }
    bool faults_consulted() const { return faults_consulted_; }

    void violation(std::string what) { violations_.push_back(std::move(what)); }
    // Records a violation unless cond holds.
    void expect(bool cond, const std::string& what) {
        if (!cond) violation(what);
    }
    void metric(const std::string& name, double value) { metrics_[name] = value; }
    void note(std::string line) { notes_.push_back(std::move(line)); }
    std::string param(const std::string& key, const std::string& fallback) const;
    int64_t param_int(const std::string& key, int64_t fallback) const;

    const std::vector<std::string>& violations() const { return violations_; }
    const std::map<std::string, double>& metrics() const { return metrics_; }
    const std::vector<std::string>& notes() const { return notes_; }

private:
    World& world_;
    const RunOptions& options_;
    FaultSchedule schedule_;
    bool faults_consulted_ = false;
    std::vector<std::string> violations_;
    std::map<std::string, double> metrics_;
    std::vector<std::string> notes_;
};

struct Scenario {
    std::string name;
    std::string description;
    std::function<void(ScenarioContext&)> run;
    WorldOptions (*world_options)(uint64_t seed) = nullptr;  // optional tweaks
    bool takes_faults = true;  // false: a scripted story that refuses --faults
};

struct RunResult {
    std::string scenario;
    uint64_t seed = 0;
    bool ok = false;
    uint64_t events = 0;
    int64_t sim_time_ns = 0;
    uint64_t trace_hash = 0;
    std::vector<std::string> violations;
    std::map<std::string, double> metrics;
    std::vector<std::string> notes;
    std::map<std::string, uint64_t> faults;      // every counter, world + network + disks
    std::map<std::string, uint64_t> buggify_fired;  // site -> times fired (enabled sites)
    std::map<std::string, KindEfficacy> efficacy;  // fault kind -> requested, fired, effect
    std::vector<std::string> argument_errors;      // e.g. a --faults target naming no node
    std::string schedule;                         // the fault schedule, as a spec
    std::string replay;                           // the one command that replays this run
    std::vector<std::string> trace_lines;         // when trace_in_memory
};

class ScenarioRegistry {
public:
    static void add(Scenario s);
    static const Scenario* find(const std::string& name);
    static const std::vector<Scenario>& all();  // sorted by name
};

// Runs one scenario with one seed. Installs an assert hook that prints the seed and the
// replay command if an invariant breaks mid-run.
RunResult run_scenario(const Scenario& s, const RunOptions& options);
// The same by name (tests and tools); requires a registered scenario of that name.
RunResult run_scenario(const std::string& name, const RunOptions& options);

// The replay command line for a run.
std::string replay_command(const std::string& scenario, const RunOptions& options);

// JSON object for a result (keys: scenario, seed, events, sim_time_ns, trace_hash,
// faults, fault_efficacy, buggify, ok, violations, metrics, schedule, replay). wall_ns is
// added by the caller.
std::string result_json(const RunResult& r, int64_t wall_ns);
// {"crash":{"requested":2,"fired":2,"effect":2,"effect_unit":"..."},...} in kind order.
std::string efficacy_json(const std::map<std::string, KindEfficacy>& efficacy);

struct ScenarioRegistrar {
    ScenarioRegistrar(const char* name, const char* description,
                      void (*fn)(ScenarioContext&), WorldOptions (*opts)(uint64_t) = nullptr,
                      bool takes_faults = true) {
        ScenarioRegistry::add(Scenario{name, description, fn, opts, takes_faults});
    }
};

}  // namespace keel::sim

#define KEEL_SCENARIO_CAT2(a, b) a##b
#define KEEL_SCENARIO_CAT(a, b) KEEL_SCENARIO_CAT2(a, b)
#define KEEL_SCENARIO(name, description)                                                     \
    static void KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__)(::keel::sim::ScenarioContext&); \
    static ::keel::sim::ScenarioRegistrar KEEL_SCENARIO_CAT(keel_scenario_reg_, __LINE__)(     \
        name, description, &KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__));                 \
    static void KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__)(::keel::sim::ScenarioContext & ctx)
// A scripted scenario with its own fixed faults: `--faults` is refused for it.
#define KEEL_SCENARIO_SCRIPTED(name, description)                                            \
    static void KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__)(::keel::sim::ScenarioContext&); \
    static ::keel::sim::ScenarioRegistrar KEEL_SCENARIO_CAT(keel_scenario_reg_, __LINE__)(     \
        name, description, &KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__), nullptr, false);  \
    static void KEEL_SCENARIO_CAT(keel_scenario_fn_, __LINE__)(::keel::sim::ScenarioContext & ctx)
