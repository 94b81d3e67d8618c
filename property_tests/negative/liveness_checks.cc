// The liveness checks must fail when liveness is really lost. Two of three controllers
// lose their disks at once: with the empty-disk protection neither may vote until it has
// caught up from a leader, and no leader can be elected without one of them, so the
// quorum stays leaderless for good (the safe outcome: electing from the one full log
// would need an operator, KIP-853's remove/add voter). The scenarios' post-fault checks
// must say so instead of passing.
#include "property_tests/negative/negative_util.h"

namespace keel::negative {
namespace {

sim::RunResult run(const char* scenario, uint64_t seed, const char* faults) {
    sim::RunOptions o;
    o.seed = seed;
    o.faults = faults;
    return sim::run_scenario(scenario, o);
}

bool mentions(const sim::RunResult& r, const std::string& text) {
    for (const auto& v : r.violations) {
        if (v.find(text) != std::string::npos) return true;
    }
    return false;
}

std::string all(const sim::RunResult& r) {
    std::string out;
    for (const auto& v : r.violations) out += "  " + v + "\n";
    return out + "  replay: " + r.replay;
}

TEST(LivenessCheck, QuorumChaosFailsWhenTwoVotersLoseTheirDisks) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        // The leader and a follower: the one full log left cannot win a vote.
        sim::RunResult r = run("quorum-chaos", seed, "5s wipe @leader; 5s wipe @follower");
        EXPECT_FALSE(r.ok) << "seed " << seed;
        EXPECT_TRUE(mentions(r, "not live after faults stopped: no leader within")) << all(r);
    }
}

TEST(LivenessCheck, ControllerBrokersFailsWhenTwoControllersLoseTheirDisks) {
    // Seed 1 leads from c1 or c2 at 20 s, so the survivor (c3) cannot win a vote.
    sim::RunResult r = run("controller-brokers", 1, "20s wipe c1; 20s wipe c2");
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(mentions(r, "not converged")) << all(r);
}

TEST(LivenessCheck, OneLostDiskIsNoLossOfLiveness) {
    sim::RunResult r = run("quorum-chaos", 1, "5s wipe c1");
    EXPECT_TRUE(r.ok) << all(r);
}

sim::RunResult run_with(const char* scenario, uint64_t seed, std::map<std::string, std::string> params,
                        std::optional<std::string> faults = std::nullopt) {
    sim::RunOptions o;
    o.seed = seed;
    o.params = std::move(params);
    o.faults = std::move(faults);
    return sim::run_scenario(scenario, o);
}

// Before this check a leader that never committed passed: everyone was "caught up" with
// a high watermark that never moved.
TEST(LivenessCheck, QuorumChaosFailsWhenTheLeadersHighWatermarkNeverMoves) {
    for (uint64_t seed = 1; seed <= 2; seed++) {
        sim::RunResult r = run_with("quorum-chaos", seed,
                                    {{"bug_stuck_high_watermark", "1"}, {"fault_seconds", "8"}, {"commit_after_heal_s", "20"}});
        EXPECT_FALSE(r.ok) << "seed " << seed;
        EXPECT_TRUE(mentions(r, "not live after faults stopped: no commit within 20000 ms of the heal")) << all(r);
    }
}

TEST(LivenessCheck, CounterChaosFailsWhenNothingIsAcknowledged) {
    // A run whose client acknowledged nothing checked nothing. (A primary isolated for the
    // fault phase no longer does this reliably: the client's working phase ends 2 s after
    // the schedule does, and a healed primary acknowledges a few operations in that window.)
    sim::RunResult r = run_with("counter-chaos", 1, {{"ops", "0"}});
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(mentions(r, "not live: no operation was acknowledged")) << all(r);
}

TEST(LivenessCheck, PlantedBugControlsFailWhenTheirScheduleDidNotRun) {
    for (const char* scenario : {"raft-bug-forget-vote", "raft-bug-figure8"}) {
        sim::RunResult r = run_with(scenario, 1, {{"bug", "0"}, {"disrupt", "1"}});
        EXPECT_FALSE(r.ok) << scenario;
        EXPECT_TRUE(mentions(r, "the schedule did not run as planned")) << scenario << "\n" << all(r);
    }
}

}  // namespace
}  // namespace keel::negative
