// The controller scenarios (scenarios/controller/) over many seeds, as CI's share of the
// sweeps: every seed must hold every MetadataChecker rule and the scenario's own
// expectations, and the faults must actually have happened. Longer sweeps run outside CI
// (`make soak`).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/scenario.h"

namespace keel::controller {
namespace {

sim::RunResult run(const char* name, uint64_t seed, std::map<std::string, std::string> params = {}) {
    sim::RunOptions o;
    o.seed = seed;
    o.params = std::move(params);
    return sim::run_scenario(name, o);
}

std::string first_violation(const sim::RunResult& r) {
    return (r.violations.empty() ? std::string() : r.violations[0]) + "\n  replay: " + r.replay;
}

TEST(ControllerScenarios, ControllerBrokersHoldsEveryRuleAndConvergesOverFortySeeds) {
    std::map<std::string, uint64_t> faults;
    std::map<std::string, double> metrics;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sim::RunResult r = run("controller-brokers", seed);
        EXPECT_TRUE(r.ok) << "seed " << seed << ": " << first_violation(r);
        for (const auto& [k, v] : r.faults) faults[k] += v;
        for (const auto& [k, v] : r.metrics) metrics[k] += v;
    }
    for (const char* k : {"crashes", "pauses", "partitions", "clock_jumps", "disk_wipes", "disk_faults_set"}) {
        EXPECT_GT(faults[k], 0u) << k << " never took effect";
    }
    // The scripted silences fence brokers (unless a controller failover, which gives every
    // broker a fresh session, falls inside one); faults on the leader move the controller;
    // the snapshot interval makes restarted nodes load snapshots.
    EXPECT_GE(metrics["session_fences"], 40) << "the scripted silences should end in fences";
    EXPECT_GT(metrics["controller_activations"], 80);
    EXPECT_GT(metrics["partition_elections"], 200);
    EXPECT_GT(metrics["images_restored_from_snapshots"], 40);
}

TEST(ControllerScenarios, SameSeedGivesTheSameTraceHash) {
    sim::RunResult a = run("controller-brokers", 7);
    sim::RunResult b = run("controller-brokers", 7);
    sim::RunResult c = run("controller-brokers", 8);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.events, b.events);
    EXPECT_NE(a.trace_hash, c.trace_hash);
}

TEST(ControllerScenarios, UncleanElectionShowsBothSettingsOverTenSeeds) {
    for (uint64_t seed = 1; seed <= 10; seed++) {
        sim::RunResult r = run("unclean-election", seed);
        EXPECT_TRUE(r.ok) << "seed " << seed << ": " << first_violation(r);
        EXPECT_EQ(r.metrics["unclean_elections"], 1) << "seed " << seed;
        // Offline for the whole 30 s crash with the switch off.
        EXPECT_GE(r.metrics["clean_offline_ms"], 30000) << "seed " << seed;
    }
}

TEST(ControllerScenarios, ActiveControllerFailoverTakesSecondsAndFencesNoBroker) {
    for (uint64_t seed = 1; seed <= 10; seed++) {
        sim::RunResult r = run("active-controller-failover", seed);
        EXPECT_TRUE(r.ok) << "seed " << seed << ": " << first_violation(r);
        // Detection (fetch timeout 2 s, less the parked fetch) plus an election; a
        // ZooKeeper-mode controller needed 6-18 s to notice, then a full reload.
        EXPECT_GT(r.metrics["activation_ms"], 1000) << "seed " << seed;
        EXPECT_LT(r.metrics["activation_ms"], 6000) << "seed " << seed;
        EXPECT_GE(r.metrics["create_topic_ms"], r.metrics["activation_ms"]) << "seed " << seed;
        EXPECT_EQ(r.metrics["session_fences"], 0) << "seed " << seed;
    }
}

}  // namespace
}  // namespace keel::controller
