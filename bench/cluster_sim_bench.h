// keel bench cluster-sim: the data-chaos cluster (3 controllers, 4 brokers, RF 3, every
// fault kind) under a steady produce rate, as a measure of the simulator on a real
// workload. Figures: simulated records/s, scheduler events per wall second, simulated
// seconds per wall second (x real time), on one core. Targets (issue 12): >= 1,000x real
// time and >= 1 M events/s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel::bench {

struct ClusterSimBenchOptions {
    uint64_t seed = 1;
    int64_t rate = 1000;          // records/s produced, in simulated time
    int64_t fault_seconds = 40;   // data-chaos's fault phase
    std::optional<std::string> json_path;
};

// Prints the figures; 0 on success, 2 if data-chaos is not linked in or the JSON path is
// unwritable, 1 if the run itself failed its checks (the figures are printed anyway).
int run_cluster_sim_bench(const ClusterSimBenchOptions& options);

}  // namespace keel::bench
