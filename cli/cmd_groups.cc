// keel groups: Kafka's kafka-consumer-groups.sh for any Kafka-compatible cluster (Keel's or
// Kafka's): the groups, a group's members and assignments, and its lag per partition —
// the high watermark minus the committed offset. Runs client::GroupAdmin on a production
// node (real sockets, the real clock).
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/client/group_admin.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::cli {

namespace {

const char* kGroupsHelp = R"(usage: keel groups [--bootstrap-server HOST:PORT] [--timeout-ms N] COMMAND

The consumer groups of a Kafka-compatible cluster (kafka-consumer-groups.sh):

  list               every group: id, protocol type, state
  describe GROUP     state, assignor, coordinator, and per partition: the member that owns
                     it, the committed offset, the high watermark and the lag (HW - committed)

options:
  --bootstrap-server HOST:PORT   a broker to ask first (default localhost:9092)
  --timeout-ms N                 give up after N ms (default 30000)
  --help                         this text
)";

std::string name_of(const client::TopicPartitionName& tp) { return tp.to_string(); }

int list(client::GroupAdmin& admin) {
    auto groups = admin.list_groups();
    if (!groups.ok()) {
        std::fprintf(stderr, "keel groups: %s\n", groups.error().to_string().c_str());
        return 1;
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

}  // namespace

int cmd_groups(int argc, char** argv) {
    Args args(argc, argv, 2, ArgSpec{{"--bootstrap-server", "--timeout-ms"}, {"--help"}, {}});
    if (!args.ok()) return usage_error("groups", args.error());
    if (args.flag("--help")) {
        std::fputs(kGroupsHelp, stdout);
        return 0;
    }
    const auto& pos = args.positionals();
    if (pos.empty() || (pos[0] != "list" && pos[0] != "describe") || (pos[0] == "describe") != (pos.size() == 2) ||
        pos.size() > 2) {
        return usage_error("groups", "expected 'list' or 'describe GROUP'");
    }
    auto bootstrap = env::Address::parse(args.value("--bootstrap-server").value_or("localhost:9092"));
    if (!bootstrap) return usage_error("groups", "--bootstrap-server must be HOST:PORT");
    auto timeout = args.u64("--timeout-ms");
    if (!args.ok()) return usage_error("groups", args.error());
    int rc = 1;
    prod::TempDir dir("keel-groups-");
    prod::ProdNodeOptions options;
    options.log.min_level = env::Level::warn;  // a command's output, not a server's log
    prod::ProdNode node("groups", dir.path(), options);
    Status st = node.run_blocking([&](env::Env& env) {
        client::GroupAdmin admin(env, {*bootstrap}, ms(static_cast<int64_t>(timeout.value_or(30'000))));
        rc = pos[0] == "list" ? list(admin) : describe(admin, pos[1]);
        node.request_stop();
    });
    if (!st.ok()) {
        std::fprintf(stderr, "keel groups: %s\n", st.error().to_string().c_str());
        return 1;
    }
    return rc;
}

}  // namespace keel::cli
