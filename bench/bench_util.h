// What the benchmarks share. bench/ does not depend on cli/: the `keel bench` command
// (cli/cmd_bench.cc) parses the arguments and hands each benchmark its options struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/client/types.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "prod/prod_node.h"

namespace keel::bench {

// Writes text to a file; false (with a message on stderr) if it cannot.
bool write_text_file(const std::string& path, const std::string& text);

// The nearest-rank q-quantile (0 < q <= 1) of ascending nanosecond figures, in ms; 0 if
// there are none.
double percentile_ms(const std::vector<int64_t>& sorted_ns, double q);

// Spawns a fiber that, on SIGINT or SIGTERM (prod::ShutdownSignals, blocked by the
// caller), sets `interrupted` and stops `node`; the benches then clean up and exit 130.
void watch_shutdown_signals(env::Env& env, prod::ProdNode& node, bool& interrupted);

// A record the producer was handed, waiting for its acknowledgement.
struct PendingAck {
    env::Future<client::RecordMetadata> future;
    Instant sent;
};

// Waits for each acknowledgement of one partition's queue, in send order (a partition's
// batches complete in order), until the queue is closed and drained: on_ack(latency) for
// each acknowledged record, on_fail(error) for each failed or timed-out one.
template <typename OnAck, typename OnFail>
void await_acks(env::Env& env, env::Channel<PendingAck>& pending, Duration timeout, OnAck on_ack, OnFail on_fail) {
    for (;;) {
        Result<PendingAck> p = pending.receive();
        if (!p.ok()) return;  // closed and drained
        Result<client::RecordMetadata> md = p->future.get_for(timeout);
        if (md.ok()) {
            on_ack(env.now() - p->sent);
        } else {
            on_fail(md.error());
        }
    }
}

}  // namespace keel::bench
