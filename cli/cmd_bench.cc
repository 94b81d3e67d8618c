#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "bench/cluster_sim_bench.h"
#include "bench/log_bench.h"
#include "bench/pubsub/pubsub_bench.h"
#include "bench/server_bench.h"
#include "bench/sim_bench.h"
#include "bench/sim_vs_loopback.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace keel::cli {

namespace {
const char* kHelp = R"(usage: keel bench <name> [--json FILE] [options]

benchmarks (figures printed; with --json FILE also written as JSON):
  sim    fiber switch ns, scheduler events/s, simulated messages/s, scenario speed
  log    partition log append/read throughput on real files vs raw sequential writes
  pubsub the embedded pub-sub library vs mutex/condvar and spsc_queue fan-out baselines
  cluster-sim  the data-chaos cluster at a steady produce rate: simulated records/s,
         events/s, x real time
  produce  a real local cluster (or --bootstrap): records/s, MB/s, ack latency p50/p99/p99.9
  consume  the same, then the records read back: records/s, MB/s
  sim-vs-loopback  the same cluster on loopback and in the simulator: server CPU ms per
         real second beside wall ms per simulated second

'keel bench <name> --help' for each one's options.
)";

const char* kSimHelp = R"(usage: keel bench sim [--json FILE] [--quick] [--scenario NAME] [--seed N]

Measures the simulator on this machine (one core): fiber switch time, scheduler
events per second, simulated messages per second, and one scenario run's events
per second and simulated/real time ratio (default scenario: counter-chaos).
Each figure is the best of three runs by this thread's CPU time, with the wall-time
figure in brackets (--quick: one run). JSON keys: fiber_switch_ns, events_per_sec,
messages_per_sec, scenario_events_per_sec, scenario_sim_speedup (wall time) and
fiber_switch_cpu_ns, events_per_cpu_sec, messages_per_cpu_sec,
scenario_events_per_cpu_sec, scenario_cpu_speedup (CPU time).
)";

int bench_sim(int argc, char** argv) {
    Args a(argc, argv, 3, ArgSpec{{"--json", "--scenario", "--seed"}, {"--help", "-h", "--quick"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(kSimHelp, stdout);
        return 0;
    }
    bench::SimBenchOptions o;
    o.seed = a.u64("--seed").value_or(1);
    if (!a.ok()) return usage_error("bench sim", a.error());
    o.quick = a.flag("--quick");
    o.scenario = a.value("--scenario").value_or(o.scenario);
    o.json_path = a.value("--json");
    return bench::run_sim_bench(o);
}

const char* kClusterSimHelp = R"(usage: keel bench cluster-sim [--json FILE] [--seed N] [--rate R] [--fault-seconds S]

Runs the data-chaos scenario (3 controllers, 4 brokers, RF 3, every fault kind) with
producers offering R records/s (default 1000) in simulated time, and prints simulated
records/s, scheduler events per wall second and simulated seconds per wall second on one
core. Exit 1 if the run failed its checks (the figures are printed anyway).
)";

int bench_cluster_sim(int argc, char** argv) {
    Args a(argc, argv, 3, ArgSpec{{"--json", "--seed", "--rate", "--fault-seconds"}, {"--help", "-h"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(kClusterSimHelp, stdout);
        return 0;
    }
    bench::ClusterSimBenchOptions o;
    o.seed = a.u64("--seed").value_or(1);
    o.rate = static_cast<int64_t>(a.u64("--rate").value_or(1000));
    o.fault_seconds = static_cast<int64_t>(a.u64("--fault-seconds").value_or(40));
    if (!a.ok()) return usage_error("bench cluster-sim", a.error());
    if (o.rate < 1 || o.rate > 100000) return usage_error("bench cluster-sim", "--rate is 1..100000 records/s");
    o.json_path = a.value("--json");
    return bench::run_cluster_sim_bench(o);
}

int bench_log(int argc, char** argv) {
    Args a(argc, argv, 3, ArgSpec{{"--dir", "--json", "--mb", "--flush"}, {"--help", "-h", "--keep"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(bench::log_bench_help(), stdout);
        return 0;
    }
    bench::LogBenchOptions o;
    o.mb = a.u64("--mb").value_or(o.mb);
    if (!a.ok()) return usage_error("bench log", a.error());
    if (o.mb == 0) return usage_error("bench log", "--mb must be > 0");
    std::string flush = a.value("--flush").value_or("never");
    if (flush != "never" && flush != "batch") return usage_error("bench log", "--flush is never or batch");
    o.flush_every_batch = flush == "batch";
    o.keep = a.flag("--keep");
    o.dir = a.value("--dir");
    if (o.keep && !o.dir) return usage_error("bench log", "--keep needs --dir");
    o.json_path = a.value("--json");
    return bench::run_log_bench(o);
}
int bench_pubsub(int argc, char** argv) {
    Args a(argc, argv, 3, ArgSpec{{"--json", "--messages", "--topics", "--shapes", "--reps"}, {"--help", "-h"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(bench::pubsub_bench_help(), stdout);
        return 0;
    }
    bench::PubSubBenchOptions o;
    o.messages = a.u64("--messages").value_or(o.messages);
    uint64_t topics = a.u64("--topics").value_or(1), reps = a.u64("--reps").value_or(3);
    if (!a.ok()) return usage_error("bench pubsub", a.error());
    if (o.messages == 0 || topics < 1 || topics > 1024 || reps < 1 || reps > 100) {
        return usage_error("bench pubsub", "--messages >= 1, --topics 1..1024, --reps 1..100");
    }
    o.topics = static_cast<int>(topics);
    o.repetitions = static_cast<int>(reps);
    if (auto shapes = a.value("--shapes"); shapes && !bench::parse_pubsub_shapes(*shapes, o.shapes)) {
        return usage_error("bench pubsub", "--shapes is a list like 1x1,2x2 (counts 1..64)");
    }
    o.json_path = a.value("--json");
    return bench::run_pubsub_bench(o);
}
std::string self_binary() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n <= 0 ? std::string("/proc/self/exe") : std::string(buf, static_cast<size_t>(n));
}

// The numeric options of bench produce|consume; an error message, or empty.
std::string server_bench_numbers(Args& a, bench::ServerBenchOptions& o) {
    o.records = a.u64("--records").value_or(o.records);
    uint64_t size = a.u64("--record-size").value_or(o.record_size);
    uint64_t partitions = a.u64("--partitions").value_or(static_cast<uint64_t>(o.partitions));
    uint64_t nodes = a.u64("--nodes").value_or(static_cast<uint64_t>(o.nodes));
    auto replication = a.u64("--replication");
    uint64_t window = a.u64("--window").value_or(o.window);
    if (!a.ok()) return a.error();
    if (o.records == 0 || o.records > 1'000'000'000) return "--records is 1..1000000000";
    if (size > 1'000'000) return "--record-size is 0..1000000 bytes";
    if (partitions < 1 || partitions > 1000) return "--partitions is 1..1000";
    if (nodes < 1 || nodes > 9) return "--nodes is 1..9";
    if (window < 1 || window > 1'000'000) return "--window is 1..1000000";
    uint64_t rf = replication.value_or(std::min<uint64_t>(3, nodes));
    if (rf < 1 || rf > 9) return "--replication is 1..9";
    if (!a.value("--bootstrap") && rf > nodes) return "--replication is at most --nodes";
    o.record_size = static_cast<uint32_t>(size);
    o.partitions = static_cast<int32_t>(partitions);
    o.nodes = static_cast<int32_t>(nodes);
    o.replication = static_cast<int16_t>(rf);
    o.window = static_cast<uint32_t>(window);
    return {};
}

int bench_server(int argc, char** argv, bool consume) {
    const char* name = consume ? "bench consume" : "bench produce";
    Args a(argc, argv, 3,
           ArgSpec{{"--json", "--records", "--record-size", "--acks", "--partitions", "--replication", "--nodes",
                    "--window", "--bootstrap", "--set"},
                   {"--help", "-h", "--no-idempotence"},
                   {"--set"}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(bench::server_bench_help(), stdout);
        return 0;
    }
    if (!a.ok()) return usage_error(name, a.error());
    if (!a.positionals().empty()) return usage_error(name, "unexpected argument '" + a.positionals()[0] + "'");
    bench::ServerBenchOptions o;
    o.consume = consume;
    if (std::string err = server_bench_numbers(a, o); !err.empty()) return usage_error(name, err);
    std::string acks = a.value("--acks").value_or("all");
    if (acks != "0" && acks != "1" && acks != "all" && acks != "-1") return usage_error(name, "--acks is 0, 1 or all");
    o.acks = acks == "0" ? 0 : acks == "1" ? 1 : -1;
    o.idempotence = o.acks == -1 && !a.flag("--no-idempotence");
    for (const std::string& kv : a.values("--set")) {
        if (kv.find('=') == std::string::npos || kv.front() == '=') return usage_error(name, "--set wants NAME=VALUE, got '" + kv + "'");
    }
    o.server_properties = a.values("--set");
    o.bootstrap = a.value("--bootstrap");
    if (o.bootstrap && !o.server_properties.empty()) return usage_error(name, "--set is for the local cluster, not --bootstrap");
    o.json_path = a.value("--json");
    o.keel_binary = self_binary();
    return bench::run_server_bench(o);
}
int bench_sim_vs_loopback(int argc, char** argv) {
    const char* name = "bench sim-vs-loopback";
    Args a(argc, argv, 3, ArgSpec{{"--json", "--rate", "--seconds", "--seed"}, {"--help", "-h", "--keep-dir"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(bench::sim_vs_loopback_help(), stdout);
        return 0;
    }
    bench::SimVsLoopbackOptions o;
    o.seed = a.u64("--seed").value_or(o.seed);
    uint64_t rate = a.u64("--rate").value_or(static_cast<uint64_t>(o.rate));
    uint64_t seconds = a.u64("--seconds").value_or(static_cast<uint64_t>(o.seconds));
    if (!a.ok()) return usage_error(name, a.error());
    if (!a.positionals().empty()) return usage_error(name, "unexpected argument '" + a.positionals()[0] + "'");
    if (rate < 1 || rate > 100000) return usage_error(name, "--rate is 1..100000 records/s");
    if (seconds < 1 || seconds > 3600) return usage_error(name, "--seconds is 1..3600");
    o.rate = static_cast<int64_t>(rate);
    o.seconds = static_cast<int64_t>(seconds);
    o.json_path = a.value("--json");
    o.keep_dir = a.flag("--keep-dir");
    o.keel_binary = self_binary();
    return bench::run_sim_vs_loopback(o);
}
}  // namespace

int cmd_bench(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h") {
        std::fputs(kHelp, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    std::string name = argv[2];
    if (name == "sim") return bench_sim(argc, argv);
    if (name == "log") return bench_log(argc, argv);
    if (name == "pubsub") return bench_pubsub(argc, argv);
    if (name == "cluster-sim") return bench_cluster_sim(argc, argv);
    if (name == "produce" || name == "consume") return bench_server(argc, argv, name == "consume");
    if (name == "sim-vs-loopback") return bench_sim_vs_loopback(argc, argv);
    return usage_error("bench", "unknown benchmark '" + name + "'");
}

}  // namespace keel::cli
