#include "prod/shutdown_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <ctime>
#include <string>

#include "prod/os_random.h"

namespace keel::prod {

namespace {

sigset_t shutdown_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

}  // namespace

void ShutdownSignals::block() {
    sigset_t set = shutdown_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::optional<int> ShutdownSignals::take() {
    sigset_t set = shutdown_set();
    timespec zero{0, 0};
    int sig = sigtimedwait(&set, nullptr, &zero);
    if (sig < 0) return std::nullopt;  // EAGAIN: none pending (EINTR: look again next time)
    return sig;
}

std::string random_cluster_id() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t words[2] = {OsRandom::os_seed(), OsRandom::os_seed()};
    uint8_t bytes[16];
    for (int i = 0; i < 16; i++) bytes[i] = static_cast<uint8_t>(words[i / 8] >> (8 * (i % 8)));
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (uint8_t b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
    return out;  // 128 bits → 22 characters
}

}  // namespace keel::prod
