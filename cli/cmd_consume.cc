// keel consume: Kafka's kafka-console-consumer.sh — prints the records of a topic (every
// partition, or one with --partition) from the end, the beginning or an offset; or, with
// --group, as a member of a consumer group (client::Consumer's classic protocol), committing
// the offsets of what it printed. Stops after --max-messages records, or after --timeout-ms
// without a record.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/client_tool.h"
#include "cli/commands.h"
#include "core/client/consumer.h"
#include "core/client/topic_admin.h"
#include "core/compression/batch.h"

namespace keel::cli {

namespace {

const char* kConsumeHelp = R"(usage: keel consume [--bootstrap-server HOST:PORT,...] --topic T [options]

Prints the records of a topic, one per line (kafka-console-consumer.sh).

options:
  --topic T                      the topic (required)
  --from-beginning               start at the earliest offset (default: the end; with
                                 --group: where the group has no committed offset)
  --offset N                     start at offset N (needs --partition)
  --partition P                  read only partition P (default: every partition)
  --group G                      consume as a member of group G and commit what was printed
  --max-messages N               stop after N records
  --timeout-ms MS                stop after MS without a record (default: never)
  --print-key                    print key<TAB>value
  --json                         one JSON object per record (topic, partition, offset,
                                 timestamp, key, value)
  --bootstrap-server HOST:PORT,...  brokers to ask first (default localhost:9092)
  --help                         this text

The number of records printed goes to stderr at the end.
)";

struct ConsumeArgs {
    client::ConsumerConfig config;
    std::string topic;
    std::optional<PartitionIndex> partition;
    std::optional<int64_t> offset;
    std::optional<uint64_t> max_messages;
    std::optional<Duration> idle_timeout;
    bool print_key = false;
    bool json = false;
};

std::string text_of(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "null"; }

void print_record(const client::ConsumerRecord& r, const ConsumeArgs& a) {
    if (a.json) {
        std::printf("{\"topic\":%s,\"partition\":%d,\"offset\":%lld,\"timestamp\":%lld,\"key\":%s,\"value\":%s}\n",
                    json_string(r.topic).c_str(), r.partition.value(), static_cast<long long>(r.offset.value()),
                    static_cast<long long>(r.timestamp_ms), r.key ? json_string(text_of(r.key)).c_str() : "null",
                    r.value ? json_string(text_of(r.value)).c_str() : "null");
    } else if (a.print_key) {
        std::printf("%s\t%s\n", text_of(r.key).c_str(), text_of(r.value).c_str());
    } else {
        std::printf("%s\n", text_of(r.value).c_str());
    }
}

// Assigns the partitions (or subscribes with --group) and seeks to --offset.
Status start(client::Consumer& consumer, const ConsumeArgs& a, int32_t partition_count) {
    if (a.config.group_id) return consumer.subscribe({a.topic});
    std::vector<client::TopicPartitionName> parts;
    if (a.partition) {
        if (a.partition->value() >= partition_count) {
            return Status(Errc::unknown_topic_or_partition, "topic " + a.topic + " has no partition " +
                                                                std::to_string(a.partition->value()));
        }
        parts.push_back({a.topic, *a.partition});
    } else {
        for (int32_t p = 0; p < partition_count; ++p) parts.push_back({a.topic, PartitionIndex(p)});
    }
    consumer.assign(parts);
    if (a.offset) return consumer.seek(parts[0], Offset(*a.offset));
    return ok_status();
}

int consume_loop(env::Env& env, client::Consumer& consumer, const ConsumeArgs& a) {
    uint64_t printed = 0;
    Instant idle_until = a.idle_timeout ? env.now() + *a.idle_timeout : Instant::max();
    int rc = 0;
    while ((!a.max_messages || printed < *a.max_messages) && env.now() < idle_until) {
        Duration wait = a.idle_timeout ? std::min<Duration>(idle_until - env.now(), ms(500)) : ms(500);
        auto records = consumer.poll(wait);
        if (!records.ok()) {
            rc = client_error("consume", records.error().to_string());
            break;
        }
        client::OffsetMap done;
        for (const auto& r : *records) {
            if (a.max_messages && printed >= *a.max_messages) break;
            print_record(r, a);
            ++printed;
            done[{r.topic, r.partition}] = Offset(r.offset.value() + 1);
        }
        std::fflush(stdout);
        if (!records->empty() && a.idle_timeout) idle_until = env.now() + *a.idle_timeout;
        if (a.config.group_id && !done.empty()) {
            if (Status st = consumer.commit_sync(done); !st.ok()) {
                rc = client_error("consume", "commit: " + st.error().to_string());
                break;
            }
        }
    }
    std::fprintf(stderr, "Processed a total of %llu messages\n", static_cast<unsigned long long>(printed));
    return rc;
}

int consume(env::Env& env, const ConsumeArgs& a) {
    int32_t partition_count = 0;
    {
        client::TopicAdmin admin(env, a.config.bootstrap, a.config.request_timeout);
        auto d = admin.describe({a.topic});
        if (!d.ok()) return client_error("consume", d.error().to_string());
        if (d->size() != 1 || (*d)[0].error != protocol::ErrorCode::none) {
            return client_error("consume", "topic '" + a.topic + "' does not exist");
        }
        partition_count = static_cast<int32_t>((*d)[0].partitions.size());
    }
    client::Consumer consumer(env, a.config);
    if (Status st = start(consumer, a, partition_count); !st.ok()) return client_error("consume", st.error().to_string());
    int rc = consume_loop(env, consumer, a);
    consumer.close();
    return rc;
}

std::string parse(Args& args, ConsumeArgs& a) {
    if (!args.positionals().empty()) return "unexpected argument '" + args.positionals()[0] + "'";
    a.topic = args.value("--topic").value_or("");
    if (a.topic.empty()) return "--topic is required";
    auto partition = args.u64("--partition");
    auto offset = args.u64("--offset");
    a.max_messages = args.u64("--max-messages");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return args.error();
    if (offset && args.flag("--from-beginning")) return "--offset and --from-beginning exclude each other";
    if (offset && !partition) return "--offset needs --partition";
    auto group = args.value("--group");
    if (group && (partition || offset)) return "--group takes no --partition or --offset (the group assigns)";
    if (group && group->empty()) return "--group must not be empty";
    if (partition && *partition > 0x7fffffff) return "--partition is too large";
    if (offset && *offset > (uint64_t{1} << 62)) return "--offset is too large";
    if (partition) a.partition = PartitionIndex(static_cast<int32_t>(*partition));
    if (offset) a.offset = static_cast<int64_t>(*offset);
    if (timeout) a.idle_timeout = ms(static_cast<int64_t>(*timeout));
    a.config.group_id = group;
    a.config.enable_auto_commit = false;  // commits what was printed, after printing it
    a.config.auto_offset_reset = args.flag("--from-beginning") ? client::OffsetReset::earliest : client::OffsetReset::latest;
    a.config.codec = &compression::batch_codec();
    a.config.client_id = "keel-consume";
    a.print_key = args.flag("--print-key");
    a.json = args.flag("--json");
    return {};
}

}  // namespace

int cmd_consume(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--bootstrap-server", "--topic", "--offset", "--partition", "--group", "--max-messages",
                       "--timeout-ms"},
                      {"--help", "--json", "--from-beginning", "--print-key"},
                      {}});
    if (!args.ok()) return usage_error("consume", args.error());
    if (args.flag("--help")) {
        std::fputs(kConsumeHelp, stdout);
        return 0;
    }
    ConsumeArgs a;
    if (std::string err = parse(args, a); !err.empty()) return usage_error("consume", err);
    auto bootstrap = bootstrap_of(args);
    if (!bootstrap) return usage_error("consume", "--bootstrap-server must be HOST:PORT[,HOST:PORT...]");
    a.config.bootstrap = *bootstrap;
    return run_client("consume", [&](env::Env& env) { return consume(env, a); });
}

}  // namespace keel::cli
