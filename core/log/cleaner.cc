#include "core/log/cleaner.h"

namespace keel::log {

Status add_batch_to_map(OffsetMap& map, ByteView batch, const BatchCodec* codec) {
    KEEL_TRY_ASSIGN(BatchHeader h, read_batch(batch));
    if (h.is_control() || (h.compression() != Compression::none && codec == nullptr)) {
        return ok_status();
    }
    KEEL_TRY_ASSIGN(DecodedBatch d, decode_batch(batch, codec));
    for (const Record& r : d.records) {
        if (r.key) map.put(*r.key, r.offset);
    }
    return ok_status();
}

namespace {

// The same batch, holding only `keep`, with the given delete horizon.
Result<Bytes> rebuild(const DecodedBatch& d, const std::vector<const Record*>& keep,
                      std::optional<int64_t> horizon, const BatchCodec* codec) {
    const BatchHeader& h = d.header;
    RecordBatchBuilder::Fields f;
    f.base_offset = h.base_offset;
    f.partition_leader_epoch = h.partition_leader_epoch;
    f.transactional = h.is_transactional();
    f.timestamp_type = h.timestamp_type();
    f.producer_id = h.producer_id;
    f.producer_epoch = h.producer_epoch;
    f.base_sequence = h.base_sequence;
    f.delete_horizon_ms = horizon;
    if (h.timestamp_type() == TimestampType::log_append_time) f.max_timestamp = h.max_timestamp;
    RecordBatchBuilder b(f);
    std::vector<RecordBatchBuilder::HeaderInput> headers;
    for (const Record* r : keep) {
        headers.clear();
        for (const RecordHeader& rh : r->headers) headers.push_back({rh.key, rh.value});
        b.add_at(r->offset, r->timestamp, r->key, r->value, headers);
    }
    if (h.compression() == Compression::none) return b.build();
    KEEL_ASSERT(codec != nullptr);
    KEEL_TRY_ASSIGN(Bytes section, codec->compress(h.compression(), b.records()));
    return b.build_with_section(section, h.compression());
}

}  // namespace

CleanedBatch clean_batch_records(const DecodedBatch& d, const OffsetMap& map, int64_t now_ms,
                                 int64_t delete_retention_ms, const BatchCodec* codec) {
    CleanedBatch out;
    std::optional<int64_t> horizon = d.header.delete_horizon_ms();
    bool needs_horizon = false;
    std::vector<const Record*> keep;
    for (const Record& r : d.records) {
        if (r.key) {
            auto latest = map.get(*r.key);
            if (latest && *latest > r.offset) continue;  // superseded by a later record
            if (!r.value) {
                if (horizon && now_ms >= *horizon) continue;  // tombstone past its horizon
                if (!horizon) needs_horizon = true;
            }
        }
        keep.push_back(&r);
    }
    out.records_removed = d.records.size() - keep.size();
    bool has_tombstones = false;
    for (const Record* r : keep) has_tombstones |= r->key && !r->value;
    if (has_tombstones) out.delete_horizon_ms = horizon ? horizon : std::optional<int64_t>(now_ms + delete_retention_ms);
    if (keep.empty()) {
        out.action = CleanedBatch::Action::drop;
        return out;
    }
    if (out.records_removed == 0 && !needs_horizon) return out;  // byte for byte as stored
    auto rebuilt = rebuild(d, keep, has_tombstones ? out.delete_horizon_ms : std::nullopt, codec);
    if (!rebuilt.ok()) {  // could not recompress: keep the batch as it is (always safe)
        out = CleanedBatch{};
        return out;
    }
    out.action = CleanedBatch::Action::rewrite;
    out.rewritten = std::move(rebuilt).value();
    return out;
}

Result<CleanedBatch> clean_batch(ByteView batch, const OffsetMap& map, int64_t now_ms,
                                 int64_t delete_retention_ms, const BatchCodec* codec) {
    KEEL_TRY_ASSIGN(BatchHeader h, read_batch(batch));
    if (h.is_control() || (h.compression() != Compression::none && codec == nullptr)) {
        return CleanedBatch{};
    }
    KEEL_TRY_ASSIGN(DecodedBatch d, decode_batch(batch, codec));
    return clean_batch_records(d, map, now_ms, delete_retention_ms, codec);
}

}  // namespace keel::log
