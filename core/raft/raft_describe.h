// DescribeQuorum (API 55, v0-v2) answered from a RaftNode's state: Kafka's
// KafkaRaftClient.handleDescribeQuorumRequest, a pure function here so that tests can
// call it and the driver only adds the clocks and the voters' listeners.
#pragma once

#include <vector>

#include "core/base/types.h"
#include "core/protocol/describe_quorum.h"
#include "core/raft/raft_node.h"

namespace keel::raft {

// The answer of `node` to `request` at version `version` (0..2), asked at monotonic `now`
// (not before the node's latest tick) when its wall clock reads `wall_now`.
//  - The request must name exactly one topic, __cluster_metadata, with exactly partition
//    0; otherwise every partition it names is answered UNKNOWN_TOPIC_OR_PARTITION (as
//    Kafka does, even if one of them is the metadata partition).
//  - A node that does not lead answers NOT_LEADER_OR_FOLLOWER with the leader id (-1 if
//    unknown) and the epoch it knows, high watermark -1 (Kafka leaves 0/0/0 there).
//  - The leader answers its id, epoch, high watermark (-1 until established in its
//    epoch), every voter and the recent observers (RaftNode::quorum_progress), their
//    times in wall-clock ms (-1 unknown) and, from v2, `voter_nodes` as Nodes. Directory
//    ids are zero: Keel's voters have none yet.
// Wall times are wall_now minus the monotonic time elapsed since the event, so a wall
// clock jump moves every reported time with it (Kafka stamps each event as it happens).
protocol::DescribeQuorumResponse describe_quorum(
    const RaftNode& node, const protocol::DescribeQuorumRequest& request, int16_t version,
    Instant now, WallTime wall_now,
    const std::vector<protocol::DescribeQuorumResponse::Node>& voter_nodes);

}  // namespace keel::raft
