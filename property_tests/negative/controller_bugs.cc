// Planted controller bugs the MetadataChecker must catch, in the real code path (switches
// that production never sets), on every one of five seeds of controller-brokers:
//   fence-leaves-isr           a session fence writes FenceBrokerRecord but leaves the
//                              broker in its ISRs (ControllerConfig::bug_fence_leaves_isr;
//                              the images trust their log, as Kafka's replay does, so the
//                              record reaches them instead of stopping them at an assertion)
//   skip-partition-epoch-bump  an ISR-only PartitionChangeRecord keeps the partition epoch
//                              (MetadataImage::plant_bug_skip_partition_epoch_bump)
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

constexpr uint64_t kSeeds = 5;

struct Caught {
    int runs = 0;
    int caught = 0;   // runs with a violation naming the rule
    std::string first;  // one violation, for the failure message
};

// Runs seeds from 1 until kSeeds of them exercised the bug's code path (the schedule fenced
// a broker: metric session_fences > 0, or changed an ISR: partition_elections > 0), at most
// 4 * kSeeds seeds; a run that never reached the bug says nothing about the checker.
Caught run_bug(const std::string& bug, const std::string& rule, const std::string& exercised_by) {
    Caught out;
    for (uint64_t seed = 1; seed <= 4 * kSeeds && out.runs < static_cast<int>(kSeeds); seed++) {
        sim::RunOptions o;
        o.seed = seed;
        o.params["bug"] = bug;
        sim::RunResult r = sim::run_scenario("controller-brokers", o);
        auto m = r.metrics.find(exercised_by);
        if (m == r.metrics.end() || m->second <= 0) continue;
        out.runs++;
        bool named = false;
        for (const auto& v : r.violations) named = named || v.rfind(rule, 0) == 0;
        out.caught += named ? 1 : 0;
        if (out.first.empty() && !r.violations.empty()) out.first = r.violations[0] + "\n" + r.replay;
    }
    return out;
}

TEST(PlantedControllerBug, AFencedBrokerLeftInItsIsrsIsCaughtOnEverySeed) {
    Caught c = run_bug("fence-leaves-isr", "isr: ", "session_fences");
    EXPECT_EQ(c.runs, static_cast<int>(kSeeds)) << "too few seeds fenced a broker";
    EXPECT_EQ(c.caught, c.runs) << c.first;
}

TEST(PlantedControllerBug, ASkippedPartitionEpochBumpIsCaughtOnEverySeed) {
    Caught c = run_bug("skip-partition-epoch-bump", "partition-epoch: ", "partition_elections");
    EXPECT_EQ(c.runs, static_cast<int>(kSeeds)) << "too few seeds changed a partition";
    EXPECT_EQ(c.caught, c.runs) << c.first;
}

TEST(PlantedControllerBug, AnUnknownBugIsRefused) {
    sim::RunOptions o;
    o.seed = 1;
    o.params["bug"] = "no-such-bug";
    o.params["fault_seconds"] = "1";
    sim::RunResult r = sim::run_scenario("controller-brokers", o);
    ASSERT_FALSE(r.ok);
    EXPECT_NE(r.violations[0].find("unknown --param bug=no-such-bug"), std::string::npos) << r.violations[0];
}

}  // namespace
}  // namespace keel::negative
