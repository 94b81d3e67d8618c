// PartitionLog: appends, rolls, flushes, reads and timestamp lookups.
#include <algorithm>
#include <limits>

#include "core/log/checkpoint.h"
#include "core/log/partition_log.h"
#include "core/log/partition_log_internal.h"

namespace keel::log {
namespace {

Error with_context(const Error& e, const std::string& context) {
    return Error{e.code, context + ": " + e.message};
}

// Records of an uncompressed batch of a compacted topic must all have keys (Kafka
// rejects such produce requests with INVALID_RECORD).
Status check_keys_for_compaction(const BatchHeader& h, ByteView batch) {
    if (h.compression() != Compression::none || h.is_control()) return ok_status();
    KEEL_TRY_ASSIGN(auto records, parse_records(h, records_section(batch.first(h.size_bytes()))));
    for (const Record& r : records) {
        if (!r.key) return Status(Errc::invalid_record, "compacted topic: a record without a key");
    }
    return ok_status();
}

// Whether a batch of last offset delta `delta` (>= 0) based at `base` would end past the
// largest offset: its next offset (last + 1) must stay representable.
bool passes_offset_max(Offset base, int32_t delta) {
    return base.value() > std::numeric_limits<int64_t>::max() - 1 - int64_t{delta};
}

}  // namespace

Result<AppendResult> PartitionLog::append(ByteView batches, LeaderEpoch epoch, AppendOrigin origin) {
    KEEL_LOG_LOCK(guard);
    if (batches.empty()) return Error{Errc::invalid_record, "no record batch"};
    std::vector<BatchHeader> headers;
    for (size_t pos = 0; pos < batches.size();) {
        ByteView rest = batches.subspan(pos);
        auto where = [&] { return options_.dir + " produce batch at byte " + std::to_string(pos); };
        auto h = read_batch(rest);
        if (!h.ok()) return with_context(h.error(), where());
        if (h->size_bytes() > static_cast<size_t>(options_.config.max_message_bytes)) {
            return Error{Errc::message_too_large, where() + ": " + std::to_string(h->size_bytes()) +
                                                      " bytes > max.message.bytes"};
        }
        Status valid = validate_producer_batch(*h, rest);
        if (!valid.ok()) return with_context(valid.error(), where());
        if (origin == AppendOrigin::client && h->is_control()) {
            return Error{Errc::invalid_record, where() + ": clients may not write control batches"};
        }
        if (options_.config.cleanup_compact) {
            Status keyed = check_keys_for_compaction(*h, rest);
            if (!keyed.ok()) return with_context(keyed.error(), where());
        }
        headers.push_back(*h);
        pos += h->size_bytes();
    }
    if (auto latest = epochs_.latest(); latest && epoch < latest->epoch) {
        return Error{Errc::fenced_leader_epoch, "append at epoch " + std::to_string(epoch.value()) +
                                                   " below the log's latest epoch " +
                                                   std::to_string(latest->epoch.value())};
    }
    Bytes bytes(batches.begin(), batches.end());
    Offset next = log_end_offset_;
    int64_t now_ms = clock_.wall_now().ms();
    bool append_time = options_.config.message_timestamp_type == TimestampType::log_append_time;
    size_t pos = 0;
    for (BatchHeader& h : headers) {
        if (passes_offset_max(next, h.last_offset_delta)) {
            return Error{Errc::invalid_record, options_.dir + ": offsets from " + std::to_string(next.value()) +
                                                   " would pass the largest offset"};
        }
        std::span<uint8_t> b(bytes.data() + pos, h.size_bytes());
        h.base_offset = next;
        h.partition_leader_epoch = epoch;
        set_base_offset(b, next);
        set_partition_leader_epoch(b, epoch);
        if (append_time) {
            set_log_append_time(b, now_ms);
            h.max_timestamp = now_ms;
        }
        next = h.next_offset();
        pos += h.size_bytes();
    }
    auto result = append_checked(std::move(bytes), std::move(headers));
    if (result.ok() && append_time) result->log_append_time_ms = now_ms;
    return result;
}

Result<AppendResult> PartitionLog::append_replicated(ByteView batches) {
    KEEL_LOG_LOCK(guard);
    if (batches.empty()) return Error{Errc::invalid_record, "no record batch"};
    std::vector<BatchHeader> headers;
    Offset expected = log_end_offset_;
    for (size_t pos = 0; pos < batches.size();) {
        auto where = [&] { return options_.dir + " replicated batch at byte " + std::to_string(pos); };
        auto h = read_batch(batches.subspan(pos));
        if (!h.ok()) return with_context(h.error(), where());
        if (h->base_offset < expected || h->last_offset_delta < 0 ||
            passes_offset_max(h->base_offset, h->last_offset_delta)) {
            return Error{Errc::invalid_record, where() + ": base offset " +
                                                   std::to_string(h->base_offset.value()) +
                                                   " is below the expected " +
                                                   std::to_string(expected.value())};
        }
        expected = h->next_offset();
        headers.push_back(*h);
        pos += h->size_bytes();
    }
    return append_checked(Bytes(batches.begin(), batches.end()), std::move(headers));
}

Result<AppendResult> PartitionLog::append_checked(Bytes&& bytes, std::vector<BatchHeader>&& headers) {
    KEEL_ASSERT(!headers.empty());
    if (bytes.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
        return Error{Errc::message_too_large, "append of " + std::to_string(bytes.size()) + " bytes"};
    }
    const BatchHeader& first = headers.front();
    const BatchHeader& last = headers.back();
    KEEL_TRY(maybe_roll(bytes.size(), first.base_offset, last.last_offset()));
    LeaderEpochCache epochs_before = epochs_;
    KEEL_TRY(assign_epochs(headers));
    std::vector<BatchSummary> summaries;
    summaries.reserve(headers.size());
    AppendResult r;
    r.base_offset = first.base_offset;
    r.last_offset = last.last_offset();
    r.bytes = bytes.size();
    for (const BatchHeader& h : headers) {
        summaries.push_back({h.last_offset(), h.max_timestamp, static_cast<uint32_t>(h.size_bytes())});
        r.max_timestamp = std::max(r.max_timestamp, h.max_timestamp);
        r.record_count += h.records_count;
    }
    Segment& active = *segments_.rbegin()->second;
    // Buggify: a short write — the bytes reach the file in two writes, so a crash between
    // them leaves a batch cut at an arbitrary byte (not a sector), for recovery to find.
    size_t split = bytes.size() > 1 && buggify("log.short_write") ? bytes.size() / 3 + 1 : 0;
    Status appended =
        active.append(bytes, summaries, static_cast<uint32_t>(options_.config.index_interval_bytes), split);
    if (!appended.ok()) {
        // Nothing was appended: neither may the epochs its batches would have started be
        // (a later append of the old epoch would be refused as fenced).
        if (epochs_.entries() != epochs_before.entries()) {
            epochs_ = std::move(epochs_before);
            (void)write_epoch_checkpoint();  // if this fails too, recovery trims it at the log end
        }
        return appended.error();
    }
    log_end_offset_ = r.last_offset + 1;
    KEEL_TRY(after_append(r.record_count));
    return r;
}

Status PartitionLog::assign_epochs(const std::vector<BatchHeader>& headers) {
    LeaderEpochCache before = epochs_;
    bool changed = false;
    for (const BatchHeader& h : headers) {
        LeaderEpoch e = h.partition_leader_epoch;
        auto latest = epochs_.latest();
        if (e.value() >= 0 && (!latest || e > latest->epoch)) changed |= epochs_.assign(e, h.base_offset);
    }
    if (!changed) return ok_status();
    Status written = write_epoch_checkpoint();
    if (!written.ok()) epochs_ = std::move(before);  // memory never runs ahead of the checkpoint
    return written;
}

Status PartitionLog::assign_epoch_start_offset(LeaderEpoch epoch) {
    KEEL_LOG_LOCK(guard);
    if (epoch.value() < 0) return Status(Errc::invalid_argument, "negative leader epoch");
    if (auto latest = epochs_.latest(); latest && epoch < latest->epoch) {
        return Status(Errc::fenced_leader_epoch, "epoch below the latest in the log");
    }
    LeaderEpochCache before = epochs_;
    if (!epochs_.assign(epoch, log_end_offset_)) return ok_status();
    Status written = write_epoch_checkpoint();
    if (!written.ok()) epochs_ = std::move(before);
    return written;
}

// ---- rolling and flushing ----

Status PartitionLog::maybe_roll(uint64_t bytes, Offset first_offset, Offset last_offset) {
    Segment& active = *segments_.rbegin()->second;
    bool offsets_overflow = last_offset - active.base_offset() > std::numeric_limits<int32_t>::max();
    bool full = active.size() + bytes > static_cast<uint64_t>(options_.config.segment_bytes);
    bool old = clock_.monotonic_now() - active.created() >= ms(options_.config.segment_ms);
    // Buggify: a segment rolls long before it is full (many small segments, more rolls
    // and index/segment boundaries for everything that reads across them).
    bool early = !active.empty() && buggify("log.roll_early");
    if (offsets_overflow || (!active.empty() && (full || old)) || early) {
        return roll(first_offset);
    }
    return ok_status();
}

Status PartitionLog::roll(Offset new_base) {
    std::shared_ptr<Segment> old = segments_.rbegin()->second;
    KEEL_ASSERT(new_base >= old->next_offset());
    old->seal();
    // Kafka flushes a rolled segment (in the background); here at once, so every segment
    // but the active one always lies below the recovery point with complete indexes.
    KEEL_TRY(old->write_indexes());  // a full disk fails this roll; nothing is lost
    Status synced_old = old->sync();
    if (!synced_old.ok()) {
        take_offline(synced_old.error());
        return synced_old;
    }
    recovery_point_ = log_end_offset_;
    unflushed_records_ = 0;
    auto created = Segment::create(disk_, options_.dir, new_base, clock_.monotonic_now());
    Status named = created.ok() ? disk_.sync_dir(options_.dir) : Status(created.error());
    if (!named.ok()) {
        // Leave no half-made segment behind (an empty one would still be harmless).
        created = Error{Errc::cancelled, {}};  // closes its files first
        std::string stem = env::join_path(options_.dir, offset_file_stem(new_base));
        for (const char* kind : {kLogSuffix, kIndexSuffix, kTimeIndexSuffix}) (void)disk_.remove(stem + kind);
        return named;
    }
    segments_[new_base] = std::move(created).value();
    (void)persist_recovery_point(true);  // a stale checkpoint only costs recovery time
    trace("log.roll", "{\"dir\":\"" + options_.dir + "\",\"base_offset\":" +
                          std::to_string(new_base.value()) + "}");
    return ok_status();
}

Status PartitionLog::after_append(int64_t records) {
    unflushed_records_ += records;
    bool by_count = unflushed_records_ >= options_.config.flush_messages;
    bool by_time = options_.config.flush_ms != kNever &&
                   clock_.monotonic_now() - last_flush_ >= ms(options_.config.flush_ms);
    // Buggify: flush sooner than flush.messages says (a different recovery point to
    // recover from, and syncs landing between appends).
    if (by_count || by_time || buggify("log.flush_early")) return flush_locked();
    return ok_status();
}

Status PartitionLog::flush() {
    KEEL_LOG_LOCK(guard);
    return flush_locked();
}

Status PartitionLog::maybe_flush() {
    KEEL_LOG_LOCK(guard);
    if (options_.config.flush_ms == kNever || recovery_point_ == log_end_offset_) return ok_status();
    if (clock_.monotonic_now() - last_flush_ < ms(options_.config.flush_ms)) return ok_status();
    return flush_locked();
}

Status PartitionLog::flush_locked() {
    // Buggify: a slow fsync (a busy disk), long enough for other fibers, and crashes, to
    // land between the write and its sync.
    if (options_.executor != nullptr && buggify("log.slow_fsync")) options_.executor->sleep_for(ms(25));
    auto first = segments_.upper_bound(recovery_point_);
    if (first != segments_.begin()) --first;
    // Sealed segments need their indexes durable (open() trusts them below the recovery
    // point); the active segment's are rebuilt by every open(), so only its data is synced.
    for (auto it = first; std::next(it) != segments_.end(); ++it) KEEL_TRY(it->second->write_indexes());
    for (auto it = first; it != segments_.end(); ++it) {
        bool active = std::next(it) == segments_.end();
        Status st = active ? it->second->sync_log() : it->second->sync();
        if (!st.ok()) {
            // After a failed fsync the kernel may have dropped the dirty pages: nothing
            // since the last good sync can be trusted (fsyncgate). Stop until reopened.
            take_offline(st.error());
            return st;
        }
    }
    recovery_point_ = log_end_offset_;
    unflushed_records_ = 0;
    last_flush_ = clock_.monotonic_now();
    (void)persist_recovery_point(false);  // a stale checkpoint only costs recovery time
    return ok_status();
}

// ---- reading ----

Result<ReadResult> PartitionLog::read(Offset from, size_t max_bytes, std::optional<Offset> max_offset) {
    // Buggify: a short read — one batch, whatever the caller asked for (KIP-74 still
    // gives at least one): every reader must loop.
    if (buggify("log.read_short")) max_bytes = 1;
    ReadResult r;
    r.log_start_offset = log_start_offset_;
    r.log_end_offset = log_end_offset_;
    r.next_offset = from;
    if (from < log_start_offset_ || from > log_end_offset_) {
        return Error{Errc::offset_out_of_range,
                     "offset " + std::to_string(from.value()) + " outside [" +
                         std::to_string(log_start_offset_.value()) + ", " +
                         std::to_string(log_end_offset_.value()) + "] of " + options_.dir};
    }
    std::shared_ptr<Segment> seg = segment_for(from);
    if (seg == nullptr && !segments_.empty()) seg = segments_.begin()->second;  // below the first segment
    while (seg != nullptr && from < log_end_offset_) {
        KEEL_TRY_ASSIGN(auto position, seg->find_position(from));
        if (position) {
            // A batch failing its check is read again first: a read may return a flipped
            // bit that storage does not hold.
            for (int attempt = 1;; attempt++) {
                KEEL_TRY_ASSIGN(Bytes raw, seg->read_batches(*position, max_bytes));
                auto got = collect_batches(r, *seg, *position, std::move(raw), max_offset);
                if (got.ok() || got.code() != Errc::corrupt || attempt >= kReadAttempts) return got;
            }
        }
        auto next = segments_.upper_bound(seg->base_offset());
        seg = next == segments_.end() ? nullptr : next->second;
    }
    return r;
}

Result<ReadResult> PartitionLog::collect_batches(ReadResult r, const Segment& seg, uint64_t position,
                                                 Bytes raw, std::optional<Offset> max_offset) {
    size_t used = 0;
    Offset after = seg.base_offset();  // a served batch starts at or after this
    while (used < raw.size()) {
        ByteView rest(raw.data() + used, raw.size() - used);
        auto h = read_batch(rest);
        // baseOffset is outside the CRC: rot there (in a trusted segment, which open does
        // not rescan) shows as offsets out of order; such a batch is not served either.
        if (h.ok() && (h->base_offset < after || h->last_offset_delta < 0)) {
            h = Error{Errc::corrupt_record, "offsets out of order"};
        }
        if (!h.ok()) {
            if (r.batch_count > 0) break;  // serve what is good; the next read reports it
            return Error{Errc::corrupt, seg.log_path() + " position " + std::to_string(position + used) +
                                            ": stored batch fails its check, not served: " +
                                            h.error().message};
        }
        if (max_offset && h->last_offset() >= *max_offset) break;
        used += h->size_bytes();
        r.batch_count++;
        r.next_offset = h->next_offset();
        after = r.next_offset;
    }
    r.records = std::move(raw);
    r.records.resize(used);
    return r;
}

Result<std::optional<TimestampOffset>> PartitionLog::offset_for_timestamp(int64_t target_ms) {
    std::vector<std::shared_ptr<Segment>> segs;
    for (const auto& [base, seg] : segments_) segs.push_back(seg);
    Offset start = log_start_offset_;
    for (const auto& seg : segs) {
        if (seg->empty() || seg->next_offset() <= start) continue;
        if (seg->max_timestamp() != batch_format::kNoTimestamp && seg->max_timestamp() < target_ms) continue;
        uint64_t from = 0;
        if (auto t = seg->time_index().lookup_before(target_ms)) {
            if (auto o = seg->offset_index().lookup(t->offset)) from = o->position;
        }
        while (true) {
            std::optional<ScannedBatch> candidate;
            KEEL_TRY(seg->scan_headers(from, [&](const ScannedBatch& b) {
                if (b.header.max_timestamp < target_ms || b.header.last_offset() < start) return true;
                candidate = ScannedBatch{b.position, b.header, {}};
                return false;
            }));
            if (!candidate) break;
            KEEL_TRY_ASSIGN(auto found, first_record_at_or_after(*seg, candidate->position, target_ms, start));
            if (found) return found;
            from = candidate->position + candidate->header.size_bytes();
        }
    }
    return std::optional<TimestampOffset>();
}

Result<std::optional<TimestampOffset>> PartitionLog::offset_of_max_timestamp() {
    std::vector<std::shared_ptr<Segment>> segs;
    for (const auto& [base, seg] : segments_) segs.push_back(seg);
    Offset start = log_start_offset_;
    std::shared_ptr<Segment> best_segment;
    uint64_t best_position = 0;
    int64_t best_ts = batch_format::kNoTimestamp;
    for (const auto& seg : segs) {
        if (seg->empty() || seg->next_offset() <= start) continue;
        // Ties go to the earliest record, so a later segment must beat the best strictly.
        if (best_segment && seg->max_timestamp() <= best_ts) continue;
        KEEL_TRY(seg->scan_headers(0, [&](const ScannedBatch& b) {
            if (b.header.last_offset() < start) return true;
            if (!best_segment || b.header.max_timestamp > best_ts) {
                best_segment = seg;
                best_position = b.position;
                best_ts = b.header.max_timestamp;
            }
            return true;
        }));
    }
    if (!best_segment) return std::optional<TimestampOffset>();
    // Within the batch: its first record at or after the log start whose timestamp is best_ts.
    return first_record_at_or_after(*best_segment, best_position, best_ts, start);
}

Result<std::optional<TimestampOffset>> PartitionLog::first_record_at_or_after(Segment& seg, uint64_t position,
                                                                             int64_t target_ms, Offset start) {
    KEEL_TRY_ASSIGN(Bytes raw, seg.read_batches(position, 0));
    auto h = read_batch(raw);
    if (!h.ok()) {
        return Error{Errc::corrupt, seg.log_path() + " position " + std::to_string(position) + ": " +
                                        h.error().message};
    }
    bool whole_batch = h->timestamp_type() == TimestampType::log_append_time ||
                       (h->compression() != Compression::none && options_.codec == nullptr);
    if (whole_batch) {
        return std::optional<TimestampOffset>(TimestampOffset{h->max_timestamp, std::max(h->base_offset, start)});
    }
    KEEL_TRY_ASSIGN(DecodedBatch d, decode_batch(raw, options_.codec));
    for (const Record& rec : d.records) {
        if (rec.timestamp >= target_ms && rec.offset >= start) {
            return std::optional<TimestampOffset>(TimestampOffset{rec.timestamp, rec.offset});
        }
    }
    return std::optional<TimestampOffset>();
}

}  // namespace keel::log
