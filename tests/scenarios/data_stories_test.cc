// The named data-plane stories (scenarios/data/stories.cc) in CI: each ends as it says —
// the safe ones clean, the unsafe ones showing their anomaly — and tells its story.
#include <gtest/gtest.h>

#include "sim/scenario.h"

namespace keel {
namespace {

class DataStory : public ::testing::TestWithParam<const char*> {};

TEST_P(DataStory, EndsAsItSaysAndNarrates) {
    sim::RunOptions o;
    o.seed = 1;
    sim::RunResult r = sim::run_scenario(GetParam(), o);
    EXPECT_TRUE(r.ok) << (r.violations.empty() ? "" : r.violations[0]) << "\n  replay: " << r.replay;
    size_t narrative = 0;
    for (const std::string& n : r.notes) narrative += n.rfind("t=", 0) == 0 ? 1 : 0;
    EXPECT_GE(narrative, 3u) << "a story prints what happened";
}

INSTANTIATE_TEST_SUITE_P(Stories, DataStory,
                         ::testing::Values("sc-01", "sc-02", "sc-03", "sc-04", "sc-07-unclean", "sc-07-clean",
                                           "sc-19", "sc-19-idempotent"),
                         [](const auto& story) {
                             std::string n = story.param;
                             for (char& ch : n) ch = ch == '-' ? '_' : ch;
                             return n;
                         });

// A scripted story refuses --faults (its schedule is the story).
TEST(DataStory, RefusesFaults) {
    sim::RunOptions o;
    o.seed = 1;
    o.faults = "1s crash b1";
    sim::RunResult r = sim::run_scenario("sc-02", o);
    EXPECT_FALSE(r.ok);
}

}  // namespace
}  // namespace keel
