// A planted consumer-group bug the group checker must catch, in the real code path
// (GroupCoordinatorConfig::bugs, a switch production never sets):
//   commit-without-fencing  OffsetCommit skips the member and generation checks, so a
//                           zombie (a member frozen past its session timeout, whose
//                           partitions moved) commits its stale offsets
//                           (commit-from-stale-generation-accepted, and often
//                           committed-offset-regressed)
// group-chaos's churn freezes members past their session timeout; the zombie commits when
// it wakes, before it finds out it was expelled.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

TEST(PlantedGroupBug, ACoordinatorThatDoesNotFenceZombieCommitsIsCaught) {
    int runs = 0;
    std::string caught;
    std::vector<std::string> replays;
    for (uint64_t seed = 1; seed <= 6 && caught.empty(); seed++) {
        sim::RunOptions o;
        o.seed = seed;
        o.params["group_bug"] = "commit-without-fencing";
        sim::RunResult r = sim::run_scenario("group-chaos", o);
        runs++;
        replays.push_back(r.replay);
        for (const auto& v : r.violations) {
            if (v.find("commit-from-stale-generation-accepted") != std::string::npos ||
                v.find("committed-offset-regressed") != std::string::npos) {
                caught = v + "\n" + r.replay;
                break;
            }
        }
    }
    EXPECT_FALSE(caught.empty()) << "no stale commit caught in " << runs << " runs; last: " << replays.back();
}

}  // namespace
}  // namespace keel::negative
