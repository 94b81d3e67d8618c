// PartitionLog: opening, recovery, checkpoints and the shared helpers. Appends and reads
// are in partition_log_io.cc, truncation and retention in partition_log_shape.cc,
// compaction in partition_log_clean.cc.
#include "core/log/partition_log.h"

#include <algorithm>

#include "core/log/checkpoint.h"
#include "core/log/partition_log_internal.h"

namespace keel::log {

std::string partition_dir_name(const std::string& topic, int32_t partition) {
    return topic + "-" + std::to_string(partition);
}

PartitionLog::PartitionLog(PartitionLogOptions options)
    : options_(std::move(options)), disk_(*options_.disk), clock_(*options_.clock) {
    if (options_.executor != nullptr) mutex_.emplace(*options_.executor);
}

PartitionLog::~PartitionLog() = default;

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(PartitionLogOptions options) {
    KEEL_ASSERT(options.disk != nullptr && options.clock != nullptr);
    KEEL_TRY(options.config.validate());
    std::unique_ptr<PartitionLog> log(new PartitionLog(std::move(options)));
    KEEL_TRY(log->recover());
    return log;
}

// ---- helpers shared by every part ----

void PartitionLog::trace(std::string_view kind, const std::string& detail_json) {
    if (options_.tracer != nullptr && options_.tracer->enabled()) {
        options_.tracer->event(kind, detail_json);
    }
}

void PartitionLog::take_offline(const Error& e) {
    if (offline_) return;
    offline_ = true;
    offline_reason_ = e;
    trace("log.offline", "{\"dir\":\"" + options_.dir + "\",\"error\":\"" +
                             std::string(errc_name(e.code)) + "\"}");
}

Status PartitionLog::check_online() const {
    if (!offline_) return ok_status();
    return Status(Errc::io_error, options_.dir + " is offline after an I/O failure (" +
                                      offline_reason_.to_string() + "); reopen to recover");
}

Status PartitionLog::write_offset_checkpoint(const char* name, Offset offset) {
    std::string text = encode_offset_checkpoint(options_.topic, options_.partition, offset);
    return write_file_atomically(disk_, env::join_path(options_.dir, name), as_bytes(text));
}

Status PartitionLog::write_epoch_checkpoint() {
    std::string text = epochs_.encode();
    return write_file_atomically(disk_, env::join_path(options_.dir, kLeaderEpochCheckpoint),
                                 as_bytes(text));
}

Status PartitionLog::persist_recovery_point(bool force) {
    Instant now = clock_.monotonic_now();
    bool due = now - last_recovery_point_write_ >=
               ms(options_.config.flush_offset_checkpoint_interval_ms);
    if (!force && (!due || persisted_recovery_point_ == recovery_point_)) return ok_status();
    KEEL_TRY(write_offset_checkpoint(kRecoveryPointCheckpoint, recovery_point_));
    persisted_recovery_point_ = recovery_point_;
    last_recovery_point_write_ = now;
    return ok_status();
}

std::shared_ptr<Segment> PartitionLog::segment_for(Offset offset) const {
    auto it = segments_.upper_bound(offset);
    if (it == segments_.begin()) return nullptr;
    return std::prev(it)->second;
}

uint64_t PartitionLog::size_bytes() const {
    uint64_t total = 0;
    for (const auto& [base, seg] : segments_) total += seg->size();
    return total;
}

Status PartitionLog::set_config(const LogConfig& config) {
    KEEL_TRY(config.validate());
    options_.config = config;
    return ok_status();
}

std::vector<SegmentInfo> PartitionLog::segments() const {
    std::vector<SegmentInfo> out;
    for (const auto& [base, seg] : segments_) {
        out.push_back({base, seg->next_offset(), seg->size(), seg->max_timestamp()});
    }
    return out;
}

Status PartitionLog::remove_segment(std::shared_ptr<Segment> seg) {
    Offset base = seg->base_offset();
    segments_.erase(base);
    return seg->remove_files(disk_);
}

// ---- opening ----

Status PartitionLog::recover() {
    const std::string& dir = options_.dir;
    KEEL_TRY(disk_.make_dirs(dir));
    // The directory itself must be durably named by each of its ancestors.
    for (std::string d = dir; !d.empty(); d = env::parent_dir(d)) KEEL_TRY(disk_.sync_dir(env::parent_dir(d)));
    KEEL_TRY_ASSIGN(auto names, disk_.list(dir));
    KEEL_TRY(finish_interrupted_swaps(names));
    KEEL_TRY_ASSIGN(names, disk_.list(dir));
    std::vector<Offset> bases;
    for (const std::string& name : names) {
        if (auto base = parse_segment_file_name(name, kLogSuffix)) bases.push_back(*base);
    }
    for (const std::string& name : names) {
        bool leftover = internal::ends_with(name, kTmpSuffix) || internal::ends_with(name, ".cleaned") ||
                        internal::ends_with(name, ".swap") || internal::ends_with(name, ".deleted");
        auto idx = parse_segment_file_name(name, kIndexSuffix);
        auto tidx = parse_segment_file_name(name, kTimeIndexSuffix);
        auto base = idx ? idx : tidx;
        bool orphan = base && !std::binary_search(bases.begin(), bases.end(), *base);
        if (leftover || orphan) {
            KEEL_TRY(disk_.remove(env::join_path(dir, name)));
            report_.notes.push_back("removed leftover " + name);
        }
    }
    KEEL_TRY(load_checkpoints());
    KEEL_TRY(load_segments(bases));
    return disk_.sync_dir(dir);
}

// A cleaned segment is committed once `<base>.log.swap` exists (see swap_cleaned_segment):
// finish such swaps; anything else the cleaner left is removed by recover().
Status PartitionLog::finish_interrupted_swaps(const std::vector<std::string>& names) {
    const std::string& dir = options_.dir;
    for (const std::string& name : names) {
        auto base = parse_segment_file_name(name, std::string(kLogSuffix) + ".swap");
        if (!base) continue;
        std::string stem = env::join_path(dir, offset_file_stem(*base));
        for (const char* kind : {kIndexSuffix, kTimeIndexSuffix}) {
            std::string swap = stem + kind + ".swap";
            KEEL_TRY_ASSIGN(bool present, disk_.exists(swap));
            if (present) KEEL_TRY(disk_.rename(swap, stem + kind));
        }
        KEEL_TRY(disk_.sync_dir(dir));
        KEEL_TRY(disk_.rename(stem + kLogSuffix + ".swap", stem + kLogSuffix));
        KEEL_TRY(disk_.sync_dir(dir));
        report_.notes.push_back("finished an interrupted compaction swap of " + offset_file_stem(*base));
    }
    return ok_status();
}

Status PartitionLog::load_checkpoints() {
    auto read_offset = [&](const char* name, Offset fallback) -> Result<Offset> {
        KEEL_TRY_ASSIGN(auto bytes, read_whole_file_twice(disk_, env::join_path(options_.dir, name), kReadAttempts));
        if (!bytes) return fallback;
        auto v = decode_offset_checkpoint(as_chars(*bytes), options_.topic, options_.partition);
        if (v.ok()) return *v;
        report_.notes.push_back(std::string(name) + " unreadable (" + v.error().message + "); using " +
                                std::to_string(fallback.value()));
        return fallback;
    };
    KEEL_TRY_ASSIGN(recovery_point_, read_offset(kRecoveryPointCheckpoint, Offset(0)));
    KEEL_TRY_ASSIGN(log_start_offset_, read_offset(kLogStartOffsetCheckpoint, Offset(0)));
    KEEL_TRY_ASSIGN(cleaner_point_, read_offset(kCleanerOffsetCheckpoint, Offset(0)));
    report_.recovery_point = recovery_point_;
    persisted_recovery_point_ = recovery_point_;
    KEEL_TRY_ASSIGN(auto epochs,
                    read_whole_file_twice(disk_, env::join_path(options_.dir, kLeaderEpochCheckpoint), kReadAttempts));
    if (epochs) {
        auto cache = LeaderEpochCache::decode(as_chars(*epochs));
        if (cache.ok()) {
            epochs_ = std::move(cache).value();
            epochs_on_disk_ = epochs_.encode();
        } else {
            // Every stored batch carries its epoch: rebuild from all of them.
            report_.notes.push_back(cache.error().message + "; rebuilding from batch headers");
            rebuild_all_epochs_ = true;
        }
    }
    return ok_status();
}

Status PartitionLog::load_segments(const std::vector<Offset>& bases) {
    Instant now = clock_.monotonic_now();
    for (size_t i = 0; i < bases.size(); i++) {
        KEEL_TRY_ASSIGN(auto opened, Segment::open(disk_, options_.dir, bases[i], now));
        std::shared_ptr<Segment> seg = std::move(opened);
        bool last = i + 1 == bases.size();
        bool trusted = !last && bases[i + 1] <= recovery_point_;
        segments_[bases[i]] = seg;
        Offset truncate_from = Offset(-1);
        if (trusted) {
            KEEL_TRY(load_trusted_segment(*seg, bases[i + 1], truncate_from));
        } else {
            KEEL_TRY(recover_segment(*seg, truncate_from));
        }
        if (!last && seg->next_offset() > bases[i + 1]) KEEL_TRY(cut_overlap(*seg, bases[i + 1], truncate_from));
        if (truncate_from.value() >= 0) {
            // Later segments hold nothing that can follow the cut: remove their files,
            // newest first, so a crash part-way still leaves a prefix.
            for (size_t j = bases.size(); j-- > i + 1;) KEEL_TRY(remove_segment_files(bases[j]));
            KEEL_TRY(disk_.sync_dir(options_.dir));
            break;
        }
    }
    return finish_open();
}

Status PartitionLog::load_trusted_segment(Segment& seg, Offset next_base, Offset& truncate_from) {
    Status loaded = seg.load_indexes(next_base);
    if (!loaded.ok()) {
        report_.notes.push_back("rebuilding indexes: " + loaded.error().message);
        report_.indexes_rebuilt++;
        return recover_segment(seg, truncate_from);
    }
    // The epoch checkpoint is unreadable: rebuild it from batches that pass their checks
    // (CRC, offsets inside the segment), never from raw headers, which may be rot.
    if (rebuild_all_epochs_) return recover_segment(seg, truncate_from);
    return ok_status();
}

void PartitionLog::note_batch_epoch(const BatchHeader& h) {
    LeaderEpoch e = h.partition_leader_epoch;
    auto latest = epochs_.latest();
    if (e.value() >= 0 && h.base_offset.value() >= 0 && (!latest || e > latest->epoch)) {
        epochs_.assign(e, h.base_offset);
    }
}

// Checks every batch of a segment that may hold unflushed bytes. Damage at or above the
// recovery point is a torn or lost write: cut it off (truncate_from says where). Damage
// below it hit synced data: keep it and report it, or fail if the log's end is unknowable.
Status PartitionLog::recover_segment(Segment& seg, Offset& truncate_from) {
    report_.segments_scanned++;
    Segment::RecoverHooks hooks;
    hooks.on_batch = [&](const ScannedBatch& b) { note_batch_epoch(b.header); };
    hooks.skip_bad_crc = [&](const ScanStop& stop, const BatchHeader& h) {
        if (seg.next_offset() >= recovery_point_) return false;
        report_.corruption.push_back(seg.log_path() + " position " + std::to_string(stop.position) +
                                     ": batch at offset " + std::to_string(h.base_offset.value()) +
                                     " below the recovery point " +
                                     std::to_string(recovery_point_.value()) + ": " + stop.error.message);
        trace("log.corruption", "{\"segment\":\"" + seg.log_path() + "\",\"position\":" +
                                    std::to_string(stop.position) + "}");
        return true;
    };
    KEEL_TRY_ASSIGN(uint64_t file_size, seg.file_size());
    KEEL_TRY_ASSIGN(auto stop, seg.recover(static_cast<uint32_t>(options_.config.index_interval_bytes), hooks));
    if (!stop) return ok_status();
    if (seg.next_offset() < recovery_point_) {
        return Error{Errc::corrupt, seg.log_path() + " position " + std::to_string(stop->position) +
                                        ": unreadable batch below the recovery point " +
                                        std::to_string(recovery_point_.value()) + " (" +
                                        stop->error.message + "); refusing to cut synced data"};
    }
    KEEL_TRY(seg.truncate_to_position(stop->position, static_cast<uint32_t>(options_.config.index_interval_bytes)));
    report_.truncated_bytes += file_size - stop->position;
    truncate_from = seg.next_offset();
    trace("log.recovery_truncate", "{\"segment\":\"" + seg.log_path() + "\",\"position\":" +
                                       std::to_string(stop->position) + "}");
    return ok_status();
}

// A segment holds offsets at or past the next segment's base: a truncation was lost (an
// fsync that failed, then a power loss) and a stale tail came back, or a later segment's
// removal was. Which copy of those offsets is right, and whether the later segments still
// continue this one without a gap, cannot be known here, so the log keeps what precedes
// the overlap and drops the rest, as after a torn write — even below the recovery point:
// refusing would leave the partition unopenable for good (data-chaos seed 926 crash-looped
// a broker). A follower fetches the rest again from its leader; it is reported as
// corruption either way.
Status PartitionLog::cut_overlap(Segment& seg, Offset next_base, Offset& truncate_from) {
    std::string what = seg.log_path() + " holds offsets up to " + std::to_string(seg.next_offset().value()) +
                       ", overlapping the next segment at " + std::to_string(next_base.value());
    KEEL_TRY_ASSIGN(auto position, seg.find_position(next_base));
    uint64_t cut = position.value_or(seg.size());
    KEEL_TRY_ASSIGN(uint64_t file_size, seg.file_size());
    KEEL_TRY(seg.truncate_to_position(cut, static_cast<uint32_t>(options_.config.index_interval_bytes)));
    report_.truncated_bytes += file_size - cut;
    report_.corruption.push_back(what + ": cut at offset " + std::to_string(seg.next_offset().value()) +
                                 ", the later segments dropped");
    truncate_from = seg.next_offset();
    trace("log.recovery_truncate", "{\"segment\":\"" + seg.log_path() + "\",\"position\":" +
                                       std::to_string(cut) + ",\"overlap\":true}");
    return ok_status();
}

Status PartitionLog::remove_segment_files(Offset base) {
    std::string stem = env::join_path(options_.dir, offset_file_stem(base));
    KEEL_TRY(disk_.remove(stem + kLogSuffix));
    for (const char* kind : {kIndexSuffix, kTimeIndexSuffix}) {
        Status st = disk_.remove(stem + kind);
        if (!st.ok() && st.code() != Errc::not_found) return st;
    }
    report_.segments_dropped++;
    return ok_status();
}

// After the segments are loaded: log start and end, segments below the start, durability
// of what was validated, and the checkpoints.
Status PartitionLog::finish_open() {
    Instant now = clock_.monotonic_now();
    if (!segments_.empty()) log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
    while (!segments_.empty() && segments_.begin()->second->next_offset() <= log_start_offset_ &&
           segments_.begin()->first < log_start_offset_) {
        report_.notes.push_back("removed segment " + offset_file_stem(segments_.begin()->first) +
                                " below the log start offset");
        KEEL_TRY(remove_segment(segments_.begin()->second));
    }
    // The log starts where its data does: a checkpointed start inside a lost segment
    // moves up to the next one (read() would otherwise find nothing at the start).
    if (!segments_.empty()) log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
    if (segments_.empty()) {
        KEEL_TRY_ASSIGN(auto seg, Segment::create(disk_, options_.dir, log_start_offset_, now));
        segments_[log_start_offset_] = std::move(seg);
    }
    const auto& active = segments_.rbegin()->second;
    log_end_offset_ = active->next_offset();
    log_start_offset_ = std::min(log_start_offset_, log_end_offset_);
    // Everything up to the end was validated; make it durable before trusting it. What lies
    // past the checkpointed recovery point is written again first: if the last incarnation
    // died after a failed fsync, those bytes may sit in pages the kernel thinks are clean.
    auto holding_recovery_point = segments_.upper_bound(recovery_point_);
    if (holding_recovery_point != segments_.begin()) --holding_recovery_point;
    for (auto it = holding_recovery_point; it != segments_.end(); ++it) {
        Segment& seg = *it->second;
        uint64_t from = 0;
        if (seg.base_offset() < recovery_point_) {
            KEEL_TRY_ASSIGN(auto pos, seg.find_position(recovery_point_));
            from = pos.value_or(seg.size());
        }
        KEEL_TRY(seg.rewrite_from(from));
        KEEL_TRY(seg.flush());
    }
    recovery_point_ = log_end_offset_;
    KEEL_TRY(persist_recovery_point(true));
    KEEL_TRY(write_offset_checkpoint(kLogStartOffsetCheckpoint, log_start_offset_));
    cleaner_point_ = std::clamp(cleaner_point_, log_start_offset_, log_end_offset_);
    epochs_.truncate_from_end(log_end_offset_);
    epochs_.truncate_from_start(log_start_offset_);
    if (epochs_.encode() != epochs_on_disk_) KEEL_TRY(write_epoch_checkpoint());
    rebuild_all_epochs_ = false;
    last_flush_ = now;
    last_recovery_point_write_ = now;
    trace("log.open", "{\"dir\":\"" + options_.dir + "\",\"log_start_offset\":" +
                          std::to_string(log_start_offset_.value()) + ",\"log_end_offset\":" +
                          std::to_string(log_end_offset_.value()) + ",\"truncated_bytes\":" +
                          std::to_string(report_.truncated_bytes) + "}");
    return ok_status();
}

Status PartitionLog::close() {
    Guard g(*this);
    if (!g.held()) return Status(Errc::cancelled, "node is stopping");
    KEEL_TRY(check_online());
    KEEL_TRY(flush_locked());
    // Leave the active segment's indexes on disk too, for tools like `keel dump-log`.
    (void)segments_.rbegin()->second->flush();
    KEEL_TRY(persist_recovery_point(true));
    return write_offset_checkpoint(kCleanerOffsetCheckpoint, cleaner_point_);
}

}  // namespace keel::log
