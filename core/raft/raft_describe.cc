#include "core/raft/raft_describe.h"

#include <string>

#include "core/raft/rpc_util.h"

namespace keel::raft {

using protocol::DescribeQuorumRequest;
using protocol::DescribeQuorumResponse;
using protocol::ErrorCode;

namespace {

// Every partition the request names, answered with `error`.
DescribeQuorumResponse partition_errors(const DescribeQuorumRequest& request, ErrorCode error,
                                        const std::string& message) {
    DescribeQuorumResponse resp;
    for (const auto& t : request.topics) {
        DescribeQuorumResponse::TopicData td;
        td.topic_name = t.topic_name;
        for (const auto& p : t.partitions) {
            DescribeQuorumResponse::PartitionData pd;
            pd.partition_index = p.partition_index;
            pd.error_code = error;
            pd.error_message = message;
            pd.leader_id = NodeId(-1);
            pd.leader_epoch = QuorumEpoch(-1);
            pd.high_watermark = Offset(-1);
            td.partitions.push_back(std::move(pd));
        }
        resp.topics.push_back(std::move(td));
    }
    return resp;
}

int64_t wall_ms(std::optional<Instant> at, Instant now, WallTime wall_now) {
    if (!at) return -1;
    return WallTime{wall_now.ns - (now - *at).count()}.ms();
}

std::vector<DescribeQuorumResponse::ReplicaState> replica_states(
    const std::vector<ReplicaProgress>& replicas, Instant now, WallTime wall_now) {
    std::vector<DescribeQuorumResponse::ReplicaState> out;
    for (const ReplicaProgress& r : replicas) {
        DescribeQuorumResponse::ReplicaState s;
        s.replica_id = r.id;
        s.log_end_offset = r.log_end_offset.value_or(Offset(-1));
        s.last_fetch_timestamp = wall_ms(r.last_fetch, now, wall_now);
        s.last_caught_up_timestamp = wall_ms(r.last_caught_up, now, wall_now);
        out.push_back(s);
    }
    return out;
}

std::string not_leader_message(const RaftNode& node) {
    std::string m = "node " + std::to_string(node.id().value()) + " is not the quorum leader; ";
    if (!node.leader()) return m + "the leader of epoch " + std::to_string(node.epoch().value()) + " is unknown";
    return m + "the leader is node " + std::to_string(node.leader()->value()) + " (epoch " +
           std::to_string(node.epoch().value()) + ")";
}

}  // namespace

DescribeQuorumResponse describe_quorum(const RaftNode& node, const DescribeQuorumRequest& request,
                                       int16_t version, Instant now, WallTime wall_now,
                                       const std::vector<DescribeQuorumResponse::Node>& voter_nodes) {
    if (single_partition(request.topics) == nullptr) {
        return partition_errors(request, ErrorCode::unknown_topic_or_partition,
                                "the quorum serves exactly one partition, " +
                                    std::string(metadata_topic_name) + "-" +
                                    std::to_string(metadata_partition));
    }
    std::optional<QuorumProgress> q = node.quorum_progress(now);
    if (!q) {
        DescribeQuorumResponse resp =
            partition_errors(request, ErrorCode::not_leader_or_follower, not_leader_message(node));
        auto& p = resp.topics[0].partitions[0];
        p.leader_id = node.leader().value_or(NodeId(-1));
        p.leader_epoch = node.epoch();
        return resp;
    }
    DescribeQuorumResponse::PartitionData p;
    p.partition_index = metadata_partition;
    p.leader_id = q->leader_id;
    p.leader_epoch = q->epoch;
    p.high_watermark = q->high_watermark.value_or(Offset(-1));
    p.current_voters = replica_states(q->voters, now, wall_now);
    p.observers = replica_states(q->observers, now, wall_now);
    DescribeQuorumResponse resp;
    resp.topics.push_back({std::string(metadata_topic_name), {std::move(p)}});
    if (version >= 2) resp.nodes = voter_nodes;
    return resp;
}

}  // namespace keel::raft
