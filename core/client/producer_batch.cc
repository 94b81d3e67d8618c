// ProducerBatch and the record-batch encoding of the producer (see producer_batch.h).
#include "core/client/producer_batch.h"

namespace keel::client {

namespace {

void put_be(std::span<uint8_t> out, size_t pos, uint64_t v, int n) {
    for (int i = 0; i < n; i++) out[pos + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

size_t varint_size(int64_t v) {
    auto u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

size_t nullable_size(const std::optional<Bytes>& b) {
    return b ? varint_size(static_cast<int64_t>(b->size())) + b->size() : 1;
}

}  // namespace

Result<Bytes> encode_producer_batch(const log::RecordBatchBuilder& records, const ProducerIdentity& identity,
                                    log::Compression compression, const log::BatchCodec* codec) {
    if (records.empty()) return Error{Errc::invalid_argument, "a batch needs at least one record"};
    Bytes out;
    if (compression == log::Compression::none) {
        out = records.build();
    } else {
        if (codec == nullptr) {
            return Error{Errc::invalid_argument,
                         "compression " + std::string(log::compression_name(compression)) + " needs a codec"};
        }
        KEEL_TRY_ASSIGN(Bytes section, codec->compress(compression, records.records()));
        out = records.build_with_section(section, compression);
    }
    // The producer's identity is known only when the batch is drained: stamp it into the
    // header and recompute the CRC (which covers these fields).
    namespace f = log::batch_format;
    put_be(out, f::kProducerIdPos, static_cast<uint64_t>(identity.producer_id), 8);
    put_be(out, f::kProducerEpochPos, static_cast<uint16_t>(identity.producer_epoch), 2);
    put_be(out, f::kBaseSequencePos, static_cast<uint32_t>(identity.base_sequence), 4);
    put_be(out, f::kCrcPos, log::compute_batch_crc(out), 4);
    return out;
}

size_t estimated_record_size(const ProducerRecord& record) {
    size_t n = 1 + 10 + 5 + nullable_size(record.key) + nullable_size(record.value) + 5;
    for (const Header& h : record.headers) n += 5 + h.key.size() + nullable_size(h.value);
    return n + 5;  // the length prefix
}

std::optional<env::Future<RecordMetadata>> ProducerBatch::try_append(env::Executor& ex,
                                                                     const ProducerRecord& record,
                                                                     int64_t timestamp_ms) {
    KEEL_ASSERT(!encoded_.has_value() && !done_);
    if (full_) return std::nullopt;
    if (!builder_.empty() && size_bytes() + estimated_record_size(record) > batch_size_max_) {
        full_ = true;
        return std::nullopt;
    }
    std::vector<log::RecordBatchBuilder::HeaderInput> headers;
    headers.reserve(record.headers.size());
    for (const Header& h : record.headers) {
        std::optional<ByteView> v;
        if (h.value) v = ByteView(*h.value);
        headers.push_back({h.key, v});
    }
    std::optional<ByteView> key, value;
    if (record.key) key = ByteView(*record.key);
    if (record.value) value = ByteView(*record.value);
    builder_.add(timestamp_ms, key, value, headers);
    timestamps_.push_back(timestamp_ms);
    promises_.emplace_back(ex);
    if (size_bytes() >= batch_size_max_) full_ = true;
    return promises_.back().future();
}

Result<ByteView> ProducerBatch::encode(const ProducerIdentity& identity, log::Compression compression,
                                       const log::BatchCodec* codec) {
    if (!encoded_) {
        KEEL_TRY_ASSIGN(Bytes bytes, encode_producer_batch(builder_, identity, compression, codec));
        encoded_ = std::move(bytes);
        identity_ = identity;
        full_ = true;
    }
    return ByteView(*encoded_);
}

void ProducerBatch::complete(Offset base_offset, int64_t log_append_time_ms) {
    if (done_) return;
    done_ = true;
    for (size_t i = 0; i < promises_.size(); i++) {
        RecordMetadata md;
        md.topic = tp_.topic;
        md.partition = tp_.partition;
        md.offset = base_offset.value() < 0 ? Offset(-1) : base_offset + static_cast<int64_t>(i);
        md.timestamp_ms = log_append_time_ms >= 0 ? log_append_time_ms : timestamps_[i];
        promises_[i].set(std::move(md));
    }
}

void ProducerBatch::fail(const Error& error) {
    if (done_) return;
    done_ = true;
    for (auto& p : promises_) p.set(error);
}

}  // namespace keel::client
