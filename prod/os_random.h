// OsRandom: env::Random for production. Seeded once, at construction, from getrandom(2)
// (std::random_device if that fails), then a plain env::SeededRandom stream. The seed is
// reported (seed()) and logged by ProdNode, so a surprising run can be replayed with the
// same draws by constructing OsRandom(seed). Not thread-safe: one per node thread.
#pragma once

#include <cstdint>

#include "core/env/random.h"

namespace keel::prod {

class OsRandom final : public env::Random {
public:
    OsRandom();                        // seed from the OS
    explicit OsRandom(uint64_t seed);  // a fixed seed (replay)
    uint64_t next_u64() override { return stream_.next_u64(); }
    uint64_t seed() const { return seed_; }

    // 64 bits from the OS entropy source.
    static uint64_t os_seed();

private:
    uint64_t seed_;
    env::SeededRandom stream_;
};

}  // namespace keel::prod
