// keel — one command, with subcommands.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/dump_log.h"

namespace {

const char* kHelp = R"(usage: keel <command> [options]

Keel: a Kafka-compatible distributed log whose whole logic runs unchanged in a
deterministic simulator and in production.

commands:
  server     run a Kafka-compatible node (no arguments: one node on localhost:9092)
  storage    format a data directory (meta.properties), print a new cluster id
  groups     consumer groups of a running cluster: list, describe (members, lag), reset offsets
  topics     topics of a running cluster: create, list, describe, delete, alter
  produce    send stdin lines as records to a topic
  consume    print a topic's records (from an offset, or as a consumer group)
  cluster    a local cluster of keel server processes: up, down, status
  nemesis    kill, pause and restart a local cluster's nodes under a checked workload
  sim        deterministic simulation: list, run, sweep, merge, check-determinism
  viz        draw traces and cluster state with Graphviz (spacetime, quorum)
  bench      benchmarks printing figures (sim, log, pubsub); --json FILE for machines
  dump-log   print a partition log segment, index or checkpoint file
  pubsub     the embedded thread-safe pub-sub library: demo
  version    print the version

'keel <command> --help' describes each one.
)";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(kHelp, stderr);
        return 2;
    }
    std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (cmd == "version" || cmd == "--version") {
        std::printf("keel %s\n", KEEL_VERSION);
        return 0;
    }
    if (cmd == "server") return keel::cli::cmd_server(argc, argv);
    if (cmd == "storage") return keel::cli::cmd_storage(argc, argv);
    if (cmd == "groups") return keel::cli::cmd_groups(argc, argv);
    if (cmd == "topics") return keel::cli::cmd_topics(argc, argv);
    if (cmd == "produce") return keel::cli::cmd_produce(argc, argv);
    if (cmd == "consume") return keel::cli::cmd_consume(argc, argv);
    if (cmd == "cluster") return keel::cli::cmd_cluster(argc, argv);
    if (cmd == "nemesis") return keel::cli::cmd_nemesis(argc, argv);
    if (cmd == "sim") return keel::cli::cmd_sim(argc, argv);
    if (cmd == "viz") return keel::cli::cmd_viz(argc, argv);
    if (cmd == "bench") return keel::cli::cmd_bench(argc, argv);
    if (cmd == "dump-log") return keel::cli::run_dump_log(argc, argv);
    if (cmd == "pubsub") return keel::cli::cmd_pubsub(argc, argv);
    std::fprintf(stderr, "keel: unknown command '%s'\n(try 'keel --help')\n", cmd.c_str());
    return 2;
}
