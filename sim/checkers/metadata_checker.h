// MetadataChecker: the controller's safety properties, checked from the outside on every
// image every node (controller or broker) reaches, for the simulator's scenarios. It lives
// with the other checkers (sim/checkers/, library keel_checkers); core/ knows nothing of it.
//
// It works on ImageView, a compact copy of what it checks (view_of() makes one from a
// MetadataImage), so that its tests can feed it anomalies the image itself would refuse.
//
// Checks (each reported once per occurrence as a sentence):
//   same-prefix     every node that reaches end offset n holds the same image there (P14)
//   isr             an inactive broker (fenced or shutting down) is in no ISR, except as
//                   the last member of a leaderless ISR; it leads nothing
//   leader-in-isr   every leader is in its ISR (or -1)
//   epochs          a node's leader and partition epochs never go down; a leader change
//                   bumps the leader epoch
//   partition-epoch a change of a partition's replicas, ISR or leader bumps its partition
//                   epoch, by at least as much as its leader epoch went up (every
//                   PartitionChangeRecord bumps it once, a leader change also the leader epoch)
//   image-offset    a node's image end offset never goes down within an incarnation, and
//                   a restarted node never starts below a snapshot an earlier incarnation
//                   had loaded (snapshots are durable), unless its disk was damaged between
//   unclean         no leader from outside the ISR unless the topic allows unclean election
//   session         a broker the active controller has not heard from for longer than the
//                   session timeout (+ grace) is fenced, once that controller has been
//                   active that long; a session fence never comes before the timeout
//   converged       after healing, every node's image equals the active controller's
// Metrics: session-fence latencies (last contact → fence committed), elections and unclean
// elections (each counted once, however many nodes apply it), images checked.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/types.h"
#include "core/controller/metadata_image.h"

namespace keel::sim {

using controller::MetadataImage;
using controller::TopicPartition;

struct ImageView {
    struct Broker {
        BrokerEpoch epoch{-1};
        bool fenced = true;
        bool in_controlled_shutdown = false;
        bool operator==(const Broker&) const = default;
    };
    struct Partition {
        std::string topic;  // name
        std::vector<NodeId> replicas;
        std::vector<NodeId> isr;
        NodeId leader{-1};
        LeaderEpoch leader_epoch{0};
        PartitionEpoch partition_epoch{0};
        bool unclean_allowed = false;
        bool operator==(const Partition&) const = default;
    };
    Offset end_offset{0};
    std::map<NodeId, Broker> brokers;
    std::map<TopicPartition, Partition> partitions;
    uint64_t digest = 0;  // of the whole image (records, configs included)
};

ImageView view_of(const MetadataImage& image);
// FNV-1a over the image's records: equal images, equal digests.
uint64_t image_digest(const MetadataImage& image);

struct MetadataCheckerOptions {
    Duration session_timeout = ms(9000);
    // Slack for the silent-broker check: the controller's tick, a write, a failover.
    Duration fence_grace = ms(3000);
    // ... and progress: the silent-broker check also needs the active controller to have
    // committed this many entries since the broker's session expired. A controller whose
    // commits crawl (a clogged link to its only live follower) is slow, not wrong; one
    // that keeps committing (its NoOps alone, every few seconds) and never fences is.
    int64_t fence_progress_entries = 3;
    size_t violations_max = 50;  // listed; all are counted
};

class MetadataChecker {
public:
    explicit MetadataChecker(MetadataCheckerOptions options = {}) : options_(options) {}

    // `node` (one name per node incarnation) reached `view`: by applying one entry, or by
    // restoring a snapshot (restored) or starting (its first view).
    void on_image(const std::string& node, const ImageView& view, bool restored, Instant now);
    void on_image(const std::string& node, const MetadataImage& image, bool restored, Instant now) {
        on_image(node, view_of(image), restored, now);
    }

    // A count of damaging disk events (wipes, corruption, bit flips on read) on the disk of
    // `node` (its name without "#incarnation"): when it changed since the node's previous
    // incarnation began, a restart below an earlier snapshot is excused.
    void set_disk_damage_probe(std::function<uint64_t(const std::string& node)> probe) {
        disk_damage_ = std::move(probe);
    }

    // The active controller accepted a heartbeat from `broker`.
    void on_heartbeat(NodeId broker, Instant at);
    // A controller became active (able to decide) at `at`.
    void on_activated(Instant at);
    // A controller committed a fence for a lapsed session.
    void on_session_fence(NodeId broker, Instant last_contact, Instant at);
    // Periodically: `active` is the active controller's image (nullopt if none). Reports
    // an unfenced broker silent for longer than session timeout + grace, once the active
    // controller has committed `fence_progress_entries` entries since its session expired.
    void check_sessions(const std::optional<ImageView>& active, Instant now);
    // After healing: every node's view must equal the reference's (digest and offset).
    void check_converged(const std::string& reference_node, const ImageView& reference,
                         const std::map<std::string, ImageView>& nodes);

    const std::vector<std::string>& violations() const { return violations_; }
    uint64_t violation_count() const { return violation_count_; }
    const std::vector<Duration>& fence_latencies() const { return fence_latencies_; }
    uint64_t elections() const { return elections_; }
    uint64_t unclean_elections() const { return unclean_elections_; }
    uint64_t images_checked() const { return images_checked_; }
    uint64_t images_restored() const { return images_restored_; }  // from snapshots

private:
    void violation(std::string what);
    void check_view(const std::string& node, const ImageView& v);
    void check_transition(const std::string& node, const ImageView& before, const ImageView& after, bool restored);
    void check_partition_epoch(const std::string& node, const ImageView& after, const TopicPartition& tp,
                               const ImageView::Partition& o, const ImageView::Partition& p);
    void check_image_offset(const std::string& node, const ImageView& view, bool restored);

    // Per node (across incarnations): the highest snapshot offset it loaded, the
    // incarnation seen last and the disk-damage count when that incarnation began.
    struct NodeHistory {
        Offset restored_floor{0};
        std::string incarnation;
        uint64_t disk_damage = 0;
    };
    std::map<std::string, NodeHistory> history_;
    std::function<uint64_t(const std::string&)> disk_damage_;

    MetadataCheckerOptions options_;
    std::map<std::string, ImageView> last_;           // by node incarnation
    std::map<Offset, std::pair<uint64_t, std::string>> digests_;  // end offset → (digest, first node)
    std::map<NodeId, Instant> last_heartbeat_;
    std::map<NodeId, Offset> expired_at_offset_;  // active end offset when the session was first seen expired
    std::set<std::pair<TopicPartition, LeaderEpoch>> seen_elections_;
    std::optional<Instant> active_since_;
    std::vector<std::string> violations_;
    uint64_t violation_count_ = 0;
    std::vector<Duration> fence_latencies_;
    uint64_t elections_ = 0;
    uint64_t unclean_elections_ = 0;
    uint64_t images_checked_ = 0;
    uint64_t images_restored_ = 0;
};

}  // namespace keel::sim
