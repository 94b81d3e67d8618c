// The `keel viz quorum` probe (scenarios/quorum_probe.h): it takes the status in the
// middle of the run, faults and all, and leaves the run itself unchanged.
#include <gtest/gtest.h>

#include "scenarios/quorum_probe.h"
#include "sim/scenario.h"
#include "visualize/quorum.h"

namespace keel::scenarios {
namespace {

struct Probed {
    sim::RunResult run;
    std::vector<std::string> statuses;
};

Probed run(const char* name, uint64_t seed, const char* at) {
    Probed out;
    set_quorum_status_probe([&out](const std::string& j) { out.statuses.push_back(j); });
    sim::RunOptions o;
    o.seed = seed;
    if (at != nullptr) o.params["viz_at"] = at;
    out.run = sim::run_scenario(name, o);
    set_quorum_status_probe({});
    return out;
}

TEST(VizProbe, TakesTheStatusMidRunAndLeavesTheRunUnchanged) {
    Probed plain = run("quorum-chaos", 5, nullptr);
    Probed probed = run("quorum-chaos", 5, "15s");
    EXPECT_TRUE(plain.statuses.empty());
    ASSERT_EQ(probed.statuses.size(), 1u);
    EXPECT_EQ(plain.run.trace_hash, probed.run.trace_hash) << "the picture must not change the run";
    EXPECT_EQ(plain.run.events, probed.run.events);

    std::string error;
    viz::QuorumView v = viz::parse_quorum_status(probed.statuses[0], error);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_EQ(v.t_ns, 15'000'000'000);
    EXPECT_EQ(v.seed, 5u);
    ASSERT_EQ(v.nodes.size(), 6u);  // 3 voters, 3 observers
    int voters = 0;
    for (const auto& n : v.nodes) voters += n.voter ? 1 : 0;
    EXPECT_EQ(voters, 3);
}

TEST(VizProbe, DrawsTheMetadataQuorumOfAControllerScenario) {
    // At 20 s of seed 3 a leader holds the quorum (at 25 s, since issue 13's generator,
    // two controllers are down and nothing is committed).
    Probed p = run("controller-brokers", 3, "20s");
    ASSERT_EQ(p.statuses.size(), 1u);
    std::string error;
    viz::QuorumView v = viz::parse_quorum_status(p.statuses[0], error);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_EQ(v.nodes.size(), 7u);  // c1..c3, b1..b4
    EXPECT_GT(v.committed_end, 0);
}

TEST(VizProbe, PastTheEndOfTheRunTakesNothing) {
    // The watch outlives the cluster here; it must neither fire nor keep the cluster.
    EXPECT_TRUE(run("controller-failover", 1, "900s").statuses.empty());
    EXPECT_TRUE(run("unclean-election", 1, "900s").statuses.empty());
}

}  // namespace
}  // namespace keel::scenarios
