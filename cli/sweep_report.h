// What `keel sim sweep` and `keel sim merge` report: per-seed outcomes aggregated into
// runs, failures (with replay commands), per-metric percentiles and fault efficacy, as
// text and as JSON (docs/simulator.md, "Sweeps" and "Fault efficacy").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cli/json_lite.h"
#include "sim/world.h"

namespace keel::cli {

struct SeedOutcome {
    uint64_t seed = 0;
    bool ok = false;
    std::string why;     // first violation, or how the child died
    std::string replay;  // the command that replays this seed
    std::map<std::string, double> metrics;
    std::map<std::string, sim::KindEfficacy> efficacy;
    uint64_t events = 0;
    int64_t sim_time_ns = 0;
};

struct SweepReport {
    std::string scenario;
    std::string seeds;  // "1-200", "1-200 shard 2/4", or the merged inputs' labels
    std::vector<SeedOutcome> outcomes;  // sorted by seed
    uint64_t jobs = 1;
    int64_t wall_ns = 0;
    int64_t cpu_ns = 0;  // CPU time of the seeds' processes (0 if unknown, e.g. an old report)
};

// Per fault kind over a sweep: runs that requested it and runs where it took effect;
// requested/effect are the summed per-run counts.
struct EfficacyRow {
    uint64_t runs_requested = 0;
    uint64_t runs_with_effect = 0;
    uint64_t requested = 0;
    uint64_t effect = 0;
};
std::map<std::string, EfficacyRow> efficacy_rows(const SweepReport& r);

// The kinds requested in at least `min_runs` runs whose share of runs with effect is
// below `min_share`, each as "kind: M of N runs (x%)".
std::vector<std::string> efficacy_below(const std::map<std::string, EfficacyRow>& rows, double min_share,
                                        uint64_t min_runs);

void print_report(const SweepReport& r);
std::string report_json(const SweepReport& r);
// Reads a report_json() document back (for merge); false with `error` set if it is not one.
bool report_from_json(const JsonValue& j, SweepReport& out, std::string& error);

double percentile(std::vector<double> v, double p);

}  // namespace keel::cli
