// NetFaultControl: how a running `keel server --net-faults FILE` is told its network
// faults (NetFaults, prod/tcp_network.h) — a test facility for `keel nemesis`, off unless
// the option is given (`keel cluster up` gives it to every node: DIR/node-N/net-faults).
//
// The control file, rewritten whole (write a temporary file and rename it) by the tester:
//
//   # any comment
//   generation 12
//   cut 127.0.0.1:4003          (repeatable: connect() to it refused, open connections closed)
//   slow 127.0.0.1:4005 150     (repeatable: each send to it waits 150 ms)
//
// No cut or slow line: no fault. A malformed line is logged as a warning and ignored (the
// others apply); the server stays up. A missing file means no fault.
//
// The server reads the file every 100 ms on a fiber of its node (a small blocking read on
// the node's thread: it is a test facility) and, when its text changed, applies the rules.
// It acknowledges in FILE.ack (rewritten whenever its content changes):
//
//   generation 12        the generation applied (0: none given)
//   cut 2                rules in force
//   slow 0
//   malformed 0          lines ignored
//   refused 3            what the filter did since this generation was applied (its own
//   closed 2             closing of open connections included): connects refused,
//   delayed 0            connections closed, sends delayed
//   total_refused 7      the same since the server started
//   total_closed 4
//   total_delayed 31
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "prod/tcp_network.h"

namespace keel::prod {

struct NetFaultFile {
    int64_t generation = 0;
    NetFaultRules rules;
    std::vector<std::string> malformed;  // a message per line ignored
};

// Never fails: what cannot be read is reported in `malformed` and ignored.
NetFaultFile parse_net_fault_file(const std::string& text);
// The text of a control file (what parse_net_fault_file reads back).
std::string net_fault_file_text(int64_t generation, const NetFaultRules& rules);

struct NetFaultAck {
    int64_t generation = 0;
    int64_t cut = 0;
    int64_t slow = 0;
    int64_t malformed = 0;
    NetFaultCounters since;  // since `generation` was applied
    NetFaultCounters total;  // since the server started
    auto operator<=>(const NetFaultAck&) const = default;
};

std::string net_fault_ack_text(const NetFaultAck& ack);
// nullopt if a field is missing or malformed.
std::optional<NetFaultAck> parse_net_fault_ack(const std::string& text);

// The server side: polls `path` and applies it to `faults`, acknowledging in path + ".ack".
// Runs on a fiber of the node until the node stops; log lines go to env.tracer().
void run_net_fault_control(env::Env& env, NetFaults& faults, const std::string& path);

}  // namespace keel::prod
