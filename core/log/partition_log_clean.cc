// PartitionLog: compaction in bounded steps. A pass is:
//   1. building_map: read the dirty segments [cleaner point, first uncleanable offset)
//      into an OffsetMap (key -> latest offset), at most cleaner_step_bytes per step;
//   2. cleaning: rewrite each segment below the map's end into `<base>.*.cleaned` files,
//      cleaner_step_bytes per step, and swap each finished one in (see swap_cleaned_segment);
//   3. the cleaner point moves to the map's end.
// Appends may run between steps (they only touch the active segment, never cleaned);
// truncation or retention between steps abort the pass (layout_version_ changes).
#include <algorithm>
#include <limits>

#include "core/log/checkpoint.h"
#include "core/log/partition_log.h"
#include "core/log/partition_log_internal.h"

namespace keel::log {


namespace {
constexpr const char* kCleanedSuffix = ".cleaned";
constexpr const char* kSwapSuffix = ".swap";
}  // namespace

std::optional<Offset> PartitionLog::first_uncleanable_offset() const {
    Offset active = segments_.rbegin()->first;
    int64_t lag = options_.config.min_compaction_lag_ms;
    if (lag <= 0) return active;
    int64_t now_ms = clock_.wall_now().ms();
    for (const auto& [base, seg] : segments_) {
        if (base >= active) break;
        if (seg->max_timestamp() > now_ms - lag) return base;
    }
    return active;
}

void PartitionLog::abort_cleaning() {
    if (!cleaner_ || cleaner_->phase == CleanerProgress::Phase::idle) return;
    if (cleaner_->cleaned) {
        Segment& c = *cleaner_->cleaned;
        for (const char* kind : {kLogSuffix, kIndexSuffix, kTimeIndexSuffix}) {
            (void)disk_.remove(c.path(kind, kCleanedSuffix));
        }
    }
    auto next_horizon = cleaner_->next_horizon_ms;
    bool done = cleaner_->pass_done_since_open;
    *cleaner_ = CleanerState{};
    cleaner_->next_horizon_ms = next_horizon;
    cleaner_->pass_done_since_open = done;
}

Result<CleanerProgress> PartitionLog::clean_step() {
    CleanerProgress p;
    p.cleaner_point = cleaner_point_;
    if (!options_.config.cleanup_compact || offline_) return p;
    if (!cleaner_) cleaner_ = std::make_unique<CleanerState>();
    CleanerState& s = *cleaner_;
    if (s.phase != CleanerProgress::Phase::idle && s.layout_version != layout_version_) abort_cleaning();
    Result<CleanerProgress> r = p;
    switch (s.phase) {
        case CleanerProgress::Phase::idle: return start_cleaning_pass(p);
        case CleanerProgress::Phase::building_map: r = build_map_step(p); break;
        case CleanerProgress::Phase::cleaning: r = clean_segment_step(p); break;
    }
    if (!r.ok()) abort_cleaning();
    return r;
}

Result<CleanerProgress> PartitionLog::start_cleaning_pass(CleanerProgress p) {
    CleanerState& s = *cleaner_;
    Offset end = *first_uncleanable_offset();
    uint64_t dirty = 0, total = 0;
    for (const auto& [base, seg] : segments_) {
        if (base >= end) break;
        total += seg->size();
        if (base >= cleaner_point_) dirty += seg->size();
    }
    int64_t now_ms = clock_.wall_now().ms();
    bool ratio = total > 0 && dirty > 0 &&
                 static_cast<double>(dirty) / static_cast<double>(total) >= options_.config.min_cleanable_dirty_ratio;
    // Tombstones whose horizon has passed need a pass even with nothing dirty; after a
    // restart the horizons are unknown, so one pass looks.
    bool horizons = total > 0 && ((s.next_horizon_ms && now_ms >= *s.next_horizon_ms) ||
                                  (!s.pass_done_since_open && total > 0));
    if (!ratio && !horizons) return p;
    s.phase = CleanerProgress::Phase::building_map;
    s.layout_version = layout_version_;
    s.now_ms = now_ms;
    s.map.clear();
    s.map_end = end;
    s.earliest_horizon_ms.reset();
    auto first_dirty = segments_.upper_bound(cleaner_point_);
    if (first_dirty != segments_.begin()) --first_dirty;
    s.scan_base = std::min(first_dirty->first, end);
    s.scan_position = 0;
    p.phase = s.phase;
    p.did_work = true;
    trace("log.clean_start", "{\"dir\":\"" + options_.dir + "\",\"dirty_bytes\":" + std::to_string(dirty) +
                                 ",\"cleanable_bytes\":" + std::to_string(total) + "}");
    return p;
}

Result<CleanerProgress> PartitionLog::build_map_step(CleanerProgress p) {
    CleanerState& s = *cleaner_;
    p.phase = s.phase;
    p.did_work = true;
    size_t budget = options_.config.cleaner_step_bytes;
    bool first_segment = true;
    while (budget > 0 && s.scan_base < s.map_end) {
        auto it = segments_.find(s.scan_base);
        if (it == segments_.end()) return Error{Errc::cancelled, "segment vanished during compaction"};
        std::shared_ptr<Segment> seg = it->second;
        // The map is a soft limit checked between segments (at least one is mapped).
        if (s.scan_position == 0 && !first_segment && s.map.size() >= options_.config.cleaner_map_entries_max) {
            s.map_end = s.scan_base;
            break;
        }
        first_segment = false;
        KEEL_TRY_ASSIGN(Bytes raw, seg->read_batches(s.scan_position, budget));
        KEEL_TRY(scan_or_corrupt(*seg, s.scan_position, raw, [&](const ScannedBatch& b) {
            return add_batch_to_map(s.map, b.bytes, options_.codec);
        }));
        s.scan_position += raw.size();
        p.bytes_read += raw.size();
        budget -= std::min(budget, raw.size());
        if (s.scan_position >= seg->size()) {
            auto next = segments_.upper_bound(s.scan_base);
            s.scan_base = next == segments_.end() ? s.map_end : std::min(next->first, s.map_end);
            s.scan_position = 0;
        }
    }
    if (s.scan_base >= s.map_end) {
        s.to_clean.clear();
        for (const auto& [base, seg] : segments_) {
            if (base >= s.map_end) break;
            if (seg->next_offset() > log_start_offset_ || base >= log_start_offset_) s.to_clean.push_back(base);
        }
        s.clean_index = 0;
        s.phase = CleanerProgress::Phase::cleaning;
    }
    return p;
}

// Visits each batch of `raw` (read from seg at position) with full checks; a batch that
// fails them stops the pass with Errc::corrupt (the cleaner never rewrites damage).
Status PartitionLog::scan_or_corrupt(const Segment& seg, uint64_t position, const Bytes& raw,
                                     const std::function<Status(const ScannedBatch&)>& visit) {
    Status inner = ok_status();
    auto stop = scan_batches(raw, position, [&](const ScannedBatch& b) {
        // A trusted segment is not rescanned on open: a batch whose offsets lie outside
        // it (rot in baseOffset, which the CRC does not cover) stops compaction here.
        const BatchHeader& h = b.header;
        if (h.base_offset < seg.base_offset() || h.last_offset_delta < 0 ||
            h.base_offset.value() - seg.base_offset().value() >
                int64_t{std::numeric_limits<int32_t>::max()} - h.last_offset_delta) {
            inner = Status(Errc::corrupt, seg.log_path() + " position " + std::to_string(b.position) +
                                              ": compaction met a batch outside the segment's offsets");
            return false;
        }
        inner = visit(b);
        return inner.ok();
    });
    if (stop) {
        return Status(Errc::corrupt, seg.log_path() + " position " + std::to_string(stop->position) +
                                         ": compaction met a bad batch: " + stop->error.message);
    }
    return inner;
}

Result<CleanerProgress> PartitionLog::clean_segment_step(CleanerProgress p) {
    CleanerState& s = *cleaner_;
    p.phase = s.phase;
    p.did_work = true;
    if (s.clean_index >= s.to_clean.size()) return finish_cleaning_pass(p);
    Offset base = s.to_clean[s.clean_index];
    if (!s.source) {
        auto it = segments_.find(base);
        if (it == segments_.end()) return Error{Errc::cancelled, "segment vanished during compaction"};
        s.source = it->second;
        s.source_position = 0;
        KEEL_TRY_ASSIGN(s.cleaned, Segment::create(disk_, options_.dir, base, s.source->created(), kCleanedSuffix));
    }
    KEEL_TRY_ASSIGN(Bytes raw, s.source->read_batches(s.source_position, options_.config.cleaner_step_bytes));
    Bytes out;
    std::vector<BatchSummary> summaries;
    KEEL_TRY(scan_or_corrupt(*s.source, s.source_position, raw, [&](const ScannedBatch& b) -> Status {
        KEEL_TRY_ASSIGN(CleanedBatch c, clean_batch(b.bytes, s.map, s.now_ms,
                                                    options_.config.delete_retention_ms, options_.codec));
        p.records_removed += c.records_removed;
        if (c.delete_horizon_ms) {
            s.earliest_horizon_ms = std::min(s.earliest_horizon_ms.value_or(*c.delete_horizon_ms), *c.delete_horizon_ms);
        }
        if (c.action == CleanedBatch::Action::drop) return ok_status();
        ByteView kept = c.action == CleanedBatch::Action::keep ? b.bytes : ByteView(c.rewritten);
        KEEL_TRY_ASSIGN(BatchHeader h, read_batch(kept));
        out.insert(out.end(), kept.begin(), kept.end());
        summaries.push_back({h.last_offset(), h.max_timestamp, static_cast<uint32_t>(h.size_bytes())});
        return ok_status();
    }));
    if (!out.empty()) {
        KEEL_TRY(s.cleaned->append(out, summaries, static_cast<uint32_t>(options_.config.index_interval_bytes)));
    }
    s.source_position += raw.size();
    p.bytes_read += raw.size();
    if (s.source_position < s.source->size()) return p;
    s.cleaned->seal();
    KEEL_TRY(s.cleaned->flush());
    {
        KEEL_LOG_LOCK(guard);
        if (s.layout_version != layout_version_) return Error{Errc::cancelled, "log changed during compaction"};
        Status swapped = swap_cleaned_segment();
        if (!swapped.ok()) {
            take_offline(swapped.error());  // reopening finishes or discards the swap
            return swapped.error();
        }
    }
    s.source.reset();
    s.cleaned.reset();
    s.clean_index++;
    return p;
}

// Replaces `<base>.log` (and its indexes) by the cleaned copy, crash-safely. The commit
// point is the rename of `<base>.log.cleaned` to `<base>.log.swap`: before it a crash
// leaves the old segment (open() removes .cleaned/.swap leftovers); after it open()
// finishes the swap (finish_interrupted_swaps).
Status PartitionLog::swap_cleaned_segment() {
    CleanerState& s = *cleaner_;
    Segment& c = *s.cleaned;
    const std::string& dir = options_.dir;
    for (const char* kind : {kIndexSuffix, kTimeIndexSuffix}) {
        KEEL_TRY(disk_.rename(c.path(kind, kCleanedSuffix), c.path(kind, kSwapSuffix)));
    }
    KEEL_TRY(disk_.sync_dir(dir));
    KEEL_TRY(disk_.rename(c.path(kLogSuffix, kCleanedSuffix), c.path(kLogSuffix, kSwapSuffix)));
    KEEL_TRY(disk_.sync_dir(dir));
    for (const char* kind : {kIndexSuffix, kTimeIndexSuffix}) {
        KEEL_TRY(disk_.rename(c.path(kind, kSwapSuffix), c.path(kind)));
    }
    KEEL_TRY(disk_.sync_dir(dir));
    KEEL_TRY(disk_.rename(c.path(kLogSuffix, kSwapSuffix), c.path(kLogSuffix)));
    KEEL_TRY(disk_.sync_dir(dir));
    Offset base = c.base_offset();
    Offset next_hint = s.source->next_offset();
    auto next = segments_.upper_bound(base);
    if (next != segments_.end()) next_hint = next->first;
    KEEL_TRY_ASSIGN(auto reopened, Segment::open(disk_, dir, base, s.source->created()));
    KEEL_TRY(reopened->load_indexes(next_hint));
    segments_[base] = std::move(reopened);
    trace("log.clean_swap", "{\"dir\":\"" + dir + "\",\"base_offset\":" + std::to_string(base.value()) +
                                ",\"bytes_before\":" + std::to_string(s.source->size()) +
                                ",\"bytes_after\":" + std::to_string(c.size()) + "}");
    return ok_status();
}

Result<CleanerProgress> PartitionLog::finish_cleaning_pass(CleanerProgress p) {
    CleanerState& s = *cleaner_;
    KEEL_LOG_LOCK(guard);
    if (s.layout_version != layout_version_) return Error{Errc::cancelled, "log changed during compaction"};
    cleaner_point_ = std::max(cleaner_point_, s.map_end);
    KEEL_TRY(write_offset_checkpoint(kCleanerOffsetCheckpoint, cleaner_point_));
    s.next_horizon_ms = s.earliest_horizon_ms;
    s.pass_done_since_open = true;
    s.phase = CleanerProgress::Phase::idle;
    p.phase = s.phase;
    p.cleaner_point = cleaner_point_;
    trace("log.clean_done", "{\"dir\":\"" + options_.dir + "\",\"cleaner_point\":" +
                                std::to_string(cleaner_point_.value()) + "}");
    return p;
}

}  // namespace keel::log
