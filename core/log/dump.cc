#include "core/log/dump.h"

#include <cstdio>

#include "core/log/leader_epoch_cache.h"
#include "core/log/offset_index.h"
#include "core/log/time_index.h"

namespace keel::log {
namespace {

std::string num(int64_t v) { return std::to_string(v); }
const char* yes_no(bool b) { return b ? "true" : "false"; }

std::string header_line(const BatchHeader& h, uint64_t position, bool valid) {
    std::string s;
    int64_t last_seq = h.base_sequence < 0 ? -1 : (int64_t{h.base_sequence} + h.last_offset_delta) % (int64_t{1} << 31);
    s += "baseOffset: " + num(h.base_offset.value()) + " lastOffset: " + num(h.last_offset().value());
    s += " count: " + num(h.records_count) + " baseSequence: " + num(h.base_sequence);
    s += " lastSequence: " + num(last_seq) + " producerId: " + num(h.producer_id);
    s += " producerEpoch: " + num(h.producer_epoch);
    s += " partitionLeaderEpoch: " + num(h.partition_leader_epoch.value());
    s += std::string(" isTransactional: ") + yes_no(h.is_transactional());
    s += std::string(" isControl: ") + yes_no(h.is_control());
    auto horizon = h.delete_horizon_ms();
    s += " deleteHorizonMs: " + (horizon ? num(*horizon) : std::string("none"));
    s += " position: " + num(static_cast<int64_t>(position));
    s += (h.timestamp_type() == TimestampType::log_append_time ? " LogAppendTime: " : " CreateTime: ") +
         num(h.max_timestamp);
    s += " size: " + num(static_cast<int64_t>(h.size_bytes())) + " magic: " + num(h.magic);
    s += " compresscodec: " + std::string(compression_name(h.compression()));
    s += " crc: " + num(h.crc) + " isvalid: " + yes_no(valid) + "\n";
    return s;
}

std::string nullable(std::optional<ByteView> b, size_t max_chars) {
    return b ? printable(*b, max_chars) : std::string("null");
}

std::string record_line(const BatchHeader& h, const Record& r, size_t max_chars) {
    std::string s = "| offset: " + num(r.offset.value());
    s += (h.timestamp_type() == TimestampType::log_append_time ? " LogAppendTime: " : " CreateTime: ") +
         num(h.timestamp_type() == TimestampType::log_append_time ? h.max_timestamp : r.timestamp);
    s += " keySize: " + num(r.key ? static_cast<int64_t>(r.key->size()) : -1);
    s += " valueSize: " + num(r.value ? static_cast<int64_t>(r.value->size()) : -1);
    int64_t seq = h.base_sequence < 0 ? -1 : (int64_t{h.base_sequence} + (r.offset - h.base_offset)) % (int64_t{1} << 31);
    s += " sequence: " + num(seq) + " headerKeys: [";
    for (size_t i = 0; i < r.headers.size(); i++) {
        if (i) s += ",";
        s += printable(as_bytes(r.headers[i].key), max_chars) + "=" + nullable(r.headers[i].value, max_chars);
    }
    s += "] key: " + nullable(r.key, max_chars) + " payload: " + nullable(r.value, max_chars);
    if (r.key && !r.value) s += " (tombstone)";
    return s + "\n";
}

std::string records_of(ByteView batch, const BatchHeader& h, const DumpOptions& o) {
    if (h.compression() != Compression::none && o.codec == nullptr) {
        return "| (" + std::string(compression_name(h.compression())) + " records: no codec to list them)\n";
    }
    BatchHeader unchecked = h;
    DecodedBatch d;
    Result<std::vector<Record>> records = Error{Errc::unknown, {}};
    if (h.compression() == Compression::none) {
        records = parse_records(unchecked, records_section(batch));
    } else {
        auto raw = o.codec->decompress(h.compression(), records_section(batch), kMaxDecompressedBatchBytes);
        if (!raw.ok()) return "| (records do not decompress: " + raw.error().to_string() + ")\n";
        d.storage = std::move(raw).value();
        records = parse_records(unchecked, d.storage);
    }
    if (!records.ok()) return "| (records do not parse: " + records.error().to_string() + ")\n";
    std::string s;
    for (const Record& r : *records) s += record_line(h, r, o.max_payload_chars);
    return s;
}

}  // namespace

std::string printable(ByteView bytes, size_t max_chars) {
    std::string s;
    for (uint8_t c : bytes) {
        if (s.size() >= max_chars) return s + "...";
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            s += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            s += buf;
        }
    }
    return s;
}

std::string dump_log_segment(ByteView bytes, Offset base_offset, const DumpOptions& o) {
    std::string s = "Log starting offset: " + num(base_offset.value()) + "\n";
    size_t pos = 0, batches = 0, bad = 0;
    while (pos < bytes.size()) {
        ByteView rest = bytes.subspan(pos);
        auto h = parse_batch_header(rest);
        if (!h.ok() || h->size_bytes() > rest.size()) {
            s += "position: " + num(static_cast<int64_t>(pos)) + " unreadable batch (" +
                 (h.ok() ? std::string("cut short: ") + num(static_cast<int64_t>(h->size_bytes())) +
                               " bytes claimed, " + num(static_cast<int64_t>(rest.size())) + " present"
                         : h.error().message) +
                 "); " + num(static_cast<int64_t>(rest.size())) + " bytes not shown\n";
            bad++;
            break;
        }
        ByteView batch = rest.first(h->size_bytes());
        bool valid = compute_batch_crc(batch) == h->crc;
        if (!valid) bad++;
        s += header_line(*h, pos, valid);
        if (o.print_records) s += records_of(batch, *h, o);
        batches++;
        pos += h->size_bytes();
    }
    s += "Batches: " + num(static_cast<int64_t>(batches)) + ", bytes: " + num(static_cast<int64_t>(bytes.size())) +
         (bad ? ", DAMAGED: " + num(static_cast<int64_t>(bad)) + " bad batch(es)" : std::string(", all CRCs valid")) + "\n";
    return s;
}

std::string dump_offset_index(ByteView bytes, Offset base_offset) {
    std::string s;
    ByteReader r(bytes);
    while (r.remaining() >= OffsetIndex::kEntryBytes) {
        int32_t rel = r.i32();
        uint32_t pos = r.u32();
        s += "offset: " + num(base_offset.value() + rel) + " position: " + num(pos) + "\n";
    }
    if (!r.at_end()) s += "(" + num(static_cast<int64_t>(r.remaining())) + " trailing bytes: not a whole entry)\n";
    auto check = OffsetIndex::decode(base_offset, bytes, UINT32_MAX);
    if (!check.ok()) s += "INVALID: " + check.error().message + "\n";
    return s;
}

std::string dump_time_index(ByteView bytes, Offset base_offset) {
    std::string s;
    ByteReader r(bytes);
    while (r.remaining() >= TimeIndex::kEntryBytes) {
        int64_t ts = r.i64();
        int32_t rel = r.i32();
        s += "timestamp: " + num(ts) + " offset: " + num(base_offset.value() + rel) + "\n";
    }
    if (!r.at_end()) s += "(" + num(static_cast<int64_t>(r.remaining())) + " trailing bytes: not a whole entry)\n";
    auto check = TimeIndex::decode(base_offset, bytes, Offset(INT64_MAX));
    if (!check.ok()) s += "INVALID: " + check.error().message + "\n";
    return s;
}

std::string dump_leader_epoch_checkpoint(std::string_view text) {
    auto cache = LeaderEpochCache::decode(text);
    if (!cache.ok()) return "INVALID: " + cache.error().message + "\n";
    std::string s = "entries: " + num(static_cast<int64_t>(cache->entries().size())) + "\n";
    for (const EpochEntry& e : cache->entries()) {
        s += "epoch: " + num(e.epoch.value()) + " startOffset: " + num(e.start_offset.value()) + "\n";
    }
    return s;
}

std::string dump_offset_checkpoint(std::string_view text) {
    // Shown as is, line by line: the format is "0\n1\n<topic> <partition> <offset>\n".
    std::string s;
    size_t start = 0, line = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string_view l = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        const char* what = line == 0 ? "version: " : line == 1 ? "entries: " : "entry: ";
        s += what + printable(as_bytes(l), 200) + "\n";
        line++;
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return s;
}

}  // namespace keel::log
