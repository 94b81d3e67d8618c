// OffsetsTopic: the broker's side of consumer groups' storage. It implements the group
// coordinator's GroupLog over this broker's replicas of __consumer_offsets, and tells the
// coordinator which of those partitions this broker leads (Kafka's
// GroupCoordinator.onElection / onResignation, driven by the metadata image there).
//
//   append         one batch of the coordinator's records through the leader's produce path
//                  (validation, leader epoch, producer state), then, like acks=all, waits
//                  until the high watermark passes it with the ISR at min.insync.replicas
//   read_committed every batch from the log start to the log end: as leader, this log is
//                  what will be committed (the ISR holds everything committed before)
//   watch          every `tick`, and whenever a replica changes: partitions of
//                  __consumer_offsets led here at a new leader epoch → on_became_leader;
//                  ones no longer led → on_resigned; and whenever the metadata image has
//                  moved on, topics gone from it → on_topics_deleted (Kafka's
//                  BrokerMetadataPublisher calling GroupCoordinator.onPartitionsDeleted; by
//                  topic id, so a topic deleted and created again under its name is seen)
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/broker/replica_manager.h"
#include "core/group/group_coordinator.h"
#include "core/group/group_log.h"

namespace keel::broker {

class OffsetsTopic final : public group::GroupLog {
public:
    explicit OffsetsTopic(ReplicaManager& replicas, Duration tick = ms(100));

    Status append(int32_t partition, LeaderEpoch leader_epoch, std::vector<group::OffsetsRecord> records,
                  Instant deadline) override;
    Status read_committed(int32_t partition, LeaderEpoch leader_epoch,
                          const std::function<void(const group::OffsetsRecord&)>& fn) override;

    // Follows leadership changes until stop(); then resigns everything it reported.
    void watch(group::GroupCoordinator& coordinator);
    void stop();

private:
    std::shared_ptr<Partition> leader_replica(int32_t partition, LeaderEpoch leader_epoch);
    Status await_committed(int32_t partition, LeaderEpoch leader_epoch, Offset last_offset, Instant deadline);
    void sync_leadership(group::GroupCoordinator& coordinator);
    void sync_topics(group::GroupCoordinator& coordinator);

    ReplicaManager& replicas_;
    Duration tick_;
    env::Event stopped_;
    std::map<int32_t, LeaderEpoch> led_;  // what the coordinator was told
    std::map<Uuid, std::string> topics_;  // the image's topics at the last sync_topics
    std::optional<Offset> image_seen_;    // the image's end offset then
};

}  // namespace keel::broker
