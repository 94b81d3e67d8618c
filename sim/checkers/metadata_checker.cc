#include "sim/checkers/metadata_checker.h"

#include <algorithm>

namespace keel::sim {

using controller::encode_record;
using controller::MetadataRecord;

namespace {

std::string n(NodeId id) { return std::to_string(id.value()); }

std::string name_of(const TopicPartition& tp, const ImageView::Partition& p) {
    return p.topic + "-" + std::to_string(tp.partition.value());
}

std::string ids(const std::vector<NodeId>& v) {
    std::string s = "[";
    for (NodeId id : v) s += (s.size() > 1 ? "," : "") + n(id);
    return s + "]";
}

bool contains(const std::vector<NodeId>& v, NodeId x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string at(const std::string& node, const ImageView& v) {
    return node + " at offset " + std::to_string(v.end_offset.value());
}

}  // namespace

uint64_t image_digest(const MetadataImage& image) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const MetadataRecord& r : image.to_records()) {
        for (uint8_t b : encode_record(r)) h = (h ^ b) * 0x100000001b3ULL;
    }
    return h;
}

ImageView view_of(const MetadataImage& image) {
    ImageView v;
    v.end_offset = image.end_offset();
    for (const auto& [id, b] : image.brokers()) v.brokers[id] = {b.epoch, b.fenced, b.in_controlled_shutdown};
    for (const auto& [id, t] : image.topics()) {
        bool unclean = image.unclean_leader_election_enabled(t.name);
        for (const auto& [index, p] : t.partitions) {
            v.partitions[TopicPartition{id, index}] = {t.name, p.replicas, p.isr, p.leader, p.leader_epoch,
                                                       p.partition_epoch, unclean};
        }
    }
    v.digest = image_digest(image);
    return v;
}

void MetadataChecker::violation(std::string what) {
    violation_count_++;
    if (violations_.size() < options_.violations_max) violations_.push_back(std::move(what));
}

void MetadataChecker::on_image(const std::string& node, const ImageView& view, bool restored, Instant) {
    images_checked_++;
    images_restored_ += restored ? 1 : 0;
    auto [it, fresh] = digests_.try_emplace(view.end_offset, view.digest, node);
    if (!fresh && it->second.first != view.digest) {
        violation("same-prefix: " + at(node, view) + " holds another image than " + it->second.second +
                  " held at that offset");
    }
    check_view(node, view);
    check_image_offset(node, view, restored);
    auto prev = last_.find(node);
    if (prev != last_.end()) check_transition(node, prev->second, view, restored);
    last_[node] = view;
}

void MetadataChecker::check_image_offset(const std::string& node, const ImageView& v, bool restored) {
    std::string base = node.substr(0, node.find('#'));
    NodeHistory& h = history_[base];
    if (h.incarnation != node) {  // the first image of a new incarnation
        uint64_t damage = disk_damage_ ? disk_damage_(base) : 0;
        if (damage != h.disk_damage) h.restored_floor = Offset(0);  // what it had may be gone
        if (v.end_offset < h.restored_floor) {
            violation("image-offset: " + at(node, v) + " starts below the snapshot at offset " +
                      std::to_string(h.restored_floor.value()) + " an earlier incarnation of " + base + " loaded");
        }
        h.incarnation = node;
        h.disk_damage = damage;
    } else if (auto prev = last_.find(node); prev != last_.end() && v.end_offset < prev->second.end_offset) {
        violation("image-offset: " + at(node, v) + " went back from offset " +
                  std::to_string(prev->second.end_offset.value()) + " within one incarnation");
    }
    if (restored) h.restored_floor = std::max(h.restored_floor, v.end_offset);
}

void MetadataChecker::check_view(const std::string& node, const ImageView& v) {
    auto inactive = [&](NodeId b) {
        auto it = v.brokers.find(b);
        return it == v.brokers.end() || it->second.fenced || it->second.in_controlled_shutdown;
    };
    for (const auto& [tp, p] : v.partitions) {
        if (p.leader.value() >= 0 && !contains(p.isr, p.leader)) {
            violation("leader-in-isr: " + at(node, v) + ": leader " + n(p.leader) + " of " + name_of(tp, p) +
                      " is not in its ISR");
        }
        if (p.leader.value() >= 0 && inactive(p.leader)) {
            violation("isr: " + at(node, v) + ": fenced or shutting-down broker " + n(p.leader) + " leads " +
                      name_of(tp, p));
        }
        for (NodeId m : p.isr) {
            bool last_standing = p.isr.size() == 1 && p.leader.value() < 0;
            if (inactive(m) && !last_standing) {
                violation("isr: " + at(node, v) + ": fenced or shutting-down broker " + n(m) + " is in the ISR of " +
                          name_of(tp, p));
            }
        }
    }
}

void MetadataChecker::check_transition(const std::string& node, const ImageView& before, const ImageView& after,
                                       bool restored) {
    for (const auto& [tp, p] : after.partitions) {
        auto old = before.partitions.find(tp);
        if (old == before.partitions.end()) continue;
        const ImageView::Partition& o = old->second;
        if (p.leader_epoch < o.leader_epoch || p.partition_epoch < o.partition_epoch) {
            violation("epochs: " + at(node, after) + ": " + name_of(tp, p) + " went from leader/partition epoch " +
                      std::to_string(o.leader_epoch.value()) + "/" + std::to_string(o.partition_epoch.value()) +
                      " to " + std::to_string(p.leader_epoch.value()) + "/" + std::to_string(p.partition_epoch.value()));
        }
        check_partition_epoch(node, after, tp, o, p);
        if (p.leader != o.leader && p.leader_epoch <= o.leader_epoch) {
            violation("epochs: " + at(node, after) + ": " + name_of(tp, p) + " changed leader " + n(o.leader) + " → " +
                      n(p.leader) + " without a leader-epoch bump");
        }
        // One applied entry changes a partition at most once, so the election is visible
        // exactly here; a snapshot may hide intermediate steps.
        if (restored || p.leader == o.leader || p.leader.value() < 0) continue;
        bool first_sighting = seen_elections_.insert({tp, p.leader_epoch}).second;
        elections_ += first_sighting ? 1 : 0;
        if (!contains(o.isr, p.leader)) {
            unclean_elections_ += first_sighting ? 1 : 0;
            if (!p.unclean_allowed) {
                violation("unclean: " + at(node, after) + ": " + n(p.leader) + " became leader of " + name_of(tp, p) +
                          " from outside the ISR while unclean.leader.election.enable is off");
            }
        }
    }
}

void MetadataChecker::check_partition_epoch(const std::string& node, const ImageView& after, const TopicPartition& tp,
                                            const ImageView::Partition& o, const ImageView::Partition& p) {
    bool changed = p.replicas != o.replicas || p.isr != o.isr || p.leader != o.leader;
    int64_t bump = p.partition_epoch.value() - o.partition_epoch.value();
    int64_t leader_bump = p.leader_epoch.value() - o.leader_epoch.value();
    if (changed && bump <= 0) {
        violation("partition-epoch: " + at(node, after) + ": " + name_of(tp, p) + " changed (isr " +
                  ids(o.isr) + " → " + ids(p.isr) + ", leader " + n(o.leader) + " → " + n(p.leader) +
                  ") without a partition-epoch bump (still " + std::to_string(p.partition_epoch.value()) + ")");
    } else if (leader_bump > 0 && bump < leader_bump) {
        violation("partition-epoch: " + at(node, after) + ": " + name_of(tp, p) + "'s leader epoch went up by " +
                  std::to_string(leader_bump) + " but its partition epoch only by " + std::to_string(bump));
    }
}

void MetadataChecker::on_heartbeat(NodeId broker, Instant t) {
    Instant& last = last_heartbeat_[broker];
    last = std::max(last, t);
}

void MetadataChecker::on_activated(Instant t) {
    active_since_ = t;
    expired_at_offset_.clear();  // every session starts afresh on the new controller
}

void MetadataChecker::on_session_fence(NodeId broker, Instant last_contact, Instant t) {
    Duration latency = t - last_contact;
    fence_latencies_.push_back(latency);
    if (latency < options_.session_timeout) {
        violation("session: broker " + n(broker) + " was fenced " + std::to_string(to_ms(latency)) +
                  " ms after its last heartbeat, before the session timeout");
    }
}

void MetadataChecker::check_sessions(const std::optional<ImageView>& active, Instant now) {
    if (!active || !active_since_) return;
    Duration bound = options_.session_timeout + options_.fence_grace;
    if (now - *active_since_ < bound) return;
    for (const auto& [id, b] : active->brokers) {
        auto hb = last_heartbeat_.find(id);
        Instant last = hb == last_heartbeat_.end() ? *active_since_ : std::max(hb->second, *active_since_);
        if (b.fenced || now - last <= options_.session_timeout) {
            expired_at_offset_.erase(id);
            continue;
        }
        Offset expired_at = expired_at_offset_.try_emplace(id, active->end_offset).first->second;
        int64_t progress = active->end_offset.value() - expired_at.value();
        if (now - last > bound && progress >= options_.fence_progress_entries) {
            violation("session: broker " + n(id) + " has been silent for " + std::to_string(to_ms(now - last)) +
                      " ms but is still unfenced at offset " + std::to_string(active->end_offset.value()) + " (" +
                      std::to_string(progress) + " entries committed since its session expired)");
            last_heartbeat_[id] = now;  // report once per silence
            expired_at_offset_.erase(id);
        }
    }
}

void MetadataChecker::check_converged(const std::string& reference_node, const ImageView& reference,
                                      const std::map<std::string, ImageView>& nodes) {
    for (const auto& [node, v] : nodes) {
        if (v.end_offset != reference.end_offset || v.digest != reference.digest) {
            violation("converged: " + at(node, v) + " differs from " + at(reference_node, reference) + " after healing");
        }
    }
}

}  // namespace keel::sim
