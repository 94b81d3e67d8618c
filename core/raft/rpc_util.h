// Helpers for the single-partition shape of KRaft RPCs: every request and response names
// topic __cluster_metadata (by name, or by id in Fetch v13+), partition 0.
#pragma once

#include <vector>

#include "core/raft/raft_types.h"

namespace keel::raft {

// The one partition of a Vote/BeginQuorumEpoch/EndQuorumEpoch topics array, or nullptr if
// the array is not exactly [{__cluster_metadata, [{partition 0, ...}]}].
template <typename TopicData>
auto single_partition(const std::vector<TopicData>& topics)
    -> const typename decltype(TopicData::partitions)::value_type* {
    if (topics.size() != 1 || topics[0].topic_name != metadata_topic_name) return nullptr;
    if (topics[0].partitions.size() != 1) return nullptr;
    if (topics[0].partitions[0].partition_index != metadata_partition) return nullptr;
    return &topics[0].partitions[0];
}

inline bool is_metadata_topic(const std::string& name, const protocol::Uuid& id) {
    return name == metadata_topic_name || id == protocol::metadata_topic_id;
}

inline const protocol::FetchRequest::FetchPartition* single_partition(const protocol::FetchRequest& r) {
    if (r.topics.size() != 1 || !is_metadata_topic(r.topics[0].topic, r.topics[0].topic_id)) return nullptr;
    if (r.topics[0].partitions.size() != 1) return nullptr;
    const auto& p = r.topics[0].partitions[0];
    return p.partition == metadata_partition ? &p : nullptr;
}

inline const protocol::FetchResponse::PartitionData* single_partition(const protocol::FetchResponse& r) {
    if (r.responses.size() != 1 || !is_metadata_topic(r.responses[0].topic, r.responses[0].topic_id)) {
        return nullptr;
    }
    if (r.responses[0].partitions.size() != 1) return nullptr;
    const auto& p = r.responses[0].partitions[0];
    return p.partition_index == metadata_partition ? &p : nullptr;
}

inline const protocol::FetchSnapshotRequest::PartitionSnapshot* single_partition(
    const protocol::FetchSnapshotRequest& r) {
    if (r.topics.size() != 1 || r.topics[0].name != metadata_topic_name) return nullptr;
    if (r.topics[0].partitions.size() != 1) return nullptr;
    const auto& p = r.topics[0].partitions[0];
    return p.partition == metadata_partition ? &p : nullptr;
}

inline const protocol::FetchSnapshotResponse::PartitionSnapshot* single_partition(
    const protocol::FetchSnapshotResponse& r) {
    if (r.topics.size() != 1 || r.topics[0].name != metadata_topic_name) return nullptr;
    if (r.topics[0].partitions.size() != 1) return nullptr;
    const auto& p = r.topics[0].partitions[0];
    return p.index == metadata_partition ? &p : nullptr;
}

}  // namespace keel::raft
