// Exponential draws in integer arithmetic: no libm in scheduling decisions, so a seed
// replays identically on any machine and any libm (std::log/std::log1p results may
// differ in the last bit between libm versions, and one bit can reorder two events).
#pragma once

#include <bit>
#include <cstdint>

#include "core/base/types.h"
#include "core/env/random.h"

namespace keel::sim {

// -ln(x / 2^64) in unsigned Q32 fixed point (x == 0 is taken as 1), exact to ~2^-30:
// the integer part of log2 from the leading zeros, 32 fraction bits by repeated squaring.
inline uint64_t neg_ln_q32(uint64_t x) {
    if (x == 0) x = 1;
    int lz = std::countl_zero(x);
    unsigned __int128 m = static_cast<unsigned __int128>(x << lz);  // [2^63, 2^64): 1.xxx in Q63
    uint64_t frac = 0;  // log2 of the mantissa, Q32
    for (int i = 0; i < 32; i++) {
        m = (m * m) >> 63;
        frac <<= 1;
        if (m >= (static_cast<unsigned __int128>(1) << 64)) {
            m >>= 1;
            frac |= 1;
        }
    }
    // -log2(x / 2^64) = (lz + 1) - log2(mantissa); times ln 2 (Q32: 2977044472).
    uint64_t neg_log2 = (static_cast<uint64_t>(lz + 1) << 32) - frac;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(neg_log2) * 2977044472ULL) >> 32);
}

// An exponentially distributed duration with the given mean (integer nanoseconds).
inline Duration exponential(env::Random& rng, Duration mean) {
    uint64_t q = neg_ln_q32(rng.next_u64());
    auto ns = (static_cast<unsigned __int128>(static_cast<uint64_t>(mean.count())) * q) >> 32;
    return Duration(static_cast<int64_t>(ns));
}

}  // namespace keel::sim
