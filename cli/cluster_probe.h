// What `keel cluster status` and `keel nemesis` ask a running cluster: one Metadata
// request (every topic) to the first broker that answers — the live brokers, the active
// controller, and per partition its leader, replicas and ISR (under-replicated: ISR smaller
// than the replica set). Runs on a node's fiber (core/client's BrokerConnection).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/env/env.h"

namespace keel::cli {

struct ProbedPartition {
    std::string topic;
    int32_t partition = 0;
    int32_t leader = -1;
    std::vector<int32_t> replicas;
    std::vector<int32_t> isr;
    bool under_replicated() const { return isr.size() < replicas.size(); }
};

struct ClusterProbe {
    std::string answered_by;  // the broker address that answered
    std::vector<int32_t> brokers;
    int32_t controller_id = -1;
    std::vector<ProbedPartition> partitions;  // sorted by topic, partition
    size_t under_replicated() const;
};

// Tries each address until one answers, up to `deadline`. Errors: the last transport error.
Result<ClusterProbe> probe_cluster(env::Env& env, const std::vector<env::Address>& bootstrap, Instant deadline);

// Runs `fn` on the first fiber of a client-only production node (real sockets and time; a
// temporary data directory; warnings only in its log) and returns when fn does.
Status run_on_client_node(const std::string& name, const std::function<void(env::Env&)>& fn);

// Parses "h:p,h:p"; nullopt if any part is malformed.
std::optional<std::vector<env::Address>> parse_bootstrap(const std::string& list);

}  // namespace keel::cli
