// The consumer-group stories (scenarios/groups/group_stories.cc and offset_stories.cc) in
// CI: each ends as it says with a fixed seed — its own expectations met (the behaviour it
// teaches showed up) and the group checker clean — and tells its story.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/scenario.h"

namespace keel {
namespace {

class GroupStory : public ::testing::TestWithParam<const char*> {};

TEST_P(GroupStory, EndsAsItSaysAndNarrates) {
    sim::RunOptions o;
    o.seed = 1;
    sim::RunResult r = sim::run_scenario(GetParam(), o);
    EXPECT_TRUE(r.ok) << (r.violations.empty() ? "" : r.violations[0]) << "\n  replay: " << r.replay;
    size_t narrative = 0;
    for (const std::string& n : r.notes) narrative += n.rfind("t=", 0) == 0 ? 1 : 0;
    EXPECT_GE(narrative, 3u) << "a story prints what happened";
}

INSTANTIATE_TEST_SUITE_P(Stories, GroupStory,
                         ::testing::Values("sc-27", "sc-27-static", "sc-28", "group-coordinator-failover", "sc-29",
                                           "sc-30", "sc-31", "sc-32"),
                         [](const auto& story) {
                             std::string n = story.param;
                             for (char& ch : n) ch = ch == '-' ? '_' : ch;
                             return n;
                         });

// SC-32 draws the lag per partition as an SVG line chart when asked to.
TEST(GroupStory, HotKeyDrawsTheLag) {
    std::string path = ::testing::TempDir() + "keel_sc32_lag.svg";
    std::remove(path.c_str());
    sim::RunOptions o;
    o.seed = 2;
    o.params["lag_svg"] = path;
    sim::RunResult r = sim::run_scenario("sc-32", o);
    EXPECT_TRUE(r.ok) << (r.violations.empty() ? "" : r.violations[0]);
    EXPECT_GT(r.metrics["lag_max_hot"], 5 * std::max(1.0, r.metrics["lag_max_others"]));
    std::ifstream f(path);
    std::stringstream svg;
    svg << f.rdbuf();
    EXPECT_EQ(svg.str().rfind("<svg", 0), 0u);
    EXPECT_NE(svg.str().find("(hot key)"), std::string::npos);
    EXPECT_NE(svg.str().find("<polyline"), std::string::npos);
    std::remove(path.c_str());
}

}  // namespace
}  // namespace keel
