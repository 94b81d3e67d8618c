// keel sim merge A.json B.json ... [--json OUT] [--min-efficacy P]
//
// Combines `keel sim sweep --json` results (e.g. the shards of one seed range run by a
// batch runner) into one report: runs, failures with their replay commands, per-metric
// percentiles recomputed from every seed's values, and fault efficacy. A seed present in
// two inputs is an error (overlapping shards), as are inputs of different scenarios.
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/json_lite.h"
#include "cli/sweep_report.h"

namespace keel::cli {

int efficacy_gate(const SweepReport& r, std::optional<double> min_share);  // cmd_sweep.cc

namespace {

std::string read_report(const std::string& path, SweepReport& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot read " + path;
    std::stringstream ss;
    ss << in.rdbuf();
    std::string error;
    auto j = parse_json(ss.str(), error);
    if (!j) return path + ": not JSON (" + error + ")";
    if (!report_from_json(*j, out, error)) return path + ": " + error;
    return "";
}

std::string merge_into(SweepReport& total, SweepReport& part, std::set<uint64_t>& seen, const std::string& path) {
    if (total.scenario.empty()) total.scenario = part.scenario;
    if (part.scenario != total.scenario) {
        return path + " is a sweep of " + part.scenario + ", not of " + total.scenario;
    }
    for (auto& o : part.outcomes) {
        if (!seen.insert(o.seed).second) return "seed " + std::to_string(o.seed) + " appears twice (" + path + ")";
        total.outcomes.push_back(std::move(o));
    }
    total.seeds += (total.seeds.empty() ? "" : ", ") + part.seeds;
    total.wall_ns = std::max(total.wall_ns, part.wall_ns);
    total.cpu_ns += part.cpu_ns;
    total.jobs = std::max(total.jobs, part.jobs);
    return "";
}

}  // namespace

int cmd_sim_merge(int argc, char** argv) {
    ArgSpec spec{{"--json", "--min-efficacy"}, {"--help"}, {}};
    Args a(argc, argv, 3, spec);
    if (a.flag("--help")) {
        std::fputs(sim_help(), stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("sim", a.error());
    if (a.positionals().empty()) return usage_error("sim", "merge needs one or more sweep JSON files");
    std::optional<double> gate;
    if (auto m = a.value("--min-efficacy")) {
        char* end = nullptr;
        double v = std::strtod(m->c_str(), &end);
        if (end == m->c_str() || *end != 0 || v < 0 || v > 1) return usage_error("sim", "--min-efficacy needs a share in [0, 1]");
        gate = v;
    }
    SweepReport total;
    total.jobs = 0;
    std::set<uint64_t> seen;
    for (const auto& path : a.positionals()) {
        SweepReport part;
        if (auto err = read_report(path, part); !err.empty()) return usage_error("sim", err);
        if (auto err = merge_into(total, part, seen, path); !err.empty()) return usage_error("sim", err);
    }
    std::sort(total.outcomes.begin(), total.outcomes.end(), [](const auto& x, const auto& y) { return x.seed < y.seed; });
    total.jobs = std::max<uint64_t>(total.jobs, 1);
    print_report(total);
    if (auto path = a.value("--json")) {
        if (!write_file(*path, report_json(total))) return 2;
        std::printf("  json: %s\n", path->c_str());
    }
    int g = efficacy_gate(total, gate);
    for (const auto& o : total.outcomes) {
        if (!o.ok) return 1;
    }
    return g;
}

}  // namespace keel::cli
