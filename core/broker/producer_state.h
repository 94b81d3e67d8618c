// ProducerStateManager: the idempotent producer's state of one partition, as Kafka's
// ProducerStateManager keeps it. Per producer id: the current producer epoch and the
// metadata of its last 5 appended batches (first/last sequence, first/last offset, max
// timestamp). With it the leader answers a retried batch with its original offsets
// instead of appending it twice, refuses a sequence gap and fences an older epoch.
// Snapshots of it are Kafka's `<20-digit offset>.snapshot` files beside the segments.
// See docs/idempotence.md.
//
// Pure state plus two file helpers (write_snapshot, load_latest_snapshot/rebuild) that go
// through env::Disk. Not thread-safe; one instance per partition replica.
//
// THE CONTRACT WITH THE REPLICA MANAGER
// -------------------------------------
// Leader, for each Produce partition (acks 0, 1 or all alike):
//   1. v = validate_produce_records(records, config)          (core/broker/batch_validation.h)
//      v not ok -> answer v.error().code with v.error().reason; nothing else happens.
//   2. c = state.check(*v, /*is_leader=*/true)
//      (= check(v->producer_id(), v->producer_epoch(), v->base_sequence(), record count, true))
//      c.outcome == duplicate -> append nothing; answer NO_ERROR with
//          base_offset = c.duplicate->first_offset and
//          log_append_time_ms = c.duplicate->max_timestamp_ms (Kafka's UnifiedLog sets the
//          cached batch's timestamp as the append time of a duplicate, whatever the topic's
//          timestamp type). With acks=all the answer still waits until the high watermark
//          passes c.duplicate->last_offset (the original may not be committed yet).
//      c.outcome is out_of_order_sequence or invalid_producer_epoch -> append nothing;
//          answer c.error_code() (OUT_OF_ORDER_SEQUENCE_NUMBER / INVALID_PRODUCER_EPOCH)
//          with c.reason.
//      c.outcome == accept -> go on.
//   3. Append (the log assigns the base offset; LogAppendTime topics first run
//      apply_log_append_time on a copy of each batch).
//   4. state.update(stored_header, base_offset) for each appended batch, in order, where
//      stored_header is the batch's header as written (parse it back from the stored bytes,
//      or take the validated header and set max_timestamp to the append time on
//      LogAppendTime topics). Steps 2-4 must be atomic with respect to other appends to the
//      partition: no other check() may run between this check() and its update(); Kafka
//      holds the partition's lock across them.
//   A failed append (disk error) calls nothing: the state is unchanged.
// Follower, for each batch appended from a leader's Fetch response:
//   state.apply_replicated_batch(header, header.base_offset)   (no checks: the leader did them)
// After the log is truncated (divergence, KIP-101/279): rebuild(...) below, so the state
// forgets batches that are no longer in the log.
// Log roll and clean close: state.write_snapshot(disk, dir, log_end_offset), which also
// deletes all but the newest 2 snapshot files.
// Open (recovery): state.rebuild(disk, dir, log_start_offset, log_end_offset, now_ms,
//   read_batches), read_batches calling its visitor with every batch header from an offset
//   to the log end; it loads the newest sound snapshot (corrupt ones are reported in the
//   result, deleted and never trusted) and replays the log after it.
// Periodically (Kafka: every producer.id.expiration.check.interval.ms, 10 min):
//   state.remove_expired_producers(now_ms).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/broker/batch_validation.h"
#include "core/env/disk.h"
#include "core/log/record_batch.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

// Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the producer's
// max.in.flight.requests.per.connection may not exceed it with idempotence on.
inline constexpr size_t kProducerBatchesRetained = 5;

struct ProducerStateConfig {
    int64_t producer_id_expiration_ms = 86'400'000;  // producer.id.expiration.ms (1 day)
};

// One appended batch of a producer.
struct ProducerBatchMetadata {
    int32_t first_sequence = log::batch_format::kNoSequence;
    int32_t last_sequence = log::batch_format::kNoSequence;
    Offset first_offset{-1};
    Offset last_offset{-1};
    int64_t max_timestamp_ms = log::batch_format::kNoTimestamp;

    int32_t offset_delta() const { return static_cast<int32_t>(last_offset - first_offset); }
    bool operator==(const ProducerBatchMetadata&) const = default;
};

// One producer id's state in this partition.
struct ProducerEntry {
    int64_t producer_id = log::batch_format::kNoProducerId;
    int16_t producer_epoch = log::batch_format::kNoProducerEpoch;
    int32_t coordinator_epoch = -1;  // transactions only; kept for the snapshot format
    int64_t last_timestamp_ms = log::batch_format::kNoTimestamp;  // max timestamp of the last batch
    std::deque<ProducerBatchMetadata> batches;  // oldest first, at most kProducerBatchesRetained

    int32_t last_sequence() const {
        return batches.empty() ? log::batch_format::kNoSequence : batches.back().last_sequence;
    }
};

enum class SequenceOutcome : uint8_t {
    accept,                  // append it
    duplicate,               // a retry of a cached batch: answer its original offsets
    out_of_order_sequence,   // a gap, a sequence behind the cache, or a new epoch not at 0
    invalid_producer_epoch,  // an epoch older than the producer's current one (fenced)
};
std::string_view sequence_outcome_name(SequenceOutcome o);

struct SequenceCheck {
    SequenceOutcome outcome = SequenceOutcome::accept;
    std::optional<ProducerBatchMetadata> duplicate;  // set exactly when outcome == duplicate
    std::string reason;                              // why (for logs and error_message)

    bool accepted() const { return outcome == SequenceOutcome::accept; }
    // NONE for accept and duplicate (a duplicate is answered NO_ERROR with its offsets);
    // OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_PRODUCER_EPOCH otherwise.
    protocol::ErrorCode error_code() const;
};

// One producer in a snapshot file: Kafka's PRODUCER_SNAPSHOT_ENTRY_SCHEMA, field for field.
struct ProducerSnapshotEntry {
    int64_t producer_id = 0;
    int16_t producer_epoch = log::batch_format::kNoProducerEpoch;
    int32_t last_sequence = log::batch_format::kNoSequence;
    int64_t last_offset = -1;  // -1: the producer has no batch (only an epoch)
    int32_t offset_delta = 0;  // last_offset - first offset of the last batch
    int64_t timestamp_ms = log::batch_format::kNoTimestamp;  // max timestamp of the last batch
    int32_t coordinator_epoch = -1;
    int64_t current_txn_first_offset = -1;  // -1: no ongoing transaction (always, in Keel)
    bool operator==(const ProducerSnapshotEntry&) const = default;
};

// The `.snapshot` file format (Kafka's ProducerStateManager, version 1; big-endian):
//   int16  version = 1
//   uint32 crc     CRC-32C of every byte after it (from position 6 to the end)
//   int32  count   then `count` entries of 46 bytes, each:
//     int64 producer_id, int16 epoch, int32 last_sequence, int64 last_offset,
//     int32 offset_delta, int64 timestamp, int32 coordinator_epoch,
//     int64 current_txn_first_offset
inline constexpr int16_t kProducerSnapshotVersion = 1;
inline constexpr size_t kProducerSnapshotHeaderSize = 10;  // version, crc, count
inline constexpr size_t kProducerSnapshotEntrySize = 46;
inline constexpr const char* kProducerSnapshotSuffix = ".snapshot";
inline constexpr size_t kProducerSnapshotsRetained = 2;

Bytes encode_producer_snapshot(std::span<const ProducerSnapshotEntry> entries);
// Errc::corrupt (with the reason) unless `bytes` is exactly one well-formed version-1
// snapshot whose CRC matches: wrong version, bad CRC, a length that disagrees with the
// count, a negative producer id or offset delta, or a producer id twice.
Result<std::vector<ProducerSnapshotEntry>> decode_producer_snapshot(ByteView bytes);

// "00000000000000001234.snapshot" for offset 1234; parse gives nullopt for other names.
std::string producer_snapshot_file_name(Offset offset);
std::optional<Offset> parse_producer_snapshot_file_name(std::string_view name);

struct LoadedProducerSnapshot {
    Offset offset{0};  // the log end offset the snapshot was taken at
    std::vector<ProducerSnapshotEntry> entries;
};

struct SnapshotLoadReport {
    std::optional<LoadedProducerSnapshot> snapshot;  // the newest sound one, if any
    std::vector<std::string> rejected;  // "<file>: <reason>" for each corrupt or stray file deleted
};

// The newest snapshot in `dir` that decodes, ignoring those above log_end_offset (a
// truncated log; they are deleted, as Kafka does). A corrupt newest snapshot is reported in
// `rejected`, deleted, and the next older one tried. Errors only for disk failures.
Result<SnapshotLoadReport> load_latest_snapshot(
    env::Disk& disk, const std::string& dir,
    Offset log_end_offset = Offset(std::numeric_limits<int64_t>::max()));

// Deletes the snapshot files of dir below `offset` (Kafka's deleteSnapshotsBefore), for when
// the log start offset moves past them (retention, DeleteRecords).
Status delete_snapshots_before(env::Disk& disk, const std::string& dir, Offset offset);

// Visits batch headers in offset order.
using BatchHeaderVisitor = std::function<void(const log::BatchHeader&)>;
// Calls `visit` for every batch of the log holding offsets >= from, up to the log end.
using LogBatchReader = std::function<Status(Offset from, const BatchHeaderVisitor& visit)>;

struct RebuildReport {
    std::optional<Offset> snapshot_offset;  // the snapshot the state started from
    std::vector<std::string> rejected_snapshots;
    int64_t batches_replayed = 0;  // batches after the snapshot (all, idempotent or not)
};

class ProducerStateManager {
public:
    explicit ProducerStateManager(ProducerStateConfig config = {}) : config_(config) {}

    // What the leader does with a batch (see the contract above). record_count > 0.
    // is_leader false (an append from replication or recovery) always accepts, as Kafka's
    // AppendOrigin.REPLICATION; producer_id < 0 (not idempotent) always accepts.
    SequenceCheck check(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence,
                        int32_t record_count, bool is_leader) const;

    // The same for a validated append: its producer fields and its total record count
    // (several batches, when allowed, are contiguous in sequence: one range).
    SequenceCheck check(const ValidatedBatches& append, bool is_leader) const;

    // Records a batch the leader appended at base_offset; `header` as stored (its
    // base_offset field is ignored). Batches without a producer id only move
    // map_end_offset().
    void update(const log::BatchHeader& header, Offset base_offset);

    // Records a batch a follower appended (or recovery replays): no checks, exactly
    // Kafka's replication path (an older epoch replaces the current one).
    void apply_replicated_batch(const log::BatchHeader& header, Offset base_offset);

    // Drops producers whose last batch's max timestamp is producer.id.expiration.ms or more
    // before now_ms (Kafka compares the record timestamp, not the append time).
    void remove_expired_producers(int64_t now_ms);

    // Forgets everything; the next offset to apply is `offset`.
    void reset(Offset offset);

    const ProducerEntry* find(int64_t producer_id) const;
    size_t producer_count() const { return producers_.size(); }
    const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }
    // One past the last batch applied (or the snapshot / reset offset).
    Offset map_end_offset() const { return map_end_offset_; }

    // Snapshot entries, ascending by producer id (Kafka keeps only each producer's last batch).
    std::vector<ProducerSnapshotEntry> snapshot_entries() const;
    // Replaces the state with a snapshot's entries taken at `offset`, skipping producers
    // already expired at now_ms (as Kafka's load does).
    void load_snapshot(const LoadedProducerSnapshot& snapshot, int64_t now_ms);

    // Writes `<dir>/<offset>.snapshot` atomically and durably, then deletes all but the
    // newest kProducerSnapshotsRetained snapshot files of dir.
    Status write_snapshot(env::Disk& disk, const std::string& dir, Offset offset) const;

    // Recovery: reset, load the newest sound snapshot at or below log_end_offset, replay
    // the log from max(snapshot offset, log_start_offset) through read_batches, then drop
    // expired producers. Errors: disk failures and read_batches' own.
    Result<RebuildReport> rebuild(env::Disk& disk, const std::string& dir, Offset log_start_offset,
                                  Offset log_end_offset, int64_t now_ms,
                                  const LogBatchReader& read_batches);

private:
    void record_batch(const log::BatchHeader& header, Offset base_offset);
    SequenceCheck check_known(const ProducerEntry& e, int16_t epoch, int32_t base_sequence,
                              int32_t last_sequence) const;

    ProducerStateConfig config_;
    std::map<int64_t, ProducerEntry> producers_;  // ordered: snapshots list producers in id order
    Offset map_end_offset_{0};
};

}  // namespace keel::broker
