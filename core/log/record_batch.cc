#include "core/log/record_batch.h"

#include <limits>

#include "core/log/crc32c.h"

namespace keel::log {

using namespace batch_format;

std::string_view compression_name(Compression c) {
    switch (c) {
        case Compression::none: return "none";
        case Compression::gzip: return "gzip";
        case Compression::snappy: return "snappy";
        case Compression::lz4: return "lz4";
        case Compression::zstd: return "zstd";
    }
    return "unknown";
}

namespace {

void put_be(std::span<uint8_t> b, size_t pos, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b[pos + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

Error invalid(std::string what) { return Error{Errc::invalid_record, std::move(what)}; }

}  // namespace

Result<BatchHeader> parse_batch_header(ByteView bytes) {
    if (bytes.size() < kHeaderSize) {
        return invalid("batch header needs 61 bytes, have " + std::to_string(bytes.size()));
    }
    ByteReader r(bytes.first(kHeaderSize));
    BatchHeader h;
    h.base_offset = Offset(r.i64());
    h.batch_length = r.i32();
    h.partition_leader_epoch = LeaderEpoch(r.i32());
    h.magic = r.i8();
    h.crc = r.u32();
    h.attributes = r.i16();
    h.last_offset_delta = r.i32();
    h.base_timestamp = r.i64();
    h.max_timestamp = r.i64();
    h.producer_id = r.i64();
    h.producer_epoch = r.i16();
    h.base_sequence = r.i32();
    h.records_count = r.i32();
    KEEL_ASSERT(r.ok() && r.at_end());
    if (h.magic != kMagic) {
        return invalid("unsupported magic " + std::to_string(h.magic) + " (only 2 is stored)");
    }
    if (h.batch_length < kMinBatchLength) {
        return invalid("batchLength " + std::to_string(h.batch_length) + " below 49");
    }
    return h;
}

uint32_t compute_batch_crc(ByteView batch) {
    KEEL_ASSERT(batch.size() >= kHeaderSize);
    return crc32c(batch.subspan(kAttributesPos));
}

Result<BatchHeader> read_batch(ByteView bytes) {
    KEEL_TRY_ASSIGN(BatchHeader h, parse_batch_header(bytes));
    if (h.size_bytes() > bytes.size()) {
        return invalid("batch of " + std::to_string(h.size_bytes()) + " bytes cut short at " +
                       std::to_string(bytes.size()));
    }
    uint32_t actual = compute_batch_crc(bytes.first(h.size_bytes()));
    if (actual != h.crc) {
        return Error{Errc::corrupt_record, "batch at offset " + std::to_string(h.base_offset.value()) +
                                               ": CRC " + std::to_string(actual) + " != stored " +
                                               std::to_string(h.crc)};
    }
    return h;
}

void set_base_offset(std::span<uint8_t> batch, Offset base_offset) {
    KEEL_ASSERT(batch.size() >= kHeaderSize);
    put_be(batch, kBaseOffsetPos, static_cast<uint64_t>(base_offset.value()), 8);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch) {
    KEEL_ASSERT(batch.size() >= kHeaderSize);
    put_be(batch, kPartitionLeaderEpochPos, static_cast<uint32_t>(epoch.value()), 4);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
    KEEL_ASSERT(batch.size() >= kHeaderSize);
    uint16_t attrs = static_cast<uint16_t>(batch[kAttributesPos] << 8 | batch[kAttributesPos + 1]);
    attrs = static_cast<uint16_t>(attrs | kTimestampTypeBit);
    put_be(batch, kAttributesPos, attrs, 2);
    put_be(batch, kMaxTimestampPos, static_cast<uint64_t>(timestamp_ms), 8);
    put_be(batch, kCrcPos, compute_batch_crc(batch), 4);
}

namespace {

// Reads a zigzag varint that must fit in int32 and be >= min.
bool read_length(ByteReader& r, int32_t min, int32_t& out) {
    int64_t v = r.varint();
    if (!r.ok() || v < min || v > std::numeric_limits<int32_t>::max()) return false;
    out = static_cast<int32_t>(v);
    return true;
}

std::optional<ByteView> read_nullable(ByteReader& r, bool& ok) {
    int32_t n = 0;
    if (!read_length(r, -1, n)) {
        ok = false;
        return std::nullopt;
    }
    if (n < 0) return std::nullopt;
    ByteView v = r.raw(static_cast<size_t>(n));
    if (!r.ok()) ok = false;
    return v;
}

// One record's body (after its length prefix); `rec` gets the fields, its headers only
// if keep_headers (validation walks records without allocating). False if malformed.
bool parse_record_body(ByteReader& r, const BatchHeader& h, Record& rec, bool keep_headers) {
    rec.attributes = r.i8();
    int64_t ts_delta = r.varint();
    int32_t offset_delta = 0;
    if (!r.ok() || !read_length(r, 0, offset_delta)) return false;
    // Both sums can leave int64 on a hostile batch (a base offset or timestamp near the
    // limit): malformed, not undefined behaviour (found by fuzz_record_batch).
    int64_t offset = 0;
    if (__builtin_add_overflow(h.base_timestamp, ts_delta, &rec.timestamp) ||
        __builtin_add_overflow(h.base_offset.value(), int64_t{offset_delta}, &offset)) {
        return false;
    }
    rec.offset = Offset(offset);
    bool ok = true;
    rec.key = read_nullable(r, ok);
    rec.value = read_nullable(r, ok);
    int32_t header_count = 0;
    if (!ok || !read_length(r, 0, header_count)) return false;
    if (static_cast<size_t>(header_count) > r.remaining()) return false;  // >= 2 bytes each
    if (keep_headers) rec.headers.reserve(static_cast<size_t>(header_count));
    for (int32_t i = 0; i < header_count; i++) {
        int32_t key_len = 0;
        if (!read_length(r, 0, key_len)) return false;
        std::string_view key = as_chars(r.raw(static_cast<size_t>(key_len)));
        auto value = read_nullable(r, ok);
        if (!ok || !r.ok()) return false;
        if (keep_headers) rec.headers.push_back(RecordHeader{key, value});
    }
    return r.ok() && r.at_end();
}

// Walks the records section, handing each record to visit (if any). Errc::invalid_record
// unless it holds exactly h.records_count well-formed records with increasing offset deltas
// no larger than lastOffsetDelta.
template <typename Visit>
Status walk_records(const BatchHeader& h, ByteView records, bool keep_headers, Visit&& visit) {
    if (h.records_count < 0) return invalid("negative recordsCount");
    // Each record takes at least 7 bytes; a larger count is a lie, not an allocation.
    if (static_cast<size_t>(h.records_count) > records.size() / 7 + 1) {
        return invalid("recordsCount " + std::to_string(h.records_count) + " exceeds the bytes");
    }
    ByteReader r(records);
    int64_t last_delta = -1;
    for (int32_t i = 0; i < h.records_count; i++) {
        int32_t len = 0;
        if (!read_length(r, 1, len) || static_cast<size_t>(len) > r.remaining()) {
            return invalid("record " + std::to_string(i) + ": bad length");
        }
        ByteReader body(r.raw(static_cast<size_t>(len)));
        Record rec;
        if (!parse_record_body(body, h, rec, keep_headers)) {
            return invalid("record " + std::to_string(i) + " is malformed");
        }
        int64_t delta = rec.offset - h.base_offset;
        if (delta <= last_delta || delta > h.last_offset_delta) {
            return invalid("record " + std::to_string(i) + ": offset delta out of order");
        }
        last_delta = delta;
        visit(std::move(rec), i);
    }
    if (!r.at_end()) return invalid("bytes left after the last record");
    return ok_status();
}

// The append path's check, without building records: true if `section` holds exactly
// `count` well-formed records with offset deltas 0..count-1. Mirrors walk_records, which
// explains a failure.
inline bool varint_in(const uint8_t*& p, const uint8_t* end, int64_t& out) {
    if (p < end && (*p & 0x80) == 0) {  // most record fields fit one byte
        uint64_t v = *p++;
        out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
        return true;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        uint8_t b = *p++;
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
            return true;
        }
    }
    return false;
}

inline bool skip_bytes(const uint8_t*& p, const uint8_t* end, bool nullable) {
    int64_t n = 0;
    if (!varint_in(p, end, n) || n < (nullable ? -1 : 0) || n > end - p) return false;
    if (n > 0) p += n;
    return true;
}

bool records_are_sequential(ByteView section, const BatchHeader& header) {
    const uint8_t* p = section.data();
    const uint8_t* end = p + section.size();
    int64_t sum = 0;  // a record's offset or timestamp must stay within int64 (parse_record_body)
    if (__builtin_add_overflow(header.base_offset.value(), int64_t{header.records_count}, &sum)) return false;
    for (int32_t i = 0; i < header.records_count; i++) {
        int64_t len = 0, ts = 0, delta = 0, headers = 0;
        if (!varint_in(p, end, len) || len < 1 || len > end - p) return false;
        const uint8_t* rec_end = p + len;
        p++;  // attributes
        if (!varint_in(p, rec_end, ts) || !varint_in(p, rec_end, delta) || delta != i) return false;
        if (__builtin_add_overflow(header.base_timestamp, ts, &sum)) return false;
        if (!skip_bytes(p, rec_end, true) || !skip_bytes(p, rec_end, true)) return false;  // key, value
        if (!varint_in(p, rec_end, headers) || headers < 0 || headers > rec_end - p) return false;
        for (int64_t h = 0; h < headers; h++) {
            if (!skip_bytes(p, rec_end, false) || !skip_bytes(p, rec_end, true)) return false;
        }
        if (p != rec_end) return false;
    }
    return p == end;
}

}  // namespace

Status validate_producer_batch(const BatchHeader& h, ByteView batch) {
    if ((h.attributes & kCompressionMask) > static_cast<int16_t>(Compression::zstd)) {
        return invalid("unknown compression codec " + std::to_string(h.attributes & kCompressionMask));
    }
    if (h.records_count <= 0) return invalid("batch holds no records");
    if (h.last_offset_delta != h.records_count - 1) {
        return invalid("lastOffsetDelta " + std::to_string(h.last_offset_delta) +
                       " disagrees with recordsCount " + std::to_string(h.records_count));
    }
    if (h.compression() != Compression::none) return ok_status();
    ByteView section = records_section(batch.first(h.size_bytes()));
    if (records_are_sequential(section, h)) return ok_status();
    // Slow path, only to say what is wrong.
    KEEL_TRY(walk_records(h, section, false, [](Record&&, int32_t) {}));
    return invalid("record offset deltas must run 0..n-1");
}

Result<std::vector<Record>> parse_records(const BatchHeader& h, ByteView records) {
    std::vector<Record> out;
    out.reserve(static_cast<size_t>(std::max(0, std::min<int32_t>(h.records_count, static_cast<int32_t>(records.size() / 7 + 1)))));
    KEEL_TRY(walk_records(h, records, true, [&](Record&& rec, int32_t) { out.push_back(std::move(rec)); }));
    return out;
}

Result<DecodedBatch> decode_batch(ByteView batch, const BatchCodec* codec) {
    DecodedBatch d;
    KEEL_TRY_ASSIGN(d.header, read_batch(batch));
    ByteView section = records_section(batch.first(d.header.size_bytes()));
    if (d.header.compression() != Compression::none) {
        if (codec == nullptr) {
            return Error{Errc::unsupported_version,
                         std::string("no codec for ") + std::string(compression_name(d.header.compression()))};
        }
        KEEL_TRY_ASSIGN(d.storage, codec->decompress(d.header.compression(), section,
                                                     kMaxDecompressedBatchBytes));
        section = ByteView(d.storage.data(), d.storage.size());
    }
    KEEL_TRY_ASSIGN(d.records, parse_records(d.header, section));
    return d;
}

// ---- builder ----

RecordBatchBuilder& RecordBatchBuilder::add(int64_t timestamp, std::optional<ByteView> key,
                                            std::optional<ByteView> value,
                                            std::span<const HeaderInput> headers) {
    return add_at(fields_.base_offset + (last_offset_delta_ + 1), timestamp, key, value, headers);
}

RecordBatchBuilder& RecordBatchBuilder::add_at(Offset offset, int64_t timestamp,
                                               std::optional<ByteView> key,
                                               std::optional<ByteView> value,
                                               std::span<const HeaderInput> headers) {
    int64_t delta = offset - fields_.base_offset;
    KEEL_ASSERT(delta > last_offset_delta_ && delta <= std::numeric_limits<int32_t>::max());
    if (count_ == 0) {
        base_timestamp_ = fields_.delete_horizon_ms.value_or(timestamp);
        max_timestamp_ = timestamp;
    }
    max_timestamp_ = std::max(max_timestamp_, timestamp);
    ByteWriter body;
    body.i8(0);
    body.varint(timestamp - base_timestamp_);
    body.varint(delta);
    auto nullable = [&body](std::optional<ByteView> b) {
        if (!b) return body.varint(-1);
        body.varint(static_cast<int64_t>(b->size()));
        body.raw(*b);
    };
    nullable(key);
    nullable(value);
    body.varint(static_cast<int64_t>(headers.size()));
    for (const HeaderInput& hdr : headers) {
        body.varint(static_cast<int64_t>(hdr.key.size()));
        body.raw(hdr.key);
        nullable(hdr.value);
    }
    ByteWriter w(std::move(records_));
    w.varint(static_cast<int64_t>(body.size()));
    w.raw(ByteView(body.data(), body.size()));
    records_ = w.take();
    count_++;
    last_offset_delta_ = static_cast<int32_t>(delta);
    return *this;
}

Bytes RecordBatchBuilder::build() const { return build_with_section(records(), Compression::none); }

Bytes RecordBatchBuilder::build_with_section(ByteView section, Compression c) const {
    KEEL_ASSERT(count_ > 0);
    int16_t attrs = static_cast<int16_t>(c);
    if (fields_.timestamp_type == TimestampType::log_append_time) attrs |= kTimestampTypeBit;
    if (fields_.transactional) attrs |= kTransactionalBit;
    if (fields_.control) attrs |= kControlBit;
    if (fields_.delete_horizon_ms) attrs |= kDeleteHorizonBit;
    ByteWriter w;
    w.buffer().reserve(kHeaderSize + section.size());
    w.i64(fields_.base_offset.value());
    w.i32(static_cast<int32_t>(kHeaderSize - kLogOverhead + section.size()));
    w.i32(fields_.partition_leader_epoch.value());
    w.i8(kMagic);
    w.u32(0);  // CRC, patched below
    w.i16(attrs);
    w.i32(last_offset_delta_);
    w.i64(base_timestamp_);
    w.i64(fields_.max_timestamp.value_or(max_timestamp_));
    w.i64(fields_.producer_id);
    w.i16(fields_.producer_epoch);
    w.i32(fields_.base_sequence);
    w.i32(count_);
    w.raw(section);
    Bytes out = w.take();
    put_be(out, kCrcPos, compute_batch_crc(out), 4);
    return out;
}

}  // namespace keel::log
