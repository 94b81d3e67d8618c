#include "bench/sim_bench.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/bench_util.h"
#include "core/env/sync.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace keel::bench {

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Two fibers yielding to each other: every event is one fiber switch in and out.
double fiber_switch_ns(uint64_t switches) {
    fiber::Scheduler s(fiber::SchedulerOptions{.virtual_time = true, .seed = 1});
    fiber::GroupExecutor ex(s, s.create_group("bench"));
    for (int f = 0; f < 2; f++) {
        ex.spawn("yielder", [&ex, switches] {
            for (uint64_t i = 0; i < switches / 2; i++) ex.yield();
        });
    }
    int64_t t0 = now_ns();
    s.run_while([] { return true; });
    int64_t t1 = now_ns();
    return static_cast<double>(t1 - t0) / static_cast<double>(s.events());
}

// Many fibers sleeping for seeded random durations: timers plus resumes.
double scheduler_events_per_sec(uint64_t& events_out) {
    fiber::Scheduler s(fiber::SchedulerOptions{.virtual_time = true, .seed = 2});
    fiber::GroupExecutor ex(s, s.create_group("bench"));
    env::SeededRandom rng(3);
    for (int f = 0; f < 1000; f++) {
        uint64_t seed = rng.next_u64();
        ex.spawn("sleeper", [&ex, seed] {
            env::SeededRandom r(seed);
            for (int i = 0; i < 1000; i++) ex.sleep_for(Duration(static_cast<int64_t>(r.uniform(1000, 1000000))));
        });
    }
    int64_t t0 = now_ns();
    s.run_while([] { return true; });
    int64_t t1 = now_ns();
    events_out = s.events();
    return static_cast<double>(s.events()) * 1e9 / static_cast<double>(t1 - t0);
}

// Request/response over simulated connections between two nodes.
double messages_per_sec(uint64_t& messages_out) {
    sim::World w(sim::WorldOptions{.seed = 4});
    constexpr int kClients = 16;
    constexpr int kRounds = 5000;
    w.add_node("server", [](env::Env& env) {
        auto l = env.network().listen(env::Address{"server", 1});
        if (!l.ok()) return;
        while (true) {
            auto c = (*l)->accept();
            if (!c.ok()) return;
            auto conn = std::shared_ptr<env::Connection>(std::move(*c));
            env.executor().spawn("echo", [conn] {
                while (true) {
                    auto f = conn->receive();
                    if (!f.ok() || !conn->send(std::move(*f)).ok()) return;
                }
            });
        }
    });
    int finished = 0;
    w.add_node("client", [&finished](env::Env& env) {
        for (int i = 0; i < kClients; i++) {
            env.executor().spawn("pinger", [&env, &finished] {
                auto c = env.network().connect(env::Address{"server", 1}, env.now() + 10s);
                if (!c.ok()) return;
                Bytes payload(100, 7);
                for (int r = 0; r < kRounds; r++) {
                    if (!(*c)->send(payload).ok()) return;
                    if (!(*c)->receive().ok()) return;
                }
                finished++;
            });
        }
        while (true) env.executor().sleep_for(1h);
    });
    int64_t t0 = now_ns();
    w.run_until([&] { return finished == kClients; }, 1000h);
    int64_t t1 = now_ns();
    messages_out = w.network().counters().frames_delivered;
    return static_cast<double>(messages_out) * 1e9 / static_cast<double>(t1 - t0);
}

}  // namespace

int run_sim_bench(const SimBenchOptions& options) {
    uint64_t seed = options.seed;
    bool quick = options.quick;
    const std::string& scenario = options.scenario;
    const sim::Scenario* s = sim::ScenarioRegistry::find(scenario);
    if (s == nullptr) {
        std::fprintf(stderr, "keel bench sim: no scenario named '%s'\n", scenario.c_str());
        return 2;
    }

    double switch_ns = fiber_switch_ns(quick ? 200000 : 4000000);
    std::printf("fiber switch:        %.1f ns per switch (two fibers yielding)\n", switch_ns);
    uint64_t events = 0;
    double eps = scheduler_events_per_sec(events);
    std::printf("scheduler:           %.0f events/s (%" PRIu64 " events: 1000 fibers sleeping on timers)\n", eps,
                events);
    uint64_t messages = 0;
    double mps = messages_per_sec(messages);
    std::printf("simulated network:   %.0f messages/s (%" PRIu64 " frames, 16 request/response streams)\n", mps,
                messages);
    sim::RunOptions o;
    o.seed = seed;
    int64_t t0 = now_ns();
    sim::RunResult r = sim::run_scenario(*s, o);
    int64_t wall = now_ns() - t0;
    double scen_eps = static_cast<double>(r.events) * 1e9 / static_cast<double>(wall);
    double speedup = static_cast<double>(r.sim_time_ns) / static_cast<double>(wall);
    std::printf("scenario %s:  %.0f events/s, %.0fx real time (%" PRIu64 " events, %.1fs simulated)\n",
                scenario.c_str(), scen_eps, speedup, r.events, static_cast<double>(r.sim_time_ns) / 1e9);
    std::printf("target: >= 1,000,000 scheduler events/s on one core: %s\n", eps >= 1e6 ? "met" : "NOT met");
    if (const auto& path = options.json_path) {
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      "{\"fiber_switch_ns\":%.2f,\"events_per_sec\":%.0f,\"messages_per_sec\":%.0f,"
                      "\"scenario\":\"%s\",\"scenario_events_per_sec\":%.0f,\"scenario_sim_speedup\":%.1f,"
                      "\"scenario_events\":%" PRIu64 "}\n",
                      switch_ns, eps, mps, scenario.c_str(), scen_eps, speedup, r.events);
        if (!write_text_file(*path, buf)) return 2;
    }
    return 0;
}

}  // namespace keel::bench
