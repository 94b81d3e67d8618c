// The foundation's proof: the counter service under every fault type, many seeds; and the
// checker catching each anomaly it exists for.
#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "scenarios/proof/counter_service.h"

namespace keel {
namespace {

sim::RunResult run(const std::string& name, uint64_t seed, std::optional<std::string> faults = std::nullopt) {
    sim::RunOptions o;
    o.seed = seed;
    o.faults = std::move(faults);
    return sim::run_scenario(name, o);
}

TEST(CounterService, SurvivesRandomFaultsOfEveryTypeOverManySeeds) {
    std::map<std::string, uint64_t> totals;
    std::map<std::string, sim::KindEfficacy> efficacy;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        sim::RunResult r = run("counter-chaos", seed);
        EXPECT_TRUE(r.ok) << "seed " << seed << ": " << (r.violations.empty() ? "" : r.violations[0])
                          << "\n  replay: " << r.replay;
        for (const auto& [k, v] : r.faults) totals[k] += v;
        for (const auto& [k, e] : r.efficacy) {
            efficacy[k].requested += e.requested;
            efficacy[k].effect += e.effect;
        }
    }
    // Every fault type really happened somewhere in the sweep (no false green). Clock jumps
    // are not generated for the counter (it never reads its wall clock: they could not
    // bite); every kind that is generated must take effect somewhere.
    for (const char* k : {"crashes", "restarts", "pauses", "partitions", "clogs", "disk_wipes", "disk_faults_set",
                          "net_frames_held_by_partition", "disk_unsynced_bytes_lost", "disk_torn_writes",
                          "disk_unsynced_writes_kept", "disk_sync_failures", "disk_corrupt_bytes_read"}) {
        EXPECT_GT(totals[k], 0u) << k;
    }
    for (const auto& [kind, e] : efficacy) {
        if (e.requested > 0) {
            EXPECT_GT(e.effect, 0u) << kind << " was requested " << e.requested << " times, never bit";
        }
    }
}

TEST(CounterService, EachFaultTypeAloneTakesEffectAndTheCounterSurvives) {
    const char* specs[] = {
        "1s crash n1 for 2s",      "1s restart n2",           "1s pause n1 for 3s",
        "1s partition n1|n2,n3 for 3s", "1s oneway n1>n2 for 3s", "1s isolate n1 for 12s",
        "1s clog n1>n2 300ms for 3s", "1s reset n1-n2",       "1s clockjump n1 -60s",
        "2s wipe n1",              "1s disk-torn n1 1.0 for 5s; 2s crash n1 for 1s",
        "1s disk-bitflip n1 0.05 for 5s; 2s restart n1", "1s disk-full n1 for 2s", "1s disk-slow n1 30ms for 3s",
    };
    for (const char* spec : specs) {
        sim::RunResult r = run("counter-chaos", 11, spec);
        EXPECT_TRUE(r.ok) << spec << ": " << (r.violations.empty() ? "" : r.violations[0]);
        uint64_t effect = 0;
        for (const auto& [k, v] : r.faults) {
            if (k != "skipped" && k.rfind("net_frames_sent", 0) != 0 && k != "net_frames_delivered" &&
                k != "disk_syncs")
                effect += v;
        }
        EXPECT_GT(effect, 0u) << spec << " had no visible effect";
        EXPECT_EQ(r.faults["skipped"], 0u) << spec;
    }
}

TEST(CounterService, PlantedAckBeforePersistBugIsCaught) {
    int caught = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) caught += run("counter-bug-ack-before-persist", seed).ok ? 0 : 1;
    EXPECT_GE(caught, 4) << "the checker must expose acknowledgements that were never durable";
}

TEST(CounterService, SameSeedSameHashAcrossRuns) {
    for (uint64_t seed : {1, 2, 3, 50, 99}) {
        EXPECT_EQ(run("counter-chaos", seed).trace_hash, run("counter-chaos", seed).trace_hash);
    }
}

proof::CounterOp op(proof::CounterOp::Kind k, proof::CounterOp::Outcome o, uint64_t v, int64_t t0, int64_t t1) {
    return proof::CounterOp{k, o, v, Instant{t0}, Instant{t1}};
}

using K = proof::CounterOp::Kind;
using O = proof::CounterOp::Outcome;

TEST(CounterChecker, ReportsALostIncrement) {
    proof::CounterHistory h;
    h.ops = {op(K::inc, O::ok, 1, 0, 1), op(K::inc, O::ok, 2, 2, 3)};
    h.final_read = 1;
    auto v = proof::check_counter_history(h);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].find("lost-increment"), std::string::npos);
}

TEST(CounterChecker, ReportsANonMonotonicRead) {
    proof::CounterHistory h;
    h.ops = {op(K::inc, O::ok, 1, 0, 1), op(K::inc, O::ok, 2, 2, 3), op(K::read, O::ok, 1, 4, 5)};
    h.final_read = 2;
    auto v = proof::check_counter_history(h);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].find("nonmonotonic-read"), std::string::npos);
}

TEST(CounterChecker, ReportsAPhantomIncrementAndADuplicateAck) {
    proof::CounterHistory h;
    h.ops = {op(K::inc, O::ok, 1, 0, 1), op(K::inc, O::ok, 1, 2, 3)};
    h.final_read = 3;
    auto v = proof::check_counter_history(h);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_NE(v[0].find("duplicate-ack"), std::string::npos);
    EXPECT_NE(v[1].find("phantom-increment"), std::string::npos);
}

TEST(CounterChecker, ReportsAServiceThatNeverRecovered) {
    proof::CounterHistory h;
    h.ops = {op(K::inc, O::info, 0, 0, 1)};
    auto v = proof::check_counter_history(h);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].find("no-final-read"), std::string::npos);
}

TEST(CounterChecker, AcceptsIndeterminateIncrementsThatDidHappen) {
    proof::CounterHistory h;
    h.ops = {op(K::inc, O::ok, 1, 0, 1), op(K::inc, O::info, 0, 2, 3), op(K::read, O::ok, 2, 4, 5)};
    h.final_read = 2;
    EXPECT_TRUE(proof::check_counter_history(h).empty());
}

}  // namespace
}  // namespace keel
