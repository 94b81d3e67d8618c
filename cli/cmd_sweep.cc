// keel sim sweep NAME --seeds A-B [--shard K/N] [--jobs N] [--json FILE] [--min-efficacy P]
//
// Each seed runs in its own child process (fork), at most --jobs at a time, so a seed
// that trips an assertion is reported as a failure with its replay command instead of
// taking the sweep down. --shard K/N runs only the K-th of N interleaved slices of the
// range (seeds A+K-1, A+K-1+N, ...), so a batch runner's array index picks a slice and
// `keel sim merge` combines the results: see docs/simulator.md ("Sweeps on many machines").
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/sweep_report.h"
#include "sim/scenario.h"

namespace keel::cli {

namespace {

struct Child {
    pid_t pid;
    int fd;
    uint64_t seed;
    std::string out;
};

struct SweepPlan {
    const sim::Scenario* scenario = nullptr;
    sim::RunOptions base;
    std::vector<uint64_t> seeds;
    std::string label;
    uint64_t jobs = 1;
    std::optional<double> min_efficacy;
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
    for (const auto& [k, e] : r.efficacy) {
        lines += "efficacy " + k + " " + std::to_string(e.requested) + " " + std::to_string(e.fired) + " " +
                 std::to_string(e.effect) + "\n";
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

void parse_line(const std::string& line, SeedOutcome& o, bool& saw_ok) {
    if (line == "ok") saw_ok = true;
    else if (line.rfind("events ", 0) == 0) o.events = std::strtoull(line.c_str() + 7, nullptr, 10);
    else if (line.rfind("sim_time_ns ", 0) == 0) o.sim_time_ns = std::strtoll(line.c_str() + 12, nullptr, 10);
    else if (line.rfind("violation ", 0) == 0 && o.why.empty()) o.why = line.substr(10);
    else if (line.rfind("metric ", 0) == 0) {
        size_t sp = line.find(' ', 7);
        if (sp != std::string::npos) o.metrics[line.substr(7, sp - 7)] = std::strtod(line.c_str() + sp + 1, nullptr);
    } else if (line.rfind("efficacy ", 0) == 0) {
        char kind[64];
        unsigned long long req = 0, fired = 0, effect = 0;
        if (std::sscanf(line.c_str() + 9, "%63s %llu %llu %llu", kind, &req, &fired, &effect) == 4) {
            o.efficacy[kind] = sim::KindEfficacy{req, fired, effect};
        }
    }
}

SeedOutcome parse_outcome(uint64_t seed, const std::string& out, int status) {
    SeedOutcome o;
    o.seed = seed;
    size_t pos = 0;
    bool saw_ok = false;
    while (pos < out.size()) {
        size_t nl = out.find('\n', pos);
        if (nl == std::string::npos) nl = out.size();
        parse_line(out.substr(pos, nl - pos), o, saw_ok);
        pos = nl + 1;
    }
    if (WIFSIGNALED(status)) {
        o.why = "crashed with signal " + std::to_string(WTERMSIG(status)) + " (an invariant assertion?)";
    } else if (!saw_ok && o.why.empty()) {
        o.why = "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    o.ok = saw_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return o;
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

bool spawn_child(const SweepPlan& plan, uint64_t seed, std::vector<Child>& running) {
    int fds[2];
    if (pipe(fds) != 0) {
        std::perror("keel sim sweep: pipe");
        return false;
    }
    sim::RunOptions o = plan.base;
    o.seed = seed;
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        std::perror("keel sim sweep: fork");
        return false;
    }
    if (pid == 0) {
        ::close(fds[0]);
        child_main(*plan.scenario, o, fds[1]);
    }
    ::close(fds[1]);
    running.push_back(Child{pid, fds[0], seed, {}});
    return true;
}

// Reads what the children wrote; reaps those that finished into `done`.
void drain_children(std::vector<Child>& running, std::vector<SeedOutcome>& done) {
    std::vector<pollfd> pfds;
    for (const auto& c : running) pfds.push_back(pollfd{c.fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 200);
    for (size_t i = 0; i < running.size();) {
        Child& c = running[i];
        bool readable = (pfds[i].revents & (POLLIN | POLLHUP)) != 0;
        char buf[4096];
        ssize_t n = readable ? ::read(c.fd, buf, sizeof buf) : -1;
        if (n > 0) c.out.append(buf, static_cast<size_t>(n));
        if (n != 0) {
            ++i;
            continue;
        }
        int status = 0;
        ::waitpid(c.pid, &status, 0);
        ::close(c.fd);
        done.push_back(parse_outcome(c.seed, c.out, status));
        running.erase(running.begin() + static_cast<long>(i));
        pfds.erase(pfds.begin() + static_cast<long>(i));
    }
}

// CPU time (user + system) of every child reaped so far.
int64_t children_cpu_ns() {
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    auto ns = [](const timeval& tv) { return static_cast<int64_t>(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000; };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

// Runs every seed of the plan, --jobs at a time; nullopt if a fork failed.
std::optional<std::vector<SeedOutcome>> run_seeds(const SweepPlan& plan) {
    std::vector<SeedOutcome> outcomes;
    std::vector<Child> running;
    size_t next = 0, failed = 0, last = 0;
    int64_t t0 = wall_now_ns();
    bool tty = isatty(STDERR_FILENO) != 0;
    const std::string& name = plan.scenario->name;
    while (outcomes.size() < plan.seeds.size()) {
        while (running.size() < plan.jobs && next < plan.seeds.size()) {
            if (!spawn_child(plan, plan.seeds[next++], running)) return std::nullopt;
        }
        size_t before = outcomes.size();
        drain_children(running, outcomes);
        for (size_t i = before; i < outcomes.size(); i++) {
            failed += outcomes[i].ok ? 0 : 1;
            progress(name, outcomes.size(), plan.seeds.size(), failed, t0, tty, last);
        }
    }
    if (tty) std::fprintf(stderr, "\n");
    std::sort(outcomes.begin(), outcomes.end(), [](const auto& x, const auto& y) { return x.seed < y.seed; });
    for (auto& o : outcomes) {
        sim::RunOptions ro = plan.base;
        ro.seed = o.seed;
        o.replay = sim::replay_command(name, ro);
    }
    return outcomes;
}

// "--shard K/N": 1 <= K <= N.
std::string parse_shard(const std::string& s, uint64_t& k, uint64_t& n) {
    unsigned long long kk = 0, nn = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%llu/%llu%c", &kk, &nn, &tail) != 2 || nn == 0 || kk == 0 || kk > nn) {
        return "--shard needs K/N with 1 <= K <= N (e.g. 3/8), got '" + s + "'";
    }
    k = kk;
    n = nn;
    return "";
}

std::string plan_seeds(Args& a, SweepPlan& plan) {
    auto seeds = a.range("--seeds");
    if (!a.ok()) return a.error();
    if (!seeds) return "sweep needs --seeds A-B";
    uint64_t k = 1, n = 1;
    if (auto s = a.value("--shard")) {
        if (auto err = parse_shard(*s, k, n); !err.empty()) return err;
    }
    for (uint64_t seed = seeds->first + (k - 1); seed >= seeds->first && seed <= seeds->second; seed += n) {
        plan.seeds.push_back(seed);
        if (seeds->second - seed < n) break;
    }
    plan.label = std::to_string(seeds->first) + "-" + std::to_string(seeds->second);
    if (n > 1) plan.label += " shard " + std::to_string(k) + "/" + std::to_string(n);
    if (plan.seeds.empty()) return "shard " + std::to_string(k) + "/" + std::to_string(n) + " of that range has no seeds";
    return "";
}

std::string plan_options(Args& a, SweepPlan& plan) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    plan.jobs = a.u64("--jobs").value_or(cores > 0 ? static_cast<uint64_t>(cores) : 1);
    if (!a.ok()) return a.error();
    if (plan.jobs == 0 || plan.jobs > 1024) return "--jobs must be between 1 and 1024";
    if (auto f = a.value("--faults")) {
        auto parsed = sim::FaultSchedule::parse(*f);
        if (!parsed.ok()) return "bad --faults: " + parsed.error().to_string();
        if (!plan.scenario->takes_faults) return "scenario " + plan.scenario->name + " runs a scripted story and refuses --faults";
        plan.base.faults = *f;
    }
    for (const auto& p : a.values("--param")) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0) return "--param needs KEY=VALUE";
        plan.base.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    plan.base.buggify = !a.flag("--no-buggify");
    if (auto m = a.value("--min-efficacy")) {
        char* end = nullptr;
        double v = std::strtod(m->c_str(), &end);
        if (end == m->c_str() || *end != 0 || v < 0 || v > 1) return "--min-efficacy needs a share in [0, 1], got '" + *m + "'";
        plan.min_efficacy = v;
    }
    return "";
}

}  // namespace

// Exit status of a gate over a report: 1 (with the kinds listed) if a kind is below it.
int efficacy_gate(const SweepReport& r, std::optional<double> min_share) {
    if (!min_share) return 0;
    auto below = efficacy_below(efficacy_rows(r), *min_share, 1);
    for (const auto& b : below) std::printf("  EFFICACY BELOW THE GATE: %s\n", b.c_str());
    return below.empty() ? 0 : 1;
}

int cmd_sim_sweep(int argc, char** argv) {
    ArgSpec spec{{"--seeds", "--jobs", "--json", "--faults", "--shard", "--min-efficacy"}, {"--help", "--no-buggify"}, {"--param"}};
    Args a(argc, argv, 3, spec);
    if (a.flag("--help")) {
        std::fputs(sim_help(), stdout);
        return 0;
    }
    if (!a.ok()) return usage_error("sim", a.error());
    if (a.positionals().size() != 1) return usage_error("sim", "sweep needs exactly one scenario NAME");
    SweepPlan plan;
    const std::string name = a.positionals()[0];
    plan.scenario = sim::ScenarioRegistry::find(name);
    if (plan.scenario == nullptr) return usage_error("sim", "no scenario named '" + name + "' ('keel sim list' shows them)");
    if (auto err = plan_seeds(a, plan); !err.empty()) return usage_error("sim", err);
    if (auto err = plan_options(a, plan); !err.empty()) return usage_error("sim", err);

    SweepReport report{name, plan.label, {}, plan.jobs, 0};
    int64_t t0 = wall_now_ns(), cpu0 = children_cpu_ns();
    auto outcomes = run_seeds(plan);
    if (!outcomes) return 2;
    report.outcomes = std::move(*outcomes);
    report.wall_ns = wall_now_ns() - t0;
    report.cpu_ns = children_cpu_ns() - cpu0;
    print_report(report);
    if (auto path = a.value("--json")) {
        if (!write_file(*path, report_json(report))) return 2;
        std::printf("  json: %s\n", path->c_str());
    }
    int gate = efficacy_gate(report, plan.min_efficacy);
    for (const auto& o : report.outcomes) {
        if (!o.ok) return 1;
    }
    return gate;
}

}  // namespace keel::cli
