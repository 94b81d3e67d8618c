// NemesisSchedule: the seeded fault plan `keel nemesis` (cli/cmd_nemesis.cc) applies to the
// processes of a local cluster. Pure and deterministic: the same seed, duration, nodes and
// fault kinds give the same plan, so a run is replayed with its printed --seed.
//
//   auto plan = plan_nemesis({.seed = 7, .duration_ms = 60'000, .nodes = {1, 2, 3},
//                             .faults = {FaultKind::kill, FaultKind::pause}});
//   for (const FaultStep& s : *plan) ...  // at s.at_ms: kill node s.node, later restart it
//
// Each fault takes one node out and a later step heals it: kill (SIGKILL) → restart,
// pause (SIGSTOP) → resume (SIGCONT), restart (SIGTERM, a clean stop) → start. At most
// max_down nodes are out at once (a minority: the safe run keeps a quorum and min ISR),
// a fault lasts 1-5 s, faults start 0.5-3 s apart, and every node is healed by duration_ms.
// lone_kill (opt-in, not in the defaults) is the one fault that takes more than a minority:
// every other node is paused (SIGSTOP) for about a second — too short to leave an ISR —
// then this node is killed (-9) and the others resume; later it starts again. Writes only
// the killed node acknowledged (acks=1) are lost; acks=all never acknowledges them. Nothing
// else is faulted while it lasts.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace keel::prod {

enum class FaultKind : uint8_t { kill, pause, restart, lone_kill };

enum class StepAction : uint8_t { kill, pause, stop, resume, start, lone_kill };

struct FaultStep {
    int64_t at_ms = 0;  // from the start of the run
    StepAction action = StepAction::kill;
    int32_t node = 0;
    FaultKind fault = FaultKind::kill;  // the fault this step begins or heals
    auto operator<=>(const FaultStep&) const = default;
};

struct NemesisPlanOptions {
    uint64_t seed = 0;
    int64_t duration_ms = 60'000;
    std::vector<int32_t> nodes;
    std::set<FaultKind> faults{FaultKind::kill, FaultKind::pause, FaultKind::restart};  // not lone_kill
    int max_down = 1;
};

std::string_view name_of(FaultKind k);
std::string_view name_of(StepAction a);
// "kill,pause,lone-kill" → the set; Errc::invalid_argument naming an unknown kind.
Result<std::set<FaultKind>> parse_fault_kinds(const std::string& list);
// "60s", "1500ms", "2m", or a plain number of seconds; Errc::invalid_argument otherwise.
Result<int64_t> parse_duration_ms(const std::string& text);

// The steps in time order. Errc::invalid_argument for no nodes, no faults, max_down < 1 or
// a duration under 2 s.
Result<std::vector<FaultStep>> plan_nemesis(const NemesisPlanOptions& options);

}  // namespace keel::prod
