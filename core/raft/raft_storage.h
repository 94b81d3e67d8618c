// RaftStorage: a node's durable Raft state on env::Disk — the quorum-state file, the
// metadata log in a core/log PartitionLog, and snapshot files — and its recovery into
// the `Restored` a RaftNode starts from. Used by RaftDriver (raft_driver.h).
//
// Layout under the data root (Kafka's, see docs/raft.md "On disk"):
//
//   meta.properties                               written once, when the node is formatted
//   __cluster_metadata-0/quorum-state             epoch, vote, leader (+ checksum)
//   __cluster_metadata-0/00000000000000000000.log the log: one RecordBatch v2 per entry,
//   __cluster_metadata-0/...index, leader-epoch-checkpoint, ...   partitionLeaderEpoch =
//                                                                 the entry's quorum epoch
//   __cluster_metadata-0/00000000000000001200-0000000004.checkpoint
//                                                 a snapshot: end offset 1200, epoch 4
//
// Durability: every write here is synced before the call returns. Small files (quorum
// state, snapshots, meta.properties) are replaced atomically (write `.tmp`, sync, rename,
// sync the directory) and carry a CRC-32C: a torn or rotted file is detected, never
// trusted. The log is flushed on every append (Raft acknowledges what it stores).
//
// Errors: Errc::io_error / Errc::disk_full from the disk (the caller stops serving: the
// state it could not persist must not be acted on), Errc::corrupt for stored bytes that
// fail their checks in a way recovery cannot repair.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/env/clock.h"
#include "core/env/disk.h"
#include "core/env/executor.h"
#include "core/env/tracer.h"
#include "core/log/partition_log.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

inline constexpr const char* kMetaPropertiesFile = "meta.properties";
inline constexpr const char* kQuorumStateFile = "quorum-state";
inline constexpr const char* kSnapshotSuffix = ".checkpoint";

// What `keel format` (or a scenario creating a cluster) writes once per node. A data root
// without it was never formatted or has lost its disk.
struct MetaProperties {
    NodeId node_id{-1};
    std::string cluster_id;
    bool operator==(const MetaProperties&) const = default;
};

// Writes <root>/meta.properties atomically.
Status format_storage(env::Disk& disk, const std::string& root, const MetaProperties& meta);
// nullopt if absent; Errc::corrupt if present but unreadable.
Result<std::optional<MetaProperties>> read_meta_properties(env::Disk& disk, const std::string& root);

// The quorum-state file's text (a JSON line and a checksum line) and its strict parser:
// Errc::corrupt for anything but exactly what encode_quorum_state writes.
std::string encode_quorum_state(const QuorumState& qs);
Result<QuorumState> decode_quorum_state(std::string_view text);

// Snapshot files: name and contents (magic, version, id, data, CRC-32C).
std::string snapshot_file_name(SnapshotId id);
std::optional<SnapshotId> parse_snapshot_file_name(std::string_view name);
Bytes encode_snapshot_file(const Snapshot& s);
Result<Snapshot> decode_snapshot_file(ByteView bytes);  // Errc::corrupt

// Log entries are RecordBatch v2, one batch per entry: core/raft/entry_codec.h.

struct RaftStorageOptions {
    env::Disk* disk = nullptr;          // required
    env::Clock* clock = nullptr;        // required
    env::Executor* executor = nullptr;  // optional (serializes the log's mutating calls)
    env::Tracer* tracer = nullptr;      // optional
    env::Buggify* buggify = nullptr;    // optional: the log's fault points (simulator only)
    std::string root;                   // data root, relative to the disk ("" = the root)
    int64_t segment_bytes = 8 << 20;    // metadata log segment size
    int read_attempts = 8;              // a checksum failure is re-read (transient bit flips)
};

// What recovery found, beside what the RaftNode needs.
struct RecoveryInfo {
    bool formatted = false;             // meta.properties present
    bool quorum_state_found = false;    // a valid quorum-state file
    bool quorum_state_corrupt = false;  // present but failed its checks (see recover())
    std::vector<std::string> notes;     // what was repaired or ignored, for the log
};

class RaftStorage {
public:
    // Opens (creating if needed) the metadata partition directory and recovers the log.
    static Result<std::unique_ptr<RaftStorage>> open(RaftStorageOptions options);
    ~RaftStorage();

    // Reads everything back: the latest valid snapshot, the log from its end, the quorum
    // state. Repairs what a crash can leave: stray .tmp files, log entries below the
    // snapshot (compacted away), a log shorter than the snapshot (restarted at its end).
    // A corrupt quorum-state file is reported in `info` and treated as missing by the
    // caller's policy (see RaftDriver). Errc::corrupt if the log has a gap after the
    // snapshot or an entry that does not decode.
    Result<Restored> recover(RecoveryInfo& info);

    Status save_quorum_state(const QuorumState& qs);
    // Writes a snapshot file (atomically, synced).
    Status save_snapshot(const Snapshot& s);
    // A leader's snapshot: saved, then the log restarts empty at its end offset.
    Status install_snapshot(const Snapshot& s);
    // Deletes entries at offsets >= `offset`. Durable on success.
    Status truncate_to(Offset offset);
    // Appends entries (contiguous from the log end) and syncs them.
    Status append(const std::vector<LogEntry>& entries);
    // Entries below `offset` are covered by a snapshot: moves the log start there, deletes
    // whole segments below it and every snapshot file older than the newest.
    Status delete_before(Offset offset);

    Offset log_start() const;
    Offset log_end() const;
    const std::string& dir() const { return dir_; }

private:
    explicit RaftStorage(RaftStorageOptions options);
    Result<std::optional<Snapshot>> load_latest_snapshot(RecoveryInfo& info);
    Result<std::vector<LogEntry>> read_log(Offset from);
    Result<std::optional<QuorumState>> load_quorum_state(RecoveryInfo& info);
    Result<Bytes> read_checked_file(const std::string& path, bool (*valid)(ByteView));
    Status remove_snapshots_below(Offset end_offset);

    RaftStorageOptions options_;
    std::string dir_;
    std::unique_ptr<log::PartitionLog> log_;
};

}  // namespace keel::raft
