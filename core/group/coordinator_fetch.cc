// OffsetFetch (v0-7: one group; v8+: a batch of groups) and the expiry of the offsets of
// empty groups after offsets.retention.
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::OffsetFetchRequest;
using protocol::OffsetFetchResponse;

namespace {

template <typename Req>
std::optional<std::vector<FetchWant>> wants(const std::optional<std::vector<Req>>& topics) {
    if (!topics) return std::nullopt;
    std::vector<FetchWant> out;
    for (const auto& t : *topics) {
        FetchWant w{t.name, {}};
        for (auto p : t.partition_indexes) w.partitions.push_back(p.value());
        out.push_back(std::move(w));
    }
    return out;
}

template <typename Part>
Part partition_of(const FetchedPartition& p, ErrorCode e) {
    Part out;
    out.partition_index = PartitionIndex(p.partition);
    out.committed_offset = p.offset;
    out.committed_leader_epoch = LeaderEpoch(p.leader_epoch);
    out.metadata = p.metadata;
    out.error_code = e;
    return out;
}

}  // namespace

OffsetFetchResponse GroupCoordinator::offset_fetch(const OffsetFetchRequest& req, int16_t version) {
    Impl& s = *impl_;
    OffsetFetchResponse r;
    if (version >= 8) {
        for (const auto& gr : req.groups) {
            OffsetFetchResponse::OffsetFetchResponseGroup out;
            out.group_id = gr.group_id;
            out.error_code = s.partition_status(gr.group_id);
            if (out.error_code == ErrorCode::none) {
                for (const auto& t : s.fetch_offsets(gr.group_id, wants(gr.topics))) {
                    OffsetFetchResponse::OffsetFetchResponseTopics rt;
                    rt.name = t.name;
                    for (const auto& p : t.partitions) {
                        rt.partitions.push_back(
                            partition_of<OffsetFetchResponse::OffsetFetchResponsePartitions>(p, ErrorCode::none));
                    }
                    out.topics.push_back(std::move(rt));
                }
            }
            r.groups.push_back(std::move(out));
        }
        return r;
    }
    ErrorCode e = s.partition_status(req.group_id);
    std::vector<FetchedTopic> topics;
    if (e == ErrorCode::none) {
        topics = s.fetch_offsets(req.group_id, wants(req.topics));
    } else if (req.topics) {
        for (const auto& t : *req.topics) {  // v0-1 carry the error per partition
            FetchedTopic ft{t.name, {}};
            for (auto p : t.partition_indexes) ft.partitions.push_back({p.value(), -1, -1, ""});
            topics.push_back(std::move(ft));
        }
    }
    r.error_code = e;
    for (const auto& t : topics) {
        OffsetFetchResponse::OffsetFetchResponseTopic rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
            rt.partitions.push_back(partition_of<OffsetFetchResponse::OffsetFetchResponsePartition>(p, e));
        }
        r.topics.push_back(std::move(rt));
    }
    return r;
}

void GroupCoordinator::Impl::expire_group_offsets(Group& g, std::vector<OffsetsRecord>& tombstones,
                                                  std::vector<std::string>& dead) {
    if (g.state != GroupState::empty) return;
    int64_t now_ms = wall_ms();
    int64_t retention_ms = to_ms(config.offsets_retention);
    for (auto it = g.offsets.begin(); it != g.offsets.end();) {
        int64_t base = g.protocol_type && g.state_timestamp_ms >= 0 ? g.state_timestamp_ms
                                                                     : it->second.commit_timestamp_ms;
        if (now_ms - base >= retention_ms) {
            tombstones.push_back({encode_key(OffsetCommitKey{g.id, it->first.topic, it->first.partition}), std::nullopt});
            stats.offsets_expired++;
            it = g.offsets.erase(it);
        } else {
            ++it;
        }
    }
    if (g.offsets.empty() && g.members.empty() && g.pending_members.empty()) {
        transition(g, GroupState::dead);
        tombstones.push_back({encode_key(GroupMetadataKey{g.id}), std::nullopt});
        dead.push_back(g.id);
    }
}

void GroupCoordinator::Impl::expire_offsets() {
    std::map<int32_t, std::vector<OffsetsRecord>> by_partition;
    std::vector<std::string> dead;
    for (auto& [id, g] : groups) {
        auto p = partitions.find(g->partition);
        if (p == partitions.end() || p->second.loading) continue;
        expire_group_offsets(*g, by_partition[g->partition], dead);
    }
    for (const auto& id : dead) remove_group(id);
    for (auto& [partition, recs] : by_partition) {
        if (recs.empty()) continue;
        std::shared_ptr<bool> a = alive;
        int32_t part = partition;
        env.executor().spawn("group-expire", [this, a, part, recs = std::move(recs)]() mutable {
            if (*a) (void)append(part, std::move(recs));
        });
    }
}

}  // namespace keel::group
