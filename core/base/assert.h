// KEEL_ASSERT: invariants, on in every build. A failure is a bug: it prints the
// condition, the place, and whatever the installed context hook adds (the simulator adds
// the seed, the event number and the replay command), then aborts.
#pragma once

namespace keel {

// Called on assertion failure before abort; the simulator installs one that prints the
// seed and replay command. Returns nothing; must not throw.
using AssertContextHook = void (*)();
void set_assert_context_hook(AssertContextHook hook);

[[noreturn]] void assert_failed(const char* condition, const char* file, int line,
                                const char* message);

}  // namespace keel

#define KEEL_ASSERT(cond)                                                   \
    do {                                                                    \
        if (!(cond)) [[unlikely]]                                           \
            ::keel::assert_failed(#cond, __FILE__, __LINE__, nullptr);      \
    } while (0)

#define KEEL_ASSERT_MSG(cond, msg)                                          \
    do {                                                                    \
        if (!(cond)) [[unlikely]]                                           \
            ::keel::assert_failed(#cond, __FILE__, __LINE__, (msg));        \
    } while (0)

#define KEEL_UNREACHABLE() ::keel::assert_failed("unreachable", __FILE__, __LINE__, nullptr)
