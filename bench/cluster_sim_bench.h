// keel bench cluster-sim: the data-chaos cluster (3 controllers, 4 brokers, RF 3, every
// fault kind) under a steady produce rate, as a measure of the simulator on a real
// workload. Figures: simulated records/s, scheduler events per wall second, simulated
// seconds per wall second (x real time), on one core. Targets (issue 12): >= 1,000x real
// time and >= 1 M events/s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/base/result.h"

namespace keel::bench {

struct ClusterSimBenchOptions {
    uint64_t seed = 1;
    int64_t rate = 1000;          // records/s produced, in simulated time
    int64_t fault_seconds = 40;   // data-chaos's fault phase
    std::optional<std::string> json_path;
};

// One run's figures (wall time on this thread; the simulated time is the scenario's).
struct ClusterSimFigures {
    double sim_seconds = 0;
    double wall_seconds = 0;
    double records_acked = 0;
    uint64_t events = 0;
    double events_per_sec = 0;
    double sim_speedup = 0;     // simulated seconds per wall second (x real time)
    bool ok = false;            // the run passed its checks
    std::string first_violation;  // when not ok
    double sim_records_per_sec() const { return sim_seconds > 0 ? records_acked / sim_seconds : 0.0; }
    double wall_ms_per_sim_second() const { return sim_seconds > 0 ? 1000 * wall_seconds / sim_seconds : 0.0; }
};

// Runs data-chaos once with the options' seed, rate and fault phase (json_path unused)
// and measures it; Errc::not_found if data-chaos is not linked in.
Result<ClusterSimFigures> measure_cluster_sim(const ClusterSimBenchOptions& options);

// Prints the figures; 0 on success, 2 if data-chaos is not linked in or the JSON path is
// unwritable, 1 if the run itself failed its checks (the figures are printed anyway).
int run_cluster_sim_bench(const ClusterSimBenchOptions& options);

}  // namespace keel::bench
