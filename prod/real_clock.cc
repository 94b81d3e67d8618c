#include "prod/real_clock.h"

#include <time.h>

#include "core/base/assert.h"

namespace keel::prod {
namespace {
int64_t read_ns(clockid_t id) {
    struct timespec ts {};
    int rc = ::clock_gettime(id, &ts);
    KEEL_ASSERT_MSG(rc == 0, "clock_gettime failed");  // only with a bad clock id
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Instant RealClock::monotonic() { return Instant{read_ns(CLOCK_MONOTONIC)}; }
WallTime RealClock::wall() { return WallTime{read_ns(CLOCK_REALTIME)}; }

}  // namespace keel::prod
