// A space-time (Lamport) diagram of a trace window as Graphviz DOT: one column per node,
// time flowing down (a time axis on the left), messages as arrows from send to delivery,
// faults as red boxes on the column of the node they hit, state changes as labels.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "visualize/trace_reader.h"

namespace keel::viz {

struct SpacetimeOptions {
    int64_t from_ns = 0;
    int64_t to_ns = INT64_MAX;
    size_t max_events = 400;          // the first N drawable events of the window
    std::vector<std::string> nodes;   // only these columns (empty: every node seen)
    bool include_logs = false;        // node log lines as labels too
};

struct SpacetimeStats {
    size_t events_drawn = 0;
    size_t messages_drawn = 0;
    size_t faults_drawn = 0;
    bool truncated = false;           // the window had more than max_events
};

std::string spacetime_dot(const TraceFile& trace, const SpacetimeOptions& options, SpacetimeStats& stats);

// What a message carried, from the `raft.frame` event its sender wrote right after the
// frame's net.send (same node and fiber): message id -> label, e.g. "Fetch off=518 e=2 last=1".
std::map<std::string, std::string> message_labels(const TraceFile& trace);
// The label of one `raft.frame` event ("" if it has none).
std::string frame_label_of(const TraceEvent& e);

// Runs Graphviz `dot` to render DOT into `out_path` (format from its extension: .svg,
// .png, .pdf; .dot writes the DOT itself). Returns "" or an error message.
std::string render_dot(const std::string& dot, const std::string& out_path);

}  // namespace keel::viz
