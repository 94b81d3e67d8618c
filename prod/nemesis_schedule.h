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
// partition and slow are network faults, made by the servers' own network adapters
// (keel server --net-faults, prod/net_fault_control.h; the machine needs no iptables or
// tc): partition (isolate) cuts the node off from every other node, both ways, while
// clients still reach it; slow delays every message between the node and the other nodes
// by delay_ms (50-300 ms, seeded). Both end with a heal (no network fault). They count
// against max_down like the others.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace keel::prod {

enum class FaultKind : uint8_t { kill, pause, restart, lone_kill, partition, slow };

enum class StepAction : uint8_t { kill, pause, stop, resume, start, lone_kill, isolate, slow, heal };

struct FaultStep {
    int64_t at_ms = 0;  // from the start of the run
    StepAction action = StepAction::kill;
    int32_t node = 0;
    FaultKind fault = FaultKind::kill;  // the fault this step begins or heals
    int32_t delay_ms = 0;               // slow: the delay it adds (on both of its steps)
    auto operator<=>(const FaultStep&) const = default;
};

// The action that begins a fault (kill, pause, stop, lone_kill, isolate, slow), not heals it.
bool begins_fault(StepAction a);

// kill, pause, restart, partition, slow: every kind but lone_kill.
std::set<FaultKind> default_fault_kinds();

struct NemesisPlanOptions {
    uint64_t seed = 0;
    int64_t duration_ms = 60'000;
    std::vector<int32_t> nodes;
    std::set<FaultKind> faults = default_fault_kinds();
    int max_down = 1;
};

std::string_view name_of(FaultKind k);
std::string_view name_of(StepAction a);
// "kill,pause,partition,lone-kill" → the set; Errc::invalid_argument naming an unknown kind.
Result<std::set<FaultKind>> parse_fault_kinds(const std::string& list);
// "60s", "1500ms", "2m", or a plain number of seconds; Errc::invalid_argument otherwise.
Result<int64_t> parse_duration_ms(const std::string& text);

// The steps in time order. Errc::invalid_argument for no nodes, no faults, max_down < 1 or
// a duration under 2 s.
Result<std::vector<FaultStep>> plan_nemesis(const NemesisPlanOptions& options);

}  // namespace keel::prod
