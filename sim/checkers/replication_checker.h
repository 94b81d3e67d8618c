// ReplicationChecker: white-box invariants of Kafka's replication, checked on every change
// of every replica on every broker (fed by ReplicaHooks::on_change), plus a byte-for-byte
// comparison of the replicas once the cluster is quiet.
//
// On every event:
//   one-leader-per-epoch   at most one broker is leader of a partition in a leader epoch
//   hw-monotonic           a leader's high watermark never decreases within its epoch
//   hw-within-isr          the leader's high watermark <= the log end of every ISR member
//   acked-on-isr           an acks=all answer comes only once every ISR member holds the
//                          batch (the high watermark passed it)
//   leader-has-committed   a new leader's log holds every offset below the highest high
//                          watermark any leader of an earlier epoch reached (with unclean
//                          election off for the topic: only then is it a promise)
// At the end (check_replicas, on a quiet cluster):
//   replicas-identical     below the leader's high watermark every replica holds the same
//                          batches, byte for byte
//
// Partitions are keyed by topic id, so a topic deleted and created again is a new one.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/broker/partition.h"

namespace keel::sim {

struct ReplicationCheckerOptions {
    // Whether unclean leader election is enabled for a topic (leader-has-committed is then
    // a report, not a promise).
    std::function<bool(const std::string& topic)> unclean_allowed;
    size_t violations_max = 50;
};

struct ReplicationCheckerStats {
    uint64_t events = 0;
    uint64_t leader_epochs = 0;
    uint64_t hw_checks = 0;
    uint64_t acks_checked = 0;
    uint64_t batches_compared = 0;
    uint64_t replicas_compared = 0;
    uint64_t unclean_data_loss = 0;  // leader-has-committed broken where unclean election was allowed
};

class ReplicationChecker {
public:
    // `replica_of(broker id, topic id, partition)` is the running replica on that broker, or
    // nullptr (down, or not hosting it).
    using ReplicaLookup =
        std::function<broker::Partition*(NodeId broker, const broker::Uuid& topic_id, int32_t partition)>;

    ReplicationChecker(ReplicationCheckerOptions options, ReplicaLookup replica_of);

    // A replica on `broker` changed at `at`.
    void on_change(NodeId broker, const broker::Partition& p, Instant at);
    // The leader on `broker` answers an acks=all produce ending at `last_offset`: every
    // ISR member must hold it (acked-on-isr).
    void on_acks_all(NodeId broker, const broker::Partition& p, Offset last_offset);

    // Compares every replica of every partition with its leader, byte for byte below the
    // leader's high watermark. Reads the logs: call from a fiber, with the cluster quiet.
    // `partitions` lists (topic id, partition, replicas) to compare.
    struct PartitionReplicas {
        broker::Uuid topic_id;
        int32_t partition = 0;
        std::string topic;
        NodeId leader{-1};
        std::vector<NodeId> replicas;
    };
    void check_replicas(const std::vector<PartitionReplicas>& partitions);

    const std::vector<std::string>& violations() const { return violations_; }
    const ReplicationCheckerStats& stats() const { return stats_; }

private:
    using Key = std::pair<broker::Uuid, int32_t>;
    void violation(std::string what);
    void check_leader(NodeId broker, const broker::Partition& p, const Key& key);
    void check_hw_within_isr(const broker::Partition& leader, const Key& key);
    Offset committed_before(const Key& key, int32_t epoch) const;

    ReplicationCheckerOptions options_;
    ReplicaLookup replica_of_;
    std::map<std::pair<Key, int32_t>, NodeId> leader_of_epoch_;  // (partition, epoch) -> broker
    std::map<std::pair<Key, int32_t>, Offset> hw_of_epoch_;      // (partition, epoch) -> leader's HW
    std::map<Key, int32_t> truth_from_epoch_;  // after a reported loss: epochs before it no longer bind
    std::vector<std::string> violations_;
    ReplicationCheckerStats stats_;
};

}  // namespace keel::sim
