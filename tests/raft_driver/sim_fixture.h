// A QuorumCluster in a World, outside any scenario: for tests that drive the world and
// look inside it (statuses, disks) as they go.
#pragma once

#include <memory>

#include "core/env/clock.h"
#include "scenarios/raft/quorum_cluster.h"

namespace keel::raft::testing {

struct Sim {
    // The World is declared first, so it (and every fiber holding the cluster) goes last.
    sim::World world;
    sim::RunOptions run;
    sim::ScenarioContext ctx;
    std::shared_ptr<scenarios::QuorumCluster> cluster;

    Sim(uint64_t seed, scenarios::QuorumOptions options)
        : world(sim::WorldOptions{.seed = seed}), ctx(world, run) {
        run.seed = seed;
        cluster = scenarios::QuorumCluster::create(ctx, std::move(options));
    }
};

class FixedClock final : public env::Clock {
public:
    Instant monotonic_now() const override { return Instant{1'000'000'000}; }
    WallTime wall_now() const override { return WallTime{1'700'000'000'000LL * 1'000'000}; }
};

}  // namespace keel::raft::testing
