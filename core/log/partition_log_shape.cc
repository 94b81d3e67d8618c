// PartitionLog: truncation (followers), the log start offset, and retention.
#include <algorithm>

#include "core/log/checkpoint.h"
#include "core/log/partition_log.h"
#include "core/log/partition_log_internal.h"

namespace keel::log {

Status PartitionLog::truncate_to(Offset offset) {
    KEEL_LOG_LOCK(guard);
    if (offset >= log_end_offset_) return ok_status();
    if (offset < log_start_offset_) return truncate_fully_locked(offset);
    // The batch holding `offset` goes whole: if it began below the log start (DeleteRecords
    // moved the start into it), the log end would fall below the start. Empty the log at
    // its start instead (everything from the start on was in that batch or after it).
    KEEL_TRY_ASSIGN(Offset cut, batch_base_holding(offset));
    if (cut < log_start_offset_) return truncate_fully_locked(log_start_offset_);
    abort_cleaning();
    layout_version_++;
    Status st = truncate_locked(offset);
    // Compaction may have emptied the batches between the start and `offset` (a cleaned
    // segment keeps its range): nothing at or after the start is left, so the log is
    // emptied at its start rather than ending below it.
    if (st.ok() && log_end_offset_ < log_start_offset_) return truncate_fully_locked(log_start_offset_);
    if (!st.ok()) take_offline(st.error());
    return st;
}

Status PartitionLog::truncate_epochs_at_end() {
    KEEL_LOG_LOCK(guard);
    LeaderEpochCache before = epochs_;
    if (!epochs_.truncate_from_end(log_end_offset_)) return ok_status();
    Status written = write_epoch_checkpoint();
    if (!written.ok()) epochs_ = std::move(before);
    return written;
}

// The base offset of the batch holding `offset` (or of the next batch; log end if none).
Result<Offset> PartitionLog::batch_base_holding(Offset offset) {
    auto it = segments_.upper_bound(offset);
    if (it != segments_.begin()) --it;
    for (; it != segments_.end(); ++it) {
        KEEL_TRY_ASSIGN(auto position, it->second->find_position(offset));
        if (!position) continue;
        std::optional<Offset> base;
        KEEL_TRY(it->second->scan_headers(*position, [&](const ScannedBatch& b) {
            base = b.header.base_offset;
            return false;
        }));
        if (base) return *base;
    }
    return log_end_offset_;
}

Status PartitionLog::truncate_locked(Offset offset) {
    // Lower the durable recovery point first: a crash in the middle must never trust the
    // bytes being cut (or new ones written over them) as synced.
    if (recovery_point_ > offset) {
        recovery_point_ = offset;
        KEEL_TRY(persist_recovery_point(true));
    }
    while (segments_.size() > 1 && segments_.rbegin()->first >= offset) {
        KEEL_TRY(remove_segment(segments_.rbegin()->second));
    }
    Segment& seg = *segments_.rbegin()->second;
    KEEL_TRY_ASSIGN(auto position, seg.find_position(offset));
    // A cleaned segment keeps its offset range up to the next segment although its last
    // batches may be gone: with no batch at or past `offset` it still ends past it, so its
    // end is recomputed from the batches it holds (found by log_prefix_property).
    if (!position && seg.next_offset() > offset) position = seg.size();
    if (position) {
        KEEL_TRY(seg.truncate_to_position(*position, static_cast<uint32_t>(options_.config.index_interval_bytes)));
    }
    KEEL_TRY(disk_.sync_dir(options_.dir));
    log_end_offset_ = seg.next_offset();
    KEEL_ASSERT(log_end_offset_ <= offset);
    recovery_point_ = std::min(recovery_point_, log_end_offset_);
    KEEL_TRY(persist_recovery_point(true));
    if (epochs_.truncate_from_end(log_end_offset_)) KEEL_TRY(write_epoch_checkpoint());
    if (cleaner_point_ > log_end_offset_) {
        cleaner_point_ = std::max(log_start_offset_, log_end_offset_);
        KEEL_TRY(write_offset_checkpoint(kCleanerOffsetCheckpoint, cleaner_point_));
    }
    trace("log.truncate", "{\"dir\":\"" + options_.dir + "\",\"log_end_offset\":" +
                              std::to_string(log_end_offset_.value()) + "}");
    return ok_status();
}

Status PartitionLog::truncate_fully_and_start_at(Offset offset) {
    KEEL_LOG_LOCK(guard);
    return truncate_fully_locked(offset);
}

Status PartitionLog::truncate_fully_locked(Offset offset) {
    if (offset.value() < 0) return Status(Errc::invalid_argument, "negative offset");
    abort_cleaning();
    layout_version_++;
    auto run = [&]() -> Status {
        // Checkpoints first: a crash part-way reopens as "everything below `offset` is gone".
        recovery_point_ = std::min(recovery_point_, offset);
        KEEL_TRY(persist_recovery_point(true));
        KEEL_TRY(write_offset_checkpoint(kLogStartOffsetCheckpoint, offset));
        while (!segments_.empty()) KEEL_TRY(remove_segment(segments_.rbegin()->second));
        KEEL_TRY_ASSIGN(auto seg, Segment::create(disk_, options_.dir, offset, clock_.monotonic_now()));
        segments_[offset] = std::move(seg);
        KEEL_TRY(disk_.sync_dir(options_.dir));
        log_start_offset_ = log_end_offset_ = recovery_point_ = cleaner_point_ = offset;
        KEEL_TRY(persist_recovery_point(true));
        KEEL_TRY(write_offset_checkpoint(kCleanerOffsetCheckpoint, offset));
        epochs_.clear();
        return write_epoch_checkpoint();
    };
    Status st = run();
    if (!st.ok()) take_offline(st.error());
    trace("log.truncate_fully", "{\"dir\":\"" + options_.dir + "\",\"offset\":" +
                                    std::to_string(offset.value()) + "}");
    return st;
}

Status PartitionLog::advance_log_start_offset(Offset offset) {
    KEEL_LOG_LOCK(guard);
    if (offset > log_end_offset_) {
        return Status(Errc::offset_out_of_range, "log start offset " + std::to_string(offset.value()) +
                                                     " past the log end " +
                                                     std::to_string(log_end_offset_.value()));
    }
    if (offset <= log_start_offset_) return ok_status();
    return move_log_start_offset(offset);
}

// The checkpoint goes first, so the start never moves back across a crash; segments
// wholly below it are removed now or by the next open.
Status PartitionLog::move_log_start_offset(Offset offset) {
    KEEL_ASSERT(offset >= log_start_offset_ && offset <= log_end_offset_);
    KEEL_TRY(write_offset_checkpoint(kLogStartOffsetCheckpoint, offset));
    log_start_offset_ = offset;
    if (epochs_.truncate_from_start(offset)) KEEL_TRY(write_epoch_checkpoint());
    if (cleaner_point_ < offset) cleaner_point_ = offset;
    return ok_status();
}

Result<RetentionResult> PartitionLog::apply_retention(std::optional<Offset> high_watermark) {
    KEEL_LOG_LOCK(guard);
    std::vector<std::shared_ptr<Segment>> segs;
    for (const auto& [base, seg] : segments_) segs.push_back(seg);
    const LogConfig& c = options_.config;
    auto deletable = [&](size_t i) {
        if (i + 1 >= segs.size()) return false;  // the active segment stays
        Offset next_base = segs[i + 1]->base_offset();
        return !high_watermark || next_base <= *high_watermark;
    };
    int64_t now_ms = clock_.wall_now().ms();
    size_t by_time = 0, by_size = 0, by_start = 0;
    if (c.cleanup_delete && c.retention_ms >= 0) {
        while (deletable(by_time) && now_ms - segs[by_time]->max_timestamp() > c.retention_ms) by_time++;
    }
    if (c.cleanup_delete && c.retention_bytes >= 0) {
        int64_t excess = static_cast<int64_t>(size_bytes()) - c.retention_bytes;
        while (deletable(by_size) && excess - static_cast<int64_t>(segs[by_size]->size()) >= 0) {
            excess -= static_cast<int64_t>(segs[by_size]->size());
            by_size++;
        }
    }
    while (deletable(by_start) && segs[by_start + 1]->base_offset() <= log_start_offset_) by_start++;
    size_t count = std::max({by_time, by_size, by_start});
    RetentionResult r;
    r.log_start_offset = log_start_offset_;
    if (count == 0) return r;
    Offset new_start = std::max(log_start_offset_, segs[count]->base_offset());
    abort_cleaning();
    layout_version_++;
    auto run = [&]() -> Status {
        if (new_start > log_start_offset_) KEEL_TRY(move_log_start_offset(new_start));
        for (size_t i = 0; i < count; i++) {
            r.bytes_deleted += segs[i]->size();
            KEEL_TRY(remove_segment(segs[i]));
            r.segments_deleted++;
        }
        return disk_.sync_dir(options_.dir);
    };
    Status st = run();
    if (!st.ok()) {
        take_offline(st.error());
        return st.error();
    }
    r.log_start_offset = log_start_offset_;
    trace("log.retention", "{\"dir\":\"" + options_.dir + "\",\"segments_deleted\":" +
                               std::to_string(r.segments_deleted) + ",\"log_start_offset\":" +
                               std::to_string(log_start_offset_.value()) + "}");
    return r;
}

}  // namespace keel::log
