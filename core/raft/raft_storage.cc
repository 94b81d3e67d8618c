// RaftStorage: file formats (meta.properties, quorum-state, snapshots, entry batches).
// The recovery and the log operations are in raft_storage_log.cc.
#include "core/raft/raft_storage.h"

#include <cinttypes>
#include <cstdio>

#include "core/log/checkpoint.h"
#include "core/log/crc32c.h"
#include "core/log/record_batch.h"
#include "core/log/segment.h"

namespace keel::raft {

namespace {

constexpr uint32_t kSnapshotMagic = 0x4b534e50;  // 'KSNP'
constexpr uint16_t kSnapshotVersion = 1;
constexpr size_t kSnapshotHeaderBytes = 4 + 2 + 8 + 4 + 4;

std::string crc_line(std::string_view covered) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "crc32c=%08" PRIx32 "\n", log::crc32c(as_bytes(covered)));
    return buf;
}

// Splits "<body><crc line>" and checks the checksum; the body on success.
Result<std::string_view> checked_body(std::string_view text, const char* what) {
    size_t at = text.rfind("crc32c=");
    if (at == std::string_view::npos) return Error{Errc::corrupt, std::string(what) + ": no checksum line"};
    std::string_view body = text.substr(0, at);
    if (text.substr(at) != crc_line(body)) {
        return Error{Errc::corrupt, std::string(what) + ": checksum mismatch (torn or rotted file)"};
    }
    return body;
}

// The integer after `"key":` in a JSON line written by encode_quorum_state.
std::optional<int64_t> json_int(std::string_view line, std::string_view key) {
    std::string needle = "\"" + std::string(key) + "\":";
    size_t at = line.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    size_t from = at + needle.size();
    size_t to = line.find_first_of(",}", from);
    if (to == std::string_view::npos) return std::nullopt;
    std::string_view v = line.substr(from, to - from);
    if (v == "true") return 1;
    if (v == "false") return 0;
    return log::parse_int64(v);
}

// A zero-padded decimal (Kafka's file names have 20 digits, one more than parse_int64 takes).
std::optional<int64_t> parse_digits(std::string_view text) {
    if (text.empty()) return std::nullopt;
    int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

std::string meta_text(const MetaProperties& m) {
    std::string body = "#Written by keel when this node was formatted\nversion=1\nnode.id=" +
                       std::to_string(m.node_id.value()) + "\ncluster.id=" + m.cluster_id + "\n";
    return body + crc_line(body);
}

std::optional<std::string> property(std::string_view body, std::string_view key) {
    std::string needle = "\n" + std::string(key) + "=";
    size_t at = body.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    size_t from = at + needle.size();
    size_t to = body.find('\n', from);
    if (to == std::string_view::npos) return std::nullopt;
    return std::string(body.substr(from, to - from));
}

}  // namespace

// ------------------------------------------------------------------ meta.properties

Status format_storage(env::Disk& disk, const std::string& root, const MetaProperties& meta) {
    if (!root.empty()) KEEL_TRY(disk.make_dirs(root));
    std::string text = meta_text(meta);
    return log::write_file_atomically(disk, env::join_path(root, kMetaPropertiesFile), as_bytes(text));
}

Result<std::optional<MetaProperties>> read_meta_properties(env::Disk& disk, const std::string& root) {
    std::optional<Bytes> bytes;
    Result<std::string_view> checked = Error{Errc::corrupt, "not read"};
    // A checksum failure is read again: it may be a bit flipped in the read, not on disk.
    for (int attempt = 0; attempt < log::kReadAttempts && !checked.ok(); attempt++) {
        KEEL_TRY_ASSIGN(bytes, log::read_whole_file(disk, env::join_path(root, kMetaPropertiesFile)));
        if (!bytes) return std::optional<MetaProperties>();
        checked = checked_body(as_chars(*bytes), kMetaPropertiesFile);
    }
    KEEL_TRY_ASSIGN(std::string_view body, checked);
    auto id = property(body, "node.id");
    auto cluster = property(body, "cluster.id");
    auto parsed_id = id ? log::parse_int64(*id) : std::nullopt;
    if (!parsed_id || !cluster || *parsed_id < 0 || *parsed_id > INT32_MAX) {
        return Error{Errc::corrupt, "meta.properties: node.id or cluster.id missing or malformed"};
    }
    return std::optional<MetaProperties>(MetaProperties{NodeId(static_cast<int32_t>(*parsed_id)), *cluster});
}

// --------------------------------------------------------------------- quorum-state

std::string encode_quorum_state(const QuorumState& qs) {
    std::string line = "{\"leaderEpoch\":" + std::to_string(qs.epoch.value()) +
                       ",\"leaderId\":" + std::to_string(qs.leader_id.value_or(NodeId(-1)).value()) +
                       ",\"votedId\":" + std::to_string(qs.voted_for.value_or(NodeId(-1)).value()) +
                       ",\"catchingUp\":" + (qs.catching_up ? "true" : "false") +
                       ",\"data_version\":0}\n";
    return line + crc_line(line);
}

Result<QuorumState> decode_quorum_state(std::string_view text) {
    KEEL_TRY_ASSIGN(std::string_view line, checked_body(text, kQuorumStateFile));
    auto epoch = json_int(line, "leaderEpoch");
    auto leader = json_int(line, "leaderId");
    auto voted = json_int(line, "votedId");
    auto catching_up = json_int(line, "catchingUp");
    auto in_range = [](std::optional<int64_t> v) { return v && *v >= -1 && *v <= INT32_MAX; };
    if (!in_range(epoch) || *epoch < 0 || !in_range(leader) || !in_range(voted) || !catching_up) {
        return Error{Errc::corrupt, "quorum-state: a field is missing or out of range"};
    }
    QuorumState qs;
    qs.epoch = QuorumEpoch(static_cast<int32_t>(*epoch));
    if (*leader >= 0) qs.leader_id = NodeId(static_cast<int32_t>(*leader));
    if (*voted >= 0) qs.voted_for = NodeId(static_cast<int32_t>(*voted));
    qs.catching_up = *catching_up != 0;
    // Strict: only exactly what we write is accepted.
    if (encode_quorum_state(qs) != text) return Error{Errc::corrupt, "quorum-state: unexpected content"};
    return qs;
}

// ------------------------------------------------------------------------ snapshots

std::string snapshot_file_name(SnapshotId id) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%020" PRId64 "-%010" PRId32 "%s", id.end_offset.value(), id.epoch.value(),
                  kSnapshotSuffix);
    return buf;
}

std::optional<SnapshotId> parse_snapshot_file_name(std::string_view name) {
    std::string_view suffix = kSnapshotSuffix;
    if (name.size() != 20 + 1 + 10 + suffix.size() || !name.ends_with(suffix) || name[20] != '-') {
        return std::nullopt;
    }
    auto end = parse_digits(name.substr(0, 20));
    auto epoch = parse_digits(name.substr(21, 10));
    if (!end || !epoch || *end < 0 || *epoch < 0 || *epoch > INT32_MAX) return std::nullopt;
    return SnapshotId{Offset(*end), QuorumEpoch(static_cast<int32_t>(*epoch))};
}

Bytes encode_snapshot_file(const Snapshot& s) {
    ByteWriter w;
    w.u32(kSnapshotMagic);
    w.u16(kSnapshotVersion);
    w.i64(s.id.end_offset.value());
    w.i32(s.id.epoch.value());
    w.u32(static_cast<uint32_t>(s.data.size()));
    w.raw(s.data);
    uint32_t crc = log::crc32c(w.buffer());
    w.u32(crc);
    return w.take();
}

Result<Snapshot> decode_snapshot_file(ByteView bytes) {
    if (bytes.size() < kSnapshotHeaderBytes + 4) return Error{Errc::corrupt, "snapshot file too short"};
    ByteView covered = bytes.subspan(0, bytes.size() - 4);
    ByteReader crc_reader(bytes.subspan(bytes.size() - 4));
    if (crc_reader.u32() != log::crc32c(covered)) {
        return Error{Errc::corrupt, "snapshot file checksum mismatch"};
    }
    ByteReader r(covered);
    uint32_t magic = r.u32();
    uint16_t version = r.u16();
    Snapshot s;
    s.id.end_offset = Offset(r.i64());
    s.id.epoch = QuorumEpoch(r.i32());
    uint32_t size = r.u32();
    if (magic != kSnapshotMagic || version != kSnapshotVersion || size != r.remaining() ||
        s.id.end_offset.value() < 0 || s.id.epoch.value() < 0) {
        return Error{Errc::corrupt, "snapshot file header malformed"};
    }
    ByteView data = r.raw(size);
    s.data.assign(data.begin(), data.end());
    return s;
}

// ---------------------------------------------------------------------- log entries

}  // namespace keel::raft
