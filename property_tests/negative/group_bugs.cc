// A planted consumer-group bug the group checker must catch, in the real code path
// (GroupCoordinatorConfig::bugs, a switch production never sets):
//   commit-without-fencing  OffsetCommit skips the member and generation checks, so a
//                           zombie (a member frozen past its session timeout, whose
//                           partitions moved) commits its stale offsets
//                           (commit-from-stale-generation-accepted, and often
//                           committed-offset-regressed)
// The bug bites only when a zombie sends a commit: the checker counts those
// (stale_commits_sent). SC-27 (no faults) freezes a member past its session timeout on
// purpose: every run in which the zombie sent a commit must report the anomaly, and most
// runs must send one; group-chaos's churn makes zombies at random, under faults.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

struct BugRuns {
    int runs = 0;
    int zombie_commits = 0;  // runs in which a stale commit was sent
    int caught = 0;
    std::vector<std::string> missed;  // replays of runs with one sent and nothing caught
};

bool caught_stale_commit(const sim::RunResult& r) {
    for (const auto& v : r.violations) {
        if (v.find("commit-from-stale-generation-accepted") != std::string::npos ||
            v.find("committed-offset-regressed") != std::string::npos) {
            return true;
        }
    }
    return false;
}

BugRuns run_with_bug(const std::string& scenario, uint64_t seeds) {
    BugRuns b;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        sim::RunOptions o;
        o.seed = seed;
        o.params["group_bug"] = "commit-without-fencing";
        sim::RunResult r = sim::run_scenario(scenario, o);
        b.runs++;
        auto it = r.metrics.find("stale_commits_sent");
        if (it == r.metrics.end() || it->second <= 0) continue;
        b.zombie_commits++;
        if (caught_stale_commit(r)) {
            b.caught++;
        } else {
            b.missed.push_back(r.replay);
        }
    }
    return b;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += "\n  " + x;
    return s;
}

TEST(PlantedGroupBug, SC27sZombieCommitIsCaughtWheneverItIsSent) {
    BugRuns b = run_with_bug("sc-27", 4);
    EXPECT_TRUE(b.missed.empty()) << "a zombie's commit was accepted and not caught:" << joined(b.missed);
    EXPECT_GE(b.zombie_commits, 2) << "only " << b.zombie_commits << " of " << b.runs
                                   << " sc-27 runs had the zombie send a commit";
}

// Under faults a zombie's commit can also fail for reasons of its own (the coordinator
// moved or is loading, too few in-sync replicas of __consumer_offsets), so not every run
// that sent one lets it land: at least one of three must, and be caught.
TEST(PlantedGroupBug, GroupChaosZombieCommitsAreCaught) {
    BugRuns b = run_with_bug("group-chaos", 3);
    EXPECT_GE(b.caught, 1) << "no group-chaos run of " << b.runs << " caught a zombie's commit ("
                           << b.zombie_commits << " sent one):" << joined(b.missed);
}

}  // namespace
}  // namespace keel::negative
