#include "core/base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace keel {
namespace {
AssertContextHook g_hook = nullptr;
}  // namespace

void set_assert_context_hook(AssertContextHook hook) { g_hook = hook; }

void assert_failed(const char* condition, const char* file, int line, const char* message) {
    std::fprintf(stderr, "KEEL_ASSERT failed: %s\n  at %s:%d\n", condition, file, line);
    if (message != nullptr && message[0] != '\0') std::fprintf(stderr, "  %s\n", message);
    if (g_hook != nullptr) g_hook();
    std::fflush(stderr);
    std::abort();
}

}  // namespace keel
