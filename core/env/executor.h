// Executor: cooperative fibers on one thread per node. Code reads sequentially
// (`auto r = conn.receive(deadline)`) while the scheduler interleaves fibers; a fiber runs
// until it blocks (park, sleep, yield), so no locks are needed between fibers.
//
// Both worlds use the same Boost.Context scheduler (runtime/): the simulator with virtual
// time and every node in one thread, production with the real clock and one reactor
// thread per node. core/ sees only this interface.
//
// Crash semantics: when a node crashes, every one of its fibers is unwound at its current
// suspension point (newest first) by an exception that must not be swallowed, its timers
// are dropped, and its pending unparks are ignored. Never `catch (...)` without rethrow.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/base/types.h"

namespace keel::env {

using FiberId = uint64_t;  // 0 means "not a fiber" (timer callbacks, the scheduler)
using TimerId = uint64_t;

enum class WakeReason : uint8_t {
    unparked,  // someone called unpark(this fiber)
    deadline,  // the deadline passed first
    dying,     // the node is crashing or stopping; return promptly, do not block again
};

class Executor {
public:
    virtual ~Executor() = default;

    // Starts `fn` on a new fiber of this node; it first runs after the caller blocks or
    // yields. The name shows in traces. Returns 0 (and never runs fn) if the node is dying.
    virtual FiberId spawn(std::string name, std::function<void()> fn) = 0;

    // The running fiber, or 0 outside fibers.
    virtual FiberId current() const = 0;

    // The node's monotonic time (same as Clock::monotonic_now).
    virtual Instant now() const = 0;

    // Lets every other ready fiber run; continues at the same instant.
    virtual void yield() = 0;

    // Blocks the calling fiber for d (virtual time in the simulator).
    virtual void sleep_for(Duration d) = 0;

    // Blocks the calling fiber until unpark(current()) or `deadline` (Instant::max() for
    // none). Wakeups may be spurious: callers re-check their condition in a loop. The
    // primitives in core/env/sync.h do this; most code should use those.
    virtual WakeReason park(Instant deadline) = 0;

    // Makes a parked fiber ready. No-op if the fiber is not parked, finished, or its node
    // is dying. Callable from fibers and timer callbacks of the same node.
    virtual void unpark(FiberId fiber) = 0;

    // Runs `fn` once after `d`, outside any fiber (it must not block). Dropped if the node
    // crashes first; deferred while the node is paused.
    virtual TimerId call_after(Duration d, std::function<void()> fn) = 0;
    // Cancels a pending timer; no-op if it already ran or was dropped.
    virtual void cancel_timer(TimerId timer) = 0;
};

}  // namespace keel::env
