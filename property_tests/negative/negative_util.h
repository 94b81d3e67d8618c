// Shared by the planted-bug tests: sweep a scenario over seeds with a param, count the
// runs in which the checkers reported something.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sim/scenario.h"

namespace keel::negative {

struct Sweep {
    int runs = 0;
    int caught = 0;
    std::string first;  // the first violation seen, for the failure message
    std::string replay;
};

inline Sweep sweep(const std::string& scenario, const std::string& param, const std::string& value,
                   uint64_t seeds) {
    Sweep out;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        sim::RunOptions o;
        o.seed = seed;
        o.params[param] = value;
        sim::RunResult r = sim::run_scenario(scenario, o);
        out.runs++;
        if (!r.ok) {
            out.caught++;
            if (out.first.empty()) {
                out.first = r.violations[0];
                out.replay = r.replay;
            }
        }
    }
    return out;
}

}  // namespace keel::negative
