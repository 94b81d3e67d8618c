#include "prod/log_tracer.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "prod/real_clock.h"

namespace keel::prod {

std::string_view level_name(env::Level level) {
    switch (level) {
        case env::Level::debug: return "DEBUG";
        case env::Level::info: return "INFO";
        case env::Level::warn: return "WARN";
        case env::Level::error: return "ERROR";
    }
    return "?";
}

std::string format_wall_time(int64_t unix_ns) {
    time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000);
    auto micros = static_cast<long>((unix_ns % 1'000'000'000) / 1000);
    struct tm tm {};
    ::gmtime_r(&secs, &tm);
    char buf[40];
    size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%06ldZ", micros);
    return buf;
}

LogTracer::LogTracer(std::string node_name, LogOptions options)
    : node_name_(std::move(node_name)), options_(std::move(options)) {}

void LogTracer::event(std::string_view kind, std::string_view detail_json) {
    if (!options_.trace_events) return;
    write_line("EVENT", kind, detail_json);
}

void LogTracer::log(env::Level level, std::string_view message) {
    if (level < options_.min_level) return;
    write_line(level_name(level), message, {});
}

void LogTracer::write_line(std::string_view level, std::string_view a, std::string_view b) {
    std::string line = format_wall_time(RealClock::wall().ns);
    line.append(" ").append(node_name_).append(" ").append(level).append(" ").append(a);
    if (!b.empty()) line.append(" ").append(b);
    line.push_back('\n');
    if (options_.sink) {
        options_.sink(line);
        return;
    }
    // One write per line so lines of different node threads never interleave mid-line.
    size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // stderr is gone: nothing better to do with a log line
        done += static_cast<size_t>(n);
    }
}

}  // namespace keel::prod
