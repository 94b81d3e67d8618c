#include "sim/trace.h"

#include <cinttypes>

namespace keel::sim {

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string hex64(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return buf;
}

Trace::~Trace() {
    if (file_ != nullptr) std::fclose(file_);
}

bool Trace::open_file(const std::string& path) {
    file_ = std::fopen(path.c_str(), "w");
    return file_ != nullptr;
}

std::string_view Trace::node_of(fiber::GroupId g) const {
    auto it = group_names_.find(g);
    return it == group_names_.end() ? std::string_view("sim") : std::string_view(it->second);
}

void Trace::write(std::string line) {
    written_++;
    if (file_ != nullptr) {
        std::fwrite(line.data(), 1, line.size(), file_);
        std::fputc('\n', file_);
    }
    if (memory_) lines_.push_back(std::move(line));
}

void Trace::event(std::string_view node, std::string_view kind, std::string_view fields) {
    if (!enabled()) return;
    std::string line = "{\"ev\":" + std::to_string(s_.events()) +
                       ",\"t_ns\":" + std::to_string(s_.now().ns) + ",\"node\":\"" +
                       json_escape(node) + "\",\"fiber\":\"" + json_escape(s_.current_name()) +
                       "\",\"kind\":\"" + json_escape(kind) + "\"";
    if (!fields.empty()) {
        line += ",";
        line += fields;
    }
    line += ",\"h\":\"" + hex64(s_.hash()) + "\"}";
    write(std::move(line));
}

void Trace::event_here(std::string_view kind, std::string_view fields) {
    event(node_of(s_.current_group()), kind, fields);
}

void Trace::on_event(fiber::EventKind kind, fiber::GroupId group, fiber::FiberId fiber,
                     fiber::TimerId timer, Instant at) {
    if (!enabled() || !scheduler_events_) return;
    const char* k = "run";
    switch (kind) {
        case fiber::EventKind::run: k = "run"; break;
        case fiber::EventKind::timer: k = "timer"; break;
        case fiber::EventKind::spawn: k = "spawn"; break;
        case fiber::EventKind::finish: k = "finish"; break;
        case fiber::EventKind::kill: k = "kill"; break;
    }
    std::string line = "{\"ev\":" + std::to_string(s_.events()) + ",\"t_ns\":" +
                       std::to_string(at.ns) + ",\"node\":\"" + json_escape(node_of(group)) +
                       "\",\"kind\":\"sched." + k + "\",\"fiber_id\":" + std::to_string(fiber) +
                       ",\"timer\":" + std::to_string(timer) + ",\"h\":\"" + hex64(s_.hash()) +
                       "\"}";
    write(std::move(line));
}

}  // namespace keel::sim
