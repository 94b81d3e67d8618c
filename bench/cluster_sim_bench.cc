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

Result<ClusterSimFigures> measure_cluster_sim(const ClusterSimBenchOptions& options) {
    const sim::Scenario* s = sim::ScenarioRegistry::find("data-chaos");
    if (s == nullptr) return Error{Errc::not_found, "the data-chaos scenario is not linked in"};
    sim::RunOptions o;
    o.seed = options.seed;
    o.params["rate"] = std::to_string(options.rate);
    o.params["fault_seconds"] = std::to_string(options.fault_seconds);
    int64_t t0 = wall_ns();
    sim::RunResult r = sim::run_scenario(*s, o);
    ClusterSimFigures f;
    f.wall_seconds = static_cast<double>(wall_ns() - t0) / 1e9;
    f.sim_seconds = static_cast<double>(r.sim_time_ns) / 1e9;
    auto it = r.metrics.find("sends_acked");
    f.records_acked = it == r.metrics.end() ? 0.0 : it->second;
    f.events = r.events;
    f.events_per_sec = static_cast<double>(r.events) / f.wall_seconds;
    f.sim_speedup = f.sim_seconds / f.wall_seconds;
    f.ok = r.ok;
    if (!r.ok && !r.violations.empty()) f.first_violation = r.violations.front();
    return f;
}

int run_cluster_sim_bench(const ClusterSimBenchOptions& options) {
    auto measured = measure_cluster_sim(options);
    if (!measured.ok()) {
        std::fprintf(stderr, "keel bench cluster-sim: %s\n", measured.error().message.c_str());
        return 2;
    }
    const ClusterSimFigures& f = *measured;
    double acked = f.records_acked, eps = f.events_per_sec, speedup = f.sim_speedup;
    std::printf("cluster-sim (data-chaos seed %" PRIu64 ", %" PRId64 " records/s offered):\n", options.seed,
                options.rate);
    std::printf("  simulated:        %.1f s, %.0f records acknowledged (%.0f records/s simulated)\n", f.sim_seconds,
                acked, f.sim_records_per_sec());
    std::printf("  wall:             %.2f s on one core\n", f.wall_seconds);
    std::printf("  scheduler events: %" PRIu64 " (%.0f events/s)\n", f.events, eps);
    std::printf("  speed:            %.0fx real time\n", speedup);
    std::printf("  checks:           %s\n", f.ok ? "clean" : f.first_violation.c_str());
    std::printf("targets: >= 1000x real time: %s; >= 1,000,000 events/s: %s\n", speedup >= 1000 ? "met" : "NOT met",
                eps >= 1e6 ? "met" : "NOT met");
    if (const auto& path = options.json_path) {
        char buf[768];
        std::snprintf(buf, sizeof buf,
                      "{\"seed\":%" PRIu64 ",\"rate\":%" PRId64 ",\"sim_seconds\":%.3f,\"wall_seconds\":%.3f,"
                      "\"records_acked\":%.0f,\"sim_records_per_sec\":%.1f,\"events\":%" PRIu64
                      ",\"events_per_sec\":%.0f,\"sim_speedup\":%.1f,\"ok\":%s}\n",
                      options.seed, options.rate, f.sim_seconds, f.wall_seconds, acked, f.sim_records_per_sec(),
                      f.events, eps, speedup, f.ok ? "true" : "false");
        if (!write_text_file(*path, buf)) return 2;
    }
    return f.ok ? 0 : 1;
}

}  // namespace keel::bench
