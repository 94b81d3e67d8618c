// Tracer: structured events from core code (state changes a learner or a checker wants
// to see: "raft.leader", "log.roll", "isr.shrink"). In the simulator they become trace
// lines stamped with virtual time, node and fiber; in production, log lines.
//
// Format details only when enabled(): the simulator's hot path must not pay for strings.
//   if (env.tracer().enabled()) env.tracer().event("raft.leader", "{\"epoch\":3}");
#pragma once

#include <string_view>

namespace keel::env {

enum class Level : uint8_t { debug, info, warn, error };

class Tracer {
public:
    virtual ~Tracer() = default;
    virtual bool enabled() const = 0;
    // kind: dotted name; detail_json: a JSON object ("{}" if none).
    virtual void event(std::string_view kind, std::string_view detail_json) = 0;
    // Human log line (also traced in the simulator).
    virtual void log(Level level, std::string_view message) = 0;
};

class NullTracer final : public Tracer {
public:
    bool enabled() const override { return false; }
    void event(std::string_view, std::string_view) override {}
    void log(Level, std::string_view) override {}
};

}  // namespace keel::env
