// The KIP-848 story (scenarios/groups/kip848_story.cc) in CI: it ends as it says with a
// fixed seed (its expectations met, the group checker clean, member epochs monotone).
#include <gtest/gtest.h>

#include "sim/scenario.h"

namespace keel {
namespace {

TEST(Kip848Story, EndsAsItSays) {
    sim::RunOptions o;
    o.seed = 1;
    sim::RunResult r = sim::run_scenario("kip848", o);
    EXPECT_TRUE(r.ok) << (r.violations.empty() ? "" : r.violations[0]) << "\n  replay: " << r.replay;
    size_t narrative = 0;
    for (const std::string& n : r.notes) narrative += n.rfind("t=", 0) == 0 ? 1 : 0;
    EXPECT_GE(narrative, 4u);
    EXPECT_GT(r.metrics["commits"], 0);
}

}  // namespace
}  // namespace keel
