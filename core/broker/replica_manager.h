// ReplicaManager: a broker's replicas, reconciled from the metadata image (Kafka's
// ReplicaManager + the KRaft "metadata publisher").
//
//   MetadataImage ──(observer: changed)──▶ reconcile(): open/create PartitionLogs in
//   <log_dir>/<topic>-<partition>/, apply each PartitionState (leader / follower at its
//   leader epoch), close and delete replicas of deleted topics or moved-away partitions
//   (crash-safely: renamed to `<topic>-<p>.<id>-delete` first, removed after
//   file.delete.delay.ms by the deleter fiber; replica_manager_dirs.cc).
//   Each partition directory records its topic id (partition.metadata), so a directory of a
//   deleted topic is never taken for a new topic of the same name; the first reconcile
//   sweeps partition directories this broker does not host and `-delete` leftovers.
//
// It also runs the broker's background fibers:
//   - a replica fetcher per leader broker (ReplicaFetcher), fetching every partition this
//     broker follows from that leader;
//   - the ISR maintainer: every isr_check_interval, the AlterPartition each led partition
//     wants (shrink lagging followers, add caught-up ones, finish an unclean recovery);
//   - retention (and compaction steps) on every replica by topic config.
//
// A disk error on a replica's log stops the manager (`failed()`); the node assembly then
// exits so that its supervisor restarts the process on the surviving disk, as Kafka does
// when its only log dir goes offline.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/base/result.h"
#include "core/broker/broker_config.h"
#include "core/broker/partition.h"
#include "core/controller/broker_lifecycle.h"
#include "core/controller/metadata_image.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/log/log_driver.h"

namespace keel::broker {

// Observation points for the simulator's checkers; none changes behaviour.
struct ReplicaHooks {
    // After any change of a replica's state (append, truncation, HW, role, ISR).
    std::function<void(const Partition&)> on_change;
    // A replica was deleted (its topic went away or it moved).
    std::function<void(const TopicPartitionName&)> on_delete;
    // The leader is about to answer an acks=all produce as successful: the batch ends at
    // `last_offset` (a duplicate's original offsets included).
    std::function<void(const Partition&, Offset last_offset)> on_acks_all;
};

struct ReplicaStats {
    uint64_t reconciles = 0;
    uint64_t became_leader = 0;
    uint64_t became_follower = 0;
    uint64_t isr_shrinks = 0;
    uint64_t isr_expands = 0;
    // ISR changes applied to partitions this broker leads (same leader epoch), from its own
    // AlterPartition or the controller's (a fenced broker removed): what metrics report.
    uint64_t leader_isr_shrinks = 0;
    uint64_t leader_isr_expands = 0;
    uint64_t alter_partition_errors = 0;
    uint64_t divergence_truncations = 0;
    uint64_t replicas_deleted = 0;
    uint64_t stale_dirs_deleted = 0;  // leftovers of deleted topics (sweep, partition.metadata)
    uint64_t fetch_requests = 0;
    uint64_t fetch_errors = 0;
    uint64_t records_replicated_bytes = 0;
};

class ReplicaFetcher;

class ReplicaManager {
public:
    // `lifecycle` sends AlterPartition and knows this broker's epoch; `codec` (optional)
    // lets the logs look inside compressed batches.
    ReplicaManager(env::Env& env, const BrokerConfig& config, const controller::MetadataImage& image,
                   controller::BrokerLifecycle& lifecycle, const log::BatchCodec* codec = nullptr,
                   ReplicaHooks hooks = {});
    ~ReplicaManager();
    ReplicaManager(const ReplicaManager&) = delete;
    ReplicaManager& operator=(const ReplicaManager&) = delete;

    // Reconciles on every image change and runs the background fibers until stop() or a
    // disk error (returned).
    Status run();
    void stop();
    // Call from the image's observer (no blocking): schedules a reconcile.
    void image_changed() { image_changed_.set(); }

    Partition* partition(const TopicPartitionName& tp);
    Partition* partition(const Uuid& topic_id, int32_t index);
    // A reference that keeps the replica alive across a blocking call (a deleted topic's
    // replica may go from the map meanwhile; its role is then none).
    std::shared_ptr<Partition> partition_ref(const TopicPartitionName& tp);
    const std::map<TopicPartitionName, std::shared_ptr<Partition>>& partitions() const { return partitions_; }
    // Whether `p` is still this manager's replica (not deleted meanwhile). A deleted
    // replica's log may fail once its directory is gone: that is no disk error.
    bool hosts(const Partition& p) const {
        auto it = partitions_.find(p.tp());
        return it != partitions_.end() && it->second.get() == &p;
    }
    const BrokerConfig& config() const { return config_; }
    const controller::MetadataImage& image() const { return image_; }
    controller::BrokerLifecycle& lifecycle() { return lifecycle_; }
    env::Env& env() { return env_; }
    const log::BatchCodec* codec() const { return codec_; }
    // The topic's min.insync.replicas (topic config, else the broker default).
    int32_t min_insync_replicas(const std::string& topic) const;
    ReplicaStats& stats() { return stats_; }
    // Reports a change of `p` (append, HW, role, truncation) to the hooks and wakes the
    // delayed fetches waiting for one.
    void changed(const Partition& p) {
        activity_.notify_all();
        if (hooks_.on_change) hooks_.on_change(p);
    }
    void acks_all_answered(const Partition& p, Offset last_offset) {
        if (hooks_.on_acks_all) hooks_.on_acks_all(p, last_offset);
    }
    // Parks until some replica changes or the deadline (delayed fetches).
    env::WakeReason wait_activity(Instant deadline) { return activity_.wait(deadline); }
    // Renamed `-delete` directories waiting for file.delete.delay.ms to pass.
    size_t pending_deletions() const { return doomed_.size(); }
    // A replica's log failed on disk: stop everything, run() returns the error.
    void fail(const Status& st);
    bool failed() const { return !failure_.ok(); }

private:
    Status reconcile();
    Status ensure_replica(const std::string& topic, const Uuid& topic_id, PartitionIndex index,
                          const controller::PartitionState& state);
    Status delete_replica(const TopicPartitionName& tp);
    void count_isr_change(const Partition& p, ReplicaRole role_before, LeaderEpoch epoch_before, size_t isr_before);
    // replica_manager_dirs.cc
    Status remove_tree(const std::string& path);
    // Renames `dir` to its `-delete` name durably, then removes it: at once, or after
    // file.delete.delay.ms when `delayed` (the deleter fiber does it).
    Status delete_dir(const std::string& dir, const Uuid& topic_id, bool delayed = false);
    void deleter_loop();
    Result<std::optional<Uuid>> read_topic_id(const std::string& dir);
    Status prepare_dir(const std::string& dir, const Uuid& topic_id);
    Status stamp_topic_id(const std::string& dir, const Uuid& topic_id);
    Status sweep_stray_dirs(const std::set<TopicPartitionName>& keep);
    log::LogConfig log_config_for(const std::string& topic) const;
    void sync_fetchers();
    void isr_loop();
    void send_isr_change(Partition& p, const IsrChange& c);
    void retention_loop();

    env::Env& env_;
    const BrokerConfig& config_;
    const controller::MetadataImage& image_;
    controller::BrokerLifecycle& lifecycle_;
    const log::BatchCodec* codec_;
    ReplicaHooks hooks_;
    std::map<TopicPartitionName, std::shared_ptr<Partition>> partitions_;
    std::map<NodeId, std::unique_ptr<ReplicaFetcher>> fetchers_;
    env::Event image_changed_;
    env::WaitQueue activity_;
    env::Event isr_done_;
    env::Event retention_done_;
    env::Event deleter_done_;
    env::Event doomed_added_;                    // wakes the deleter
    std::map<std::string, Instant> doomed_;      // `-delete` directory -> when to remove it
    env::Event stopped_;  // set by stop(): the periodic loops wait on it instead of sleeping
    bool stopping_ = false;
    bool swept_ = false;  // the first reconcile's sweep of stray directories is done
    Status failure_ = ok_status();
    ReplicaStats stats_;
};

}  // namespace keel::broker
