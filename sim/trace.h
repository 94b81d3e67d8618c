// Trace: one JSON line per event (virtual time, node, fiber, kind, details) and the view
// of the scheduler's running 64-bit hash after it. Lines are produced only when a sink
// is enabled (a file, or memory for check-determinism); the hash is always kept, so a
// run without a trace still proves its determinism.
//
// Line shape (stable; visualize/ and check-determinism read it):
//   {"ev":12,"t_ns":1500000,"node":"c1","fiber":"raft","kind":"run","h":"9f3c..."}
//   {"ev":13,"t_ns":1500000,"node":"c1","fiber":"raft","kind":"net.send","msg":7,"to":"c2",...}
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/scheduler.h"

namespace keel::sim {

class Trace final : public fiber::SchedulerObserver {
public:
    explicit Trace(fiber::Scheduler& s) : s_(s) {}
    ~Trace() override;

    // Where lines go. open_file fails (false) if the file cannot be created.
    bool open_file(const std::string& path);
    void keep_in_memory(bool on) { memory_ = on; }
    bool enabled() const { return file_ != nullptr || memory_; }
    // Also trace every fiber slice and timer (large); otherwise only node events,
    // messages and faults are written (the hash covers every decision either way).
    void set_scheduler_events(bool on) { scheduler_events_ = on; }

    // Group → node name, for labelling.
    void name_group(fiber::GroupId g, std::string node) { group_names_[g] = std::move(node); }

    // A semantic event from the current context (a node's fiber, a timer, the nemesis).
    // `fields` is a comma-separated list of JSON members without braces, e.g. "\"to\":\"c2\"".
    void event(std::string_view node, std::string_view kind, std::string_view fields = {});
    // Same, labelled with the node of the running fiber.
    void event_here(std::string_view kind, std::string_view fields = {});

    void on_event(fiber::EventKind kind, fiber::GroupId group, fiber::FiberId fiber,
                  fiber::TimerId timer, Instant at) override;

    const std::vector<std::string>& lines() const { return lines_; }
    uint64_t lines_written() const { return written_; }
    std::string_view node_of(fiber::GroupId g) const;

private:
    void write(std::string line);

    fiber::Scheduler& s_;
    std::FILE* file_ = nullptr;
    bool memory_ = false;
    bool scheduler_events_ = false;
    std::map<fiber::GroupId, std::string> group_names_;
    std::vector<std::string> lines_;
    uint64_t written_ = 0;
};

// JSON string escaping for trace fields and summaries.
std::string json_escape(std::string_view s);
std::string hex64(uint64_t v);

}  // namespace keel::sim
