// Committed offsets of deleted topics (Kafka's GroupCoordinator.onPartitionsDeleted and
// GroupMetadataManager.cleanupGroupMetadata): when the broker's metadata image drops a
// topic, every group this coordinator hosts forgets the topic's offsets, and a tombstone
// for each goes to the group's __consumer_offsets partition, so that a reload (another
// coordinator, a restart) or compaction cannot bring them back. An Empty classic group left
// with no offsets becomes Dead and its metadata is tombstoned too, as Kafka does.
//
// Races handled here:
//   - a partition still loading when the topic goes: its groups are purged once loaded
//     (purge_after_load), with the tombstones written then;
//   - a commit whose append was under way when the topic went: its records precede the
//     tombstones in the log, and finish_commit does not keep it in memory (purged_since).
// The tombstones are written like offset expiry's: by a fiber, not waited for; a failed
// write is retried while this broker still leads the partition. If leadership moves before
// they are committed the next coordinator loads the offsets again (Kafka's behaviour too).
#include "core/group/coordinator_impl.h"

namespace keel::group {

namespace {

constexpr int kTombstoneAttempts = 5;

}  // namespace

void GroupCoordinator::on_topics_deleted(const std::vector<std::string>& topics) {
    Impl& s = *impl_;
    if (topics.empty()) return;
    std::set<std::string> names(topics.begin(), topics.end());
    s.purge_seq++;
    for (const std::string& t : names) s.purged_at[t] = s.purge_seq;
    for (auto& [partition, st] : s.partitions) {
        if (st.loading) s.purge_after_load[partition].insert(names.begin(), names.end());
    }
    s.purge_topics(names, std::nullopt);
}

bool GroupCoordinator::Impl::purged_since(const std::string& topic, uint64_t seq) const {
    auto it = purged_at.find(topic);
    return it != purged_at.end() && it->second > seq;
}

void GroupCoordinator::Impl::purge_topics(const std::set<std::string>& topics, std::optional<int32_t> only) {
    std::map<int32_t, std::vector<OffsetsRecord>> by_partition;
    std::vector<std::string> dead;
    for (auto& [id, gp] : groups) {
        Group& g = *gp;
        if (only && g.partition != *only) continue;
        auto p = partitions.find(g.partition);
        if (p == partitions.end() || p->second.loading) continue;
        size_t before = g.offsets.size();
        for (auto it = g.offsets.begin(); it != g.offsets.end();) {
            if (topics.count(it->first.topic) == 0) {
                ++it;
                continue;
            }
            by_partition[g.partition].push_back(
                {encode_key(OffsetCommitKey{g.id, it->first.topic, it->first.partition}), std::nullopt});
            stats.offsets_purged++;
            it = g.offsets.erase(it);
        }
        if (g.offsets.size() == before) continue;
        if (tracing()) {
            trace("group.offsets_purged", "{\"group\":" + json_str(g.id) + ",\"partitions\":" +
                                              std::to_string(before - g.offsets.size()) + "}");
        }
        if (!g.cg && g.state == GroupState::empty && g.offsets.empty() && g.members.empty() &&
            g.pending_members.empty()) {
            transition(g, GroupState::dead);
            by_partition[g.partition].push_back({encode_key(GroupMetadataKey{g.id}), std::nullopt});
            dead.push_back(g.id);
        }
    }
    for (const auto& id : dead) remove_group(id);
    for (auto& [partition, recs] : by_partition) write_purge_tombstones(partition, std::move(recs));
}

void GroupCoordinator::Impl::write_purge_tombstones(int32_t partition, std::vector<OffsetsRecord> records) {
    std::shared_ptr<bool> a = alive;
    auto it = partitions.find(partition);
    if (it == partitions.end()) return;
    LeaderEpoch epoch = it->second.epoch;
    env.executor().spawn("group-purge", [this, a, partition, epoch, recs = std::move(records)]() mutable {
        Duration backoff = ms(100);
        for (int attempt = 0; attempt < kTombstoneAttempts && *a; attempt++) {
            auto p = partitions.find(partition);
            if (p == partitions.end() || p->second.loading || p->second.epoch != epoch) return;
            Status st = append(partition, recs);  // a copy: a timeout may be retried
            if (st.ok() || st.code() == Errc::not_leader || st.code() == Errc::closed) return;
            if (!*a) return;
            env.executor().sleep_for(backoff);
            backoff = backoff * 2;
        }
    });
}

}  // namespace keel::group
