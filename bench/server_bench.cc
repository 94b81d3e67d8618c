#include "bench/server_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <memory>

#include "bench/bench_util.h"
#include "core/client/consumer.h"
#include "core/client/producer.h"
#include "core/client/topic_admin.h"
#include "core/env/sync.h"
#include "prod/local_cluster.h"
#include "prod/shutdown_signals.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

extern char** environ;

namespace keel::bench {

namespace {

const char* kHelp = R"(usage: keel bench produce [options]
       keel bench consume [options]

A real Keel cluster on this machine, in the style of kafka-producer-perf-test. Without
--bootstrap it starts a local cluster (`keel cluster up --nodes N` in a temporary
directory) and stops it at the end. It creates a fresh topic and sends --records records
of --record-size bytes with Keel's producer, round-robin over the partitions, with at most
--window records unacknowledged at a time (after one warm-up record per partition, not
counted). It prints records/s, MB/s (payload, 10^6 B/s)
and the acknowledgement latency (send() to acknowledged) p50/p99/p99.9/max.
consume produces the same way first, then reads every record back from the beginning with
Keel's consumer and prints records/s and MB/s of the read.

options:
  --records N          records to produce (default 200000)
  --record-size S      value bytes per record (default 100)
  --acks 0|1|all       acknowledgements (default all)
  --no-idempotence     a plain producer (default: idempotent; needs --acks all)
  --partitions P       partitions of the topic (default 3)
  --replication R      replication factor (default min(3, nodes))
  --nodes K            nodes of the local cluster (default 3)
  --window W           records unacknowledged at most (default 10000)
  --set NAME=VALUE     one more server property for the local nodes (repeatable), e.g.
                       --set log.flush.interval.messages=1 (fsync every append)
  --bootstrap H:P,...  use a running cluster instead of starting one
  --json FILE          also write the figures as JSON (keys: records_per_s, mb_per_s,
                       latency_p50_ms, latency_p99_ms, latency_p999_ms, ...; consume:
                       consumed, consume_records_per_s, consume_mb_per_s)
  --help               this text
Exit 1 if the cluster cannot be started or reached, a record fails, or fewer records are
read back than were produced; 2 for bad options.
)";

struct ProduceFigures {
    uint64_t acked = 0, failed = 0;
    double seconds = 0;
    std::vector<int64_t> latency_ns;
    std::string first_error;
};

struct ConsumeFigures {
    uint64_t consumed = 0, bytes = 0;
    double seconds = 0;
    std::string error;
};

double seconds_of(Duration d) {
    return static_cast<double>(d.count()) / 1e9;
}

// Runs a `keel` subcommand with its output appended to `log`; its exit code (-1 if it did
// not run or ended on a signal).
int run_keel(const std::string& keel, const std::vector<std::string>& args,
             const std::string& log) {
    std::vector<std::string> all{keel};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // The child gets the default signal mask: the bench blocks SIGINT and SIGTERM for itself.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, keel.c_str(), &fa, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A local cluster for the run: `keel cluster up` in a temporary directory; down on
// destruction.
class LocalRun {
public:
    explicit LocalRun(const ServerBenchOptions& o) : o_(o), tmp_("keel-bench-cluster-") {}
    ~LocalRun() {
        if (up_)
            run_keel(o_.keel_binary, {"cluster", "down", "--dir", dir(), "--timeout-ms", "30000"},
                     log());
    }
    LocalRun(const LocalRun&) = delete;
    LocalRun& operator=(const LocalRun&) = delete;

    // The bootstrap servers, or an error message.
    Result<std::string> start() {
        std::vector<std::string> args{"cluster", "up", "--nodes", std::to_string(o_.nodes),
                                      "--dir",   dir()};
        for (const std::string& kv : o_.server_properties) {
            args.push_back("--set");
            args.push_back(kv);
        }
        std::fprintf(stderr, "starting a local cluster of %d node(s) in %s ...\n", o_.nodes,
                     dir().c_str());
        up_ = true;  // a partial start is stopped too
        if (run_keel(o_.keel_binary, args, log()) != 0) {
            return Error{Errc::io_error,
                         "keel cluster up failed:\n" + prod::read_text_file(log()) + node_logs()};
        }
        auto layout = prod::parse_cluster_json(prod::read_text_file(dir() + "/cluster.json"));
        if (!layout.ok()) return layout.error();
        return layout->bootstrap();
    }

private:
    // The end of every node's server.log (the temporary directory goes away).
    std::string node_logs() const {
        std::string out;
        for (int32_t id = 1; id <= o_.nodes; id++) {
            std::string path = dir() + "/node-" + std::to_string(id) + "/server.log";
            std::string text = prod::read_text_file(path);
            if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
            if (!text.empty()) out += "--- " + path + ":\n" + text;
        }
        return out;
    }
    std::string dir() const { return tmp_.path() + "/cluster"; }
    std::string log() const { return tmp_.path() + "/cluster-commands.log"; }
    const ServerBenchOptions& o_;
    prod::TempDir tmp_;
    bool up_ = false;
};


// One record per partition, before the clock starts (the peers too start warm: connected,
// their stream created): the producer's metadata and producer id, the partitions'
// leaders elected. An error message if one of them fails.
std::string warm_up(client::Producer& producer, const ServerBenchOptions& o,
                    const std::string& topic, const Bytes& value) {
    std::vector<env::Future<client::RecordMetadata>> futures;
    for (int32_t p = 0; p < o.partitions; p++) {
        client::ProducerRecord r;
        r.topic = topic;
        r.partition = PartitionIndex(p);
        r.value = value;
        futures.push_back(producer.send(std::move(r)));
    }
    for (auto& fu : futures) {
        auto md = fu.get_for(ms(120'000));
        if (!md.ok()) return "warm-up record: " + md.error().to_string();
    }
    return {};
}

ProduceFigures produce_phase(env::Env& env, const ServerBenchOptions& o,
                             const std::vector<env::Address>& bootstrap, const std::string& topic) {
    client::ProducerConfig config;
    config.bootstrap = bootstrap;
    config.client_id = "keel-bench";
    config.acks = o.acks;
    config.enable_idempotence = o.idempotence;
    client::Producer producer(env, config);
    ProduceFigures f;
    f.latency_ns.reserve(o.records);
    size_t per_partition = std::max<size_t>(1, o.window / static_cast<uint32_t>(o.partitions));
    std::vector<std::unique_ptr<env::Channel<PendingAck>>> queues;
    std::vector<std::unique_ptr<env::Event>> done;
    for (int32_t p = 0; p < o.partitions; p++) {
        queues.push_back(std::make_unique<env::Channel<PendingAck>>(env.executor(), per_partition));
        done.push_back(std::make_unique<env::Event>(env.executor()));
        env::Channel<PendingAck>& q = *queues.back();
        env::spawn_joinable(env.executor(), "bench-acks-" + std::to_string(p), *done.back(),
                            [&env, &q, &f] {
                                auto ack = [&f](Duration took) {
                                    f.acked++;
                                    f.latency_ns.push_back(took.count());
                                };
                                auto fail = [&f](const Error& e) {
                                    f.failed++;
                                    if (f.first_error.empty()) f.first_error = e.to_string();
                                };
                                await_acks(env, q, ms(300'000), ack, fail);
                            });
    }
    Bytes value(o.record_size);
    for (size_t i = 0; i < value.size(); i++) value[i] = static_cast<uint8_t>('a' + i % 26);
    f.first_error = warm_up(producer, o, topic, value);
    uint64_t records = f.first_error.empty() ? o.records : 0;
    Instant start = env.now();
    for (uint64_t i = 0; i < records; i++) {
        auto p = static_cast<int32_t>(i % static_cast<uint64_t>(o.partitions));
        client::ProducerRecord r;
        r.topic = topic;
        r.partition = PartitionIndex(p);
        r.value = value;
        Instant sent = env.now();
        (void)queues[static_cast<size_t>(p)]->send(PendingAck{producer.send(std::move(r)), sent});
    }
    for (auto& q : queues) q->close();
    for (auto& d : done) d->wait();
    f.seconds = seconds_of(env.now() - start);
    producer.close();
    return f;
}

ConsumeFigures consume_phase(env::Env& env, const ServerBenchOptions& o,
                             const std::vector<env::Address>& bootstrap, const std::string& topic,
                             uint64_t expected) {
    client::ConsumerConfig config;
    config.bootstrap = bootstrap;
    config.client_id = "keel-bench";
    config.auto_offset_reset = client::OffsetReset::earliest;
    client::Consumer consumer(env, config);
    std::vector<client::TopicPartitionName> all;
    for (int32_t p = 0; p < o.partitions; p++) all.push_back({topic, PartitionIndex(p)});
    consumer.assign(all);
    ConsumeFigures f;
    Instant start = env.now();
    Instant deadline = start + ms(120'000);
    while (f.consumed < expected && env.now() < deadline) {
        auto records = consumer.poll(ms(1000));
        if (!records.ok()) {
            f.error = records.error().to_string();
            break;
        }
        for (const client::ConsumerRecord& r : *records) {
            f.consumed++;
            f.bytes += r.value ? r.value->size() : 0;
        }
    }
    f.seconds = seconds_of(env.now() - start);
    if (f.error.empty() && f.consumed < expected) f.error = "timed out reading back";
    consumer.close();
    return f;
}

std::string acks_name(int16_t acks) {
    return acks == -1 ? "all" : std::to_string(acks);
}

double per_second(double n, double seconds) {
    return seconds > 0 ? n / seconds : 0;
}

struct Report {
    ProduceFigures produce;
    std::optional<ConsumeFigures> consume;
};

std::string produce_json(const ServerBenchOptions& o, ProduceFigures& f) {
    std::sort(f.latency_ns.begin(), f.latency_ns.end());
    double mb = static_cast<double>(f.acked) * o.record_size / 1e6;
    char buf[1024];
    std::snprintf(
        buf, sizeof buf,
        "\"records\":%" PRIu64
        ",\"record_size\":%u,\"acks\":\"%s\",\"idempotence\":%s,\"partitions\":%d,"
        "\"replication\":%d,\"nodes\":%d,\"window\":%u,\"acknowledged\":%" PRIu64
        ",\"failed\":%" PRIu64
        ",\"seconds\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.2f,\"latency_p50_ms\":%.3f,"
        "\"latency_p99_ms\":%.3f,\"latency_p999_ms\":%.3f,\"latency_max_ms\":%.3f",
        o.records, o.record_size, acks_name(o.acks).c_str(), o.idempotence ? "true" : "false",
        o.partitions, o.replication, o.bootstrap ? 0 : o.nodes, o.window, f.acked, f.failed,
        f.seconds, per_second(static_cast<double>(f.acked), f.seconds), per_second(mb, f.seconds),
        percentile_ms(f.latency_ns, 0.5), percentile_ms(f.latency_ns, 0.99),
        percentile_ms(f.latency_ns, 0.999),
        f.latency_ns.empty() ? 0 : static_cast<double>(f.latency_ns.back()) / 1e6);
    return buf;
}

std::string consume_json(const ConsumeFigures& f) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  ",\"consumed\":%" PRIu64
                  ",\"consume_seconds\":%.3f,\"consume_records_per_s\":%.0f,"
                  "\"consume_mb_per_s\":%.2f",
                  f.consumed, f.seconds, per_second(static_cast<double>(f.consumed), f.seconds),
                  per_second(static_cast<double>(f.bytes) / 1e6, f.seconds));
    return buf;
}

void print_report(const ServerBenchOptions& o, Report& r) {
    std::string body = produce_json(o, r.produce);  // sorts the latencies too
    ProduceFigures& f = r.produce;
    std::printf(
        "keel bench %s: %" PRIu64 " records x %u B, acks=%s%s, %d partition(s), RF %d, %s\n",
        o.consume ? "consume" : "produce", o.records, o.record_size, acks_name(o.acks).c_str(),
        o.idempotence ? " idempotent" : "", o.partitions, o.replication,
        o.bootstrap ? ("cluster " + *o.bootstrap).c_str()
                    : (std::to_string(o.nodes) + " local node(s)").c_str());
    double mb = static_cast<double>(f.acked) * o.record_size / 1e6;
    std::printf("  produce: %" PRIu64 " acknowledged, %" PRIu64
                " failed in %.2f s: %.0f records/s, %.2f MB/s\n",
                f.acked, f.failed, f.seconds, per_second(static_cast<double>(f.acked), f.seconds),
                per_second(mb, f.seconds));
    std::printf("  ack latency ms (window %u): p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
                o.window, percentile_ms(f.latency_ns, 0.5), percentile_ms(f.latency_ns, 0.99),
                percentile_ms(f.latency_ns, 0.999),
                f.latency_ns.empty() ? 0 : static_cast<double>(f.latency_ns.back()) / 1e6);
    if (!f.first_error.empty()) std::printf("  first failure: %s\n", f.first_error.c_str());
    if (r.consume) {
        const ConsumeFigures& c = *r.consume;
        std::printf("  consume: %" PRIu64 " records in %.2f s: %.0f records/s, %.2f MB/s%s%s\n",
                    c.consumed, c.seconds, per_second(static_cast<double>(c.consumed), c.seconds),
                    per_second(static_cast<double>(c.bytes) / 1e6, c.seconds),
                    c.error.empty() ? "" : "; ", c.error.c_str());
        body += consume_json(c);
    }
    if (o.json_path) {
        std::string json = std::string("{\"bench\":\"") + (o.consume ? "consume" : "produce") +
                           "\"," + body + "}\n";
        (void)write_text_file(*o.json_path, json);
    }
}

std::vector<env::Address> parse_bootstrap(const std::string& list) {
    std::vector<env::Address> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = std::min(list.find(',', start), list.size());
        auto a = env::Address::parse(list.substr(start, comma - start));
        if (!a) return {};
        out.push_back(*a);
        start = comma + 1;
    }
    return out;
}

// The run on a client node: create the topic, produce, consume; 0, or 1 after a message.
int run_phases(env::Env& env, const ServerBenchOptions& o,
               const std::vector<env::Address>& bootstrap, Report& r) {
    std::string topic =
        "keel-bench-" + std::to_string(::getpid()) + "-" + std::to_string(env.now().ns);
    {
        client::TopicAdmin admin(env, bootstrap);
        auto created = admin.create_topic({topic, o.partitions, o.replication, {}});
        if (!created.ok()) {
            std::fprintf(stderr, "keel bench: creating topic %s: %s\n", topic.c_str(),
                         created.error().to_string().c_str());
            return 1;
        }
    }
    r.produce = produce_phase(env, o, bootstrap, topic);
    if (o.consume && r.produce.first_error.empty()) {     // else produce failed: exit 1 anyway
        auto warm = static_cast<uint64_t>(o.partitions);  // read back too; not counted
        r.consume = consume_phase(env, o, bootstrap, topic, r.produce.acked + warm);
        r.consume->consumed -= std::min(warm, r.consume->consumed);
        r.consume->bytes -= std::min(warm * o.record_size, r.consume->bytes);
    }
    if (o.bootstrap) {
        client::TopicAdmin admin(env, bootstrap);
        (void)admin.delete_topic(topic);
    }
    return 0;
}

}  // namespace

const char* server_bench_help() {
    return kHelp;
}

// SIGINT or SIGTERM (taken synchronously, ShutdownSignals) stops the bench: its fibers are
// unwound and the local cluster it started is stopped and removed (LocalRun's destructor),
// so an interrupted run leaves no server processes behind.
int run_server_bench(const ServerBenchOptions& o) {
    prod::ShutdownSignals::block();
    std::optional<LocalRun> local;
    std::string servers = o.bootstrap.value_or("");
    if (!o.bootstrap) {
        local.emplace(o);
        auto started = local->start();
        if (!started.ok()) {
            std::fprintf(stderr, "keel bench: %s\n", started.error().message.c_str());
            return 1;
        }
        servers = *started;
    }
    std::vector<env::Address> bootstrap = parse_bootstrap(servers);
    if (bootstrap.empty()) {
        std::fprintf(stderr, "keel bench: bad bootstrap servers '%s'\n", servers.c_str());
        return 2;
    }
    Report report;
    int rc = 1;
    prod::TempDir dir("keel-bench-client-");
    prod::ProdNodeOptions options;
    options.log.min_level = env::Level::warn;
    prod::ProdNode node("bench", dir.path(), options);
    bool interrupted = false;
    Status st = node.run_blocking([&](env::Env& env) {
        watch_shutdown_signals(env, node, interrupted);
        rc = run_phases(env, o, bootstrap, report);
        node.request_stop();
    });
    if (!st.ok()) {
        std::fprintf(stderr, "keel bench: %s\n", st.error().to_string().c_str());
        return 1;
    }
    if (interrupted) {
        std::fprintf(stderr, "keel bench: interrupted; no figures%s\n",
                     local ? ", stopping the local cluster" : "");
        return 130;
    }
    if (rc != 0) return rc;
    print_report(o, report);
    bool complete = report.produce.failed == 0 && report.produce.acked == o.records &&
                    (!report.consume || report.consume->consumed == report.produce.acked);
    return complete ? 0 : 1;
}

}  // namespace keel::bench
