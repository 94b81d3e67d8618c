// ProducerStateManager and its `.snapshot` files; the rules are Kafka's ProducerAppendInfo
// (checkProducerEpoch, checkSequence) and ProducerStateEntry (findDuplicateBatch).
#include "core/broker/producer_state.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/log/checkpoint.h"
#include "core/log/crc32c.h"

namespace keel::broker {

namespace bf = log::batch_format;

namespace {

// Kafka's ProducerAppendInfo.inSequence.
bool in_sequence(int32_t last_sequence, int32_t next_sequence) {
    return int64_t{next_sequence} == int64_t{last_sequence} + 1 ||
           (next_sequence == 0 && last_sequence == std::numeric_limits<int32_t>::max());
}

SequenceCheck verdict(SequenceOutcome outcome, std::string reason) {
    return SequenceCheck{outcome, std::nullopt, std::move(reason)};
}

// now - then >= limit, without overflow.
bool at_least_apart(int64_t now, int64_t then, int64_t limit) {
    int64_t diff = 0;
    if (__builtin_sub_overflow(now, then, &diff)) return now > then;
    return diff >= limit;
}

}  // namespace

std::string_view sequence_outcome_name(SequenceOutcome o) {
    switch (o) {
        case SequenceOutcome::accept:
            return "accept";
        case SequenceOutcome::duplicate:
            return "duplicate";
        case SequenceOutcome::out_of_order_sequence:
            return "out_of_order_sequence";
        case SequenceOutcome::invalid_producer_epoch:
            return "invalid_producer_epoch";
    }
    return "?";
}

protocol::ErrorCode SequenceCheck::error_code() const {
    switch (outcome) {
        case SequenceOutcome::accept:
        case SequenceOutcome::duplicate:
            return protocol::ErrorCode::none;
        case SequenceOutcome::out_of_order_sequence:
            return protocol::ErrorCode::out_of_order_sequence_number;
        case SequenceOutcome::invalid_producer_epoch:
            return protocol::ErrorCode::invalid_producer_epoch;
    }
    return protocol::ErrorCode::unknown_server_error;
}

SequenceCheck ProducerStateManager::check(int64_t producer_id, int16_t producer_epoch,
                                          int32_t base_sequence, int32_t record_count,
                                          bool is_leader) const {
    if (producer_id < 0) return verdict(SequenceOutcome::accept, "not an idempotent batch");
    if (!is_leader) return verdict(SequenceOutcome::accept, "replicated: the leader checked it");
    KEEL_ASSERT(record_count > 0 && base_sequence >= 0);  // validate_produce_records ensures both
    int32_t last_sequence = increment_sequence(base_sequence, record_count - 1);
    auto it = producers_.find(producer_id);
    if (it == producers_.end()) {
        // KIP-360: the producer's state is gone (expired, or its batches left the log), so
        // any sequence is accepted and starts a new history.
        return verdict(SequenceOutcome::accept, "unknown producer " + std::to_string(producer_id) +
                                                    ": any sequence is accepted");
    }
    return check_known(it->second, producer_epoch, base_sequence, last_sequence);
}

SequenceCheck ProducerStateManager::check(const ValidatedBatches& append, bool is_leader) const {
    KEEL_ASSERT(!append.batches.empty() &&
                append.record_count <= std::numeric_limits<int32_t>::max());
    return check(append.producer_id(), append.producer_epoch(), append.base_sequence(),
                 static_cast<int32_t>(append.record_count), is_leader);
}

SequenceCheck ProducerStateManager::check_known(const ProducerEntry& e, int16_t epoch,
                                                int32_t base_sequence,
                                                int32_t last_sequence) const {
    std::string who = "producer " + std::to_string(e.producer_id);
    if (epoch == e.producer_epoch) {
        for (const ProducerBatchMetadata& b : e.batches) {
            if (b.first_sequence == base_sequence && b.last_sequence == last_sequence) {
                SequenceCheck c =
                    verdict(SequenceOutcome::duplicate,
                            who + ": sequences " + std::to_string(base_sequence) + ".." +
                                std::to_string(last_sequence) + " were appended at offset " +
                                std::to_string(b.first_offset.value()));
                c.duplicate = b;
                return c;
            }
        }
    }
    if (epoch < e.producer_epoch) {
        return verdict(SequenceOutcome::invalid_producer_epoch,
                       who + " has epoch " + std::to_string(epoch) +
                           ", which is smaller than the last seen epoch " +
                           std::to_string(e.producer_epoch));
    }
    if (epoch != e.producer_epoch) {
        if (base_sequence != 0 && e.producer_epoch != bf::kNoProducerEpoch) {
            return verdict(SequenceOutcome::out_of_order_sequence,
                           who + ": a new epoch " + std::to_string(epoch) +
                               " must start at sequence 0, not " + std::to_string(base_sequence));
        }
        return verdict(SequenceOutcome::accept, who + ": new epoch " + std::to_string(epoch));
    }
    int32_t current = e.last_sequence();
    if (e.producer_epoch != bf::kNoProducerEpoch && !in_sequence(current, base_sequence)) {
        return verdict(SequenceOutcome::out_of_order_sequence,
                       who + ": out of order sequence number " + std::to_string(base_sequence) +
                           " (incoming), " + std::to_string(current) +
                           " (current end sequence number)");
    }
    return verdict(SequenceOutcome::accept, who + ": in sequence");
}

void ProducerStateManager::record_batch(const log::BatchHeader& h, Offset base_offset) {
    Offset last_offset = base_offset + h.last_offset_delta;
    map_end_offset_ = std::max(map_end_offset_, last_offset + 1);
    if (h.producer_id < 0) return;
    ProducerEntry& e = producers_[h.producer_id];
    e.producer_id = h.producer_id;
    if (e.producer_epoch != h.producer_epoch) {
        e.batches.clear();
        e.producer_epoch = h.producer_epoch;
    }
    ProducerBatchMetadata m;
    m.first_sequence = h.base_sequence;
    m.last_sequence = h.base_sequence < 0
                          ? h.base_sequence
                          : increment_sequence(h.base_sequence, std::max(h.last_offset_delta, 0));
    m.first_offset = base_offset;
    m.last_offset = last_offset;
    m.max_timestamp_ms = h.max_timestamp;
    if (e.batches.size() == kProducerBatchesRetained) e.batches.pop_front();
    e.batches.push_back(m);
    e.last_timestamp_ms = h.max_timestamp;
}

void ProducerStateManager::update(const log::BatchHeader& header, Offset base_offset) {
    record_batch(header, base_offset);
}

void ProducerStateManager::apply_replicated_batch(const log::BatchHeader& header,
                                                  Offset base_offset) {
    record_batch(header, base_offset);
}

void ProducerStateManager::remove_expired_producers(int64_t now_ms) {
    std::erase_if(producers_, [&](const auto& kv) {
        return at_least_apart(now_ms, kv.second.last_timestamp_ms,
                              config_.producer_id_expiration_ms);
    });
}

void ProducerStateManager::reset(Offset offset) {
    producers_.clear();
    map_end_offset_ = offset;
}

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
    auto it = producers_.find(producer_id);
    return it == producers_.end() ? nullptr : &it->second;
}

std::vector<ProducerSnapshotEntry> ProducerStateManager::snapshot_entries() const {
    std::vector<ProducerSnapshotEntry> out;
    out.reserve(producers_.size());
    for (const auto& [id, e] : producers_) {
        ProducerSnapshotEntry s;
        s.producer_id = id;
        s.producer_epoch = e.producer_epoch;
        s.timestamp_ms = e.last_timestamp_ms;
        s.coordinator_epoch = e.coordinator_epoch;
        if (!e.batches.empty()) {
            s.last_sequence = e.batches.back().last_sequence;
            s.last_offset = e.batches.back().last_offset.value();
            s.offset_delta = e.batches.back().offset_delta();
        }
        out.push_back(s);
    }
    return out;
}

void ProducerStateManager::load_snapshot(const LoadedProducerSnapshot& snapshot, int64_t now_ms) {
    reset(snapshot.offset);
    for (const ProducerSnapshotEntry& s : snapshot.entries) {
        if (s.current_txn_first_offset < 0 &&
            at_least_apart(now_ms, s.timestamp_ms, config_.producer_id_expiration_ms)) {
            continue;
        }
        ProducerEntry e;
        e.producer_id = s.producer_id;
        e.producer_epoch = s.producer_epoch;
        e.coordinator_epoch = s.coordinator_epoch;
        e.last_timestamp_ms = s.timestamp_ms;
        if (s.last_offset >= 0) {
            ProducerBatchMetadata m;
            m.last_sequence = s.last_sequence;
            m.first_sequence = s.last_sequence < 0
                                   ? s.last_sequence
                                   : decrement_sequence(s.last_sequence, s.offset_delta);
            m.last_offset = Offset(s.last_offset);
            m.first_offset = Offset(s.last_offset - s.offset_delta);
            m.max_timestamp_ms = s.timestamp_ms;
            e.batches.push_back(m);
        }
        producers_[s.producer_id] = std::move(e);
    }
}

// ---- the .snapshot file format ----

Bytes encode_producer_snapshot(std::span<const ProducerSnapshotEntry> entries) {
    ByteWriter w;
    w.i16(kProducerSnapshotVersion);
    w.u32(0);  // the CRC, patched below
    w.i32(static_cast<int32_t>(entries.size()));
    for (const ProducerSnapshotEntry& e : entries) {
        w.i64(e.producer_id);
        w.i16(e.producer_epoch);
        w.i32(e.last_sequence);
        w.i64(e.last_offset);
        w.i32(e.offset_delta);
        w.i64(e.timestamp_ms);
        w.i32(e.coordinator_epoch);
        w.i64(e.current_txn_first_offset);
    }
    Bytes out = w.take();
    uint32_t crc = log::crc32c(ByteView(out).subspan(6));
    for (int i = 0; i < 4; i++)
        out[2 + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    return out;
}

namespace {

Error corrupt(std::string why) {
    return Error{Errc::corrupt, "producer snapshot: " + std::move(why)};
}

ProducerSnapshotEntry read_entry(ByteReader& r) {
    ProducerSnapshotEntry e;
    e.producer_id = r.i64();
    e.producer_epoch = r.i16();
    e.last_sequence = r.i32();
    e.last_offset = r.i64();
    e.offset_delta = r.i32();
    e.timestamp_ms = r.i64();
    e.coordinator_epoch = r.i32();
    e.current_txn_first_offset = r.i64();
    return e;
}

}  // namespace

Result<std::vector<ProducerSnapshotEntry>> decode_producer_snapshot(ByteView bytes) {
    if (bytes.size() < kProducerSnapshotHeaderSize) {
        return corrupt(std::to_string(bytes.size()) + " bytes cannot hold the header");
    }
    ByteReader r(bytes);
    int16_t version = r.i16();
    uint32_t stored = r.u32();
    if (version != kProducerSnapshotVersion)
        return corrupt("unknown file version " + std::to_string(version));
    uint32_t computed = log::crc32c(bytes.subspan(6));
    if (stored != computed) {
        return corrupt("CRC is no longer valid: stored " + std::to_string(stored) + ", computed " +
                       std::to_string(computed));
    }
    int32_t count = r.i32();
    if (count < 0 || r.remaining() != static_cast<size_t>(count) * kProducerSnapshotEntrySize) {
        return corrupt(std::to_string(count) + " entries disagree with " +
                       std::to_string(r.remaining()) + " bytes of entries");
    }
    std::vector<ProducerSnapshotEntry> out;
    std::set<int64_t> seen;
    for (int32_t i = 0; i < count; i++) {
        ProducerSnapshotEntry e = read_entry(r);
        if (e.producer_id < 0 || e.offset_delta < 0 || !seen.insert(e.producer_id).second ||
            (e.last_offset >= 0 && e.last_offset < e.offset_delta)) {
            return corrupt("implausible entry for producer " + std::to_string(e.producer_id));
        }
        out.push_back(e);
    }
    KEEL_ASSERT(r.ok() && r.at_end());
    return out;
}

std::string producer_snapshot_file_name(Offset offset) {
    KEEL_ASSERT(offset.value() >= 0);
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(offset.value()));
    return std::string(digits) + kProducerSnapshotSuffix;
}

std::optional<Offset> parse_producer_snapshot_file_name(std::string_view name) {
    std::string_view suffix = kProducerSnapshotSuffix;
    if (name.size() != 20 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
    std::string_view digits = name.substr(0, 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    uint64_t v = 0;
    for (char c : digits) {
        if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 9) / 10)
            return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return Offset(static_cast<int64_t>(v));
}

// ---- files ----

namespace {

// Snapshot offsets present in dir, ascending; an absent dir has none.
Result<std::vector<Offset>> list_snapshots(env::Disk& disk, const std::string& dir) {
    auto names = disk.list(dir);
    if (!names.ok()) {
        if (names.code() == Errc::not_found) return std::vector<Offset>{};
        return names.error();
    }
    std::vector<Offset> out;
    for (const std::string& n : *names) {
        if (auto o = parse_producer_snapshot_file_name(n)) out.push_back(*o);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string snapshot_path(const std::string& dir, Offset offset) {
    return env::join_path(dir, producer_snapshot_file_name(offset));
}

}  // namespace

Status ProducerStateManager::write_snapshot(env::Disk& disk, const std::string& dir,
                                            Offset offset) const {
    Bytes bytes = encode_producer_snapshot(snapshot_entries());
    KEEL_TRY(log::write_file_atomically(disk, snapshot_path(dir, offset), bytes));
    KEEL_TRY_ASSIGN(std::vector<Offset> offsets, list_snapshots(disk, dir));
    if (offsets.size() <= kProducerSnapshotsRetained) return ok_status();
    for (size_t i = 0; i + kProducerSnapshotsRetained < offsets.size(); i++) {
        KEEL_TRY(disk.remove(snapshot_path(dir, offsets[i])));
    }
    return disk.sync_dir(dir);
}

Status delete_snapshots_before(env::Disk& disk, const std::string& dir, Offset offset) {
    KEEL_TRY_ASSIGN(std::vector<Offset> offsets, list_snapshots(disk, dir));
    bool removed = false;
    for (Offset o : offsets) {
        if (o >= offset) break;
        KEEL_TRY(disk.remove(snapshot_path(dir, o)));
        removed = true;
    }
    return removed ? disk.sync_dir(dir) : ok_status();
}

Result<SnapshotLoadReport> load_latest_snapshot(env::Disk& disk, const std::string& dir,
                                                Offset log_end_offset) {
    SnapshotLoadReport report;
    KEEL_TRY_ASSIGN(std::vector<Offset> offsets, list_snapshots(disk, dir));
    bool removed = false;
    for (auto it = offsets.rbegin(); it != offsets.rend() && !report.snapshot; ++it) {
        std::string path = snapshot_path(dir, *it);
        std::string why;
        if (*it > log_end_offset) {
            why = "above the log end offset " + std::to_string(log_end_offset.value());
        } else {
            KEEL_TRY_ASSIGN(std::optional<Bytes> bytes, log::read_whole_file(disk, path));
            if (!bytes) continue;  // gone meanwhile
            auto entries = decode_producer_snapshot(*bytes);
            if (entries.ok()) {
                report.snapshot = LoadedProducerSnapshot{*it, std::move(entries).value()};
                break;
            }
            why = entries.error().message;
        }
        report.rejected.push_back(producer_snapshot_file_name(*it) + ": " + why);
        KEEL_TRY(disk.remove(path));
        removed = true;
    }
    if (removed) KEEL_TRY(disk.sync_dir(dir));
    return report;
}

Result<RebuildReport> ProducerStateManager::rebuild(env::Disk& disk, const std::string& dir,
                                                    Offset log_start_offset, Offset log_end_offset,
                                                    int64_t now_ms,
                                                    const LogBatchReader& read_batches) {
    RebuildReport report;
    KEEL_TRY_ASSIGN(SnapshotLoadReport loaded, load_latest_snapshot(disk, dir, log_end_offset));
    report.rejected_snapshots = std::move(loaded.rejected);
    reset(log_start_offset);
    Offset from = log_start_offset;
    if (loaded.snapshot) {
        report.snapshot_offset = loaded.snapshot->offset;
        load_snapshot(*loaded.snapshot, now_ms);
        from = std::max(from, loaded.snapshot->offset);
        map_end_offset_ = from;
    }
    KEEL_TRY(read_batches(from, [&](const log::BatchHeader& h) {
        if (h.last_offset() < from) return;  // wholly before the snapshot
        apply_replicated_batch(h, h.base_offset);
        report.batches_replayed++;
    }));
    map_end_offset_ = std::max(map_end_offset_, log_end_offset);
    remove_expired_producers(now_ms);
    return report;
}

}  // namespace keel::broker
