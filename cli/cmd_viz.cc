// keel viz spacetime TRACE --out F.svg [--from T] [--to T] [--max-events N] [--nodes a,b] [--logs]
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "sim/nemesis.h"
#include "visualize/spacetime.h"

namespace keel::cli {

int cmd_viz_quorum(int argc, char** argv);

namespace {

const char* kHelp = R"(usage: keel viz <command> [options]

commands:
  spacetime TRACE --out FILE.svg     a space-time (Lamport) diagram of a trace window:
        [--from 2s] [--to 2500ms]    one column per node, messages as arrows, faults in red
        [--max-events N]             (default 400; the window's first N events)
        [--nodes n1,n2]              only these columns
        [--logs]                     include node log lines
     Make a trace with: keel sim run NAME --seed N --trace run.jsonl
     Output: .svg, .png, .pdf (through Graphviz) or .dot.
  quorum --scenario NAME --seed N --at 12s --out FILE.svg
                                     a KRaft quorum at one instant: roles, epochs, votes,
                                     logs, high watermarks (keel viz quorum --help)
)";

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

int cmd_spacetime(int argc, char** argv) {
    ArgSpec spec{{"--out", "--from", "--to", "--max-events", "--nodes"}, {"--help", "--logs"}, {}};
    Args a(argc, argv, 3, spec);
    if (a.flag("--help")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("viz", a.error());
    if (a.positionals().size() != 1) return usage_error("viz", "spacetime needs one TRACE file");
    auto out = a.value("--out");
    if (!out) return usage_error("viz", "spacetime needs --out FILE.svg");
    viz::SpacetimeOptions o;
    if (auto f = a.value("--from")) {
        auto d = sim::parse_duration(*f);
        if (!d.ok()) return usage_error("viz", "--from: " + d.error().message);
        o.from_ns = d->count();
    }
    if (auto t = a.value("--to")) {
        auto d = sim::parse_duration(*t);
        if (!d.ok()) return usage_error("viz", "--to: " + d.error().message);
        o.to_ns = d->count();
    }
    if (auto m = a.u64("--max-events")) o.max_events = static_cast<size_t>(*m);
    if (!a.ok()) return usage_error("viz", a.error());
    if (auto n = a.value("--nodes")) o.nodes = split_commas(*n);
    o.include_logs = a.flag("--logs");
    std::string error;
    viz::TraceFile trace = viz::read_trace(a.positionals()[0], error);
    if (!error.empty()) return usage_error("viz", error);
    if (trace.events.empty()) return usage_error("viz", "the trace has no events (was it written with --trace?)");
    viz::SpacetimeStats stats;
    std::string dot = viz::spacetime_dot(trace, o, stats);
    if (stats.events_drawn == 0) return usage_error("viz", "no events in that window");
    std::string err = viz::render_dot(dot, *out);
    if (!err.empty()) {
        std::fprintf(stderr, "keel viz: %s\n", err.c_str());
        return 1;
    }
    std::printf("wrote %s: %zu events, %zu messages, %zu faults%s%s\n", out->c_str(), stats.events_drawn,
                stats.messages_drawn, stats.faults_drawn,
                stats.truncated ? " (window truncated; narrow it with --from/--to)" : "",
                trace.malformed_lines ? ", some trace lines were malformed and skipped" : "");
    return 0;
}

}  // namespace

int cmd_viz(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h") {
        std::fputs(kHelp, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    std::string sub = argv[2];
    if (sub == "spacetime") return cmd_spacetime(argc, argv);
    if (sub == "quorum") return cmd_viz_quorum(argc, argv);  // cmd_viz_quorum.cc
    return usage_error("viz", "unknown command '" + sub + "'");
}

}  // namespace keel::cli
