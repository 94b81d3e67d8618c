// The foundation's proof service: a primary–backup replicated counter written only
// against core/env. It runs unchanged in the simulator (under every fault type) and on
// loopback sockets and a temporary directory (tests/prod/).
//
// Protocol (one frame per message, big-endian):
//   client → primary   INC req_id          → OK req_id value | ERR req_id
//   client → primary   READ req_id         → VALUE req_id value | ERR req_id
//   primary → backup   REPL value          → ACK value
//   primary → backup   QUERY               → ACK value        (recovery)
// Safety design:
//   - the primary appends the new value to its counter file and syncs it, then waits for
//     one backup to persist it, and only then answers OK (two durable copies);
//   - reads answer the last value that completed that path (committed), never more;
//   - after a restart the primary recovers max(valid records on its disk); if its disk was
//     lost (no counter file) it must hear from every backup before serving — only the
//     union of the backups is guaranteed to hold every acknowledged value.
// Counter file: 20-byte records {u32 magic 'KCNT', u64 value, u64 fnv1a(magic,value)};
// recovery takes the largest valid record (a torn tail or a flipped bit invalidates only
// that record), and compacts the file by write-temp + sync + rename + sync_dir.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/env/env.h"

namespace keel::proof {

struct CounterConfig {
    env::Address primary;                   // where the primary listens
    std::vector<env::Address> backups;      // where the backups listen
    Duration replicate_timeout = 500ms;     // per backup attempt
    Duration recovery_query_timeout = 500ms;
    // Planted bug for the negative test: answer OK before anything is durable.
    bool bug_ack_before_persist = false;
};

// Node mains.
void run_counter_primary(env::Env& env, const CounterConfig& config);
void run_counter_backup(env::Env& env, const env::Address& listen);

// One client operation as the history records it (Jepsen style: ok / fail / info).
struct CounterOp {
    enum class Kind : uint8_t { inc, read };
    enum class Outcome : uint8_t { ok, fail, info };  // info = unknown whether it happened
    Kind kind = Kind::inc;
    Outcome outcome = Outcome::info;
    uint64_t value = 0;    // OK value (inc: the new value; read: the value read)
    Instant invoked{};
    Instant completed{};
};

struct CounterHistory {
    std::vector<CounterOp> ops;
    std::optional<uint64_t> final_read;  // after the faults healed
};

// A client workload: up to `ops` sequential operations (mostly increments, every 4th a
// read) until `ops_until`, then a final read retried until it succeeds or
// `final_read_deadline` passes.
void run_counter_client(env::Env& env, const CounterConfig& config, int ops,
                        Duration think_time, Instant ops_until,
                        Instant final_read_deadline, CounterHistory& history);

// The checker. Violations found, each a sentence:
//   lost-increment: the final value is below the number of acknowledged increments;
//   phantom-increment: the final value exceeds every increment that was attempted;
//   nonmonotonic-read: a read returned less than a read or OK that completed before it;
//   duplicate-ack: two increments acknowledged with the same value;
//   no-final-read: the service never answered after the faults healed (liveness).
std::vector<std::string> check_counter_history(const CounterHistory& h);

}  // namespace keel::proof
