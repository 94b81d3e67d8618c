// keel produce: Kafka's kafka-console-producer.sh — one record per line of stdin (the key
// before --key-separator when given), sent by client::Producer with the chosen acks,
// idempotence, partition and compression; then a summary (sent, acknowledged, failed),
// and a non-zero exit if any record failed. stdin is read without blocking the node's
// fibers (poll, then sleep), so records go out while the input still streams in.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/client_tool.h"
#include "cli/commands.h"
#include "core/client/producer.h"
#include "core/client/topic_admin.h"
#include "core/compression/batch.h"

namespace keel::cli {

namespace {

const char* kProduceHelp = R"(usage: keel produce [--bootstrap-server HOST:PORT,...] --topic T [options] < lines

Sends one record per line of stdin (kafka-console-producer.sh), then prints how many
records were sent, acknowledged and failed; exits 1 if any failed.

options:
  --topic T                      the topic (required)
  --key-separator S              the key is the text before the first S (a line without S
                                 fails); without it records have no key
  --acks 0|1|all                 acknowledgements to wait for (default all)
  --idempotence                  the idempotent producer (needs --acks all)
  --partition P                  send every record to partition P (default: by key, murmur2;
                                 without keys, sticky)
  --compression none|gzip|snappy|lz4|zstd   batch compression (default none)
  --timeout-ms N                 request timeout; a record fails after 2N (default 30000)
  --bootstrap-server HOST:PORT,...  brokers to ask first (default localhost:9092)
  --json                         one JSON line per record (line, partition, offset or
                                 error), then a JSON summary line
  --help                         this text
)";

struct ProduceArgs {
    client::ProducerConfig config;
    std::string topic;
    std::optional<std::string> separator;
    std::optional<PartitionIndex> partition;
    bool json = false;
};

struct Pending {
    size_t line = 0;
    env::Future<client::RecordMetadata> future;
    std::string error;  // set when the line never became a record
};

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Reads stdin line by line without blocking the node: poll, and sleep on the fiber while
// nothing is there. Calls on_line for each line (a last line without newline too).
template <typename F>
void read_lines(env::Env& env, F on_line) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        int ready = ::poll(&p, 1, 0);
        if (ready == 0 || (ready < 0 && errno == EINTR)) {
            env.executor().sleep_for(ms(5));
            continue;
        }
        ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
            on_line(buffer.substr(start, nl - start));
        }
        buffer.erase(0, start);
    }
    if (!buffer.empty()) on_line(buffer);
}

Pending send_line(client::Producer& producer, const ProduceArgs& a, size_t line_no, std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    client::ProducerRecord r;
    r.topic = a.topic;
    r.partition = a.partition;
    if (a.separator) {
        size_t at = line.find(*a.separator);
        if (at == std::string::npos) return {line_no, {}, "no key separator on line " + std::to_string(line_no)};
        r.key = bytes_of(line.substr(0, at));
        line.erase(0, at + a.separator->size());
    }
    r.value = bytes_of(line);
    return {line_no, producer.send(std::move(r)), {}};
}

int produce(env::Env& env, const ProduceArgs& a) {
    {
        // Fail fast (exit 1) when no broker answers, instead of every record timing out.
        client::TopicAdmin admin(env, a.config.bootstrap, a.config.request_timeout);
        auto reached = admin.describe({a.topic});
        if (!reached.ok()) return client_error("produce", reached.error().to_string());
    }
    client::Producer producer(env, a.config);
    std::vector<Pending> pending;
    read_lines(env, [&](std::string line) { pending.push_back(send_line(producer, a, pending.size() + 1, std::move(line))); });
    (void)producer.flush(a.config.delivery_timeout);
    size_t acked = 0, failed = 0;
    for (Pending& p : pending) {
        Result<client::RecordMetadata> md = p.error.empty() ? p.future.get_for(a.config.delivery_timeout)
                                                            : Result<client::RecordMetadata>(Errc::invalid_argument, p.error);
        if (md.ok()) {
            ++acked;
            if (a.json) {
                std::printf("{\"line\":%zu,\"partition\":%d,\"offset\":%lld}\n", p.line, md->partition.value(),
                            static_cast<long long>(md->offset.value()));
            }
            continue;
        }
        ++failed;
        if (a.json) {
            std::printf("{\"line\":%zu,\"error\":%s}\n", p.line, json_string(md.error().to_string()).c_str());
        } else {
            std::fprintf(stderr, "keel produce: line %zu: %s\n", p.line, md.error().to_string().c_str());
        }
    }
    producer.close();
    if (a.json) {
        std::printf("{\"records\":%zu,\"acknowledged\":%zu,\"failed\":%zu}\n", pending.size(), acked, failed);
    } else {
        std::printf("%zu record(s) sent, %zu acknowledged, %zu failed\n", pending.size(), acked, failed);
    }
    return failed == 0 ? 0 : 1;
}

std::optional<log::Compression> compression_of(const std::string& name) {
    for (auto c : {log::Compression::none, log::Compression::gzip, log::Compression::snappy, log::Compression::lz4,
                   log::Compression::zstd}) {
        if (log::compression_name(c) == name) return c;
    }
    return std::nullopt;
}

std::string parse(Args& args, ProduceArgs& a) {
    if (!args.positionals().empty()) return "unexpected argument '" + args.positionals()[0] + "'";
    a.topic = args.value("--topic").value_or("");
    if (a.topic.empty()) return "--topic is required";
    a.separator = args.value("--key-separator");
    if (a.separator && a.separator->empty()) return "--key-separator must not be empty";
    std::string acks = args.value("--acks").value_or("all");
    if (acks != "0" && acks != "1" && acks != "all" && acks != "-1") return "--acks must be 0, 1 or all";
    a.config.acks = acks == "0" ? 0 : acks == "1" ? 1 : -1;
    a.config.enable_idempotence = args.flag("--idempotence");
    if (a.config.enable_idempotence && a.config.acks != -1) return "--idempotence needs --acks all";
    auto partition = args.u64("--partition");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return args.error();
    if (partition && *partition > 0x7fffffff) return "--partition is too large";
    if (partition) a.partition = PartitionIndex(static_cast<int32_t>(*partition));
    auto compression = compression_of(args.value("--compression").value_or("none"));
    if (!compression) return "--compression must be none, gzip, snappy, lz4 or zstd";
    a.config.compression = *compression;
    a.config.codec = &compression::batch_codec();
    if (timeout && *timeout == 0) return "--timeout-ms must be positive";
    a.config.request_timeout = ms(static_cast<int64_t>(timeout.value_or(30'000)));
    a.config.delivery_timeout = 2 * a.config.request_timeout + a.config.linger;
    a.config.max_block = a.config.request_timeout;
    a.config.client_id = "keel-produce";
    a.json = args.flag("--json");
    return {};
}

}  // namespace

int cmd_produce(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--bootstrap-server", "--topic", "--key-separator", "--acks", "--partition", "--compression",
                       "--timeout-ms"},
                      {"--help", "--json", "--idempotence"},
                      {}});
    if (!args.ok()) return usage_error("produce", args.error());
    if (args.flag("--help")) {
        std::fputs(kProduceHelp, stdout);
        return 0;
    }
    ProduceArgs a;
    if (std::string err = parse(args, a); !err.empty()) return usage_error("produce", err);
    auto bootstrap = bootstrap_of(args);
    if (!bootstrap) return usage_error("produce", "--bootstrap-server must be HOST:PORT[,HOST:PORT...]");
    a.config.bootstrap = *bootstrap;
    return run_client("produce", [&](env::Env& env) { return produce(env, a); });
}

}  // namespace keel::cli
