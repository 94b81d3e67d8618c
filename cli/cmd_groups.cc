// keel groups: Kafka's kafka-consumer-groups.sh for any Kafka-compatible cluster (Keel's or
// Kafka's): the groups, a group's members and assignments, and its lag per partition —
// the high watermark minus the committed offset — and --reset-offsets for a group without
// members. Runs client::GroupAdmin on a production node (real sockets, the real clock).
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/client_tool.h"
#include "cli/commands.h"
#include "core/client/group_admin.h"

namespace keel::cli {

namespace {

const char* kGroupsHelp = R"(usage: keel groups [--bootstrap-server HOST:PORT,...] [--timeout-ms N] COMMAND

The consumer groups of a Kafka-compatible cluster (kafka-consumer-groups.sh):

  list | --list      every group: id, protocol type, state
  describe GROUP | --describe --group GROUP
                     state, assignor, coordinator, and per partition: the member that owns
                     it, the committed offset, the high watermark and the lag (HW - committed)
  --reset-offsets --group GROUP --topic T (--to-earliest | --to-latest | --to-offset N)
                     [--execute]
                     the new committed offset of every partition of T (--to-offset is
                     clamped to each partition's earliest..latest); a dry run prints the
                     plan, --execute commits it. The group must have no members.

options:
  --bootstrap-server HOST:PORT,...  brokers to ask first (default localhost:9092)
  --timeout-ms N                 give up after N ms (default 30000)
  --json                         machine-readable output
  --help                         this text
)";

struct GroupsArgs {
    std::string command;  // list, describe, reset
    std::string group;
    client::OffsetResetSpec reset;
    bool execute = false;
    bool json = false;
};

std::string name_of(const client::TopicPartitionName& tp) { return tp.to_string(); }

int list(client::GroupAdmin& admin, bool json) {
    auto groups = admin.list_groups();
    if (!groups.ok()) {
        std::fprintf(stderr, "keel groups: %s\n", groups.error().to_string().c_str());
        return 1;
    }
    if (json) {
        std::string out;
        for (const auto& g : *groups) {
            out += std::string(out.empty() ? "" : ",") + "{\"group\":" + json_string(g.group_id) +
                   ",\"protocol_type\":" + json_string(g.protocol_type) + ",\"state\":" + json_string(g.state) + "}";
        }
        std::printf("{\"groups\":[%s]}\n", out.c_str());
        return 0;
    }
    std::printf("%-32s %-12s %s\n", "GROUP", "TYPE", "STATE");
    for (const auto& g : *groups) std::printf("%-32s %-12s %s\n", g.group_id.c_str(), g.protocol_type.c_str(), g.state.c_str());
    return 0;
}

int describe(client::GroupAdmin& admin, const std::string& group) {
    auto d = admin.describe(group);
    if (!d.ok()) {
        std::fprintf(stderr, "keel groups: %s\n", d.error().to_string().c_str());
        return 1;
    }
    std::printf("group %s: state %s, protocol %s/%s, coordinator %d, %zu member(s)\n", group.c_str(), d->state.c_str(),
                d->protocol_type.c_str(), d->protocol.c_str(), d->coordinator.value(), d->members.size());
    for (const auto& m : d->members) {
        std::string parts;
        for (const auto& tp : m.assignment) parts += (parts.empty() ? "" : ",") + name_of(tp);
        std::printf("  member %s (client %s%s): %s\n", m.member_id.c_str(), m.client_id.c_str(),
                    m.group_instance_id ? (", instance " + *m.group_instance_id).c_str() : "", parts.c_str());
    }
    auto lag = admin.lag(group);
    if (!lag.ok()) {
        std::fprintf(stderr, "keel groups: %s\n", lag.error().to_string().c_str());
        return 1;
    }
    std::printf("%-28s %14s %14s %10s  %s\n", "PARTITION", "COMMITTED", "LOG-END", "LAG", "OWNER");
    int64_t total = 0;
    for (const auto& l : *lag) {
        total += l.lag > 0 ? l.lag : 0;
        std::printf("%-28s %14lld %14lld %10lld  %s\n", name_of(l.partition).c_str(),
                    static_cast<long long>(l.committed.value()), static_cast<long long>(l.log_end.value()),
                    static_cast<long long>(l.lag), l.owner.empty() ? "-" : l.owner.c_str());
    }
    std::printf("total lag %lld\n", static_cast<long long>(total));
    return 0;
}

int describe_json(client::GroupAdmin& admin, const std::string& group) {
    auto d = admin.describe(group);
    if (!d.ok()) return client_error("groups", d.error().to_string());
    auto lag = admin.lag(group);
    if (!lag.ok()) return client_error("groups", lag.error().to_string());
    std::string members;
    for (const auto& m : d->members) {
        std::string parts;
        for (const auto& tp : m.assignment) parts += (parts.empty() ? "" : ",") + json_string(name_of(tp));
        members += std::string(members.empty() ? "" : ",") + "{\"member_id\":" + json_string(m.member_id) +
                   ",\"client_id\":" + json_string(m.client_id) + ",\"assignment\":[" + parts + "]}";
    }
    std::string lags;
    int64_t total = 0;
    for (const auto& l : *lag) {
        total += l.lag > 0 ? l.lag : 0;
        lags += std::string(lags.empty() ? "" : ",") + "{\"topic\":" + json_string(l.partition.topic) +
                ",\"partition\":" + std::to_string(l.partition.partition.value()) +
                ",\"committed\":" + std::to_string(l.committed.value()) + ",\"log_end\":" +
                std::to_string(l.log_end.value()) + ",\"lag\":" + std::to_string(l.lag) +
                ",\"owner\":" + json_string(l.owner) + "}";
    }
    std::printf("{\"group\":%s,\"state\":%s,\"protocol_type\":%s,\"protocol\":%s,\"coordinator\":%d,\"members\":[%s],"
                "\"partitions\":[%s],\"total_lag\":%lld}\n",
                json_string(group).c_str(), json_string(d->state).c_str(), json_string(d->protocol_type).c_str(),
                json_string(d->protocol).c_str(), d->coordinator.value(), members.c_str(), lags.c_str(),
                static_cast<long long>(total));
    return 0;
}

int reset(client::GroupAdmin& admin, const GroupsArgs& a) {
    auto plan = admin.reset_offsets(a.group, a.reset, a.execute);
    if (!plan.ok()) return client_error("groups", plan.error().to_string());
    if (a.json) {
        std::string out;
        for (const auto& p : *plan) {
            out += std::string(out.empty() ? "" : ",") + "{\"topic\":" + json_string(p.partition.topic) +
                   ",\"partition\":" + std::to_string(p.partition.partition.value()) +
                   ",\"current\":" + std::to_string(p.current.value()) +
                   ",\"new\":" + std::to_string(p.target.value()) + "}";
        }
        std::printf("{\"group\":%s,\"executed\":%s,\"partitions\":[%s]}\n", json_string(a.group).c_str(),
                    a.execute ? "true" : "false", out.c_str());
        return 0;
    }
    std::printf("%-28s %-28s %14s %14s\n", "GROUP", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
    for (const auto& p : *plan) {
        std::printf("%-28s %-28s %14lld %14lld\n", a.group.c_str(), name_of(p.partition).c_str(),
                    static_cast<long long>(p.current.value()), static_cast<long long>(p.target.value()));
    }
    std::printf(a.execute ? "offsets committed\n" : "dry run: nothing committed (add --execute to commit)\n");
    return 0;
}

// --reset-offsets and its options; an error message for a usage error.
std::string parse_reset(Args& args, GroupsArgs& a) {
    a.command = "reset";
    a.group = args.value("--group").value_or("");
    a.reset.topic = args.value("--topic").value_or("");
    if (a.group.empty() || a.reset.topic.empty()) return "--reset-offsets needs --group and --topic";
    auto to_offset = args.u64("--to-offset");
    if (!args.ok()) return args.error();
    int targets = (args.flag("--to-earliest") ? 1 : 0) + (args.flag("--to-latest") ? 1 : 0) + (to_offset ? 1 : 0);
    if (targets != 1) return "--reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N";
    if (to_offset && *to_offset > (uint64_t{1} << 62)) return "--to-offset is too large";
    a.reset.to = args.flag("--to-earliest") ? client::ResetTo::earliest
                 : args.flag("--to-latest") ? client::ResetTo::latest
                                            : client::ResetTo::offset;
    a.reset.offset = to_offset ? static_cast<int64_t>(*to_offset) : 0;
    a.execute = args.flag("--execute");
    if (a.execute && args.flag("--dry-run")) return "--execute and --dry-run exclude each other";
    return {};
}

std::string parse(Args& args, GroupsArgs& a) {
    const auto& pos = args.positionals();
    a.json = args.flag("--json");
    bool reset_only = args.flag("--to-earliest") || args.flag("--to-latest") || args.value("--to-offset") ||
                      args.flag("--execute") || args.flag("--dry-run") || args.value("--topic");
    if (args.flag("--reset-offsets")) {
        if (!pos.empty() || args.flag("--list") || args.flag("--describe")) return "--reset-offsets goes alone";
        return parse_reset(args, a);
    }
    if (reset_only) return "--topic, --to-*, --execute and --dry-run go with --reset-offsets";
    if (args.flag("--list") && !args.flag("--describe") && pos.empty() && !args.value("--group")) {
        a.command = "list";
    } else if (args.flag("--describe") && !args.flag("--list") && pos.empty() && args.value("--group")) {
        a.command = "describe";
        a.group = *args.value("--group");
    } else if (!args.flag("--list") && !args.flag("--describe") && !args.value("--group") && pos.size() == 1 &&
               pos[0] == "list") {
        a.command = "list";
    } else if (!args.flag("--list") && !args.flag("--describe") && !args.value("--group") && pos.size() == 2 &&
               pos[0] == "describe") {
        a.command = "describe";
        a.group = pos[1];
    } else {
        return "expected 'list', 'describe GROUP', --describe --group GROUP or --reset-offsets";
    }
    return {};
}

}  // namespace

int cmd_groups(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--bootstrap-server", "--timeout-ms", "--group", "--topic", "--to-offset"},
                      {"--help", "--json", "--list", "--describe", "--reset-offsets", "--to-earliest", "--to-latest",
                       "--execute", "--dry-run"},
                      {}});
    if (!args.ok()) return usage_error("groups", args.error());
    if (args.flag("--help")) {
        std::fputs(kGroupsHelp, stdout);
        return 0;
    }
    GroupsArgs a;
    if (std::string err = parse(args, a); !err.empty()) return usage_error("groups", err);
    auto bootstrap = bootstrap_of(args);
    if (!bootstrap) return usage_error("groups", "--bootstrap-server must be HOST:PORT[,HOST:PORT...]");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return usage_error("groups", args.error());
    return run_client("groups", [&](env::Env& env) {
        client::GroupAdmin admin(env, *bootstrap, ms(static_cast<int64_t>(timeout.value_or(30'000))));
        if (a.command == "list") return list(admin, a.json);
        if (a.command == "describe") return a.json ? describe_json(admin, a.group) : describe(admin, a.group);
        return reset(admin, a);
    });
}

}  // namespace keel::cli
