// SimRandom: a seeded stream whose every draw is folded into the scheduler's trace hash,
// so a run that draws differently is caught by the determinism check at once.
#pragma once

#include "core/env/random.h"
#include "runtime/scheduler.h"

namespace keel::sim {

class SimRandom final : public env::Random {
public:
    SimRandom(uint64_t seed, fiber::Scheduler* hash_sink) : rng_(seed), sink_(hash_sink) {}
    uint64_t next_u64() override {
        uint64_t v = rng_.next_u64();
        if (sink_ != nullptr) sink_->mix(v);
        draws_++;
        return v;
    }
    uint64_t draws() const { return draws_; }

private:
    env::SeededRandom rng_;
    fiber::Scheduler* sink_;
    uint64_t draws_ = 0;
};

}  // namespace keel::sim
