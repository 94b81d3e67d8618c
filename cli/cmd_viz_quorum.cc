// keel viz quorum: a KRaft quorum at one instant of a scenario (or from a status JSON).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "scenarios/quorum_probe.h"
#include "sim/nemesis.h"
#include "sim/scenario.h"
#include "visualize/quorum.h"
#include "visualize/spacetime.h"

namespace keel::cli {

namespace {

const char* kQuorumHelp = R"(usage: keel viz quorum --scenario NAME --seed N --at T --out FILE.svg
                      [--param KEY=VALUE]... [--json-out STATUS.json]
       keel viz quorum --status STATUS.json --out FILE.svg

Draws a KRaft quorum at one instant: for every controller (voter) and broker
(observer) its role, epoch, vote and leader, its log as a bar (grey: covered by a
snapshot, green: committed, yellow: not yet committed) with log start, high
watermark, applied offset and snapshot, and the leader's view of each voter's
fetch offset; arrows show who fetches from whom and (dashed) who voted for whom;
red marks what the network's faults block at that instant (a fetch link, or the
nodes a node cannot send to).

The first form runs a scenario built on the Raft quorum (quorum-chaos,
controller-failover, quorum-disk-loss, controller-brokers, unclean-election,
raft-bug-figure8, ...) with that seed, faults and all, and takes the status at
simulated time T (e.g. 12s, 4500ms); the run itself is the same as without the
picture. --json-out also writes the status JSON, which the second form draws
again. Output: .svg, .png, .pdf (through Graphviz) or .dot.

Example: the quorum-chaos demo 20 s in, then its end state:
  keel viz quorum --scenario quorum-chaos --seed 42 --at 20s --out q.svg
)";

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

// Runs the scenario to --at and returns its status JSON ("" and a message on failure).
std::string status_from_scenario(Args& a, std::string& error) {
    auto name = a.value("--scenario");
    auto at = a.value("--at");
    auto seed = a.u64("--seed");
    if (!name || !at || !seed) {
        error = "quorum needs --scenario NAME --seed N --at T (or --status FILE)";
        return "";
    }
    if (auto d = sim::parse_duration(*at); !d.ok()) {
        error = "--at: " + d.error().message;
        return "";
    }
    const sim::Scenario* s = sim::ScenarioRegistry::find(*name);
    if (s == nullptr) {
        error = "no scenario named '" + *name + "'";
        return "";
    }
    sim::RunOptions o;
    o.seed = *seed;
    for (const auto& p : a.values("--param")) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0) {
            error = "--param needs KEY=VALUE, got '" + p + "'";
            return "";
        }
        o.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    o.params["viz_at"] = *at;
    std::string json;
    scenarios::set_quorum_status_probe([&json](const std::string& j) { json = j; });
    sim::RunResult r = sim::run_scenario(*s, o);
    scenarios::set_quorum_status_probe({});
    if (json.empty()) {
        error = "scenario '" + *name + "' produced no quorum status at " + *at + " (it is not built on the Raft " +
                "quorum, or its run ended at " + std::to_string(r.sim_time_ns / 1'000'000) + " ms)" +
                (r.violations.empty() ? "" : ": " + r.violations[0]);
    }
    return json;
}

}  // namespace

int cmd_viz_quorum(int argc, char** argv) {
    ArgSpec spec{{"--scenario", "--seed", "--at", "--out", "--status", "--json-out"}, {"--help"}, {"--param"}};
    Args a(argc, argv, 3, spec);
    if (a.flag("--help")) {
        std::fputs(kQuorumHelp, stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("viz", a.error());
    auto out = a.value("--out");
    if (!out) return usage_error("viz", "quorum needs --out FILE.svg");
    std::string json, error, title;
    if (auto status = a.value("--status")) {
        if (!read_file(*status, json)) return usage_error("viz", "cannot read " + *status);
        title = *status;
    } else {
        json = status_from_scenario(a, error);
        if (!a.ok()) return usage_error("viz", a.error());
        if (!error.empty()) return usage_error("viz", error);
        title = *a.value("--scenario") + " seed " + *a.value("--seed");
    }
    if (auto j = a.value("--json-out")) {
        std::ofstream f(*j);
        f << json << "\n";
        if (!f) return usage_error("viz", "cannot write " + *j);
    }
    viz::QuorumView view = viz::parse_quorum_status(json, error);
    if (!error.empty()) return usage_error("viz", error);
    std::string err = viz::render_dot(viz::quorum_dot(view, title), *out);
    if (!err.empty()) {
        std::fprintf(stderr, "keel viz: %s\n", err.c_str());
        return 1;
    }
    std::printf("wrote %s: %zu nodes at t=%.3fs, committed up to %lld\n", out->c_str(), view.nodes.size(),
                static_cast<double>(view.t_ns) / 1e9, static_cast<long long>(view.committed_end));
    return 0;
}

}  // namespace keel::cli
