#include "scenarios/exit_restarter.h"

namespace keel::scenarios {

void ExitRestarter::exited(const std::string& node) {
    exits_[node] = Exit{world_.node(node).incarnations(), world_.now()};
}

void ExitRestarter::run_forever(const std::vector<std::string>& nodes) {
    while (true) {
        world_.sleep(ms(250));
        for (const std::string& n : nodes) {
            auto it = exits_.find(n);
            if (it == exits_.end()) continue;
            sim::SimNode& node = world_.node(n);
            if (!node.running() || node.paused()) continue;
            if (it->second.incarnation == node.incarnations() && world_.now() < it->second.at + delay_) continue;
            bool due = it->second.incarnation == node.incarnations();  // else restarted meanwhile (by the nemesis)
            exits_.erase(it);
            if (due) world_.supervisor_restart(n);
        }
    }
}

}  // namespace keel::scenarios
