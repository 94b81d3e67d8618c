#include "visualize/trace_reader.h"

#include <fstream>

namespace keel::viz {

namespace {

// Reads a JSON string starting at s[i] == '"'; returns the unescaped text, moves i past it.
bool read_string(const std::string& s, size_t& i, std::string& out) {
    if (i >= s.size() || s[i] != '"') return false;
    i++;
    out.clear();
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char e = s[i + 1];
            out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            i += 2;
            continue;
        }
        out += s[i++];
    }
    if (i >= s.size()) return false;
    i++;
    return true;
}

// Skips a JSON value (number, literal, string, object, array) and returns its raw text.
bool read_raw(const std::string& s, size_t& i, std::string& out) {
    size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < s.size(); i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0) break;
            depth--;
        } else if (c == ',' && depth == 0) break;
    }
    out = s.substr(start, i - start);
    return depth == 0;
}

}  // namespace

bool parse_trace_line(const std::string& line, TraceEvent& out) {
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') i++;
    if (i >= line.size() || line[i] != '{') return false;
    i++;
    out = TraceEvent{};
    while (i < line.size() && line[i] != '}') {
        std::string key, value;
        if (!read_string(line, i, key) || i >= line.size() || line[i] != ':') return false;
        i++;
        if (i < line.size() && line[i] == '"') {
            if (!read_string(line, i, value)) return false;
        } else if (!read_raw(line, i, value)) {
            return false;
        }
        if (key == "ev") out.ev = std::strtoull(value.c_str(), nullptr, 10);
        else if (key == "t_ns") out.t_ns = std::strtoll(value.c_str(), nullptr, 10);
        else if (key == "node") out.node = value;
        else if (key == "fiber") out.fiber = value;
        else if (key == "kind") out.kind = value;
        else out.fields[key] = value;
        if (i < line.size() && line[i] == ',') i++;
    }
    return !out.kind.empty();
}

TraceFile read_trace(const std::string& path, std::string& error) {
    TraceFile f;
    std::ifstream in(path);
    if (!in) {
        error = "cannot read trace file " + path;
        return f;
    }
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        TraceEvent e;
        if (parse_trace_line(line, e)) {
            f.events.push_back(std::move(e));
        } else {
            f.malformed_lines++;
        }
    }
    return f;
}

}  // namespace keel::viz
