// Planted bug (a): a voter "forgets" the vote its quorum-state file holds when it
// restarts (RaftDriverOptions::bug_forget_vote), so it can vote twice in one epoch. The
// scripted schedule of `raft-bug-forget-vote` gives it the chance; the RaftMonitor's
// one-vote-per-epoch check must report it. Without the bug the same schedule is clean.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

constexpr uint64_t kSeeds = 5;

TEST(PlantedBug, AForgottenVoteIsCaughtAsTwoVotesInOneEpoch) {
    Sweep s = sweep("raft-bug-forget-vote", "bug", "1", kSeeds);
    EXPECT_GE(s.caught, 1) << "the monitor never noticed a voter voting twice in " << s.runs << " seeds";
    EXPECT_EQ(s.caught, s.runs) << "the schedule is meant to expose the bug on every seed";
    EXPECT_NE(s.first.find("one vote per epoch"), std::string::npos) << s.first << "\n" << s.replay;
}

TEST(PlantedBug, TheForgetVoteScheduleIsSafeWithoutTheBug) {
    Sweep s = sweep("raft-bug-forget-vote", "bug", "0", kSeeds);
    EXPECT_EQ(s.caught, 0) << s.first << "\n" << s.replay;
}

}  // namespace
}  // namespace keel::negative
