// The status of a KRaft quorum at one instant, as JSON, for `keel viz quorum`
// (visualize/quorum.h draws it). Every scenario built on Raft drivers (QuorumCluster,
// ControllerCluster) describes itself with a QuorumProbeSource and calls
// install_quorum_probe(); when `keel viz quorum` runs the scenario with `--at T`, a
// scheduler watch takes the status at T (after every event due by then), in the middle
// of whatever faults the run has then, and the run goes on to its end unchanged: same
// events, same trace hash.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/raft/raft_driver.h"
#include "sim/scenario.h"

namespace keel::scenarios {

// The callbacks must not own the cluster (the watch may outlive it when the run ends
// before the instant): capture a weak_ptr and answer `alive` with whether it is still there.
struct QuorumProbeSource {
    std::function<bool()> alive;
    std::vector<std::string> nodes;   // voters first, then observers
    std::vector<std::string> voters;
    std::function<NodeId(const std::string&)> id_of;
    // A running node's driver status; nullopt when it has none (down, or between lives).
    std::function<std::optional<raft::RaftStatus>(const std::string&)> status;
    std::function<int64_t()> committed_end;   // what the checker knows is committed
    std::function<uint64_t()> violations;     // the checker's violations so far
};

std::string quorum_status_json(sim::World& w, const QuorumProbeSource& source);

// Set by `keel viz quorum`: receives the JSON status at the `viz_at` param's instant.
using QuorumStatusProbe = std::function<void(const std::string& json)>;
void set_quorum_status_probe(QuorumStatusProbe probe);

// If the `viz_at` param is set and a probe is installed, watches for that simulated
// instant and hands the probe the status there (a bad duration is a violation).
void install_quorum_probe(sim::ScenarioContext& ctx, QuorumProbeSource source);

}  // namespace keel::scenarios
