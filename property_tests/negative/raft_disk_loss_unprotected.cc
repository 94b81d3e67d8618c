// The KIP-853 hazard as a planted bug: a voter that lost its disk bootstraps as if the
// cluster were new (RaftDriverOptions::protect_empty_disk = false, `--param protect=0`)
// and helps elect a leader without entries it had acknowledged. The RaftMonitor must
// report the lost committed entry; with protection the same schedule is clean.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

constexpr uint64_t kSeeds = 5;

TEST(PlantedBug, AnUnprotectedDiskLossLosesACommittedEntryAndIsCaught) {
    Sweep s = sweep("quorum-disk-loss", "protect", "0", kSeeds);
    EXPECT_GE(s.caught, 1) << "the monitor never noticed the lost entry in " << s.runs << " seeds";
    EXPECT_EQ(s.caught, s.runs);
    EXPECT_NE(s.first.find("leader completeness"), std::string::npos) << s.first << "\n" << s.replay;
}

TEST(PlantedBug, TheDiskLossScheduleIsSafeWithProtection) {
    Sweep s = sweep("quorum-disk-loss", "protect", "1", kSeeds);
    EXPECT_EQ(s.caught, 0) << s.first << "\n" << s.replay;
}

}  // namespace
}  // namespace keel::negative
