// Random: the only source of randomness in core/. Seeded; in the simulator every node
// gets its own stream derived from the run's seed, and every draw is part of the trace
// hash. In production it is seeded from the OS once, at start.
#pragma once

#include <cstdint>

#include "core/base/assert.h"
#include "core/base/types.h"

namespace keel::env {

class Random {
public:
    virtual ~Random() = default;
    // 64 uniformly distributed bits.
    virtual uint64_t next_u64() = 0;

    // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
    uint64_t uniform(uint64_t lo, uint64_t hi) {
        KEEL_ASSERT(lo <= hi);
        uint64_t span = hi - lo + 1;
        if (span == 0) return next_u64();  // the full 64-bit range
        return lo + next_u64() % span;     // bias < 2^-40 for spans < 2^24; fine here
    }
    // Uniform duration in [lo, hi].
    Duration uniform(Duration lo, Duration hi) {
        return Duration(static_cast<int64_t>(
            uniform(static_cast<uint64_t>(lo.count()), static_cast<uint64_t>(hi.count()))));
    }
    // True with probability p (0 <= p <= 1).
    bool chance(double p) { return unit() < p; }
    // Uniform in [0, 1).
    double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
};

// SplitMix64 + xoshiro256** — small, fast, and identical on every platform. Used by both
// worlds so a seed means the same sequence everywhere.
class SeededRandom final : public Random {
public:
    explicit SeededRandom(uint64_t seed);
    uint64_t next_u64() override;
    // Derive an independent stream (e.g. per node) from this one's seed and a label.
    static uint64_t derive_seed(uint64_t seed, uint64_t label);

private:
    uint64_t s_[4];
};

}  // namespace keel::env
