#include "visualize/spacetime.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace keel::viz {

namespace {

enum class Shape { message, fault, state, log };

bool is_fault(const std::string& kind) {
    return kind.rfind("node.", 0) == 0 || kind.rfind("clock.", 0) == 0 || kind.rfind("disk.", 0) == 0 ||
           kind == "net.partition" || kind == "net.isolate" || kind == "net.heal" || kind == "net.heal_all" ||
           kind == "net.clog" || kind == "net.reset" || kind.rfind("nemesis.", 0) == 0;
}

bool drawable(const TraceEvent& e, const SpacetimeOptions& o) {
    if (e.kind.rfind("sched.", 0) == 0) return false;
    if (e.kind == "raft.frame") return false;  // a label for the arrow of the frame before it
    if (e.kind == "log") return o.include_logs;
    if (e.node == "sim" && e.kind.rfind("nemesis.", 0) == 0) return false;  // shown on the target's column
    return true;
}

std::string esc(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string time_label(int64_t ns) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6fs", static_cast<double>(ns) / 1e9);
    return buf;
}

std::string event_label(const TraceEvent& e) {
    std::string label = e.kind;
    for (const char* key : {"peer", "to", "from", "detail", "msg_kind", "level", "msg"}) {
        auto it = e.fields.find(key);
        if (it == e.fields.end()) continue;
        if (e.kind.rfind("net.", 0) == 0 && std::string(key) == "msg") continue;
        std::string v = it->second;
        if (v.size() > 60) v = v.substr(0, 57) + "...";
        label += "\\n" + std::string(key) + "=" + v;
    }
    return label;
}

}  // namespace

std::string frame_label_of(const TraceEvent& e) {
    auto d = e.fields.find("detail");
    if (d == e.fields.end()) return "";
    const std::string key = "\"label\":\"";
    size_t at = d->second.find(key);
    if (at == std::string::npos) return "";
    std::string out;
    for (size_t i = at + key.size(); i < d->second.size() && d->second[i] != '"'; i++) {
        if (d->second[i] == '\\' && i + 1 < d->second.size()) i++;
        out += d->second[i];
    }
    return out;
}

std::map<std::string, std::string> message_labels(const TraceFile& trace) {
    std::map<std::string, std::string> labels;                              // msg id -> label
    std::map<std::pair<std::string, std::string>, std::string> last_send;  // (node, fiber) -> msg id
    for (const auto& e : trace.events) {
        if (e.kind == "net.send") {
            auto msg = e.fields.find("msg");
            if (msg != e.fields.end()) last_send[{e.node, e.fiber}] = msg->second;
        } else if (e.kind == "raft.frame") {
            auto it = last_send.find({e.node, e.fiber});
            if (it == last_send.end()) continue;
            labels.emplace(it->second, frame_label_of(e));
            last_send.erase(it);  // one label per frame
        }
    }
    return labels;
}

namespace {

// The drawable events of the window (at most max_events) and the nodes they happen on.
std::vector<const TraceEvent*> choose_events(const TraceFile& trace, const SpacetimeOptions& o,
                                             SpacetimeStats& stats, std::vector<std::string>& columns) {
    std::set<std::string> wanted(o.nodes.begin(), o.nodes.end());
    std::vector<const TraceEvent*> chosen;
    for (const auto& e : trace.events) {
        if (e.t_ns < o.from_ns || e.t_ns > o.to_ns || !drawable(e, o)) continue;
        if (!wanted.empty() && wanted.count(e.node) == 0) continue;
        if (chosen.size() >= o.max_events) {
            stats.truncated = true;
            break;
        }
        chosen.push_back(&e);
        if (std::find(columns.begin(), columns.end(), e.node) == columns.end()) columns.push_back(e.node);
    }
    return chosen;
}

}  // namespace

std::string spacetime_dot(const TraceFile& trace, const SpacetimeOptions& o, SpacetimeStats& stats) {
    stats = SpacetimeStats{};
    std::vector<std::string> columns;
    std::vector<const TraceEvent*> chosen = choose_events(trace, o, stats, columns);
    std::sort(columns.begin(), columns.end());
    std::map<std::string, size_t> column_index;
    for (size_t i = 0; i < columns.size(); i++) column_index[columns[i]] = i;
    // Fixed positions (neato -n): x by column, y by time rank, so every column is a
    // straight vertical line and time reads top to bottom.
    constexpr int kColumnWidth = 200, kRowHeight = 42, kLeft = 110;
    auto pos = [](int x, int y) { return "pos=\"" + std::to_string(x) + "," + std::to_string(y) + "!\""; };
    std::string dot = "digraph spacetime {\n  layout=neato; splines=false; outputorder=edgesfirst;\n"
                      "  node [fontname=\"Helvetica\", fontsize=9]; edge [fontname=\"Helvetica\", fontsize=8];\n";
    std::map<int64_t, int> ranks;
    for (const auto* e : chosen) ranks.emplace(e->t_ns, 0);
    int r = 0;
    for (auto& [t, idx] : ranks) idx = ++r;
    dot += "  t_head [shape=plaintext, label=\"virtual time\", " + pos(40, 0) + "];\n";
    for (const auto& c : columns) {
        int x = kLeft + static_cast<int>(column_index[c]) * kColumnWidth;
        dot += "  \"h_" + esc(c) + "\" [shape=box, style=filled, fillcolor=\"#dde7f7\", label=\"" + esc(c) +
               "\", " + pos(x, 0) + "];\n";
    }
    for (const auto& [t, idx] : ranks) {
        dot += "  t" + std::to_string(idx) + " [shape=plaintext, label=\"" + time_label(t) + "\", " +
               pos(40, -idx * kRowHeight) + "];\n";
    }
    std::map<std::string, std::string> last_on_column;
    for (const auto& c : columns) last_on_column[c] = "\"h_" + esc(c) + "\"";
    std::map<std::string, std::string> sends;  // msg id -> event node
    std::map<std::string, std::string> labels = message_labels(trace);
    std::map<std::pair<size_t, int>, int> crowd;  // (column, rank) -> events already there
    for (const auto* e : chosen) {
        std::string id = "e" + std::to_string(e->ev) + "_" + std::to_string(stats.events_drawn);
        stats.events_drawn++;
        size_t col = column_index[e->node];
        int rank = ranks[e->t_ns];
        int k = crowd[{col, rank}]++;
        std::string p = pos(kLeft + static_cast<int>(col) * kColumnWidth + k * 16, -rank * kRowHeight);
        bool message = e->kind == "net.send" || e->kind == "net.deliver";
        if (message) {
            dot += "  " + id + " [shape=point, width=0.08, " + p + "];\n";
        } else if (is_fault(e->kind)) {
            stats.faults_drawn++;
            dot += "  " + id + " [shape=box, color=red, fontcolor=red, " + p + ", label=\"" + esc(event_label(*e)) +
                   "\"];\n";
        } else {
            dot += "  " + id + " [shape=plaintext, fontcolor=\"#225522\", " + p + ", label=\"" +
                   esc(event_label(*e)) + "\"];\n";
        }
        dot += "  " + last_on_column[e->node] + " -> " + id + " [arrowhead=none, color=gray70];\n";
        last_on_column[e->node] = id;
        auto msg = e->fields.find("msg");
        if (msg != e->fields.end() && e->kind == "net.send") sends[msg->second] = id;
        if (msg != e->fields.end() && e->kind == "net.deliver") {
            auto s = sends.find(msg->second);
            if (s != sends.end()) {
                stats.messages_drawn++;
                std::string label;
                if (auto l = labels.find(msg->second); l != labels.end()) label = l->second + " ";
                if (auto b = e->fields.find("bytes"); b != e->fields.end()) label += "(" + b->second + "B)";
                dot += "  " + s->second + " -> " + id + " [color=\"#3355aa\", label=\"" + label + "\"];\n";
            }
        }
    }
    dot += "}\n";
    return dot;
}

std::string render_dot(const std::string& dot, const std::string& out_path) {
    size_t dotpos = out_path.rfind('.');
    std::string ext = dotpos == std::string::npos ? "" : out_path.substr(dotpos + 1);
    if (ext == "dot" || ext == "gv") {
        std::ofstream out(out_path);
        out << dot;
        return out ? "" : "cannot write " + out_path;
    }
    if (ext != "svg" && ext != "png" && ext != "pdf") return "output must end in .svg, .png, .pdf or .dot";
    std::string dot_file = out_path + ".dot";
    {
        std::ofstream out(dot_file);
        out << dot;
        if (!out) return "cannot write " + dot_file;
    }
    std::string cmd = "dot -n -T" + ext + " '" + dot_file + "' -o '" + out_path + "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::remove(dot_file.c_str());
    if (rc != 0) return "Graphviz 'dot' failed (is graphviz installed?), exit status " + std::to_string(rc);
    return "";
}

}  // namespace keel::viz
