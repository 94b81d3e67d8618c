// ExitRestarter: what systemd does for a simulated node whose Raft driver stopped on an
// error (a disk fault): restarts it `delay` after it exited. Shared by the Raft scenario
// clusters (QuorumCluster, ControllerCluster).
//
// A node calls exited(name) from its own fiber when its driver's run() failed; a control
// fiber runs run_forever(). An exit is forgotten if the node was restarted meanwhile (by
// the nemesis) or is down or paused when its time comes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/world.h"

namespace keel::scenarios {

class ExitRestarter {
public:
    ExitRestarter(sim::World& world, Duration delay) : world_(world), delay_(delay) {}

    void exited(const std::string& node);
    // Checks every 250 ms, restarting due nodes in the order of `nodes`; never returns
    // (run it on a control fiber).
    void run_forever(const std::vector<std::string>& nodes);

private:
    struct Exit {
        uint32_t incarnation = 0;
        Instant at{};
    };
    sim::World& world_;
    Duration delay_;
    std::map<std::string, Exit> exits_;
};

}  // namespace keel::scenarios
