// keel bench sim-vs-loopback: the same cluster in the simulator and on loopback — the
// simulator's wall time per simulated second beside the real cluster's CPU per real second.
//
// The shape is data-chaos's: 3 dedicated controllers, 4 brokers, a 4-partition topic with
// RF 3, acks=all (idempotent), `rate` records/s.
//   loopback   a local cluster of 7 `keel server` processes (prod/local_cluster.h, as
//              `keel cluster up --controllers 3 --brokers 4` starts it) in a temporary
//              directory; Keel's producer sends rate x seconds records paced at `rate`
//              records/s (round-robin over the partitions) while a consumer reads them all
//              back (manual assignment, from the beginning; each value names its record,
//              so a record missing or read twice is caught). Figures: the wall time from the
//              first send to the last record read, the CPU seconds (utime + stime of
//              /proc/PID/stat) the 7 servers used meanwhile, so ms of server CPU per second,
//              and the acknowledgement latency p50/p99 (send() to acknowledged). The
//              cluster is stopped at the end (SIGTERM, SIGKILL after 30 s) and its directory
//              removed unless keep_dir.
//   simulator  data-chaos (measure_cluster_sim, seed `seed`) at the same rate without its
//              fault phase, in this process on one thread: wall ms per simulated second,
//              x real time, scheduler events per wall second.
// The ratio: wall ms per simulated second / ms of server CPU per real second.
//
// JSON (stable keys): {"records_per_s":R,"seconds":S,
//   "loopback":{"wall_s","server_cpu_s","server_cpu_ms_per_s","records","produced",
//               "consumed","failed","duplicates","latency_p50_ms","latency_p99_ms"},
//   "sim":{"seed","sim_seconds","wall_s","wall_ms_per_sim_s","x_real_time","events_per_s",
//          "records_acked","ok"},
//   "sim_ms_per_loopback_cpu_ms":X}
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel::bench {

struct SimVsLoopbackOptions {
    std::string keel_binary;  // started as `keel server` for each node
    int64_t rate = 1000;      // records/s, both halves
    int64_t seconds = 30;     // of producing on loopback
    uint64_t seed = 1;        // of the simulator's run
    std::optional<std::string> json_path;
    bool keep_dir = false;  // leave the loopback cluster's directory (its logs) behind
};

// The help text of `keel bench sim-vs-loopback`.
const char* sim_vs_loopback_help();

// Runs both halves and prints the figures. 0 on success; 1 if the cluster could not be
// started, a record failed, a record produced was not read back or one was read twice, or
// the simulator's run failed its checks; 2 if the JSON file cannot be written or
// data-chaos is not linked in; 130 after SIGINT or SIGTERM (the cluster stopped first).
int run_sim_vs_loopback(const SimVsLoopbackOptions& options);

}  // namespace keel::bench
