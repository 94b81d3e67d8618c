// keel bench pubsub: the embedded pub-sub library (embedded/pubsub.h) against two
// baselines, in the same run: per-subscriber std::mutex + std::condition_variable +
// std::deque<std::string> fan-out, and a boost::lockfree::spsc_queue<std::string> per
// subscriber (several publishers take a mutex to fan out, so the order is one, as in a
// topic). Also, for information only, an spsc_queue per (publisher, subscriber) pair (no
// lock and no order across publishers) and one of fixed 128-byte slots (no allocation;
// only possible because the bench's messages have a fixed size).
// P publishers x S subscribers x T topics, 100-byte messages; every subscriber reads every
// topic. Figures: messages/s published and delivered, publish->receive latency p50/p99,
// and the ratio delivered(keel) / delivered(better baseline). Medians of repetitions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keel::bench {

struct PubSubBenchOptions {
    std::optional<std::string> json_path;  // also write the figures as JSON
    uint64_t messages = 1'000'000;         // published per run, over all publishers (> 0)
    int topics = 1;                        // T (>= 1)
    int repetitions = 3;                   // runs per implementation and shape; medians (>= 1)
    std::vector<std::pair<int, int>> shapes = {{1, 1}, {1, 4}, {2, 2}, {4, 1}, {4, 4}};  // (P, S)
};

// The help text of `keel bench pubsub`.
const char* pubsub_bench_help();

// Parses "1x1,2x2" into shapes; false on a malformed list or a count outside 1..64.
bool parse_pubsub_shapes(const std::string& text, std::vector<std::pair<int, int>>& out);

// Prints the figures; 0 on success (whether or not the target is met), 1 if a JSON file
// cannot be written, 2 for bad options.
int run_pubsub_bench(const PubSubBenchOptions& options);

}  // namespace keel::bench
