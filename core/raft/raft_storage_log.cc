// RaftStorage: opening, recovery, and the operations a Ready asks for.
#include <algorithm>

#include "core/log/checkpoint.h"
#include "core/log/record_batch.h"
#include "core/raft/entry_codec.h"
#include "core/raft/raft_storage.h"

namespace keel::raft {

namespace {

constexpr size_t kRecoveryReadBytes = 1 << 20;

bool valid_quorum_state(ByteView b) { return decode_quorum_state(as_chars(b)).ok(); }
bool valid_snapshot(ByteView b) { return decode_snapshot_file(b).ok(); }

log::LogConfig metadata_log_config(int64_t segment_bytes) {
    log::LogConfig c;
    c.segment_bytes = segment_bytes;
    c.retention_ms = -1;     // the log is trimmed only below snapshots
    c.retention_bytes = -1;
    c.max_message_bytes = 64 << 20;
    // The recovery point is checkpointed on every flush: recovery then never rescans, and
    // never cuts, entries this node has synced and acknowledged.
    c.flush_offset_checkpoint_interval_ms = 0;
    return c;
}

}  // namespace

RaftStorage::RaftStorage(RaftStorageOptions options)
    : options_(std::move(options)),
      dir_(env::join_path(options_.root, log::partition_dir_name(std::string(metadata_topic_name),
                                                                 metadata_partition))) {}

RaftStorage::~RaftStorage() = default;

Result<std::unique_ptr<RaftStorage>> RaftStorage::open(RaftStorageOptions options) {
    KEEL_ASSERT(options.disk != nullptr && options.clock != nullptr);
    std::unique_ptr<RaftStorage> s(new RaftStorage(std::move(options)));
    log::PartitionLogOptions lo;
    lo.disk = s->options_.disk;
    lo.clock = s->options_.clock;
    lo.executor = s->options_.executor;
    lo.tracer = s->options_.tracer;
    lo.buggify = s->options_.buggify;
    lo.dir = s->dir_;
    lo.topic = std::string(metadata_topic_name);
    lo.partition = metadata_partition;
    lo.config = metadata_log_config(s->options_.segment_bytes);
    KEEL_TRY(lo.config.validate());
    KEEL_TRY_ASSIGN(s->log_, log::PartitionLog::open(std::move(lo)));
    return s;
}

Offset RaftStorage::log_start() const { return log_->log_start_offset(); }
Offset RaftStorage::log_end() const { return log_->log_end_offset(); }

// ------------------------------------------------------------------------- recovery

Result<Restored> RaftStorage::recover(RecoveryInfo& info) {
    env::Disk& disk = *options_.disk;
    KEEL_TRY_ASSIGN(auto meta, read_meta_properties(disk, options_.root));
    info.formatted = meta.has_value();
    Restored r;
    KEEL_TRY_ASSIGN(r.snapshot, load_latest_snapshot(info));
    Offset start = r.snapshot ? r.snapshot->id.end_offset : Offset(0);
    if (log_->log_end_offset() < start) {
        // The snapshot was installed but the log not yet restarted (a crash in between).
        KEEL_TRY(log_->truncate_fully_and_start_at(start));
        info.notes.push_back("log restarted at the snapshot end " + std::to_string(start.value()));
    } else if (log_->log_start_offset() > start) {
        std::string why = dir_ + ": the log starts at " + std::to_string(log_->log_start_offset().value()) +
                          " but no snapshot covers the entries below it";
        for (const auto& n : info.notes) why += "; " + n;
        return Error{Errc::corrupt, why};
    }
    KEEL_TRY_ASSIGN(r.log, read_log(start));
    KEEL_TRY_ASSIGN(r.quorum_state, load_quorum_state(info));
    return r;
}

Result<Bytes> RaftStorage::read_checked_file(const std::string& path, bool (*valid)(ByteView)) {
    Bytes last;
    for (int attempt = 0; attempt < std::max(1, options_.read_attempts); attempt++) {
        KEEL_TRY_ASSIGN(auto bytes, log::read_whole_file(*options_.disk, path));
        if (!bytes) return Error{Errc::not_found, path};
        if (valid(*bytes)) return std::move(*bytes);
        last = std::move(*bytes);  // maybe a transient bit flip on read: try again
    }
    return last;
}

Result<std::optional<Snapshot>> RaftStorage::load_latest_snapshot(RecoveryInfo& info) {
    KEEL_TRY_ASSIGN(auto names, options_.disk->list(dir_));
    std::vector<SnapshotId> ids;
    for (const auto& n : names) {
        if (auto id = parse_snapshot_file_name(n)) ids.push_back(*id);
    }
    std::sort(ids.begin(), ids.end());
    while (!ids.empty()) {
        std::string path = env::join_path(dir_, snapshot_file_name(ids.back()));
        KEEL_TRY_ASSIGN(Bytes bytes, read_checked_file(path, &valid_snapshot));
        auto s = decode_snapshot_file(bytes);
        if (s.ok() && s->id == ids.back()) return std::optional<Snapshot>(std::move(*s));
        // A named snapshot file was synced before its rename: failing its checks means rot.
        info.notes.push_back(path + " is unreadable (" + (s.ok() ? "id mismatch" : s.error().message) +
                             "); trying an older snapshot");
        ids.pop_back();
    }
    return std::optional<Snapshot>();
}

Result<std::vector<LogEntry>> RaftStorage::read_log(Offset from) {
    std::vector<LogEntry> out;
    Offset next = from;
    int failures = 0;
    while (next < log_->log_end_offset()) {
        auto read = log_->read(next, kRecoveryReadBytes);
        if (!read.ok() || read->batch_count == 0) {
            // A CRC failure may be a transient bit flip on read: re-read a few times.
            if (++failures < std::max(1, options_.read_attempts)) continue;
            std::string why = read.ok() ? "no batch returned" : read.error().message;
            return Error{Errc::corrupt, dir_ + ": cannot read the log at " + std::to_string(next.value()) + ": " + why};
        }
        failures = 0;
        ByteView bytes(read->records);
        for (size_t pos = 0; pos < bytes.size();) {
            KEEL_TRY_ASSIGN(log::BatchHeader h, log::read_batch(bytes.subspan(pos)));
            auto decoded = decode_entry_batch(bytes.subspan(pos, h.size_bytes()));
            if (!decoded.ok()) return Error{Errc::corrupt, dir_ + ": " + decoded.error().message};
            LogEntry e = std::move(*decoded);
            if (e.offset != next) {
                return Error{Errc::corrupt, dir_ + ": expected an entry at " + std::to_string(next.value()) +
                                                ", found " + std::to_string(e.offset.value())};
            }
            out.push_back(std::move(e));
            ++next;
            pos += h.size_bytes();
        }
    }
    return out;
}

Result<std::optional<QuorumState>> RaftStorage::load_quorum_state(RecoveryInfo& info) {
    std::string path = env::join_path(dir_, kQuorumStateFile);
    auto bytes = read_checked_file(path, &valid_quorum_state);
    if (!bytes.ok()) {
        if (bytes.code() == Errc::not_found) return std::optional<QuorumState>();
        return bytes.error();
    }
    auto qs = decode_quorum_state(as_chars(*bytes));
    if (!qs.ok()) {
        info.quorum_state_corrupt = true;
        info.notes.push_back(path + ": " + qs.error().message);
        return std::optional<QuorumState>();
    }
    info.quorum_state_found = true;
    return std::optional<QuorumState>(*qs);
}

// ----------------------------------------------------------------------- operations

Status RaftStorage::save_quorum_state(const QuorumState& qs) {
    std::string text = encode_quorum_state(qs);
    return log::write_file_atomically(*options_.disk, env::join_path(dir_, kQuorumStateFile), as_bytes(text));
}

Status RaftStorage::save_snapshot(const Snapshot& s) {
    return log::write_file_atomically(*options_.disk, env::join_path(dir_, snapshot_file_name(s.id)),
                                      encode_snapshot_file(s));
}

Status RaftStorage::install_snapshot(const Snapshot& s) {
    // The snapshot is durable before the log goes: a crash in between recovers from it.
    KEEL_TRY(save_snapshot(s));
    KEEL_TRY(log_->truncate_fully_and_start_at(s.id.end_offset));
    return remove_snapshots_below(s.id.end_offset);
}

Status RaftStorage::truncate_to(Offset offset) { return log_->truncate_to(offset); }

Status RaftStorage::append(const std::vector<LogEntry>& entries) {
    if (entries.empty()) return ok_status();
    int64_t now_ms = options_.clock->wall_now().ms();
    Bytes batches;
    for (const LogEntry& e : entries) {
        Bytes b = encode_entry_batch(e, now_ms);
        batches.insert(batches.end(), b.begin(), b.end());
    }
    KEEL_TRY(log_->append_replicated(batches));
    return log_->flush();
}

Status RaftStorage::delete_before(Offset offset) {
    Offset to = std::min(offset, log_->log_end_offset());
    KEEL_TRY(log_->advance_log_start_offset(to));
    auto retention = log_->apply_retention();
    if (!retention.ok()) return retention.error();
    return remove_snapshots_below(offset);
}

Status RaftStorage::remove_snapshots_below(Offset end_offset) {
    KEEL_TRY_ASSIGN(auto names, options_.disk->list(dir_));
    bool removed = false;
    for (const auto& n : names) {
        auto id = parse_snapshot_file_name(n);
        if (id && id->end_offset < end_offset) {
            KEEL_TRY(options_.disk->remove(env::join_path(dir_, n)));
            removed = true;
        }
    }
    return removed ? options_.disk->sync_dir(dir_) : ok_status();
}

}  // namespace keel::raft
