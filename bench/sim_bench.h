// keel bench sim: how fast the simulator runs. Figures: fiber switch (ns), scheduler
// events per second (fibers sleeping on timers), simulated network messages per second,
// and a whole scenario's events per second and simulated-to-real time ratio.
#pragma once

namespace keel::bench {

int run_sim_bench(int argc, char** argv);

}  // namespace keel::bench
