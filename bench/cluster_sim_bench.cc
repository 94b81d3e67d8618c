#include "bench/cluster_sim_bench.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "bench/bench_util.h"
#include "sim/scenario.h"

namespace keel::bench {

namespace {

int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int run_cluster_sim_bench(const ClusterSimBenchOptions& options) {
    const sim::Scenario* s = sim::ScenarioRegistry::find("data-chaos");
    if (s == nullptr) {
        std::fprintf(stderr, "keel bench cluster-sim: the data-chaos scenario is not linked in\n");
        return 2;
    }
    sim::RunOptions o;
    o.seed = options.seed;
    o.params["rate"] = std::to_string(options.rate);
    o.params["fault_seconds"] = std::to_string(options.fault_seconds);
    int64_t t0 = wall_ns();
    sim::RunResult r = sim::run_scenario(*s, o);
    int64_t wall = wall_ns() - t0;
    double wall_s = static_cast<double>(wall) / 1e9;
    double sim_s = static_cast<double>(r.sim_time_ns) / 1e9;
    auto m = [&](const char* k) {
        auto it = r.metrics.find(k);
        return it == r.metrics.end() ? 0.0 : it->second;
    };
    double acked = m("sends_acked");
    double eps = static_cast<double>(r.events) / wall_s;
    double speedup = sim_s / wall_s;
    std::printf("cluster-sim (data-chaos seed %" PRIu64 ", %" PRId64 " records/s offered):\n", options.seed,
                options.rate);
    std::printf("  simulated:        %.1f s, %.0f records acknowledged (%.0f records/s simulated)\n", sim_s, acked,
                sim_s > 0 ? acked / sim_s : 0.0);
    std::printf("  wall:             %.2f s on one core\n", wall_s);
    std::printf("  scheduler events: %" PRIu64 " (%.0f events/s)\n", r.events, eps);
    std::printf("  speed:            %.0fx real time\n", speedup);
    std::printf("  checks:           %s\n", r.ok ? "clean" : r.violations.front().c_str());
    std::printf("targets: >= 1000x real time: %s; >= 1,000,000 events/s: %s\n", speedup >= 1000 ? "met" : "NOT met",
                eps >= 1e6 ? "met" : "NOT met");
    if (const auto& path = options.json_path) {
        char buf[768];
        std::snprintf(buf, sizeof buf,
                      "{\"seed\":%" PRIu64 ",\"rate\":%" PRId64 ",\"sim_seconds\":%.3f,\"wall_seconds\":%.3f,"
                      "\"records_acked\":%.0f,\"sim_records_per_sec\":%.1f,\"events\":%" PRIu64
                      ",\"events_per_sec\":%.0f,\"sim_speedup\":%.1f,\"ok\":%s}\n",
                      options.seed, options.rate, sim_s, wall_s, acked, sim_s > 0 ? acked / sim_s : 0.0, r.events,
                      eps, speedup, r.ok ? "true" : "false");
        if (!write_text_file(*path, buf)) return 2;
    }
    return r.ok ? 0 : 1;
}

}  // namespace keel::bench
