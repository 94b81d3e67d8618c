// LogTracer: env::Tracer for production. Each log line and (when enabled) each trace event
// becomes one line "2026-11-21T23:26:50.123456Z <node> <LEVEL> <text>", written whole with
// a single write(2) to stderr, or handed to a sink (tests, the `keel server` log file).
// log() prints lines at or above min_level; event() prints only when trace_events is on,
// which is also what enabled() reports (so core code formats event details only then).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/env/tracer.h"

namespace keel::prod {

struct LogOptions {
    env::Level min_level = env::Level::info;
    bool trace_events = false;
    // Receives each finished line (with its '\n') instead of stderr; called on the node's
    // thread. Empty: stderr.
    std::function<void(std::string_view line)> sink{};
};

class LogTracer final : public env::Tracer {
public:
    LogTracer(std::string node_name, LogOptions options);

    bool enabled() const override { return options_.trace_events; }
    void event(std::string_view kind, std::string_view detail_json) override;
    void log(env::Level level, std::string_view message) override;

private:
    void write_line(std::string_view level, std::string_view a, std::string_view b);

    std::string node_name_;
    LogOptions options_;
};

std::string_view level_name(env::Level level);
// "2026-11-21T23:26:50.123456Z" for a wall time.
std::string format_wall_time(int64_t unix_ns);

}  // namespace keel::prod
