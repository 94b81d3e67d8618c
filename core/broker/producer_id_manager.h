// ProducerIdManager: where a broker's InitProducerId gets its producer ids (Kafka's
// RPCProducerIdManager, KIP-730). The controller hands out blocks of ids (AllocateProducerIds,
// recorded in the metadata log, so no id is ever given twice); this manager hands out the
// ids of its current block one by one and fetches the next block before the current one
// runs out.
//
//   generate_producer_id() ─▶ current block [first, first + size)
//        │ the id reaches first + 90% of size: prefetch (a fiber calls `fetch`)
//        ▼
//   next block ── current block used up: the next one becomes current
//
// While no block is available (the first call, or the prefetch has not come back before
// the current block ran out), generate_producer_id() answers
// Errc::coordinator_load_in_progress at once (Kafka's COORDINATOR_LOAD_IN_PROGRESS, which
// every client retries) and starts a fetch if none is in flight. A failed fetch (an error,
// or a block that is empty or not above the current one) is retried only after
// `retry_backoff`, so a broker cut off from the controller does not hammer it.
//
// At most one fetch is in flight. `fetch` runs on its own fiber of `executor`'s node (it
// blocks that fiber: in a broker it is BrokerLifecycle::allocate_producer_ids). The state the
// fiber touches is shared with it, so destroying the manager while a fetch is in flight is
// safe; what `fetch` itself captures must outlive that fetch (stop() waits for it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/controller/producer_id_block.h"
#include "core/env/executor.h"

namespace keel::broker {

struct ProducerIdManagerOptions {
    // Prefetch once this share of the current block is handed out (Kafka's
    // PidPrefetchThreshold, 0.90), in percent: 1..100.
    int32_t prefetch_percent = 90;
    // After a failed fetch, no new fetch before this (Kafka's RetryBackoffMs, 50 ms).
    Duration retry_backoff = ms(50);
};

struct ProducerIdManagerStats {
    uint64_t ids_generated = 0;
    uint64_t fetches = 0;          // fetches started
    uint64_t fetch_failures = 0;   // errors and rejected blocks
    uint64_t not_ready = 0;        // coordinator_load_in_progress answers
};

class ProducerIdManager {
public:
    using FetchBlock = std::function<Result<controller::ProducerIdBlock>()>;

    // Requires fetch and 1 <= prefetch_percent <= 100.
    ProducerIdManager(env::Executor& executor, FetchBlock fetch, ProducerIdManagerOptions options = {});
    ~ProducerIdManager();
    ProducerIdManager(const ProducerIdManager&) = delete;
    ProducerIdManager& operator=(const ProducerIdManager&) = delete;

    // The next producer id: unique on this broker and, since blocks come from the
    // controller, in the cluster; ids only increase. Never blocks. Errors:
    // coordinator_load_in_progress (no block yet; a fetch is under way or will start once
    // the backoff after a failure has passed: try again), with the last fetch error.
    Result<int64_t> generate_producer_id();

    // Starts fetching a block now if none is held in reserve or in flight (a broker may call
    // it at start-up so that its first InitProducerId finds a block). Respects the backoff.
    void prefetch();

    // Waits (on the calling fiber) for the fetch in flight, if any, to finish, and starts no
    // new one afterwards. Call before what `fetch` uses goes away.
    void stop();

    bool fetch_in_flight() const;
    // The block ids are handed out from, and the one held in reserve.
    std::optional<controller::ProducerIdBlock> current_block() const;
    std::optional<controller::ProducerIdBlock> next_block() const;
    const ProducerIdManagerStats& stats() const;

private:
    struct State;
    void maybe_fetch();

    env::Executor& executor_;
    ProducerIdManagerOptions options_;
    std::shared_ptr<State> state_;
};

}  // namespace keel::broker
