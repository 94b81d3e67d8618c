// Reads the simulator's JSON-lines trace (sim/trace.h) into flat events. A tolerant
// reader for the fixed shape the simulator writes: string and integer members at the top
// level, plus a "detail" object kept as raw text. Malformed lines are counted, not fatal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace keel::viz {

struct TraceEvent {
    uint64_t ev = 0;
    int64_t t_ns = 0;
    std::string node;
    std::string fiber;
    std::string kind;
    std::map<std::string, std::string> fields;  // other members, raw (strings unquoted)
};

struct TraceFile {
    std::vector<TraceEvent> events;
    size_t malformed_lines = 0;
};

// Parses one line; false if it is not a trace event.
bool parse_trace_line(const std::string& line, TraceEvent& out);
// Reads a whole file; an unreadable file gives an error string.
TraceFile read_trace(const std::string& path, std::string& error);

}  // namespace keel::viz
