// Planted bug (b): the leader advances the high watermark over entries of an earlier
// epoch by counting replicas (RaftConfig::bug_commit_by_counting_older_epochs), instead
// of waiting for its own epoch's LeaderChange entry to be on a majority — Raft's figure 8.
// `raft-bug-figure8` scripts the five-voter history in which such a commit is later
// overwritten; the RaftMonitor's leader-completeness check must report it.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

constexpr uint64_t kSeeds = 5;

TEST(PlantedBug, CommittingAnOlderEpochsEntryByCountingIsCaught) {
    Sweep s = sweep("raft-bug-figure8", "bug", "1", kSeeds);
    EXPECT_GE(s.caught, 1) << "the monitor never noticed a lost committed entry in " << s.runs << " seeds";
    EXPECT_EQ(s.caught, s.runs) << "the schedule is meant to expose the bug on every seed";
    EXPECT_NE(s.first.find("leader completeness"), std::string::npos) << s.first << "\n" << s.replay;
}

TEST(PlantedBug, TheFigure8ScheduleIsSafeWithoutTheBug) {
    Sweep s = sweep("raft-bug-figure8", "bug", "0", kSeeds);
    EXPECT_EQ(s.caught, 0) << s.first << "\n" << s.replay;
}

}  // namespace
}  // namespace keel::negative
