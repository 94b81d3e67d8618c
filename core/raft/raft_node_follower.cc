// RaftNode, follower and observer side: pull replication (Fetch), divergence truncation,
// snapshot download (FetchSnapshot), leader discovery.
#include <algorithm>

#include "core/raft/entry_codec.h"
#include "core/raft/raft_node.h"
#include "core/raft/rpc_util.h"

namespace keel::raft {

using namespace keel::protocol;

void RaftNode::send_fetch() {
    KEEL_ASSERT(role_ == Role::follower && qs_.leader_id);
    if (download_) return send_fetch_snapshot();
    send_fetch_to(*qs_.leader_id);
}

void RaftNode::send_fetch_to(NodeId to) {
    FetchRequest req;
    req.cluster_id = config_.cluster_id;
    req.replica_id = id_;
    req.max_wait_ms = static_cast<int32_t>(to_ms(config_.fetch_max_wait));
    req.min_bytes = 0;
    req.max_bytes = static_cast<int32_t>(std::min<size_t>(config_.fetch_bytes_max, INT32_MAX));
    FetchRequest::FetchPartition fp;
    fp.partition = metadata_partition;
    fp.current_leader_epoch = qs_.epoch.value();
    // The fetch offset acknowledges every entry below it (they are durable: Ready's
    // contract syncs the log before messages leave).
    fp.fetch_offset = log_.end();
    fp.last_fetched_epoch = log_.last_epoch().value();
    fp.log_start_offset = log_.start();
    fp.partition_max_bytes = req.max_bytes;
    req.topics.push_back({"", metadata_topic_id, {fp}});
    fetch_in_flight_ = send_request(to, std::move(req),
                                    Outstanding{ApiKey::fetch, to, qs_.epoch, false, log_.end()});
    next_fetch_at_ = Instant::max();
}

void RaftNode::send_fetch_snapshot() {
    KEEL_ASSERT(download_ && qs_.leader_id);
    FetchSnapshotRequest req;
    req.cluster_id = config_.cluster_id;
    req.replica_id = id_;
    req.max_bytes = static_cast<int32_t>(std::min<size_t>(config_.snapshot_chunk_bytes_max, INT32_MAX));
    FetchSnapshotRequest::PartitionSnapshot ps;
    ps.partition = metadata_partition;
    ps.current_leader_epoch = qs_.epoch;
    ps.snapshot_id = {download_->id.end_offset, download_->id.epoch};
    ps.position = static_cast<int64_t>(download_->data.size());
    req.topics.push_back({std::string(metadata_topic_name), {ps}});
    NodeId to = *qs_.leader_id;
    fetch_in_flight_ = send_request(to, std::move(req), Outstanding{ApiKey::fetch_snapshot, to, qs_.epoch});
    next_fetch_at_ = Instant::max();
}

void RaftNode::on_fetch_response(const Outstanding& out, NodeId from, const FetchResponse& resp) {
    if (fetch_in_flight_ != out.correlation_id) return;
    fetch_in_flight_.reset();
    // Unless we go on below, retry shortly (follower) or ask the next voter (discovery).
    next_fetch_at_ = now_ + (role_ == Role::follower ? config_.retry_backoff : config_.fetch_max_wait);
    if (resp.error_code != ErrorCode::none) return;
    const auto* p = single_partition(resp);
    if (p == nullptr) return;
    if (p->current_leader.present() &&
        on_leader_hint(p->current_leader.leader_id, QuorumEpoch(p->current_leader.leader_epoch))) {
        return;  // the transition sent its own fetch
    }
    if (role_ != Role::follower || qs_.leader_id != from || out.epoch != qs_.epoch) return;
    if (p->error_code == ErrorCode::not_leader_or_follower) {
        // Our leader no longer leads this epoch (it resigned or lost its quorum).
        return become_unattached(qs_.epoch, std::nullopt);
    }
    if (p->error_code != ErrorCode::none) return;
    last_leader_contact_ = now_;
    fetch_deadline_ = now_ + config_.fetch_timeout;
    if (p->diverging_epoch.present()) {
        truncate_diverging(QuorumEpoch(p->diverging_epoch.epoch), p->diverging_epoch.end_offset);
        return send_fetch();
    }
    if (p->snapshot_id.present()) {
        download_ = SnapshotDownload{SnapshotId{p->snapshot_id.end_offset, QuorumEpoch(p->snapshot_id.epoch)}, {}};
        return send_fetch_snapshot();
    }
    on_fetch_records(*p, out);
}

void RaftNode::on_fetch_records(const FetchResponse::PartitionData& p, const Outstanding& out) {
    auto entries = decode_entries(p.records);
    if (!entries.ok() || out.fetch_offset != log_.end()) return;  // retry after backoff
    for (LogEntry& e : *entries) {
        // A leader sends a contiguous run from our fetch offset, in its epoch or before.
        if (e.offset != log_.end() || e.epoch < log_.last_epoch() || e.epoch > qs_.epoch ||
            e.epoch.value() < 1) {
            return;
        }
        log_.append(std::move(e));
    }
    if (p.high_watermark.value() >= 0) {
        // Everything we hold matches the leader's log (the leader validated our fetch
        // position), so its high watermark applies up to our log end.
        Offset hw = std::min(p.high_watermark, log_.end());
        if (hw > high_watermark_) high_watermark_ = hw;
        if (qs_.catching_up && !catch_up_target_) catch_up_target_ = p.high_watermark;
    }
    send_fetch();
}

void RaftNode::truncate_diverging(QuorumEpoch epoch, Offset end_offset) {
    // Kafka's ReplicatedLog.truncateToEndOffset: keep the longest prefix both logs share.
    Offset to{0};
    if (epoch.value() == 0) {
        to = std::min(end_offset, log_.end());
    } else {
        RaftLog::EpochEnd local = log_.end_offset_for_epoch(epoch);
        to = local.epoch == epoch ? std::min(local.end_offset, end_offset) : local.end_offset;
    }
    to = std::max(to, log_.start());
    // Invariant: committed entries never diverge from the leader's log.
    KEEL_ASSERT_MSG(to >= high_watermark_, "divergence below the high watermark");
    truncate_log(to);
}

void RaftNode::truncate_log(Offset to) {
    if (to >= log_.end()) return;
    log_.truncate_to(to);
    if (to < unsynced_from_) {
        // Entries already handed to the driver must go from the disk too.
        pending_truncate_ = pending_truncate_ ? std::min(*pending_truncate_, to) : to;
        unsynced_from_ = to;
    }
    durable_end_ = std::min(durable_end_, to);
    handed_end_ = std::min(handed_end_, to);
}

void RaftNode::on_fetch_snapshot_response(const Outstanding& out, NodeId from,
                                          const FetchSnapshotResponse& resp) {
    if (fetch_in_flight_ != out.correlation_id) return;
    fetch_in_flight_.reset();
    next_fetch_at_ = now_ + config_.retry_backoff;
    if (resp.error_code != ErrorCode::none) return;
    const auto* p = single_partition(resp);
    if (p == nullptr) return;
    if (on_leader_hint(p->current_leader.leader_id, p->current_leader.leader_epoch)) return;
    if (role_ != Role::follower || qs_.leader_id != from || !download_ || out.epoch != qs_.epoch) return;
    if (p->error_code == ErrorCode::snapshot_not_found) {
        download_.reset();  // the leader has a newer one; fetch again to learn it
        return send_fetch();
    }
    if (p->error_code == ErrorCode::position_out_of_range) {
        download_->data.clear();
        return send_fetch_snapshot();
    }
    if (p->error_code != ErrorCode::none) return;
    SnapshotId got{p->snapshot_id.end_offset, p->snapshot_id.epoch};
    Bytes& data = download_->data;
    bool consistent = got == download_->id && p->position == static_cast<int64_t>(data.size()) &&
                      p->size >= 0 &&
                      static_cast<uint64_t>(p->size) >= data.size() + p->unaligned_records.size() &&
                      (!p->unaligned_records.empty() || static_cast<uint64_t>(p->size) == data.size());
    if (!consistent) {
        download_.reset();
        return send_fetch();
    }
    last_leader_contact_ = now_;
    fetch_deadline_ = now_ + config_.fetch_timeout;
    data.insert(data.end(), p->unaligned_records.begin(), p->unaligned_records.end());
    if (data.size() < static_cast<uint64_t>(p->size)) return send_fetch_snapshot();
    install_downloaded_snapshot();
    send_fetch();
}

void RaftNode::install_downloaded_snapshot() {
    SnapshotDownload d = std::move(*download_);
    download_.reset();
    // The leader's snapshot holds only committed entries. It replaces our whole log even
    // when our log is longer: the leader sends one only when our position is below its log
    // start or our last epoch is older than the snapshot's, i.e. our entries past it
    // diverge. It must never roll back what we know to be committed.
    if (d.id.end_offset < high_watermark_ || d.id.end_offset < applied_) return;
    log_.reset_to(d.id);
    snapshot_ = Snapshot{d.id, std::move(d.data)};
    pending_install_ = snapshot_;
    pending_truncate_.reset();
    pending_log_start_.reset();
    unsynced_from_ = log_.end();
    // Nothing of the new log is durable until the Ready carrying the snapshot is done.
    durable_end_ = handed_end_ = Offset(-1);
    // The snapshot holds only committed entries: the state machine loads it in place of
    // applying them.
    high_watermark_ = std::max(high_watermark_, d.id.end_offset);
    applied_ = d.id.end_offset;
}

void RaftNode::tick_follower() {
    if (now_ >= fetch_deadline_) {
        // The leader has been silent for the fetch timeout.
        if (is_active_voter()) return start_election();
        return become_unattached(qs_.epoch, std::nullopt);  // observer: find the leader again
    }
    if (!fetch_in_flight_ && now_ >= next_fetch_at_) send_fetch();
}

void RaftNode::tick_unattached() {
    if (is_active_voter()) {
        if (now_ >= election_deadline_) start_election();
        return;
    }
    // Observers and catching-up voters find the leader by asking the voters in turn; a
    // non-leader answers NOT_LEADER_OR_FOLLOWER with the leader it knows.
    if (fetch_in_flight_ || now_ < next_fetch_at_) return;
    for (size_t i = 0; i < config_.voters.size(); i++) {
        NodeId to = config_.voters[discovery_index_++ % config_.voters.size()];
        if (to != id_) return send_fetch_to(to);
    }
}

}  // namespace keel::raft
