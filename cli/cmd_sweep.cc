// keel sim sweep NAME --seeds A-B [--jobs N] [--json FILE]
//
// Each seed runs in its own child process (fork), at most --jobs at a time, so a seed
// that trips an assertion is reported as a failure with its replay command instead of
// taking the sweep down. A seed range is also the unit to spread over machines: see
// docs/simulator.md ("Sweeps on many machines").
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "sim/scenario.h"

namespace keel::cli {

namespace {

struct SeedOutcome {
    uint64_t seed = 0;
    bool ok = false;
    std::string why;  // first violation, or how the child died
    std::map<std::string, double> metrics;
    uint64_t events = 0;
    int64_t sim_time_ns = 0;
};

struct Child {
    pid_t pid;
    int fd;
    uint64_t seed;
    std::string out;
};

// In the child: run, report as lines on fd, exit.
[[noreturn]] void child_main(const sim::Scenario& s, sim::RunOptions o, int fd) {
    sim::RunResult r = sim::run_scenario(s, o);
    std::string lines = "events " + std::to_string(r.events) + "\nsim_time_ns " + std::to_string(r.sim_time_ns) + "\n";
    for (const auto& [k, v] : r.metrics) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "metric %s %.17g\n", k.c_str(), v);
        lines += buf;
    }
    for (const auto& v : r.violations) lines += "violation " + v + "\n";
    lines += r.ok ? "ok\n" : "failed\n";
    size_t off = 0;
    while (off < lines.size()) {
        ssize_t n = ::write(fd, lines.data() + off, lines.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    std::fflush(stdout);
    ::_exit(r.ok ? 0 : 1);
}

SeedOutcome parse_outcome(uint64_t seed, const std::string& out, int status) {
    SeedOutcome o;
    o.seed = seed;
    size_t pos = 0;
    bool saw_ok = false;
    while (pos < out.size()) {
        size_t nl = out.find('\n', pos);
        if (nl == std::string::npos) nl = out.size();
        std::string line = out.substr(pos, nl - pos);
        pos = nl + 1;
        if (line == "ok") saw_ok = true;
        else if (line.rfind("events ", 0) == 0) o.events = std::strtoull(line.c_str() + 7, nullptr, 10);
        else if (line.rfind("sim_time_ns ", 0) == 0) o.sim_time_ns = std::strtoll(line.c_str() + 12, nullptr, 10);
        else if (line.rfind("violation ", 0) == 0 && o.why.empty()) o.why = line.substr(10);
        else if (line.rfind("metric ", 0) == 0) {
            size_t sp = line.find(' ', 7);
            if (sp != std::string::npos) o.metrics[line.substr(7, sp - 7)] = std::strtod(line.c_str() + sp + 1, nullptr);
        }
    }
    if (WIFSIGNALED(status)) {
        o.why = "crashed with signal " + std::to_string(WTERMSIG(status)) + " (an invariant assertion?)";
    } else if (!saw_ok && o.why.empty()) {
        o.why = "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    o.ok = saw_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return o;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(rank));
    size_t hi = static_cast<size_t>(std::ceil(rank));
    double frac = rank - static_cast<double>(lo);
    return v[lo] + (v[hi] - v[lo]) * frac;
}

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

void progress(const std::string& name, size_t done, size_t total, size_t failed, int64_t t0, bool tty,
              size_t& last_printed) {
    double el = static_cast<double>(wall_now_ns() - t0) / 1e9;
    double rate = el > 0 ? static_cast<double>(done) / el : 0;
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    if (tty) {
        std::fprintf(stderr, "\rsweep %s: %zu/%zu runs, %zu failed, %.1f runs/s, eta %.0fs   ", name.c_str(), done,
                     total, failed, rate, eta);
    } else if (done == total || done * 20 / total != last_printed * 20 / total) {
        std::fprintf(stderr, "sweep %s: %zu/%zu runs, %zu failed, %.1f runs/s\n", name.c_str(), done, total, failed,
                     rate);
    }
    last_printed = done;
}

}  // namespace

int cmd_sim_sweep(int argc, char** argv) {
    ArgSpec spec{{"--seeds", "--jobs", "--json", "--faults"}, {"--help", "--no-buggify"}, {"--param"}};
    Args a(argc, argv, 3, spec);
    if (a.flag("--help")) {
        std::fputs(sim_help(), stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("sim", a.error());
    if (a.positionals().size() != 1) return usage_error("sim", "sweep needs exactly one scenario NAME");
    auto seeds = a.range("--seeds");
    if (!a.ok()) return usage_error("sim", a.error());
    if (!seeds) return usage_error("sim", "sweep needs --seeds A-B");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t jobs = a.u64("--jobs").value_or(cores > 0 ? static_cast<uint64_t>(cores) : 1);
    if (!a.ok()) return usage_error("sim", a.error());
    if (jobs == 0 || jobs > 1024) return usage_error("sim", "--jobs must be between 1 and 1024");
    sim::RunOptions base;
    if (auto f = a.value("--faults")) {
        auto parsed = sim::FaultSchedule::parse(*f);
        if (!parsed.ok()) return usage_error("sim", "bad --faults: " + parsed.error().to_string());
        base.faults = *f;
    }
    for (const auto& p : a.values("--param")) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0) return usage_error("sim", "--param needs KEY=VALUE");
        base.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    base.buggify = !a.flag("--no-buggify");
    const std::string name = a.positionals()[0];
    const sim::Scenario* s = sim::ScenarioRegistry::find(name);
    if (s == nullptr) return usage_error("sim", "no scenario named '" + name + "' ('keel sim list' shows them)");

    const size_t total = static_cast<size_t>(seeds->second - seeds->first + 1);
    std::vector<SeedOutcome> outcomes;
    std::vector<Child> running;
    uint64_t next = seeds->first;
    int64_t t0 = wall_now_ns();
    bool tty = isatty(STDERR_FILENO) != 0;
    size_t failed = 0, last = 0;
    std::fflush(stdout);
    while (outcomes.size() < total) {
        while (running.size() < jobs && next <= seeds->second) {
            int fds[2];
            if (pipe(fds) != 0) {
                std::perror("keel sim sweep: pipe");
                return 2;
            }
            sim::RunOptions o = base;
            o.seed = next;
            pid_t pid = fork();
            if (pid < 0) {
                std::perror("keel sim sweep: fork");
                return 2;
            }
            if (pid == 0) {
                ::close(fds[0]);
                child_main(*s, o, fds[1]);
            }
            ::close(fds[1]);
            running.push_back(Child{pid, fds[0], next, {}});
            next++;
        }
        // Drain every child's pipe, then reap the ones that ended.
        std::vector<pollfd> pfds;
        for (const auto& c : running) pfds.push_back(pollfd{c.fd, POLLIN, 0});
        ::poll(pfds.data(), pfds.size(), 200);
        for (size_t i = 0; i < running.size();) {
            Child& c = running[i];
            char buf[4096];
            ssize_t n = 0;
            if (pfds.size() > i && (pfds[i].revents & (POLLIN | POLLHUP)) != 0) {
                n = ::read(c.fd, buf, sizeof buf);
                if (n > 0) c.out.append(buf, static_cast<size_t>(n));
            }
            if (n == 0 && pfds.size() > i && (pfds[i].revents & (POLLIN | POLLHUP)) != 0) {
                int status = 0;
                ::waitpid(c.pid, &status, 0);
                ::close(c.fd);
                outcomes.push_back(parse_outcome(c.seed, c.out, status));
                if (!outcomes.back().ok) failed++;
                running.erase(running.begin() + static_cast<long>(i));
                pfds.erase(pfds.begin() + static_cast<long>(i));
                progress(name, outcomes.size(), total, failed, t0, tty, last);
                continue;
            }
            ++i;
        }
    }
    if (tty) std::fprintf(stderr, "\n");
    int64_t wall = wall_now_ns() - t0;
    std::sort(outcomes.begin(), outcomes.end(), [](const auto& x, const auto& y) { return x.seed < y.seed; });

    // Aggregate.
    uint64_t events = 0;
    double sim_s = 0;
    std::map<std::string, std::vector<double>> metrics;
    std::vector<const SeedOutcome*> failures;
    for (const auto& o : outcomes) {
        events += o.events;
        sim_s += static_cast<double>(o.sim_time_ns) / 1e9;
        for (const auto& [k, v] : o.metrics) metrics[k].push_back(v);
        if (!o.ok) failures.push_back(&o);
    }
    double wall_s = static_cast<double>(wall) / 1e9;
    std::printf("sweep %s seeds %" PRIu64 "-%" PRIu64 ": %zu runs, %zu failures, %.1fs wall, %" PRIu64 " events\n",
                name.c_str(), seeds->first, seeds->second, outcomes.size(), failures.size(), wall_s, events);
    std::printf("  %.0f seeds per core-hour, %.0fx real time per core, %.0f events/s per core\n",
                wall_s > 0 ? static_cast<double>(outcomes.size()) * 3600.0 / (wall_s * static_cast<double>(jobs)) : 0.0,
                wall_s > 0 ? sim_s / (wall_s * static_cast<double>(jobs)) : 0.0,
                wall_s > 0 ? static_cast<double>(events) / (wall_s * static_cast<double>(jobs)) : 0.0);
    for (const auto& [k, v] : metrics) {
        std::printf("  %s: p50 %s  p99 %s  max %s  (n=%zu)\n", k.c_str(), num(percentile(v, 50)).c_str(),
                    num(percentile(v, 99)).c_str(), num(*std::max_element(v.begin(), v.end())).c_str(), v.size());
    }
    for (const auto* f : failures) {
        sim::RunOptions o = base;
        o.seed = f->seed;
        std::printf("  FAILED seed %" PRIu64 ": %s\n    replay: %s\n", f->seed, f->why.c_str(),
                    sim::replay_command(name, o).c_str());
    }
    if (auto path = a.value("--json")) {
        std::string j = "{\"scenario\":\"" + sim::json_escape(name) + "\",\"seeds\":\"" +
                        std::to_string(seeds->first) + "-" + std::to_string(seeds->second) + "\"";
        j += ",\"runs\":" + std::to_string(outcomes.size()) + ",\"failures\":" + std::to_string(failures.size());
        j += ",\"failed_seeds\":[";
        for (size_t i = 0; i < failures.size(); i++) j += (i ? "," : "") + std::to_string(failures[i]->seed);
        j += "],\"failed\":[";
        for (size_t i = 0; i < failures.size(); i++) {
            sim::RunOptions o = base;
            o.seed = failures[i]->seed;
            j += std::string(i ? "," : "") + "{\"seed\":" + std::to_string(failures[i]->seed) + ",\"why\":\"" +
                 sim::json_escape(failures[i]->why) + "\",\"replay\":\"" +
                 sim::json_escape(sim::replay_command(name, o)) + "\"}";
        }
        j += "],\"jobs\":" + std::to_string(jobs) + ",\"wall_ns\":" + std::to_string(wall) +
             ",\"events\":" + std::to_string(events) + ",\"sim_time_s\":" + num(sim_s);
        j += ",\"metrics\":{";
        bool first = true;
        for (const auto& [k, v] : metrics) {
            j += std::string(first ? "" : ",") + "\"" + sim::json_escape(k) + "\":{\"p50\":" + num(percentile(v, 50)) +
                 ",\"p99\":" + num(percentile(v, 99)) + ",\"max\":" + num(*std::max_element(v.begin(), v.end())) +
                 ",\"n\":" + std::to_string(v.size()) + "}";
            first = false;
        }
        j += "}";
        for (const auto& [k, v] : metrics) {
            j += ",\"" + sim::json_escape(k) + "_p50\":" + num(percentile(v, 50));
            j += ",\"" + sim::json_escape(k) + "_p99\":" + num(percentile(v, 99));
        }
        j += "}\n";
        if (!write_file(*path, j)) return 2;
        std::printf("  json: %s\n", path->c_str());
    }
    return failures.empty() ? 0 : 1;
}

}  // namespace keel::cli
