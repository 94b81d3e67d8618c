// A node's metrics as Prometheus text (docs/operations.md, "Metrics").
//
// Two kinds, rendered one after the other:
//   live     counted as things happen, into the node's registry: per-API requests and
//            latencies, bytes and messages in, bytes out (broker::BrokerServer)
//   scraped  computed from the node's parts at each render (a fresh registry, so nothing
//            stale survives a part going away): partitions hosted, led, under-replicated,
//            under min ISR; ISR shrinks/expands (mirrored from the replica manager's stats);
//            the Raft quorum as this node sees it; whether its controller is active and, on
//            the active controller, offline partitions; groups hosted and their lag
//
// Consumer group lag (`keel_consumer_group_lag{group}`) is summed over the group's
// committed partitions that have a replica on this node (leader or follower): the high
// watermark this replica knows minus the committed offset, at least 0. A committed
// partition without a local replica is not counted (its high watermark is not known here
// without a request).
#pragma once

#include <string>

#include "core/base/metrics.h"
#include "core/node/keel_node.h"

namespace keel::node {

// Fills `out` with the scraped metrics of a node with these parts (absent parts add
// nothing). Does not park.
void collect_node_metrics(const NodeParts& parts, const NodeConfig& config, metrics::Registry& out);

// live.render() followed by the scraped metrics.
std::string render_node_metrics(const NodeParts& parts, const NodeConfig& config, const metrics::Registry& live);

}  // namespace keel::node
