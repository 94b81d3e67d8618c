// keel bench sim: how fast the simulator runs. Figures: fiber switch (ns), scheduler
// events per second (fibers sleeping on timers), simulated network messages per second,
// and a whole scenario's events per second and simulated-to-real time ratio. Each figure
// is the best of a few runs, by the thread's CPU time (the machine may be shared); the
// wall-time figures are printed beside them and kept under their original JSON keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel::bench {

struct SimBenchOptions {
    std::string scenario = "counter-chaos";  // the whole-scenario figure runs this one
    uint64_t seed = 1;
    bool quick = false;                      // one run of each, fewer fiber switches (smoke tests)
    std::optional<std::string> json_path;    // also write the figures as JSON
};

// Prints the figures; 0 on success, 2 for an unknown scenario or an unwritable JSON path.
int run_sim_bench(const SimBenchOptions& options);

}  // namespace keel::bench
