#include "sim/checkers/replication_checker.h"

#include <algorithm>
#include <limits>

#include "core/log/record_batch.h"

namespace keel::sim {

namespace {

std::string name_of(const broker::Partition& p) { return p.tp().to_string(); }

// The batches of `log` in [from, to), keyed by base offset.
std::map<int64_t, Bytes> batches_between(log::PartitionLog& log, Offset from, Offset to) {
    std::map<int64_t, Bytes> out;
    Offset at = from;
    while (at < to) {
        auto r = log.read(at, 1 << 20, to);
        if (!r.ok() || r->records.empty()) break;
        ByteView rest(r->records.data(), r->records.size());
        while (rest.size() >= log::batch_format::kLogOverhead) {
            auto h = log::parse_batch_header(rest);
            if (!h.ok()) return out;
            size_t n = static_cast<size_t>(h->batch_length) + log::batch_format::kLogOverhead;
            if (n > rest.size()) break;
            if (h->base_offset >= from) out[h->base_offset.value()] = Bytes(rest.begin(), rest.begin() + n);
            rest = rest.subspan(n);
        }
        if (r->next_offset <= at) break;
        at = r->next_offset;
    }
    return out;
}

}  // namespace

ReplicationChecker::ReplicationChecker(ReplicationCheckerOptions options, ReplicaLookup replica_of)
    : options_(std::move(options)), replica_of_(std::move(replica_of)) {}

void ReplicationChecker::violation(std::string what) {
    if (violations_.size() < options_.violations_max) violations_.push_back(std::move(what));
}

void ReplicationChecker::on_change(NodeId broker, const broker::Partition& p, Instant at) {
    (void)at;
    stats_.events++;
    Key key{p.topic_id(), p.tp().partition};
    if (p.role() == broker::ReplicaRole::leader) {
        check_leader(broker, p, key);
        check_hw_within_isr(p, key);
        return;
    }
    if (p.role() != broker::ReplicaRole::follower) return;
    // A follower that changed (appended, truncated): the current leader's HW must still be
    // within its log if it is in that leader's ISR.
    const broker::Partition* leader = replica_of_(p.leader(), key.first, key.second);
    if (leader != nullptr && leader->role() == broker::ReplicaRole::leader) check_hw_within_isr(*leader, key);
}

void ReplicationChecker::on_acks_all(NodeId broker, const broker::Partition& p, Offset last_offset) {
    stats_.acks_checked++;
    if (p.high_watermark() <= last_offset) {
        violation("acked-on-isr: " + name_of(p) + " leader " + std::to_string(broker.value()) +
                  " answers acks=all for offset " + std::to_string(last_offset.value()) +
                  " with its high watermark at " + std::to_string(p.high_watermark().value()));
        return;
    }
    Key key{p.topic_id(), p.tp().partition};
    for (NodeId m : p.isr()) {
        const broker::Partition* r = replica_of_(m, key.first, key.second);
        if (r == nullptr || r == &p) continue;
        if (r->log_end() <= last_offset) {
            violation("acked-on-isr: " + name_of(p) + " acks=all answered for offset " +
                      std::to_string(last_offset.value()) + " while ISR member " + std::to_string(m.value()) +
                      " holds only up to " + std::to_string(r->log_end().value()));
            return;
        }
    }
}

void ReplicationChecker::check_leader(NodeId broker, const broker::Partition& p, const Key& key) {
    int32_t epoch = p.leader_epoch().value();
    auto [it, first] = leader_of_epoch_.emplace(std::make_pair(key, epoch), broker);
    if (!first && it->second != broker) {
        violation("one-leader-per-epoch: " + name_of(p) + " epoch " + std::to_string(epoch) + " led by broker " +
                  std::to_string(it->second.value()) + " and broker " + std::to_string(broker.value()));
    }
    if (first) {
        stats_.leader_epochs++;
        Offset committed = committed_before(key, epoch);
        if (p.log_end() < committed) {
            bool unclean = options_.unclean_allowed && options_.unclean_allowed(p.tp().topic);
            std::string what = "leader-has-committed: " + name_of(p) + " broker " + std::to_string(broker.value()) +
                               " leads epoch " + std::to_string(epoch) + " with log end " +
                               std::to_string(p.log_end().value()) + " below the high watermark " +
                               std::to_string(committed.value()) + " an earlier leader reached";
            if (unclean) {
                stats_.unclean_data_loss++;
            } else {
                violation(what);
            }
            // The new truth: the earlier epochs' high watermarks no longer bind later
            // leaders (report each loss once).
            auto& floor = truth_from_epoch_[key];
            floor = std::max(floor, epoch);
        }
    }
    auto [h, fresh] = hw_of_epoch_.emplace(std::make_pair(key, epoch), p.high_watermark());
    if (!fresh) {
        if (p.high_watermark() < h->second) {
            violation("hw-monotonic: " + name_of(p) + " leader " + std::to_string(broker.value()) + " epoch " +
                      std::to_string(epoch) + " high watermark went from " + std::to_string(h->second.value()) +
                      " to " + std::to_string(p.high_watermark().value()));
        }
        h->second = std::max(h->second, p.high_watermark());
    }
}

// The highest high watermark leaders of epochs before `epoch` reached (since the last loss
// reported). Not a later epoch's: a broker whose metadata lags may take up a leadership the
// controller has already passed on, after the next epoch's leader (elected with an ISR
// of its own) moved the high watermark past this broker's log; what it must hold is what
// was committed before its epoch.
Offset ReplicationChecker::committed_before(const Key& key, int32_t epoch) const {
    auto f = truth_from_epoch_.find(key);
    int32_t from = f == truth_from_epoch_.end() ? std::numeric_limits<int32_t>::min() : f->second;
    Offset best{-1};
    for (auto it = hw_of_epoch_.lower_bound({key, from}); it != hw_of_epoch_.end() && it->first.first == key; ++it) {
        if (it->first.second >= epoch) break;
        best = std::max(best, it->second);
    }
    return best;
}

void ReplicationChecker::check_hw_within_isr(const broker::Partition& leader, const Key& key) {
    stats_.hw_checks++;
    for (NodeId m : leader.isr()) {
        const broker::Partition* r = replica_of_(m, key.first, key.second);
        if (r == nullptr || r == &leader) continue;
        if (r->log_end() < leader.high_watermark()) {
            violation("hw-within-isr: " + name_of(leader) + " leader epoch " +
                      std::to_string(leader.leader_epoch().value()) + " high watermark " +
                      std::to_string(leader.high_watermark().value()) + " above ISR member " +
                      std::to_string(m.value()) + "'s log end " + std::to_string(r->log_end().value()));
            return;
        }
    }
}

void ReplicationChecker::check_replicas(const std::vector<PartitionReplicas>& partitions) {
    for (const PartitionReplicas& pr : partitions) {
        broker::Partition* leader = replica_of_(pr.leader, pr.topic_id, pr.partition);
        if (leader == nullptr || leader->role() != broker::ReplicaRole::leader) continue;
        Offset hw = leader->high_watermark();
        for (NodeId r : pr.replicas) {
            if (r == pr.leader) continue;
            broker::Partition* other = replica_of_(r, pr.topic_id, pr.partition);
            if (other == nullptr) continue;
            Offset to = std::min(hw, other->log_end());
            Offset from = std::max(leader->log_start(), other->log_start());
            if (from >= to) continue;
            stats_.replicas_compared++;
            auto a = batches_between(leader->log(), from, to);
            auto b = batches_between(other->log(), from, to);
            for (const auto& [base, bytes] : a) {
                stats_.batches_compared++;
                auto it = b.find(base);
                if (it == b.end() || it->second != bytes) {
                    violation("replicas-identical: " + pr.topic + "-" + std::to_string(pr.partition) + " broker " +
                              std::to_string(r.value()) + (it == b.end() ? " lacks" : " differs at") +
                              " the batch at offset " + std::to_string(base) + " below the leader's high watermark " +
                              std::to_string(hw.value()));
                    break;
                }
            }
            if (b.size() > a.size()) {
                violation("replicas-identical: " + pr.topic + "-" + std::to_string(pr.partition) + " broker " +
                          std::to_string(r.value()) + " holds batches below the high watermark the leader lacks");
            }
        }
    }
}

}  // namespace keel::sim
