// Segment: one file triple of a partition log — `<base>.log` (batches back to back),
// `<base>.index` and `<base>.timeindex` (sparse indexes) — named by the 20-digit base
// offset, as Kafka names them.
//
// Invariants:
// - size() bytes of the .log file are whole, valid batches with offsets >= base_offset(),
//   increasing, each within int32 of the base offset (bytes past size() are ignored
//   and overwritten by the next append).
// - The in-memory indexes describe exactly those bytes; their files hold a prefix of the
//   entries (the rest are written by flush(), seal() or truncate, which rewrite the tail).
// - After flush() returns ok, the .log bytes up to size() and both index files are durable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/disk.h"
#include "core/log/offset_index.h"
#include "core/log/record_batch.h"
#include "core/log/time_index.h"

namespace keel::log {

// A batch that fails its check is read this many times before it counts as damaged: a
// read can return a flipped bit that storage does not hold (a bad cable, a controller
// fault; the simulator's disk-bitflip), and recovery must neither cut valid data nor
// write such a buffer back.
inline constexpr int kReadAttempts = 8;

// "00000000000000000042" for 42.
std::string offset_file_stem(Offset base_offset);
// Parses a 20-digit stem followed by `suffix` ("00000000000000000042.log", ".log") into 42.
std::optional<Offset> parse_segment_file_name(const std::string& name, const std::string& suffix);

inline constexpr const char* kLogSuffix = ".log";
inline constexpr const char* kIndexSuffix = ".index";
inline constexpr const char* kTimeIndexSuffix = ".timeindex";

// What the log tells a segment about each batch it appends.
struct BatchSummary {
    Offset last_offset;
    int64_t max_timestamp;
    uint32_t size;
};

// A batch met while scanning a segment's bytes.
struct ScannedBatch {
    uint64_t position;
    BatchHeader header;
    ByteView bytes;  // the whole batch; valid only during the visit
};

// Why a scan stopped before the end of the bytes it was given.
struct ScanStop {
    uint64_t position;
    Error error;  // invalid_record (structure, cut short) or corrupt_record (CRC)
};

class Segment {
public:
    // Creates empty files (replacing any) for a new segment at base_offset. The cleaner
    // passes extra_suffix ".cleaned" to build a replacement beside the original.
    static Result<std::unique_ptr<Segment>> create(env::Disk& disk, const std::string& dir,
                                                   Offset base_offset, Instant now,
                                                   const std::string& extra_suffix = "");
    // Opens an existing segment's files without reading them; its size is the .log file's.
    // Missing index files are created empty. Call load_indexes() or recover() next.
    static Result<std::unique_ptr<Segment>> open(env::Disk& disk, const std::string& dir,
                                                 Offset base_offset, Instant now);

    Offset base_offset() const { return base_offset_; }
    uint64_t size() const { return size_; }
    // The .log file's size (may exceed size() after a torn or failed write).
    Result<uint64_t> file_size() { return log_->size(); }
    bool empty() const { return size_ == 0; }
    // One past the last offset held (base_offset() while empty). For a segment opened
    // below the recovery point without a scan, the next segment's base offset.
    Offset next_offset() const { return next_offset_; }
    // Largest record timestamp held; kNoTimestamp while unknown or empty.
    int64_t max_timestamp() const { return max_timestamp_; }
    Instant created() const { return created_; }
    const OffsetIndex& offset_index() const { return index_; }
    const TimeIndex& time_index() const { return time_index_; }
    const std::string& log_path() const { return log_path_; }

    // Trusting the .log file (it lies below the recovery point): decodes both index files
    // and takes next_offset from `next_offset_hint`. Errc::corrupt if an index is damaged
    // or an index file is missing for a non-empty segment (then call recover()).
    Status load_indexes(Offset next_offset_hint);

    // Reads the whole .log file, checking every batch, and rebuilds both indexes in
    // memory and on disk. Stops at the first bad batch unless `on_bad` says to skip it
    // (only possible when its header is readable); size() ends after the last batch
    // accepted. Returns where it stopped, if early. `on_batch` sees every accepted batch.
    struct RecoverHooks {
        std::function<void(const ScannedBatch&)> on_batch;
        // Return true to skip a batch with a readable header but a bad CRC.
        std::function<bool(const ScanStop&, const BatchHeader&)> skip_bad_crc;
    };
    Result<std::optional<ScanStop>> recover(uint32_t index_interval_bytes, const RecoverHooks& hooks);

    // Appends whole batches (offsets already assigned, above next_offset()). On failure
    // (disk_full, io_error) the file is cut back where possible and nothing changes in
    // memory: the next append overwrites whatever was partly written.
    // `split` (0: none) writes the bytes in two writes, the first `split` bytes first.
    Status append(ByteView batches, std::span<const BatchSummary> summaries,
                  uint32_t index_interval_bytes, size_t split = 0);

    // Up to n bytes from position, never past size().
    Result<Bytes> read(uint64_t position, size_t n);
    // Whole batches from `position` (a batch boundary) totalling at most max_bytes, but at
    // least the first batch whatever its size; empty at the end. Headers are checked
    // (Errc::corrupt if unreadable), CRCs are not: the caller checks before serving.
    Result<Bytes> read_batches(uint64_t position, size_t max_bytes);

    // Position of the first batch whose last offset is >= target (the batch holding target,
    // or the next one); nullopt if no such batch in this segment.
    Result<std::optional<uint64_t>> find_position(Offset target);

    // Calls visit for each batch from `position` (headers checked, CRC not), reading in
    // chunks, until visit returns false or the end; Errc::corrupt on a broken header.
    Status scan_headers(uint64_t position, const std::function<bool(const ScannedBatch&)>& visit);

    // Writes the bytes [position, size()) again, as read back. After a failed fsync the
    // kernel may have marked unwritten pages clean ("fsyncgate"): a later fsync would
    // not write them, so recovery rewrites what it validated before trusting it.
    Status rewrite_from(uint64_t position);

    // Writes pending index entries to the index files. A failure (disk_full, io_error)
    // loses nothing: the entries stay pending for the next call.
    Status write_indexes();
    // Syncs the three files. A failure means written bytes may be lost (fsyncgate).
    Status sync();
    // Syncs the .log file only: the active segment's indexes are rebuilt by recovery, so
    // its flushes need not pay for them.
    Status sync_log() { return log_->sync(); }
    // write_indexes() then sync().
    Status flush();
    // Adds the final time-index entry (the segment's largest timestamp) before it stops
    // being the active segment.
    void seal();
    // Cuts the segment at `position` (a batch boundary), dropping batches from there on;
    // recomputes next offset, largest timestamp and indexes. Durable (synced) on success.
    Status truncate_to_position(uint64_t position, uint32_t index_interval_bytes);

    // Removes the three files (the caller syncs the directory).
    Status remove_files(env::Disk& disk);
    // The segment's three paths with a suffix appended ("" for the final names).
    std::string path(const char* kind_suffix, const std::string& extra = "") const;

private:
    Segment(Offset base, Instant created) : base_offset_(base), next_offset_(base), created_(created),
                                            index_(base), time_index_(base) {}
    void index_batch(uint64_t position, const BatchSummary& s, uint32_t index_interval_bytes);
    Status write_index_files(bool rewrite);

    std::string stem_;
    Offset base_offset_;
    Offset next_offset_;
    Instant created_;
    std::string log_path_, index_path_, time_index_path_;
    std::unique_ptr<env::File> log_, index_file_, time_index_file_;
    uint64_t size_ = 0;
    int64_t max_timestamp_ = batch_format::kNoTimestamp;
    OffsetIndex index_;
    TimeIndex time_index_;
    size_t index_entries_written_ = 0;
    size_t time_entries_written_ = 0;
    uint64_t bytes_since_index_entry_ = 0;
};

// Visits the batches of `bytes` (a segment's contents, starting at file position `base`)
// with full checks (structure and CRC), stopping at the first bad one. Used by recovery,
// the dump tool and tests.
std::optional<ScanStop> scan_batches(ByteView bytes, uint64_t base,
                                     const std::function<bool(const ScannedBatch&)>& visit);

}  // namespace keel::log
