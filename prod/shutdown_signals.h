// ShutdownSignals: SIGTERM and SIGINT for `keel server`, taken synchronously. block()
// masks both in the calling thread before any other thread exists (threads inherit the
// mask), so no handler ever runs; a fiber of the node then polls take() between sleeps and
// starts a clean shutdown when one is pending. A second signal while the node is shutting
// down is pending again, and `keel server` then exits at once.
#pragma once

#include <optional>
#include <string>

namespace keel::prod {

class ShutdownSignals {
public:
    // Masks SIGTERM and SIGINT in this thread (and the threads it starts later).
    static void block();
    // The pending shutdown signal (SIGTERM or SIGINT), consumed; nullopt if none. Never blocks.
    static std::optional<int> take();
};

// A new cluster id as Kafka's `kafka-storage.sh random-uuid` prints it: 16 random bytes in
// URL-safe base64 without padding (22 characters), from the OS entropy source.
std::string random_cluster_id();

}  // namespace keel::prod
