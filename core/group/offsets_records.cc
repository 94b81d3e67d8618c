// __consumer_offsets records, byte for byte as Kafka's (see offsets_records.h). Every
// record starts with an int16 version; values of version 4 use the flexible (compact)
// encoding with a trailing tagged-field section, older ones the classic encoding.
#include "core/group/offsets_records.h"

#include <limits>
#include <string>

#include "core/protocol/codec.h"

namespace keel::group {

using protocol::Reader;
using protocol::Writer;

namespace {

// The next code point of a UTF-8 string; a malformed sequence yields U+FFFD and consumes
// one byte (Java's decoder replaces malformed input the same way for single bytes).
uint32_t next_code_point(std::string_view s, size_t& i) {
    auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    uint8_t b0 = byte(i);
    if (b0 < 0x80) {
        i += 1;
        return b0;
    }
    size_t len = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
        i += 1;
        return 0xFFFD;
    }
    uint32_t cp = b0 & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            i += 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        i += 1;
        return 0xFFFD;
    }
    i += len;
    return cp;
}

void write_key_string(Writer& w, std::string_view s) { w.classic_string(s); }

}  // namespace

int32_t java_string_hash(std::string_view utf8) {
    uint32_t h = 0;
    auto add = [&](uint32_t unit) { h = h * 31u + unit; };
    for (size_t i = 0; i < utf8.size();) {
        uint32_t cp = next_code_point(utf8, i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            add(0xD800 + (cp >> 10));
            add(0xDC00 + (cp & 0x3FF));
        } else {
            add(cp);
        }
    }
    return static_cast<int32_t>(h);
}

int32_t partition_for_group(std::string_view group_id, int32_t partitions) {
    if (partitions <= 0) return 0;
    // Kafka's Utils.abs (not Utils.toPositive, the producer partitioner's n & 0x7fffffff).
    int32_t h = java_string_hash(group_id);
    int32_t abs = h == std::numeric_limits<int32_t>::min() ? 0 : (h < 0 ? -h : h);
    return abs % partitions;
}

Bytes encode_key(const OffsetsKey& key) {
    Writer w(false);
    if (const auto* k = std::get_if<OffsetCommitKey>(&key)) {
        w.i16(1);
        write_key_string(w, k->group);
        write_key_string(w, k->topic);
        w.i32(k->partition);
    } else {
        const auto& g = std::get<GroupMetadataKey>(key);
        w.i16(2);
        write_key_string(w, g.group);
    }
    return w.take();
}

Bytes encode_value(const OffsetCommitValue& v, int16_t version) {
    Writer w(version >= 4);
    w.i16(version);
    w.i64(v.offset);
    if (version >= 3) w.i32(v.leader_epoch);
    w.str(v.metadata);
    w.i64(v.commit_timestamp_ms);
    if (version == 1) w.i64(v.expire_timestamp_ms);
    w.empty_tagged_fields();
    return w.take();
}

namespace {

void write_member(Writer& w, const GroupMemberRecord& m, int16_t version) {
    w.str(m.member_id);
    if (version >= 3) w.nullable_str(m.group_instance_id);
    w.str(m.client_id);
    w.str(m.client_host);
    if (version >= 1) w.i32(m.rebalance_timeout_ms);
    w.i32(m.session_timeout_ms);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
    w.empty_tagged_fields();
}

}  // namespace

Bytes encode_value(const GroupMetadataValue& v, int16_t version) {
    Writer w(version >= 4);
    w.i16(version);
    w.str(v.protocol_type);
    w.i32(v.generation);
    w.nullable_str(v.protocol);
    w.nullable_str(v.leader);
    if (version >= 2) w.i64(v.current_state_timestamp_ms);
    w.array(v.members, [&](const GroupMemberRecord& m) { write_member(w, m, version); });
    w.empty_tagged_fields();
    return w.take();
}

namespace {

Error corrupt(std::string_view what, const Reader& r) {
    return Error{Errc::corrupt_record, std::string(what) + ": " + r.error()};
}

// Reads the int16 version and checks it is within [lo, hi].
Result<int16_t> read_version(ByteView bytes, std::string_view what, int16_t lo, int16_t hi) {
    Reader r(bytes, false);
    int16_t v = r.i16();
    if (!r.ok()) return corrupt(what, r);
    if (v < lo || v > hi) {
        return Error{Errc::corrupt_record, std::string(what) + ": unknown version " + std::to_string(v)};
    }
    return v;
}

Status finish(Reader& r, std::string_view what) {
    r.skip_tagged_fields();
    if (!r.ok()) return corrupt(what, r);
    if (r.remaining() != 0) {
        return Error{Errc::corrupt_record, std::string(what) + ": " + std::to_string(r.remaining()) +
                                               " trailing bytes"};
    }
    return ok_status();
}

}  // namespace

Result<OffsetsKey> decode_key(ByteView bytes) {
    KEEL_TRY_ASSIGN(int16_t version, read_version(bytes, "offsets key", 0, 2));
    Reader r(bytes.subspan(2), false);
    OffsetsKey key;
    if (version <= 1) {
        OffsetCommitKey k;
        k.group = r.classic_string();
        k.topic = r.classic_string();
        k.partition = r.i32();
        key = std::move(k);
    } else {
        key = GroupMetadataKey{r.classic_string()};
    }
    KEEL_TRY(finish(r, "offsets key"));
    return key;
}

Result<OffsetCommitValue> decode_offset_value(ByteView bytes) {
    KEEL_TRY_ASSIGN(int16_t version, read_version(bytes, "offset commit value", 0, 4));
    Reader r(bytes.subspan(2), version >= 4);
    OffsetCommitValue v;
    v.offset = r.i64();
    if (version >= 3) v.leader_epoch = r.i32();
    v.metadata = r.str();
    v.commit_timestamp_ms = r.i64();
    if (version == 1) v.expire_timestamp_ms = r.i64();
    KEEL_TRY(finish(r, "offset commit value"));
    return v;
}

namespace {

void read_member(Reader& r, GroupMemberRecord& m, int16_t version) {
    m.member_id = r.str();
    if (version >= 3) m.group_instance_id = r.nullable_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.rebalance_timeout_ms = version >= 1 ? r.i32() : -1;
    m.session_timeout_ms = r.i32();
    m.subscription = r.bytes();
    m.assignment = r.bytes();
    r.skip_tagged_fields();
}

}  // namespace

Result<GroupMetadataValue> decode_group_value(ByteView bytes) {
    KEEL_TRY_ASSIGN(int16_t version, read_version(bytes, "group metadata value", 0, 4));
    Reader r(bytes.subspan(2), version >= 4);
    GroupMetadataValue v;
    v.protocol_type = r.str();
    v.generation = r.i32();
    v.protocol = r.nullable_str();
    v.leader = r.nullable_str();
    if (version >= 2) v.current_state_timestamp_ms = r.i64();
    r.array(v.members, [&](GroupMemberRecord& m) { read_member(r, m, version); });
    KEEL_TRY(finish(r, "group metadata value"));
    return v;
}

}  // namespace keel::group
