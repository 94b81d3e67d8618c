// RealClock: env::Clock on the kernel's clocks. monotonic_now() is CLOCK_MONOTONIC (never
// goes back; its origin is arbitrary, typically boot); wall_now() is CLOCK_REALTIME (may
// jump with NTP or an operator's date change). Thread-safe; no state.
#pragma once

#include "core/base/types.h"
#include "core/env/clock.h"

namespace keel::prod {

class RealClock final : public env::Clock {
public:
    Instant monotonic_now() const override { return monotonic(); }
    WallTime wall_now() const override { return wall(); }

    static Instant monotonic();
    static WallTime wall();
};

}  // namespace keel::prod
