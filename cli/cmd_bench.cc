#include <cstdio>
#include <string>

#include "bench/log_bench.h"
#include "bench/sim_bench.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace keel::cli {

namespace {
const char* kHelp = R"(usage: keel bench <name> [--json FILE] [options]

benchmarks (figures printed; with --json FILE also written as JSON):
  sim    fiber switch ns, scheduler events/s, simulated messages/s, scenario speed
  log    partition log append/read throughput on real files vs raw sequential writes

'keel bench <name> --help' for each one's options.
)";
}  // namespace

int cmd_bench(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h") {
        std::fputs(kHelp, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    std::string name = argv[2];
    if (name == "sim") return bench::run_sim_bench(argc, argv);
    if (name == "log") return bench::run_log_bench(argc, argv);
    return usage_error("bench", "unknown benchmark '" + name + "'");
}

}  // namespace keel::cli
