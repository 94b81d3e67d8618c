// Clock: the only source of time in core/.
#pragma once

#include "core/base/types.h"

namespace keel::env {

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time for timeouts and intervals. Never goes back, on any node, in any world.
    // In the simulator it is virtual and advances only between events.
    virtual Instant monotonic_now() const = 0;
    // Wall-clock time for record timestamps and retention. May jump forward or backward
    // (NTP in production; injected skew and jumps in the simulator). Never use it to
    // measure an interval.
    virtual WallTime wall_now() const = 0;
};

}  // namespace keel::env
