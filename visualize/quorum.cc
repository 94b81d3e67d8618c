#include "visualize/quorum.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

namespace keel::viz {

namespace {

// A small JSON value and a strict parser: enough for the status shape (objects, arrays,
// strings without escapes beyond \" and \\, integers, booleans, null).
struct Json {
    enum Kind { null, boolean, number, string, array, object } kind = null;
    bool b = false;
    int64_t n = 0;
    std::string s;
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;
    const Json* get(const std::string& key) const {
        for (const auto& [k, v] : members) {
            if (k == key) return &v;
        }
        return nullptr;
    }
};

class Parser {
public:
    explicit Parser(const std::string& text) : t_(text) {}
    bool parse(Json& out) {
        if (!value(out, 0)) return false;
        skip();
        return pos_ == t_.size();
    }

private:
    void skip() {
        while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) pos_++;
    }
    bool eat(char c) {
        skip();
        if (pos_ < t_.size() && t_[pos_] == c) {
            pos_++;
            return true;
        }
        return false;
    }
    bool value(Json& out, int depth) {
        if (depth > 16) return false;
        skip();
        if (pos_ >= t_.size()) return false;
        char c = t_[pos_];
        if (c == '{') return object(out, depth);
        if (c == '[') return array(out, depth);
        if (c == '"') {
            out.kind = Json::string;
            return str(out.s);
        }
        if (t_.compare(pos_, 4, "true") == 0 || t_.compare(pos_, 5, "false") == 0) {
            out.kind = Json::boolean;
            out.b = t_[pos_] == 't';
            pos_ += out.b ? 4 : 5;
            return true;
        }
        if (t_.compare(pos_, 4, "null") == 0) {
            pos_ += 4;
            return true;
        }
        return number(out);
    }
    bool number(Json& out) {
        size_t start = pos_;
        if (pos_ < t_.size() && t_[pos_] == '-') pos_++;
        while (pos_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[pos_]))) pos_++;
        if (pos_ == start || (pos_ - start == 1 && t_[start] == '-') || pos_ - start > 19) return false;
        out.kind = Json::number;
        out.n = std::stoll(t_.substr(start, pos_ - start));
        return true;
    }
    bool str(std::string& out) {
        if (!eat('"')) return false;
        while (pos_ < t_.size() && t_[pos_] != '"') {
            if (t_[pos_] == '\\' && pos_ + 1 < t_.size()) pos_++;
            out += t_[pos_++];
        }
        return eat('"');
    }
    bool array(Json& out, int depth) {
        out.kind = Json::array;
        eat('[');
        if (eat(']')) return true;
        do {
            out.items.emplace_back();
            if (!value(out.items.back(), depth + 1)) return false;
        } while (eat(','));
        return eat(']');
    }
    bool object(Json& out, int depth) {
        out.kind = Json::object;
        eat('{');
        if (eat('}')) return true;
        do {
            std::string key;
            skip();
            if (!str(key) || !eat(':')) return false;
            out.members.emplace_back(key, Json{});
            if (!value(out.members.back().second, depth + 1)) return false;
        } while (eat(','));
        return eat('}');
    }
    const std::string& t_;
    size_t pos_ = 0;
};

int64_t num(const Json& o, const char* key, int64_t fallback = 0) {
    const Json* v = o.get(key);
    return v != nullptr && v->kind == Json::number ? v->n : fallback;
}
bool flag(const Json& o, const char* key) {
    const Json* v = o.get(key);
    return v != nullptr && v->kind == Json::boolean && v->b;
}
std::string text(const Json& o, const char* key) {
    const Json* v = o.get(key);
    return v != nullptr && v->kind == Json::string ? v->s : "";
}

QuorumNodeView node_view(const Json& j) {
    QuorumNodeView n;
    n.name = text(j, "name");
    n.id = num(j, "id", -1);
    n.voter = flag(j, "voter");
    n.state = text(j, "state");
    n.role = text(j, "role");
    n.epoch = num(j, "epoch");
    n.leader = num(j, "leader", -1);
    n.voted_for = num(j, "voted_for", -1);
    n.catching_up = flag(j, "catching_up");
    n.log_start = num(j, "log_start");
    n.log_end = num(j, "log_end");
    n.high_watermark = num(j, "high_watermark");
    n.applied = num(j, "applied");
    n.snapshot_end = num(j, "snapshot_end", -1);
    if (const Json* u = j.get("unreachable"); u != nullptr && u->kind == Json::array) {
        for (const Json& x : u->items) {
            if (x.kind == Json::string) n.unreachable.push_back(x.s);
        }
    }
    if (const Json* f = j.get("fetch_offsets"); f != nullptr && f->kind == Json::object) {
        for (const auto& [k, v] : f->members) {
            if (v.kind == Json::number && !k.empty() && k.size() < 10 &&
                std::all_of(k.begin(), k.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
                n.fetch_offsets[std::stoll(k)] = v.n;
            }
        }
    }
    return n;
}

std::string fill_color(const QuorumNodeView& n) {
    if (n.state != "up") return n.state == "paused" ? "#d9d9d9" : "#f4b6b6";
    if (n.role == "leader") return "#ffd966";
    if (n.role == "follower") return n.catching_up ? "#f9cb9c" : "#cfe2f3";
    if (n.role == "candidate" || n.role == "prospective") return "#f6b26b";
    return "#eeeeee";
}

// The log as a bar: [0, start) in a snapshot, [start, hw) committed, [hw, end) not yet.
std::string log_bar(const QuorumNodeView& n, int64_t scale_end) {
    constexpr int kWidth = 180;
    auto w = [&](int64_t len) {
        int px = scale_end > 0 ? static_cast<int>(len * kWidth / scale_end) : 0;
        return std::to_string(std::max(px, len > 0 ? 2 : 0));
    };
    int64_t hw = std::clamp(n.high_watermark, n.log_start, n.log_end);
    std::string cells;
    auto cell = [&](int64_t len, const char* color) {
        if (len > 0) cells += "<TD WIDTH=\"" + w(len) + "\" HEIGHT=\"8\" BGCOLOR=\"" + color + "\"></TD>";
    };
    cell(n.log_start, "#999999");
    cell(hw - n.log_start, "#6aa84f");
    cell(n.log_end - hw, "#f1c232");
    if (cells.empty()) cells = "<TD WIDTH=\"2\" HEIGHT=\"8\"></TD>";
    return "<TABLE BORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"0\"><TR>" + cells + "</TR></TABLE>";
}

std::string node_label(const QuorumNodeView& n, int64_t scale_end) {
    std::string title = "<B>" + n.name + "</B> (id " + std::to_string(n.id) + ", " +
                        (n.voter ? "voter" : "observer") + ")";
    std::string rows = "<TR><TD>" + title + "</TD></TR>";
    if (n.state != "up") return "<<TABLE BORDER=\"0\">" + rows + "<TR><TD>" + n.state + "</TD></TR></TABLE>>";
    std::string role = n.role + " · epoch " + std::to_string(n.epoch);
    if (n.catching_up) role += " · catching up";
    rows += "<TR><TD>" + role + "</TD></TR>";
    std::string vote = n.voted_for >= 0 ? "voted for " + std::to_string(n.voted_for) : "no vote";
    std::string leader = n.leader >= 0 ? "leader " + std::to_string(n.leader) : "leader unknown";
    if (n.voter) rows += "<TR><TD>" + vote + " · " + leader + "</TD></TR>";
    rows += "<TR><TD>" + log_bar(n, scale_end) + "</TD></TR>";
    rows += "<TR><TD>log [" + std::to_string(n.log_start) + ", " + std::to_string(n.log_end) + ") · hw " +
            std::to_string(n.high_watermark) + " · applied " + std::to_string(n.applied) + "</TD></TR>";
    if (n.snapshot_end >= 0) rows += "<TR><TD>snapshot up to " + std::to_string(n.snapshot_end) + "</TD></TR>";
    if (!n.unreachable.empty()) {
        std::string cut = "cannot send to:";
        for (const auto& u : n.unreachable) cut += " " + u;
        rows += "<TR><TD><FONT COLOR=\"#cc0000\">" + cut + "</FONT></TD></TR>";
    }
    if (!n.fetch_offsets.empty()) {
        std::string f = "fetch offsets:";
        for (const auto& [id, off] : n.fetch_offsets) f += " " + std::to_string(id) + "→" + std::to_string(off);
        rows += "<TR><TD>" + f + "</TD></TR>";
    }
    return "<<TABLE BORDER=\"0\" CELLSPACING=\"1\">" + rows + "</TABLE>>";
}

}  // namespace

QuorumView parse_quorum_status(const std::string& json, std::string& error) {
    QuorumView v;
    Json root;
    if (!Parser(json).parse(root) || root.kind != Json::object) {
        error = "not a quorum status JSON object";
        return v;
    }
    for (const char* key : {"t_ns", "seed", "committed_end", "monitor_violations"}) {
        const Json* f = root.get(key);
        if (f != nullptr && f->kind != Json::number) {
            error = std::string("\"") + key + "\" is not a number";
            return v;
        }
    }
    v.t_ns = num(root, "t_ns");
    v.seed = static_cast<uint64_t>(num(root, "seed"));
    v.committed_end = num(root, "committed_end");
    v.monitor_violations = num(root, "monitor_violations");
    const Json* nodes = root.get("nodes");
    if (nodes == nullptr || nodes->kind != Json::array) {
        error = "the status has no \"nodes\" array";
        return v;
    }
    for (size_t i = 0; i < nodes->items.size(); i++) {
        const Json& n = nodes->items[i];
        std::string where = "node " + std::to_string(i) + ": ";
        if (n.kind != Json::object) {
            error = where + "not an object";
            return v;
        }
        QuorumNodeView view = node_view(n);
        // Names go into DOT ids and HTML labels: keep them to what node names are.
        auto valid = [](const std::string& name) {
            return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
            });
        };
        if (!std::all_of(view.unreachable.begin(), view.unreachable.end(), valid)) {
            error = where + "\"unreachable\" holds a name outside [A-Za-z0-9._-]";
            return v;
        }
        if (!valid(view.name)) {
            error = where + "\"name\" must be 1-64 characters of [A-Za-z0-9._-]";
            return v;
        }
        const Json* id = n.get("id");
        if (id == nullptr || id->kind != Json::number) {
            error = where + "\"id\" must be a number";
            return v;
        }
        if (view.state != "up" && view.state != "down" && view.state != "paused" && view.state != "stopped") {
            error = where + "\"state\" must be up, down, paused or stopped";
            return v;
        }
        v.nodes.push_back(std::move(view));
    }
    return v;
}

static bool cannot_reach(const QuorumView& view, const std::string& from, const std::string& to) {
    for (const auto& n : view.nodes) {
        if (n.name == from) return std::find(n.unreachable.begin(), n.unreachable.end(), to) != n.unreachable.end();
    }
    return false;
}

std::string quorum_dot(const QuorumView& view, const std::string& title) {
    int64_t scale_end = 1;
    for (const auto& n : view.nodes) scale_end = std::max(scale_end, n.log_end);
    std::map<int64_t, std::string> by_id;
    for (const auto& n : view.nodes) by_id[n.id] = n.name;
    char when[64];
    std::snprintf(when, sizeof when, "t = %.3f s", static_cast<double>(view.t_ns) / 1e9);
    std::string dot = "digraph quorum {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
                      "fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
    dot += "  labelloc=t;\n  label=\"" + title + " · " + when + " · committed up to " +
           std::to_string(view.committed_end) + " · monitor violations " + std::to_string(view.monitor_violations) +
           "\\nbar: grey = in a snapshot, green = committed (below hw), yellow = not yet committed\";\n";
    for (bool voters : {true, false}) {
        dot += std::string("  subgraph cluster_") + (voters ? "voters" : "observers") + " {\n    label=\"" +
               (voters ? "controllers (voters)" : "brokers (observers)") + "\";\n    style=dashed;\n";
        for (const auto& n : view.nodes) {
            if (n.voter != voters) continue;
            dot += "    \"" + n.name + "\" [fillcolor=\"" + fill_color(n) + "\", label=" + node_label(n, scale_end) +
                   "];\n";
        }
        dot += "  }\n";
    }
    for (const auto& n : view.nodes) {
        if (n.state != "up") continue;
        if (n.role == "follower" && by_id.contains(n.leader)) {
            const std::string& leader = by_id[n.leader];
            if (cannot_reach(view, n.name, leader) || cannot_reach(view, leader, n.name)) {
                dot += "  \"" + n.name + "\" -> \"" + leader +
                       "\" [label=\"fetch (blocked)\", color=\"#cc0000\", fontcolor=\"#cc0000\", style=dashed];\n";
            } else {
                dot += "  \"" + n.name + "\" -> \"" + leader + "\" [label=\"fetch\"];\n";
            }
        }
        bool vote_edge = n.voted_for >= 0 && n.voted_for != n.id && n.voter && by_id.contains(n.voted_for);
        if (vote_edge) {
            dot += "  \"" + n.name + "\" -> \"" + by_id[n.voted_for] + "\" [style=dashed, color=\"#888888\", label=\"vote e" +
                   std::to_string(n.epoch) + "\"];\n";
        }
    }
    return dot + "}\n";
}

}  // namespace keel::viz
