// OffsetCommit, OffsetFetch and the retention of offsets of empty groups (Kafka's
// handleCommitOffsets, handleFetchOffsets and cleanupGroupMetadata).
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::OffsetCommitRequest;
using protocol::OffsetCommitResponse;
using protocol::OffsetFetchRequest;
using protocol::OffsetFetchResponse;

inline constexpr size_t kMaxMetadataBytes = 4096;  // offset.metadata.max.bytes

namespace {

OffsetCommitResponse commit_skeleton(const OffsetCommitRequest& req) {
    OffsetCommitResponse r;
    for (const auto& t : req.topics) {
        OffsetCommitResponse::OffsetCommitResponseTopic rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
            OffsetCommitResponse::OffsetCommitResponsePartition rp;
            rp.partition_index = p.partition_index;
            rt.partitions.push_back(rp);
        }
        r.topics.push_back(std::move(rt));
    }
    return r;
}

void fill(OffsetCommitResponse& r, ErrorCode e) {
    for (auto& t : r.topics) {
        for (auto& p : t.partitions) p.error_code = e;
    }
}

}  // namespace

// Kafka's validation order; NONE if the commit may go to the log.
ErrorCode GroupCoordinator::Impl::validate_commit(const OffsetCommitRequest& req) {
    Group* g = find(req.group_id);
    int32_t generation = req.generation_id_or_member_epoch;
    if (!g) {
        if (generation >= 0) return ErrorCode::illegal_generation;
        get_or_create(req.group_id);
        return ErrorCode::none;
    }
    if (g->state == GroupState::dead) return ErrorCode::coordinator_not_available;
    if (g->cg) return validate_consumer_commit(*g, req);
    if (g->fenced(req.group_instance_id, req.member_id)) return ErrorCode::fenced_instance_id;
    if (generation < 0 && g->state == GroupState::empty) return ErrorCode::none;
    Member* m = g->member(req.member_id);
    if (config.bugs.commit_without_fencing) return ErrorCode::none;  // planted: a zombie's commit lands
    if (!m) return ErrorCode::unknown_member_id;
    if (generation != g->generation) return ErrorCode::illegal_generation;
    if (g->state == GroupState::completing_rebalance) return ErrorCode::rebalance_in_progress;
    heartbeat_ok(*g, *m);
    return ErrorCode::none;
}

OffsetCommitResponse GroupCoordinator::offset_commit(const OffsetCommitRequest& req, int16_t /*version*/) {
    Impl& s = *impl_;
    OffsetCommitResponse r = commit_skeleton(req);
    ErrorCode e = s.partition_status(req.group_id);
    if (e == ErrorCode::none) e = s.validate_commit(req);
    if (e != ErrorCode::none) {
        fill(r, e);
        return r;
    }
    std::vector<OffsetsRecord> recs;
    std::vector<std::pair<TopicPartitionKey, OffsetCommitValue>> values;
    std::vector<ErrorCode*> slots;
    int64_t now_ms = s.wall_ms();
    for (size_t ti = 0; ti < req.topics.size(); ti++) {
        const auto& t = req.topics[ti];
        for (size_t pi = 0; pi < t.partitions.size(); pi++) {
            const auto& p = t.partitions[pi];
            ErrorCode& slot = r.topics[ti].partitions[pi].error_code;
            if (p.committed_metadata && p.committed_metadata->size() > kMaxMetadataBytes) {
                slot = ErrorCode::offset_metadata_too_large;
                continue;
            }
            OffsetCommitValue v{p.committed_offset, p.committed_leader_epoch.value(),
                                p.committed_metadata.value_or(""),
                                p.commit_timestamp >= 0 ? p.commit_timestamp : now_ms, -1};
            recs.push_back({encode_key(OffsetCommitKey{req.group_id, t.name, p.partition_index.value()}),
                            encode_value(v)});
            values.emplace_back(TopicPartitionKey{t.name, p.partition_index.value()}, std::move(v));
            slots.push_back(&slot);
        }
    }
    if (recs.empty()) return r;
    s.finish_commit(req, std::move(recs), values, slots);
    return r;
}

void GroupCoordinator::Impl::finish_commit(const OffsetCommitRequest& req, std::vector<OffsetsRecord> recs,
                                           std::vector<std::pair<TopicPartitionKey, OffsetCommitValue>>& values,
                                           const std::vector<ErrorCode*>& slots) {
    int32_t partition = partition_for_group(req.group_id, config.offsets_topic_partitions);
    uint64_t purge_before = purge_seq;  // a topic deleted during the append is not kept
    Status st = append(partition, std::move(recs));
    if (!st.ok()) {
        for (ErrorCode* slot : slots) *slot = append_error(st.error(), true);
        Group* g = find(req.group_id);
        if (g && g->members.empty() && g->offsets.empty() && g->state == GroupState::empty && g->generation == 0 &&
            g->pending_members.empty()) {
            remove_group(req.group_id);
        }
        return;
    }
    stats.offsets_committed += values.size();
    Group* g = find(req.group_id);
    std::vector<OffsetsRecord> dropped;  // its topic was deleted meanwhile: tombstoned after it
    for (auto& [tp, v] : values) {
        if (tracing()) {
            trace("group.commit", "{\"group\":" + json_str(req.group_id) + ",\"topic\":" + json_str(tp.topic) +
                                      ",\"partition\":" + std::to_string(tp.partition) +
                                      ",\"offset\":" + std::to_string(v.offset) +
                                      ",\"generation\":" + std::to_string(req.generation_id_or_member_epoch) + "}");
        }
        if (!purged_since(tp.topic, purge_before)) {
            if (g) g->offsets[tp] = v;
        } else {
            dropped.push_back({encode_key(OffsetCommitKey{req.group_id, tp.topic, tp.partition}), std::nullopt});
        }
    }
    if (!dropped.empty()) write_purge_tombstones(partition, std::move(dropped));
}

// The committed offsets of one group: `topics` null means all. Unknown partitions give -1.
std::vector<FetchedTopic> GroupCoordinator::Impl::fetch_offsets(const std::string& group_id,
                                                                const std::optional<std::vector<FetchWant>>& topics) {
    std::vector<FetchedTopic> out;
    Group* g = find(group_id);
    if (!topics) {
        if (!g) return out;
        for (const auto& [tp, v] : g->offsets) {
            if (out.empty() || out.back().name != tp.topic) out.push_back({tp.topic, {}});
            out.back().partitions.push_back({tp.partition, v.offset, v.leader_epoch, v.metadata});
        }
        return out;
    }
    for (const auto& want : *topics) {
        FetchedTopic ft{want.name, {}};
        for (int32_t p : want.partitions) {
            const OffsetCommitValue* v = nullptr;
            if (g) {
                auto it = g->offsets.find({want.name, p});
                if (it != g->offsets.end()) v = &it->second;
            }
            if (v) {
                ft.partitions.push_back({p, v->offset, v->leader_epoch, v->metadata});
            } else {
                ft.partitions.push_back({p, -1, -1, ""});
            }
        }
        out.push_back(std::move(ft));
    }
    return out;
}

}  // namespace keel::group
