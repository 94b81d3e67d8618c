// keel bench sim: how fast the simulator runs. Figures: fiber switch (ns), scheduler
// events per second (fibers sleeping on timers), simulated network messages per second,
// and a whole scenario's events per second and simulated-to-real time ratio.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel::bench {

struct SimBenchOptions {
    std::string scenario = "counter-chaos";  // the whole-scenario figure runs this one
    uint64_t seed = 1;
    bool quick = false;                      // fewer fiber switches (for smoke tests)
    std::optional<std::string> json_path;    // also write the figures as JSON
};

// Prints the figures; 0 on success, 2 for an unknown scenario or an unwritable JSON path.
int run_sim_bench(const SimBenchOptions& options);

}  // namespace keel::bench
