// keel topics: Kafka's kafka-topics.sh for any Kafka-compatible cluster — create, list,
// describe (partitions with leader, replicas, ISR, the topic's own configs), delete, and
// alter (more partitions with CreatePartitions, configs with IncrementalAlterConfigs), and
// delete a partition's records below an offset (kafka-delete-records.sh: DeleteRecords).
// Runs client::TopicAdmin; this file only parses and prints.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/client_tool.h"
#include "cli/commands.h"
#include "core/client/topic_admin.h"

namespace keel::cli {

namespace {

const char* kTopicsHelp = R"(usage: keel topics [--bootstrap-server HOST:PORT,...] ACTION [options]

The topics of a Kafka-compatible cluster (kafka-topics.sh). One action:

  --create --topic T [--partitions N] [--replication-factor R] [--config k=v ...]
                     create a topic (without N or R: the broker's defaults)
  --list             the topic names
  --describe [--topic T]
                     partitions with leader, replicas and in-sync replicas, and the
                     topic's own configs (every topic without --topic)
  --delete --topic T delete a topic
  --alter --topic T [--partitions N] [--config k=v ...] [--delete-config k ...]
                     grow a topic to N partitions (CreatePartitions), set or remove
                     topic configs (IncrementalAlterConfigs); at least one of them
  --delete-records --topic T --partition P --offset O
                     delete partition P's records below offset O (-1: below its high
                     watermark); its log then starts at O (DeleteRecords)

options:
  --bootstrap-server HOST:PORT,...  brokers to ask first (default localhost:9092)
  --timeout-ms N                 give up after N ms (default 30000)
  --json                         machine-readable output
  --help                         this text

Exit codes: 0 done, 1 the cluster refused or could not be reached, 2 bad arguments.
)";

struct TopicsArgs {
    std::string action;
    std::string topic;
    client::NewTopic create;
    int32_t partitions = -1;
    std::vector<std::string> delete_configs;  // --alter --delete-config
    int32_t partition = -1;                   // --delete-records
    int64_t offset = -1;
    bool json = false;
    Duration timeout = ms(30'000);
};

std::string ids(const std::vector<NodeId>& nodes, const char* sep) {
    std::string out;
    for (NodeId n : nodes) out += (out.empty() ? "" : sep) + std::to_string(n.value());
    return out;
}

// The topic's own configs (DescribeConfigs source DYNAMIC_TOPIC_CONFIG), as "k=v,k=v";
// empty when it has none or the server does not describe configs.
std::vector<std::pair<std::string, std::string>> own_configs(client::TopicAdmin& admin, const std::string& topic) {
    std::vector<std::pair<std::string, std::string>> out;
    auto configs = admin.describe_configs(topic);
    if (!configs.ok()) return out;
    for (const client::TopicConfigEntry& c : *configs) {
        if (c.source == 1 && c.value) out.emplace_back(c.name, *c.value);
    }
    return out;
}

void print_description(const client::TopicDescription& t, const std::vector<std::pair<std::string, std::string>>& configs,
                       bool json, bool first) {
    size_t rf = t.partitions.empty() ? 0 : t.partitions[0].replicas.size();
    if (json) {
        std::string cfg;
        for (const auto& [k, v] : configs) cfg += (cfg.empty() ? "" : ",") + json_string(k) + ":" + json_string(v);
        std::printf("%s{\"name\":%s,\"topic_id\":\"%s\",\"internal\":%s,\"configs\":{%s},\"partitions\":[",
                    first ? "" : ",", json_string(t.name).c_str(), protocol::uuid_string(t.topic_id).c_str(),
                    t.internal ? "true" : "false", cfg.c_str());
        for (size_t i = 0; i < t.partitions.size(); ++i) {
            const auto& p = t.partitions[i];
            std::printf("%s{\"partition\":%d,\"leader\":%d,\"leader_epoch\":%d,\"replicas\":[%s],\"isr\":[%s],"
                        "\"offline\":[%s]}",
                        i ? "," : "", p.partition.value(), p.leader.value(), p.leader_epoch.value(),
                        ids(p.replicas, ",").c_str(), ids(p.isr, ",").c_str(), ids(p.offline, ",").c_str());
        }
        std::printf("]}");
        return;
    }
    std::string cfg;
    for (const auto& [k, v] : configs) cfg += (cfg.empty() ? "" : ",") + k + "=" + v;
    std::printf("Topic: %s\tTopicId: %s\tPartitionCount: %zu\tReplicationFactor: %zu\tConfigs: %s\n", t.name.c_str(),
                protocol::uuid_string(t.topic_id).c_str(), t.partitions.size(), rf, cfg.c_str());
    for (const auto& p : t.partitions) {
        std::printf("\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s%s%s\n", t.name.c_str(),
                    p.partition.value(), p.leader.value() < 0 ? "none" : std::to_string(p.leader.value()).c_str(),
                    ids(p.replicas, ",").c_str(), ids(p.isr, ",").c_str(), p.offline.empty() ? "" : "\tOffline: ",
                    ids(p.offline, ",").c_str());
    }
}

int describe(client::TopicAdmin& admin, const TopicsArgs& a) {
    auto topics = admin.describe(a.topic.empty() ? std::vector<std::string>{} : std::vector<std::string>{a.topic});
    if (!topics.ok()) return client_error("topics", topics.error().to_string());
    for (const auto& t : *topics) {
        if (t.error == protocol::ErrorCode::unknown_topic_or_partition) {
            return client_error("topics", "topic '" + t.name + "' does not exist");
        }
        if (t.error != protocol::ErrorCode::none) {
            return client_error("topics", protocol::status_from(t.error, "topic " + t.name).error().to_string());
        }
    }
    if (a.json) std::printf("{\"topics\":[");
    bool first = true;
    for (const auto& t : *topics) {
        if (t.internal && a.topic.empty()) continue;
        print_description(t, own_configs(admin, t.name), a.json, first);
        first = false;
    }
    if (a.json) std::printf("]}\n");
    return 0;
}

int list(client::TopicAdmin& admin, const TopicsArgs& a) {
    auto names = admin.list_topics();
    if (!names.ok()) return client_error("topics", names.error().to_string());
    if (a.json) {
        std::string out;
        for (const auto& n : *names) out += (out.empty() ? "" : ",") + json_string(n);
        std::printf("{\"topics\":[%s]}\n", out.c_str());
    } else {
        for (const auto& n : *names) std::printf("%s\n", n.c_str());
    }
    return 0;
}

int delete_records(client::TopicAdmin& admin, const TopicsArgs& a) {
    auto low = admin.delete_records(a.topic, a.partition, a.offset);
    if (!low.ok()) return client_error("topics", low.error().to_string());
    if (a.json) {
        std::printf("{\"topic\":%s,\"partition\":%d,\"low_watermark\":%lld}\n", json_string(a.topic).c_str(),
                    a.partition, static_cast<long long>(*low));
    } else {
        std::printf("Records of %s-%d deleted: its log starts at %lld.\n", a.topic.c_str(), a.partition,
                    static_cast<long long>(*low));
    }
    return 0;
}

int run_action(client::TopicAdmin& admin, const TopicsArgs& a) {
    if (a.action == "--list") return list(admin, a);
    if (a.action == "--delete-records") return delete_records(admin, a);
    if (a.action == "--describe") return describe(admin, a);
    if (a.action == "--create") {
        auto id = admin.create_topic(a.create);
        if (!id.ok()) return client_error("topics", id.error().to_string());
        if (a.json) {
            std::printf("{\"created\":%s,\"topic_id\":\"%s\"}\n", json_string(a.topic).c_str(),
                        protocol::uuid_string(*id).c_str());
        } else {
            std::printf("Created topic %s.\n", a.topic.c_str());
        }
        return 0;
    }
    Status st = ok_status();
    if (a.action == "--delete") {
        st = admin.delete_topic(a.topic);
    } else {
        if (a.partitions > 0) st = admin.create_partitions(a.topic, a.partitions);
        if (st.ok() && (!a.create.configs.empty() || !a.delete_configs.empty())) {
            st = admin.alter_configs(a.topic, a.create.configs, a.delete_configs);
        }
    }
    if (!st.ok()) return client_error("topics", st.error().to_string());
    const char* verb = a.action == "--delete" ? "deleted" : "altered";
    if (a.json) {
        std::printf("{\"%s\":%s}\n", verb, json_string(a.topic).c_str());
    } else {
        std::printf("Topic %s %s.\n", a.topic.c_str(), verb);
    }
    return 0;
}

// --delete-records' --partition and --offset; an error message for a usage error.
std::string parse_delete_records(Args& args, TopicsArgs& a) {
    auto partition = args.value("--partition");
    auto offset = args.value("--offset");
    if (a.action != "--delete-records") {
        return partition || offset ? "--partition and --offset go with --delete-records" : "";
    }
    if (!partition || !offset) return "--delete-records needs --partition P and --offset O";
    char* end = nullptr;
    long long p = std::strtoll(partition->c_str(), &end, 10);
    if (partition->empty() || *end != 0 || p < 0 || p > INT32_MAX) return "--partition must be 0 to 2147483647";
    long long o = std::strtoll(offset->c_str(), &end, 10);
    if (offset->empty() || *end != 0 || o < -1) return "--offset must be -1 (the high watermark) or an offset";
    a.partition = static_cast<int32_t>(p);
    a.offset = o;
    return {};
}

// The action and its arguments; an error message for a usage error.
std::string parse(Args& args, TopicsArgs& a) {
    int actions = 0;
    for (const char* act : {"--create", "--list", "--describe", "--delete", "--alter", "--delete-records"}) {
        if (args.flag(act)) {
            a.action = act;
            ++actions;
        }
    }
    if (actions != 1) return "expected exactly one of --create, --list, --describe, --delete, --alter, --delete-records";
    if (!args.positionals().empty()) return "unexpected argument '" + args.positionals()[0] + "'";
    a.topic = args.value("--topic").value_or("");
    bool needs_topic = a.action != "--list" && a.action != "--describe";
    if (needs_topic && a.topic.empty()) return a.action + " needs --topic";
    if (std::string err = parse_delete_records(args, a); !err.empty()) return err;
    auto partitions = args.u64("--partitions");
    auto rf = args.u64("--replication-factor");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return args.error();
    if (partitions && (*partitions < 1 || *partitions > 1'000'000)) return "--partitions must be 1 to 1000000";
    if (rf && (*rf < 1 || *rf > 32767)) return "--replication-factor must be 1 to 32767";
    bool configs = !args.values("--config").empty();
    a.delete_configs = args.values("--delete-config");
    if ((partitions || rf || configs) && a.action != "--create" && a.action != "--alter") {
        return "--partitions, --replication-factor and --config go with --create (--partitions and --config "
               "also with --alter)";
    }
    if (!a.delete_configs.empty() && a.action != "--alter") return "--delete-config goes with --alter";
    if (a.action == "--alter" && rf) return "--alter cannot change the replication factor";
    if (a.action == "--alter" && !partitions && !configs && a.delete_configs.empty()) {
        return "--alter needs --partitions N, --config k=v or --delete-config k";
    }
    a.partitions = partitions ? static_cast<int32_t>(*partitions) : -1;
    a.create = {a.topic, a.partitions, rf ? static_cast<int16_t>(*rf) : int16_t{-1}, {}};
    for (const std::string& kv : args.values("--config")) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return "--config takes NAME=VALUE, not '" + kv + "'";
        a.create.configs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    a.json = args.flag("--json");
    if (timeout) a.timeout = ms(static_cast<int64_t>(*timeout));
    return {};
}

}  // namespace

int cmd_topics(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--bootstrap-server", "--timeout-ms", "--topic", "--partitions", "--replication-factor",
                       "--partition", "--offset"},
                      {"--help", "--json", "--create", "--list", "--describe", "--delete", "--alter",
                       "--delete-records"},
                      {"--config", "--delete-config"}});
    if (!args.ok()) return usage_error("topics", args.error());
    if (args.flag("--help")) {
        std::fputs(kTopicsHelp, stdout);
        return 0;
    }
    TopicsArgs a;
    if (std::string err = parse(args, a); !err.empty()) return usage_error("topics", err);
    auto bootstrap = bootstrap_of(args);
    if (!bootstrap) return usage_error("topics", "--bootstrap-server must be HOST:PORT[,HOST:PORT...]");
    return run_client("topics", [&](env::Env& env) {
        client::TopicAdmin admin(env, *bootstrap, a.timeout);
        return run_action(admin, a);
    });
}

}  // namespace keel::cli
