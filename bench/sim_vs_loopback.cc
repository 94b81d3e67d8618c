#include "bench/sim_vs_loopback.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <sstream>
#include <vector>

#include "bench/bench_util.h"
#include "bench/cluster_sim_bench.h"
#include "core/base/assert.h"
#include "core/base/bytes.h"
#include "core/client/connection.h"
#include "core/client/consumer.h"
#include "core/client/metadata.h"
#include "core/client/producer.h"
#include "core/client/topic_admin.h"
#include "core/env/sync.h"
#include "prod/local_cluster.h"
#include "prod/prod_node.h"
#include "prod/shutdown_signals.h"
#include "prod/temp_dir.h"

namespace keel::bench {

namespace {

const char* kHelp = R"(usage: keel bench sim-vs-loopback [options]

The same cluster in the simulator and on loopback: data-chaos's shape (3 controllers,
4 brokers, a 4-partition topic with RF 3, acks=all) at --rate records/s.
On loopback it starts 7 `keel server` processes in a temporary directory (as `keel cluster
up --controllers 3 --brokers 4` does), produces --rate x --seconds records paced at --rate
records/s while a consumer reads them all back, and prints the wall time, the CPU seconds
the servers used (/proc/PID/stat), ms of server CPU per second and the ack latency
p50/p99. Then it runs data-chaos in this process without its fault phase (as `keel bench
cluster-sim --fault-seconds 0`) and prints the simulator's wall ms per simulated second,
x real time and events/s, and the ratio of the two per-second costs.

options:
  --rate R       records/s, both halves (default 1000; 1..100000)
  --seconds S    seconds of producing on loopback (default 30; 1..3600)
  --seed N       the simulator's seed (default 1)
  --json FILE    also write the figures as JSON (keys: records_per_s, seconds,
                 loopback.{wall_s, server_cpu_s, server_cpu_ms_per_s, records, produced,
                 consumed, failed, duplicates, latency_p50_ms, latency_p99_ms}, sim.{seed, sim_seconds,
                 wall_s, wall_ms_per_sim_s, x_real_time, events_per_s, records_acked, ok},
                 sim_ms_per_loopback_cpu_ms)
  --keep-dir     leave the cluster's directory (configs, logs, data) behind
  --help         this text
Exit 1 if the cluster cannot be started, a record fails, the records read back differ
from those produced (one missing, or one read twice), or the simulator's run fails its checks; 2 for bad options; 130 if
interrupted (SIGINT/SIGTERM: the cluster is stopped first).
)";

constexpr int kControllers = 3;
constexpr int kBrokers = 4;
constexpr int32_t kPartitions = 4;
constexpr int16_t kReplication = 3;
const char* const kTopic = "sim-vs-loopback";

struct LoopbackFigures {
    uint64_t records = 0;  // offered: rate x seconds
    uint64_t produced = 0, failed = 0;
    uint64_t consumed = 0, duplicates = 0;  // distinct records read back; more reads
    double wall_s = 0, server_cpu_s = 0;
    std::vector<int64_t> latency_ns;  // sorted once measured
    std::string error;                // the first failure
    double cpu_ms_per_s() const { return wall_s > 0 ? 1000 * server_cpu_s / wall_s : 0; }
};

// The CPU seconds (user + system) the process has used so far; 0 if it is gone.
double process_cpu_seconds(int64_t pid) {
    std::string stat = prod::read_text_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    uint64_t ticks = 0;
    for (int i = 0; i <= 12 && fields >> field; i++) {
        if (i == 11 || i == 12) ticks += std::strtoull(field.c_str(), nullptr, 10);  // utime, stime
    }
    return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A cluster of separate server processes in a fresh /tmp directory: stopped, and the
// directory removed (unless kept), on destruction.
class LoopbackCluster {
public:
    explicit LoopbackCluster(bool keep) : keep_(keep) {
        std::string templ = "/tmp/keel-sim-vs-loopback-XXXXXX";
        KEEL_ASSERT(::mkdtemp(templ.data()) != nullptr);
        dir_ = templ;
    }
    ~LoopbackCluster() {
        stop();
        if (!keep_) prod::remove_tree(dir_);
    }
    LoopbackCluster(const LoopbackCluster&) = delete;
    LoopbackCluster& operator=(const LoopbackCluster&) = delete;

    // Plans the nodes (fresh ports), writes their configs and cluster.json, starts them.
    Status start(const std::string& keel) {
        if (layout_.nodes.empty()) {
            KEEL_TRY_ASSIGN(layout_, prod::plan_cluster(dir_, 0, kControllers, kBrokers,
                                                        prod::default_cluster_properties(kBrokers)));
        } else {
            for (const prod::ClusterNode& n : layout_.nodes) prod::remove_tree(n.dir);
            KEEL_TRY(prod::replan_ports(layout_));
        }
        for (prod::ClusterNode& n : layout_.nodes) {
            KEEL_TRY(prod::write_node_config(layout_, n));
            KEEL_TRY_ASSIGN(n.pid, prod::spawn_server(keel, n));
        }
        return prod::write_text_file(layout_.dir + "/cluster.json", prod::cluster_json(layout_));
    }

    // SIGTERM (a controlled shutdown), SIGKILL after timeout_ms: the brokers first, while
    // the controllers are there to grant their controlled shutdown, then the controllers.
    void stop(int64_t timeout_ms = 30'000) {
        stop_nodes(true, timeout_ms);
        stop_nodes(false, timeout_ms);
    }

    // The first node that is not running, if any.
    const prod::ClusterNode* exited() const {
        for (const prod::ClusterNode& n : layout_.nodes)
            if (!prod::server_alive(n)) return &n;
        return nullptr;
    }
    double cpu_seconds() const {
        double total = 0;
        for (const prod::ClusterNode& n : layout_.nodes) total += process_cpu_seconds(n.pid);
        return total;
    }
    std::vector<env::Address> bootstrap() const {
        std::vector<env::Address> out;
        for (const prod::ClusterNode* n : layout_.brokers())
            out.push_back(env::Address{"127.0.0.1", static_cast<uint16_t>(n->port)});
        return out;
    }
    const prod::ClusterLayout& layout() const { return layout_; }
    const std::string& dir() const { return dir_; }

private:
    void stop_nodes(bool brokers, int64_t timeout_ms) {
        std::vector<const prod::ClusterNode*> nodes;
        for (const prod::ClusterNode& n : layout_.nodes)
            if ((n.broker && !n.controller) == brokers && prod::server_alive(n)) nodes.push_back(&n);
        for (const prod::ClusterNode* n : nodes) prod::send_signal(n->pid, SIGTERM);
        for (const prod::ClusterNode* n : nodes) {
            if (prod::wait_exit(*n, timeout_ms)) continue;
            std::fprintf(stderr, "keel bench: node %d did not stop on SIGTERM: killed\n", n->id);
            prod::send_signal(n->pid, SIGKILL);
            (void)prod::wait_exit(*n, 10'000);
        }
    }

    bool keep_;
    std::string dir_;
    prod::ClusterLayout layout_;
};

enum class Ready { ok, port_taken, failed };

// Waits until Metadata lists every broker; a node exiting meanwhile ends the wait.
Ready await_brokers(env::Env& env, const LoopbackCluster& c, std::string& why) {
    client::ConnectionPool pool(env, client::ConnectionOptions{.client_id = "keel-bench"});
    client::MetadataOptions mo;
    mo.bootstrap = c.bootstrap();
    mo.request_timeout = ms(5'000);
    mo.allow_auto_topic_creation = false;
    client::MetadataCache metadata(env, pool, mo);
    Instant deadline = env.now() + ms(120'000);
    Ready ready = Ready::failed;
    why = "timed out waiting for the brokers in Metadata";
    while (env.now() < deadline) {
        if (const prod::ClusterNode* n = c.exited()) {
            ready = prod::log_says_port_taken(*n) ? Ready::port_taken : Ready::failed;
            why = "node " + std::to_string(n->id) + " exited; see " + n->log_path();
            break;
        }
        auto brokers = c.layout().brokers();
        if (metadata.refresh(deadline).ok() &&
            std::all_of(brokers.begin(), brokers.end(), [&](const prod::ClusterNode* n) {
                return metadata.broker_address(NodeId(n->id)).has_value();
            })) {
            ready = Ready::ok;
            break;
        }
        env.executor().sleep_for(ms(200));
    }
    pool.close_all();
    return ready;
}

// Starts the cluster and waits for it; on a lost race for a port, again on new ports (3
// tries). An error message, or empty.
std::string bring_up(env::Env& env, const std::string& keel, LoopbackCluster& c) {
    std::string why;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (Status st = c.start(keel); !st.ok()) return st.error().to_string();
        Ready r = await_brokers(env, c, why);
        if (r == Ready::ok) return {};
        c.stop(5'000);
        if (r == Ready::failed) return why;
        std::fprintf(stderr, "note: a port was taken meanwhile; starting again on new ports\n");
    }
    return "lost the race for free ports 3 times: " + why;
}


// Sends f.records records, record i at start + i / rate.
void produce_paced(env::Env& env, const SimVsLoopbackOptions& o, const std::vector<env::Address>& bootstrap,
                   LoopbackFigures& f) {
    client::ProducerConfig config;
    config.bootstrap = bootstrap;
    config.client_id = "keel-bench";
    config.acks = -1;
    config.enable_idempotence = true;
    client::Producer producer(env, config);
    std::vector<std::unique_ptr<env::Channel<PendingAck>>> queues;
    std::vector<std::unique_ptr<env::Event>> done;
    for (int32_t p = 0; p < kPartitions; p++) {
        queues.push_back(std::make_unique<env::Channel<PendingAck>>(env.executor(), 100'000));
        done.push_back(std::make_unique<env::Event>(env.executor()));
        env::Channel<PendingAck>& q = *queues.back();
        env::spawn_joinable(env.executor(), "bench-acks-" + std::to_string(p), *done.back(),
                            [&env, &q, &f] {
                                auto ack = [&f](Duration took) {
                                    f.produced++;
                                    f.latency_ns.push_back(took.count());
                                };
                                auto fail = [&f](const Error& e) {
                                    f.failed++;
                                    if (f.error.empty()) f.error = "a record failed: " + e.to_string();
                                };
                                await_acks(env, q, ms(120'000), ack, fail);
                            });
    }
    Instant start = env.now();
    for (uint64_t i = 0; i < f.records; i++) {
        Instant due = start + Duration(static_cast<int64_t>(i) * 1'000'000'000LL / o.rate);
        if (Instant now = env.now(); now < due) env.executor().sleep_for(due - now);
        auto p = static_cast<int32_t>(i % kPartitions);
        client::ProducerRecord r;
        r.topic = kTopic;
        r.partition = PartitionIndex(p);
        r.key = to_bytes("k" + std::to_string(i));
        r.value = to_bytes("v" + std::to_string(i));
        Instant sent = env.now();
        (void)queues[static_cast<size_t>(p)]->send(PendingAck{producer.send(std::move(r)), sent});
    }
    for (auto& q : queues) q->close();
    for (auto& d : done) d->wait();
    producer.close();
}

// Counts a record read back: new (its value v<i> names a record sent and not read before)
// or a duplicate.
void count_read(const client::ConsumerRecord& r, std::vector<bool>& seen, LoopbackFigures& f) {
    std::string value = r.value ? std::string(r.value->begin(), r.value->end()) : "";
    uint64_t i = value.size() > 1 ? std::strtoull(value.c_str() + 1, nullptr, 10) : seen.size();
    if (i < seen.size() && !seen[i]) {
        seen[i] = true;
        f.consumed++;
        return;
    }
    f.duplicates++;
    if (f.error.empty()) f.error = "read back '" + value + "' twice or unsent";
}

// Reads every partition from the beginning until `expected` distinct records came, the
// deadline passes or `give_up` is set.
void consume_all(env::Env& env, const std::vector<env::Address>& bootstrap, uint64_t expected,
                 Instant deadline, const bool& give_up, LoopbackFigures& f) {
    client::ConsumerConfig config;
    config.bootstrap = bootstrap;
    config.client_id = "keel-bench";
    config.auto_offset_reset = client::OffsetReset::earliest;
    client::Consumer consumer(env, config);
    std::vector<client::TopicPartitionName> all;
    for (int32_t p = 0; p < kPartitions; p++) all.push_back({kTopic, PartitionIndex(p)});
    consumer.assign(all);
    std::vector<bool> seen(expected);
    while (f.consumed < expected && env.now() < deadline && !give_up) {
        auto records = consumer.poll(ms(500));
        if (!records.ok()) {
            if (f.error.empty()) f.error = "consumer: " + records.error().to_string();
            break;
        }
        for (const client::ConsumerRecord& r : *records) count_read(r, seen, f);
    }
    consumer.close();
}

// Creates the topic, then produces and consumes at once; the servers' CPU and the wall
// time from the first send to the last record read.
void measure_loopback(env::Env& env, const SimVsLoopbackOptions& o, const LoopbackCluster& c,
                      LoopbackFigures& f) {
    std::vector<env::Address> bootstrap = c.bootstrap();
    {
        client::TopicAdmin admin(env, bootstrap);
        auto created = admin.create_topic({kTopic, kPartitions, kReplication, {}});
        if (!created.ok()) {
            f.error = std::string("creating topic ") + kTopic + ": " + created.error().to_string();
            return;
        }
    }
    double cpu0 = c.cpu_seconds();
    Instant start = env.now();
    Instant deadline = start + std::chrono::seconds(o.seconds + 120);
    bool give_up = false;
    env::Event consumed(env.executor());
    env::spawn_joinable(env.executor(), "bench-consumer", consumed, [&] {
        consume_all(env, bootstrap, f.records, deadline, give_up, f);
    });
    produce_paced(env, o, bootstrap, f);
    give_up = f.failed > 0;  // those will never be read
    consumed.wait();
    f.wall_s = static_cast<double>((env.now() - start).count()) / 1e9;
    f.server_cpu_s = c.cpu_seconds() - cpu0;
    std::sort(f.latency_ns.begin(), f.latency_ns.end());
    if (f.error.empty() && f.consumed != f.produced)
        f.error = "read back " + std::to_string(f.consumed) + " records of " + std::to_string(f.produced);
}

double ratio(const ClusterSimFigures& s, const LoopbackFigures& l) {
    return l.cpu_ms_per_s() > 0 ? s.wall_ms_per_sim_second() / l.cpu_ms_per_s() : 0;
}

void print_figures(const SimVsLoopbackOptions& o, const LoopbackFigures& l, const ClusterSimFigures* s) {
    std::printf("keel bench sim-vs-loopback: %d controllers, %d brokers, %d partitions RF %d, acks=all, "
                "%" PRId64 " records/s\n",
                kControllers, kBrokers, kPartitions, kReplication, o.rate);
    std::printf("  loopback:  %" PRIu64 " records produced (%" PRIu64 " failed), %" PRIu64
                " consumed in %.2f s wall (%" PRId64 " s of producing)\n",
                l.produced, l.failed, l.consumed, l.wall_s, o.seconds);
    std::printf("             the %d servers used %.2f CPU-s: %.1f ms of server CPU per second; "
                "ack latency p50 %.2f ms, p99 %.2f ms\n",
                kControllers + kBrokers, l.server_cpu_s, l.cpu_ms_per_s(), percentile_ms(l.latency_ns, 0.5),
                percentile_ms(l.latency_ns, 0.99));
    if (!l.error.empty()) std::printf("             failure: %s\n", l.error.c_str());
    if (s == nullptr) return;
    std::printf("  simulator: %.1f s simulated in %.2f s wall (data-chaos seed %" PRIu64 ", no faults, one thread)\n",
                s->sim_seconds, s->wall_seconds, o.seed);
    std::printf("             %.1f ms of wall per simulated second, %.0fx real time, %.0f events/s; checks %s\n",
                s->wall_ms_per_sim_second(), s->sim_speedup, s->events_per_sec,
                s->ok ? "clean" : s->first_violation.c_str());
    std::printf("  ratio:     a simulated second costs %.2fx the servers' CPU for a real second "
                "(clients not counted on loopback; everything counted in the simulator)\n",
                ratio(*s, l));
}

std::string figures_json(const SimVsLoopbackOptions& o, const LoopbackFigures& l, const ClusterSimFigures& s) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"records_per_s\":%" PRId64 ",\"seconds\":%" PRId64
                  ",\"loopback\":{\"wall_s\":%.3f,\"server_cpu_s\":%.3f,\"server_cpu_ms_per_s\":%.2f,"
                  "\"records\":%" PRIu64 ",\"produced\":%" PRIu64 ",\"consumed\":%" PRIu64 ",\"failed\":%" PRIu64
                  ",\"duplicates\":%" PRIu64 ",\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f},"
                  "\"sim\":{\"seed\":%" PRIu64 ",\"sim_seconds\":%.3f,\"wall_s\":%.3f,\"wall_ms_per_sim_s\":%.2f,"
                  "\"x_real_time\":%.1f,\"events_per_s\":%.0f,\"records_acked\":%.0f,\"ok\":%s},"
                  "\"sim_ms_per_loopback_cpu_ms\":%.3f}\n",
                  o.rate, o.seconds, l.wall_s, l.server_cpu_s, l.cpu_ms_per_s(), l.records, l.produced, l.consumed,
                  l.failed, l.duplicates, percentile_ms(l.latency_ns, 0.5), percentile_ms(l.latency_ns, 0.99),
                  o.seed, s.sim_seconds, s.wall_seconds, s.wall_ms_per_sim_second(), s.sim_speedup,
                  s.events_per_sec, s.records_acked, s.ok ? "true" : "false", ratio(s, l));
    return buf;
}

// The loopback half on a client node; false if interrupted (SIGINT/SIGTERM).
bool run_loopback(const SimVsLoopbackOptions& o, LoopbackCluster& cluster, LoopbackFigures& f) {
    prod::TempDir dir("keel-bench-client-");
    prod::ProdNodeOptions options;
    options.log.min_level = env::Level::warn;
    prod::ProdNode node("bench", dir.path(), options);
    bool interrupted = false;
    Status st = node.run_blocking([&](env::Env& env) {
        watch_shutdown_signals(env, node, interrupted);
        std::fprintf(stderr, "starting %d controllers and %d brokers in %s ...\n", kControllers, kBrokers,
                     cluster.dir().c_str());
        f.error = bring_up(env, o.keel_binary, cluster);
        if (f.error.empty()) measure_loopback(env, o, cluster, f);
        node.request_stop();
    });
    if (!st.ok() && f.error.empty()) f.error = st.error().to_string();
    return !interrupted;
}

}  // namespace

const char* sim_vs_loopback_help() {
    return kHelp;
}

// SIGINT and SIGTERM are blocked and taken synchronously (ShutdownSignals): the client's
// fibers are unwound, the cluster is stopped and its directory removed (LoopbackCluster's
// destructor), so an interrupted run leaves no server processes behind.
int run_sim_vs_loopback(const SimVsLoopbackOptions& o) {
    prod::ShutdownSignals::block();
    LoopbackFigures l;
    l.records = static_cast<uint64_t>(o.rate * o.seconds);
    {
        LoopbackCluster cluster(o.keep_dir);
        if (!run_loopback(o, cluster, l)) {
            std::fprintf(stderr, "keel bench: interrupted; no figures, stopping the cluster\n");
            return 130;
        }
        cluster.stop();  // before the simulator runs: the machine to itself
        if (o.keep_dir) std::fprintf(stderr, "the cluster's directory is kept: %s\n", cluster.dir().c_str());
    }
    if (!l.error.empty() && l.produced == 0) {
        std::fprintf(stderr, "keel bench: %s%s\n", l.error.c_str(),
                     o.keep_dir ? "" : " (--keep-dir keeps the nodes' logs)");
        return 1;
    }
    ClusterSimBenchOptions so;
    so.seed = o.seed;
    so.rate = o.rate;
    so.fault_seconds = 0;
    auto sim = measure_cluster_sim(so);
    if (prod::ShutdownSignals::take()) {
        std::fprintf(stderr, "keel bench: interrupted\n");
        return 130;
    }
    if (!sim.ok()) {
        print_figures(o, l, nullptr);
        std::fprintf(stderr, "keel bench: %s\n", sim.error().message.c_str());
        return 2;
    }
    print_figures(o, l, &*sim);
    if (o.json_path && !write_text_file(*o.json_path, figures_json(o, l, *sim))) return 2;
    bool complete = l.error.empty() && l.failed == 0 && l.duplicates == 0 && l.produced == l.records &&
                    l.consumed == l.produced;
    return complete && sim->ok ? 0 : 1;
}

}  // namespace keel::bench
