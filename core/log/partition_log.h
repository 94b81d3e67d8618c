// PartitionLog: one partition's append-only, offset-addressed log of RecordBatch v2
// batches, on env::Disk only (the simulator can crash it at any byte; production runs it
// on POSIX files). Layout, as Kafka's:
//
//   <dir>/00000000000000000000.log        batches, byte for byte as produced
//   <dir>/00000000000000000000.index      sparse offset -> position
//   <dir>/00000000000000000000.timeindex  sparse timestamp -> offset
//   <dir>/00000000000000004096.log ...    next segment (named by its base offset)
//   <dir>/leader-epoch-checkpoint         epoch -> start offset
//   <dir>/recovery-point-offset-checkpoint, log-start-offset-checkpoint,
//   <dir>/cleaner-offset-checkpoint
//
// Invariants (checked by KEEL_ASSERT where cheap):
// - log_start_offset() <= log_end_offset() and recovery_point() <= log_end_offset(); the
//   log start offset never moves back except by truncate_fully_and_start_at().
// - Every byte below recovery_point() is durable (flushed); after a crash, open()
//   recovers a prefix of what was appended that contains everything below it.
// - Stored batches are the producer's bytes; only baseOffset and partitionLeaderEpoch
//   (outside the CRC) are rewritten, plus maxTimestamp for LogAppendTime topics.
//   Compressed batches are never recompressed on append.
// - A batch that fails its CRC is never returned by read().
//
// Threading: one node's fibers. With an Executor, mutating calls are serialized by a
// fiber mutex (disk calls may block); without one, the log must be used from one fiber
// or plain code at a time (tests). read() and the lookups take no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/buggify.h"
#include "core/env/clock.h"
#include "core/env/disk.h"
#include "core/env/executor.h"
#include "core/env/sync.h"
#include "core/env/tracer.h"
#include "core/log/cleaner.h"
#include "core/log/leader_epoch_cache.h"
#include "core/log/log_config.h"
#include "core/log/record_batch.h"
#include "core/log/segment.h"

namespace keel::log {

// "<topic>-<partition>", the partition's directory name under a log dir.
std::string partition_dir_name(const std::string& topic, int32_t partition);

struct PartitionLogOptions {
    env::Disk* disk = nullptr;            // required
    env::Clock* clock = nullptr;          // required
    env::Executor* executor = nullptr;    // optional: serializes mutating calls
    env::Tracer* tracer = nullptr;        // optional: log.roll, log.recovery, log.corruption, ...
    const BatchCodec* codec = nullptr;    // optional: compressed batches for compaction/lookups
    // Optional: the simulator's fault points (log.roll_early, log.flush_early,
    // log.short_write, log.read_short, log.slow_fsync); none in production.
    env::Buggify* buggify = nullptr;
    std::string dir;                      // partition directory, relative to the disk root
    std::string topic;
    int32_t partition = 0;
    LogConfig config;
};

// Who is appending: a producer's batches are validated deeply and may not be control
// batches; the coordinator writes transaction markers.
enum class AppendOrigin : uint8_t { client, coordinator };

struct AppendResult {
    Offset base_offset{0};
    Offset last_offset{0};
    int64_t max_timestamp = batch_format::kNoTimestamp;
    int64_t log_append_time_ms = batch_format::kNoTimestamp;  // set for LogAppendTime topics
    int32_t record_count = 0;
    size_t bytes = 0;
};

struct ReadResult {
    Bytes records;          // whole batches, back to back; empty at the log end
    size_t batch_count = 0;
    Offset next_offset{0};  // one past the last batch returned (the request's offset if none)
    Offset log_start_offset{0};
    Offset log_end_offset{0};
};

struct TimestampOffset {
    int64_t timestamp_ms;
    Offset offset;
};

struct RetentionResult {
    size_t segments_deleted = 0;
    uint64_t bytes_deleted = 0;
    Offset log_start_offset{0};
};

struct SegmentInfo {
    Offset base_offset;
    Offset next_offset;
    uint64_t size;
    int64_t max_timestamp;
};

// What open() found and did.
struct RecoveryReport {
    Offset recovery_point{0};       // from the checkpoint (0 if missing)
    size_t segments_scanned = 0;    // validated batch by batch
    size_t indexes_rebuilt = 0;
    uint64_t truncated_bytes = 0;   // torn or corrupt tail past the recovery point, cut off
    size_t segments_dropped = 0;    // whole segments past the cut
    std::vector<std::string> corruption;  // damage below the recovery point: kept, reported
    std::vector<std::string> notes;       // leftovers finished or removed, checkpoints redone
    bool clean() const { return truncated_bytes == 0 && segments_dropped == 0 && corruption.empty(); }
};

struct CleanerProgress {
    enum class Phase : uint8_t { idle, building_map, cleaning };
    Phase phase = Phase::idle;
    bool did_work = false;          // false: nothing to clean now
    uint64_t bytes_read = 0;        // this step
    size_t records_removed = 0;     // this step
    Offset cleaner_point{0};
};

class PartitionLog {
public:
    // Opens (creating if needed) the partition directory and recovers it (see the
    // contract at the top and docs/log-format.md "Recovery"). Errc::corrupt if a batch
    // below the recovery point is unreadable so badly that the log's end cannot be found.
    static Result<std::unique_ptr<PartitionLog>> open(PartitionLogOptions options);
    ~PartitionLog();
    PartitionLog(const PartitionLog&) = delete;
    PartitionLog& operator=(const PartitionLog&) = delete;

    // Leader path: validates the producer's batches, assigns offsets from the log end,
    // stamps `epoch`, and writes them. All or nothing:
    //   corrupt_record (CRC), invalid_record (structure, control batch from a client,
    //   null key on a compacted topic), message_too_large (max.message.bytes),
    //   fenced_leader_epoch (epoch below the latest epoch in the log),
    //   disk_full / io_error (nothing visible was appended).
    Result<AppendResult> append(ByteView batches, LeaderEpoch epoch,
                                AppendOrigin origin = AppendOrigin::client);

    // Follower path: batches that already carry offsets and epochs (from a leader's
    // Fetch response). The first base offset must be >= log_end_offset() (gaps come from
    // compaction) and offsets must increase: else Errc::invalid_record.
    Result<AppendResult> append_replicated(ByteView batches);

    // Whole batches starting with the one holding `from`, up to max_bytes (at least one
    // batch if any, as Kafka's KIP-74), from one segment; only batches whose last offset
    // is below max_offset if given (the high watermark). offset_out_of_range outside
    // [log_start_offset, log_end_offset]; Errc::corrupt if the first batch fails its CRC.
    Result<ReadResult> read(Offset from, size_t max_bytes, std::optional<Offset> max_offset = {});

    // The first record (in log order, at or after the log start) whose timestamp is >=
    // target_ms; nullopt if none. Compressed batches without a codec answer with the
    // batch's base offset and max timestamp.
    Result<std::optional<TimestampOffset>> offset_for_timestamp(int64_t target_ms);

    // The first record (in log order, at or after the log start) with the largest timestamp
    // in the log, and that timestamp: ListOffsets' MAX_TIMESTAMP (-3, KIP-734). nullopt if
    // the log is empty. Scans the batch headers of the segments that may hold it (a
    // segment's max timestamp skips the rest); the same whole-batch rule as above.
    Result<std::optional<TimestampOffset>> offset_of_max_timestamp();

    Offset log_start_offset() const { return log_start_offset_; }
    Offset log_end_offset() const { return log_end_offset_; }
    Offset recovery_point() const { return recovery_point_; }
    uint64_t size_bytes() const;
    std::vector<SegmentInfo> segments() const;
    const RecoveryReport& recovery_report() const { return report_; }
    const LogConfig& config() const { return options_.config; }
    // A topic's config changed (IncrementalAlterConfigs): later appends, rolls, flushes,
    // retention and cleaning follow `config`. Errc::invalid_argument (nothing changes) when
    // it does not validate.
    Status set_config(const LogConfig& config);
    const std::string& dir() const { return options_.dir; }
    // Set after a failed sync or an unrecoverable write: every mutating call then fails
    // with Errc::io_error until the log is reopened (which recovers from the disk).
    bool offline() const { return offline_; }

    // Leader epochs.
    const LeaderEpochCache& leader_epochs() const { return epochs_; }
    // A new leader records where its epoch starts (the current log end). Persisted.
    Status assign_epoch_start_offset(LeaderEpoch epoch);
    EpochEntry end_offset_for_epoch(LeaderEpoch epoch) const {
        return epochs_.end_offset_for(epoch, log_end_offset_);
    }

    // Makes everything appended durable and moves the recovery point to the log end.
    Status flush();
    // flush() if flush.ms has passed since the last flush (the driver calls this).
    Status maybe_flush();

    // Removes every batch at or after `offset`; a batch holding `offset` goes whole, so
    // the log end becomes <= offset. Durable on success. Below the log start offset, the
    // log is emptied and restarted there (truncate_fully_and_start_at).
    Status truncate_to(Offset offset);
    // Drops the leader-epoch entries that start at or after the log end (Kafka's
    // UnifiedLog.truncateTo does this when there is nothing to cut): such an entry is an
    // epoch this replica led without appending before another leader was elected; kept,
    // the replica as a follower names that epoch in every fetch and the leader answers
    // "diverging" forever. Durable on success.
    Status truncate_epochs_at_end();
    // Deletes everything and restarts the log empty at `offset` (a follower whose log
    // does not overlap the leader's).
    Status truncate_fully_and_start_at(Offset offset);

    // DeleteRecords: moves the log start offset forward to `offset` (<= log end).
    Status advance_log_start_offset(Offset offset);

    // Deletes whole non-active segments from the oldest, while one of: its largest
    // timestamp is older than retention.ms; the partition is above retention.bytes without
    // it; it lies wholly below the log start offset. Only segments wholly below
    // `high_watermark` (if given) may go. Time and size limits apply only with
    // cleanup.policy containing "delete".
    Result<RetentionResult> apply_retention(std::optional<Offset> high_watermark = {});

    // One bounded step of compaction (cleanup.policy containing "compact"): reads at
    // most about cleaner_step_bytes. Appends may run between steps.
    Result<CleanerProgress> clean_step();
    Offset cleaner_point() const { return cleaner_point_; }

    // Flushes and writes every checkpoint; the log stays usable.
    Status close();

private:
    struct CleanerState;
    class Guard;
    explicit PartitionLog(PartitionLogOptions options);

    // Opening.
    Status recover();
    Status finish_interrupted_swaps(const std::vector<std::string>& names);
    Status load_checkpoints();
    Status load_segments(const std::vector<Offset>& bases);
    Status load_trusted_segment(Segment& seg, Offset next_base, Offset& truncate_from);
    Status recover_segment(Segment& seg, Offset& truncate_from);
    Status cut_overlap(Segment& seg, Offset next_base, Offset& truncate_from);
    void note_batch_epoch(const BatchHeader& h);
    Status remove_segment_files(Offset base);
    Status finish_open();

    // Appending.
    Result<AppendResult> append_checked(Bytes&& bytes, std::vector<BatchHeader>&& headers);
    Status maybe_roll(uint64_t bytes, Offset first_offset, Offset last_offset);
    Status roll(Offset new_base);
    Status after_append(int64_t records);
    Status flush_locked();
    Status truncate_locked(Offset offset);
    Result<Offset> batch_base_holding(Offset offset);
    Status truncate_fully_locked(Offset offset);
    Status move_log_start_offset(Offset offset);
    Status assign_epochs(const std::vector<BatchHeader>& headers);

    // Reading.
    std::shared_ptr<Segment> segment_for(Offset offset) const;
    Result<ReadResult> collect_batches(ReadResult r, const Segment& seg, uint64_t position,
                                       Bytes raw, std::optional<Offset> max_offset);
    Result<std::optional<TimestampOffset>> first_record_at_or_after(Segment& seg, uint64_t position,
                                                                    int64_t target_ms, Offset start);

    // Shape changes.
    Status remove_segment(std::shared_ptr<Segment> seg);  // by value: it erases the map entry
    Status write_offset_checkpoint(const char* name, Offset offset);
    Status write_epoch_checkpoint();
    Status persist_recovery_point(bool force);
    void take_offline(const Error& e);
    Status check_online() const;
    void trace(std::string_view kind, const std::string& detail_json);
    bool buggify(std::string_view site) { return options_.buggify != nullptr && options_.buggify->fire(site); }

    // Cleaning.
    Result<CleanerProgress> start_cleaning_pass(CleanerProgress progress);
    Result<CleanerProgress> build_map_step(CleanerProgress progress);
    Result<CleanerProgress> clean_segment_step(CleanerProgress progress);
    Result<CleanerProgress> finish_cleaning_pass(CleanerProgress progress);
    Status scan_or_corrupt(const Segment& seg, uint64_t position, const Bytes& raw,
                           const std::function<Status(const ScannedBatch&)>& visit);
    Status swap_cleaned_segment();
    void abort_cleaning();
    std::optional<Offset> first_uncleanable_offset() const;

    PartitionLogOptions options_;
    env::Disk& disk_;
    env::Clock& clock_;
    std::optional<env::Mutex> mutex_;
    std::map<Offset, std::shared_ptr<Segment>> segments_;  // by base offset; never empty once open
    Offset log_start_offset_{0};
    Offset log_end_offset_{0};
    Offset recovery_point_{0};
    Offset persisted_recovery_point_{-1};
    Offset cleaner_point_{0};
    LeaderEpochCache epochs_;
    RecoveryReport report_;
    int64_t unflushed_records_ = 0;
    Instant last_flush_{0};
    Instant last_recovery_point_write_{0};
    uint64_t layout_version_ = 0;  // bumped when segments are removed or replaced
    bool offline_ = false;
    bool rebuild_all_epochs_ = false;
    std::string epochs_on_disk_ = "0\n0\n";  // the checkpoint as open() found it
    Error offline_reason_{Errc::io_error, {}};
    std::unique_ptr<CleanerState> cleaner_;
};

}  // namespace keel::log
