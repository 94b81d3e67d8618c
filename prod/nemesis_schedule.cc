#include "prod/nemesis_schedule.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace keel::prod {

namespace {

// splitmix64: small, seeded, the same on every platform.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }

private:
    uint64_t s_;
};

StepAction begin_action(FaultKind k) {
    switch (k) {
        case FaultKind::kill: return StepAction::kill;
        case FaultKind::pause: return StepAction::pause;
        case FaultKind::restart: return StepAction::stop;
        case FaultKind::lone_kill: return StepAction::lone_kill;
        case FaultKind::partition: return StepAction::isolate;
        case FaultKind::slow: return StepAction::slow;
    }
    return StepAction::kill;
}
StepAction heal_action(FaultKind k) {
    if (k == FaultKind::pause) return StepAction::resume;
    if (k == FaultKind::partition || k == FaultKind::slow) return StepAction::heal;
    return StepAction::start;
}

constexpr FaultKind kAllKinds[] = {FaultKind::kill,      FaultKind::pause,     FaultKind::restart,
                                   FaultKind::lone_kill, FaultKind::partition, FaultKind::slow};

}  // namespace

std::string_view name_of(FaultKind k) {
    switch (k) {
        case FaultKind::kill: return "kill";
        case FaultKind::pause: return "pause";
        case FaultKind::restart: return "restart";
        case FaultKind::lone_kill: return "lone-kill";
        case FaultKind::partition: return "partition";
        case FaultKind::slow: return "slow";
    }
    return "?";
}

std::set<FaultKind> default_fault_kinds() {
    return {FaultKind::kill, FaultKind::pause, FaultKind::restart, FaultKind::partition, FaultKind::slow};
}

bool begins_fault(StepAction a) {
    return a != StepAction::resume && a != StepAction::start && a != StepAction::heal;
}

std::string_view name_of(StepAction a) {
    switch (a) {
        case StepAction::kill: return "kill -9";
        case StepAction::pause: return "pause (SIGSTOP)";
        case StepAction::stop: return "stop (SIGTERM)";
        case StepAction::resume: return "resume (SIGCONT)";
        case StepAction::start: return "start";
        case StepAction::lone_kill: return "lone kill -9";
        case StepAction::isolate: return "isolate (cut)";
        case StepAction::slow: return "slow (delay)";
        case StepAction::heal: return "heal network";
    }
    return "?";
}

Result<std::set<FaultKind>> parse_fault_kinds(const std::string& list) {
    std::set<FaultKind> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = std::min(list.find(',', start), list.size());
        std::string k = list.substr(start, end - start);
        auto known = std::find_if(std::begin(kAllKinds), std::end(kAllKinds), [&](FaultKind f) { return name_of(f) == k; });
        if (known == std::end(kAllKinds))
            return Error{Errc::invalid_argument, "unknown fault '" + k + "' (kill, pause, restart, partition, slow, lone-kill)"};
        out.insert(*known);
        start = end + 1;
    }
    return out;
}

Result<int64_t> parse_duration_ms(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) digits++;
    std::string unit = text.substr(digits);
    if (digits == 0 || digits > 9) return Error{Errc::invalid_argument, "bad duration '" + text + "' (e.g. 60s, 1500ms, 2m)"};
    int64_t v = std::stoll(text.substr(0, digits));
    if (unit == "ms") return v;
    if (unit == "s" || unit.empty()) return v * 1000;
    if (unit == "m") return v * 60'000;
    return Error{Errc::invalid_argument, "bad duration '" + text + "' (e.g. 60s, 1500ms, 2m)"};
}

Result<std::vector<FaultStep>> plan_nemesis(const NemesisPlanOptions& o) {
    if (o.nodes.empty()) return Error{Errc::invalid_argument, "no nodes to fault"};
    if (o.faults.empty()) return Error{Errc::invalid_argument, "no fault kinds"};
    if (o.max_down < 1) return Error{Errc::invalid_argument, "max_down must be at least 1"};
    if (o.duration_ms < 2000) return Error{Errc::invalid_argument, "the duration must be at least 2 s"};
    Rng rng(o.seed);
    std::vector<FaultKind> kinds(o.faults.begin(), o.faults.end());
    std::vector<FaultStep> steps;
    std::map<int32_t, int64_t> down_until;  // node → when it heals
    int64_t exclusive_until = 0;            // a lone_kill: nothing else begins before
    int64_t t = rng.between(500, 2000);
    int64_t last_start = o.duration_ms - 1500;  // a fault that starts later has no time to matter
    while (t < last_start) {
        std::erase_if(down_until, [&](const auto& d) { return d.second <= t; });
        std::vector<int32_t> up;
        for (int32_t n : o.nodes)
            if (!down_until.count(n)) up.push_back(n);
        FaultKind k = kinds[rng.next() % kinds.size()];
        bool room = k == FaultKind::lone_kill ? down_until.empty() : static_cast<int>(down_until.size()) < o.max_down;
        if (room && !up.empty() && t >= exclusive_until) {
            int32_t node = up[rng.next() % up.size()];
            int64_t heal = std::min(t + rng.between(k == FaultKind::lone_kill ? 3000 : 1000, 5000), o.duration_ms - 500);
            // Drawn only for slow, so that plans without it are those of before.
            auto delay = static_cast<int32_t>(k == FaultKind::slow ? rng.between(50, 300) : 0);
            steps.push_back({t, begin_action(k), node, k, delay});
            steps.push_back({heal, heal_action(k), node, k, delay});
            down_until[node] = heal;
            if (k == FaultKind::lone_kill) exclusive_until = heal;
        }
        t += rng.between(500, 3000);
    }
    std::stable_sort(steps.begin(), steps.end(), [](const FaultStep& a, const FaultStep& b) { return a.at_ms < b.at_ms; });
    return steps;
}

}  // namespace keel::prod
