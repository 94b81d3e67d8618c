// The keel subcommands. Each returns the process exit code: 0 success, 1 a failed check
// (violations, nondeterminism), 2 a usage or input error.
#pragma once

namespace keel::cli {

int cmd_sim(int argc, char** argv);
int cmd_viz(int argc, char** argv);
int cmd_bench(int argc, char** argv);
const char* sim_help();
int cmd_pubsub(int argc, char** argv);
int cmd_server(int argc, char** argv);
int cmd_storage(int argc, char** argv);
int cmd_groups(int argc, char** argv);
int cmd_topics(int argc, char** argv);
int cmd_produce(int argc, char** argv);
int cmd_consume(int argc, char** argv);
int cmd_cluster(int argc, char** argv);
int cmd_nemesis(int argc, char** argv);

}  // namespace keel::cli
