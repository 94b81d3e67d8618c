// Loading a __consumer_offsets partition's groups when this broker becomes its leader:
// replay the committed records in offset order (the last value of a key wins, a
// tombstone deletes), then install the groups. Loaded groups with members come back
// Stable with their generation, leader and assignments; their session timers restart.
#include "core/group/coordinator_impl.h"

namespace keel::group {

namespace {

using OffsetsByGroup = std::map<std::string, std::map<TopicPartitionKey, OffsetCommitValue>>;

void apply_record(const OffsetsRecord& rec, std::map<std::string, GroupMetadataValue>& metas,
                  OffsetsByGroup& offsets) {
    auto key = decode_key(rec.key);
    if (!key.ok()) return;  // another record type (e.g. KIP-848's): not ours to read
    if (const auto* k = std::get_if<OffsetCommitKey>(&key.value())) {
        TopicPartitionKey tp{k->topic, k->partition};
        if (!rec.value) {
            auto it = offsets.find(k->group);
            if (it != offsets.end()) it->second.erase(tp);
            return;
        }
        auto v = decode_offset_value(*rec.value);
        if (v.ok()) offsets[k->group][tp] = std::move(v.value());
        return;
    }
    const auto& g = std::get<GroupMetadataKey>(key.value());
    if (!rec.value) {
        metas.erase(g.group);
        return;
    }
    auto v = decode_group_value(*rec.value);
    if (v.ok()) metas[g.group] = std::move(v.value());
}

std::unique_ptr<Member> member_from(const GroupMemberRecord& r, const GroupMetadataValue& v, Instant now) {
    auto m = std::make_unique<Member>();
    m->id = r.member_id;
    m->instance_id = r.group_instance_id;
    m->client_id = r.client_id;
    m->client_host = r.client_host;
    m->session_timeout_ms = r.session_timeout_ms;
    m->rebalance_timeout_ms = r.rebalance_timeout_ms < 0 ? r.session_timeout_ms : r.rebalance_timeout_ms;
    m->protocol_type = v.protocol_type;
    if (v.protocol) m->protocols.emplace_back(*v.protocol, r.subscription);
    m->assignment = r.assignment;
    m->session_deadline = now + ms(r.session_timeout_ms);
    return m;
}

}  // namespace

Status GroupCoordinator::Impl::read_partition(int32_t partition, LeaderEpoch epoch,
                                              std::map<std::string, GroupMetadataValue>& metas,
                                              OffsetsByGroup& offsets) {
    ConsumerGroupLoader& consumer_groups = cg_loads[partition] = ConsumerGroupLoader{};
    return log.read_committed(partition, epoch, [&](const OffsetsRecord& rec) {
        apply_record(rec, metas, offsets);
        consumer_groups.apply(rec);
    });
}

void GroupCoordinator::Impl::install_loaded(int32_t partition, std::map<std::string, GroupMetadataValue>& metas,
                                            OffsetsByGroup& offsets) {
    size_t n = 0;
    for (auto& [id, v] : metas) {
        if (partition_for_group(id, config.offsets_topic_partitions) != partition) continue;
        Group& g = get_or_create(id);
        g.generation = v.generation;
        g.protocol_type = v.protocol_type.empty() ? std::nullopt : std::optional<std::string>(v.protocol_type);
        g.protocol = v.protocol;
        g.leader = v.leader;
        g.state_timestamp_ms = v.current_state_timestamp_ms;
        for (const auto& r : v.members) {
            g.members[r.member_id] = member_from(r, v, now());
            if (r.group_instance_id) g.instances[*r.group_instance_id] = r.member_id;
        }
        g.state = g.members.empty() ? GroupState::empty : GroupState::stable;
        n++;
    }
    install_consumer_groups(partition);
    for (auto& [id, offs] : offsets) {
        if (partition_for_group(id, config.offsets_topic_partitions) != partition || offs.empty()) continue;
        if (!find(id)) n++;
        get_or_create(id).offsets = std::move(offs);
    }
    stats.groups_loaded += n;
    if (tracing()) {
        trace("group.loaded", "{\"partition\":" + std::to_string(partition) + ",\"groups\":" + std::to_string(n) + "}");
    }
}

void GroupCoordinator::Impl::load_partition(int32_t partition, LeaderEpoch epoch, uint64_t load_id) {
    std::shared_ptr<bool> a = alive;
    auto current = [&] {
        if (!*a) return false;
        auto it = partitions.find(partition);
        return it != partitions.end() && it->second.load_id == load_id && it->second.loading;
    };
    for (Duration backoff = ms(100); current();) {
        std::map<std::string, GroupMetadataValue> metas;
        OffsetsByGroup offsets;
        Status st = read_partition(partition, epoch, metas, offsets);
        if (!current()) return;
        if (st.ok()) {
            install_loaded(partition, metas, offsets);
            partitions[partition].loading = false;
            auto pending = purge_after_load.find(partition);
            if (pending != purge_after_load.end()) {
                std::set<std::string> topics = std::move(pending->second);
                purge_after_load.erase(pending);
                purge_topics(topics, partition);
            }
            return;
        }
        stats.load_failures++;
        if (st.code() == Errc::not_leader || st.code() == Errc::closed) return;
        env.executor().sleep_for(backoff);
        backoff = std::min<Duration>(backoff * 2, ms(5'000));
    }
}

}  // namespace keel::group
