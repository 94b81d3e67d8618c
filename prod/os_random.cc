#include "prod/os_random.h"

#include <sys/random.h>

#include <cerrno>
#include <random>

namespace keel::prod {

uint64_t OsRandom::os_seed() {
    uint64_t seed = 0;
    ssize_t n = -1;
    do {
        n = ::getrandom(&seed, sizeof seed, 0);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof seed)) return seed;
    std::random_device rd;  // getrandom missing (old kernel, seccomp): the library's source
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

OsRandom::OsRandom() : OsRandom(os_seed()) {}

OsRandom::OsRandom(uint64_t seed) : seed_(seed), stream_(seed) {}

}  // namespace keel::prod
