// Produce validation; the rules and their error codes are tabled in batch_validation.h.
#include "core/broker/batch_validation.h"

#include <algorithm>
#include <optional>

namespace keel::broker {

namespace bf = log::batch_format;
using protocol::ErrorCode;

namespace {

// Kafka's legacy minimum record size (LegacyRecord.RECORD_OVERHEAD_V0): a batchLength below
// it is corrupt whatever the magic.
constexpr int32_t kLegacyMinBatchLength = 14;

KafkaError refuse(ErrorCode code, std::string reason) {
    return KafkaError{code, std::move(reason)};
}

int32_t read_i32(ByteView b, size_t pos) {
    ByteReader r(b.subspan(pos, 4));
    return r.i32();
}

// Finds the batches of the field by their length prefixes (ProduceRequest.validateRecords'
// walk): positions of whole batches, each with magic 2 and room for a v2 header.
KafkaResult<std::vector<size_t>> split_batches(ByteView records, const ValidationConfig& config) {
    std::vector<size_t> positions;
    size_t pos = 0;
    do {
        ByteView rest = records.subspan(pos);
        if (rest.size() < bf::kLogOverhead + 5) {
            return refuse(ErrorCode::invalid_record,
                          "Produce requests must carry one whole record batch per partition; " +
                              std::to_string(rest.size()) + " bytes at position " +
                              std::to_string(pos) + " hold no batch");
        }
        int32_t length = read_i32(rest, bf::kBatchLengthPos);
        if (length < kLegacyMinBatchLength) {
            return refuse(ErrorCode::corrupt_message,
                          "record batch length " + std::to_string(length) + " at position " +
                              std::to_string(pos) + " is below the minimum record overhead");
        }
        size_t size = static_cast<size_t>(length) + bf::kLogOverhead;
        if (size > rest.size()) {
            return refuse(ErrorCode::invalid_record, "record batch at position " +
                                                         std::to_string(pos) + " declares " +
                                                         std::to_string(size) + " bytes but only " +
                                                         std::to_string(rest.size()) + " remain");
        }
        auto magic = static_cast<int8_t>(rest[bf::kMagicPos]);
        if (magic != bf::kMagic) {
            ErrorCode code = config.produce_version >= 3
                                 ? ErrorCode::invalid_record
                                 : ErrorCode::unsupported_for_message_format;
            return refuse(code, "Produce requests with version " +
                                    std::to_string(config.produce_version) +
                                    " are only allowed to contain record batches with magic "
                                    "version 2; got magic " +
                                    std::to_string(magic));
        }
        if (length < bf::kMinBatchLength) {
            return refuse(ErrorCode::corrupt_message, "record batch length " +
                                                          std::to_string(length) +
                                                          " is smaller than the v2 batch header");
        }
        auto attributes =
            static_cast<int16_t>(rest[bf::kAttributesPos] << 8 | rest[bf::kAttributesPos + 1]);
        if ((attributes & bf::kCompressionMask) == static_cast<int16_t>(log::Compression::zstd) &&
            config.produce_version < 7) {
            return refuse(ErrorCode::unsupported_compression_type,
                          "Produce requests with version " +
                              std::to_string(config.produce_version) +
                              " are not allowed to use ZStandard compression");
        }
        positions.push_back(pos);
        pos += size;
    } while (pos < records.size());
    return positions;
}

// The per-batch checks after the split: size, CRC, structure, producer fields, timestamps.
KafkaResult<ValidatedBatch> validate_one(ByteView records, size_t pos,
                                         const ValidationConfig& config) {
    ByteView bytes = records.subspan(pos);
    auto parsed = log::parse_batch_header(bytes);
    KEEL_ASSERT(parsed.ok());  // split_batches checked length and magic
    const log::BatchHeader& h = *parsed;
    bytes = bytes.first(h.size_bytes());
    if (h.size_bytes() > static_cast<size_t>(std::max(config.max_message_bytes, 0))) {
        return refuse(ErrorCode::message_too_large,
                      "The record batch size in the append is " + std::to_string(h.size_bytes()) +
                          " bytes which exceeds the maximum configured value of " +
                          std::to_string(config.max_message_bytes));
    }
    uint32_t crc = log::compute_batch_crc(bytes);
    if (crc != h.crc) {
        return refuse(ErrorCode::corrupt_message,
                      "Record batch is corrupt (stored crc = " + std::to_string(h.crc) +
                          ", computed crc = " + std::to_string(crc) + ")");
    }
    Status deep = log::validate_producer_batch(h, bytes);
    if (!deep.ok()) return refuse(ErrorCode::invalid_record, deep.error().message);
    if (h.is_control()) {
        return refuse(ErrorCode::invalid_record,
                      "Clients are not allowed to write control records");
    }
    if (h.producer_id >= 0 && h.base_sequence < 0) {
        return refuse(ErrorCode::invalid_record,
                      "Invalid sequence number " + std::to_string(h.base_sequence) +
                          " in record batch with producerId " + std::to_string(h.producer_id));
    }
    auto ts = check_records(h, bytes, config);
    if (!ts.ok()) return ts.error();
    if (h.is_transactional()) {
        return refuse(ErrorCode::invalid_txn_state,
                      "Record was not part of an ongoing transaction (Keel has no transactions)");
    }
    return ValidatedBatch{pos, h};
}

// With allow_multiple_batches: one producer, one epoch, sequences continuing batch to batch.
KafkaResult<std::monostate> check_batches_agree(const std::vector<ValidatedBatch>& batches) {
    for (size_t i = 1; i < batches.size(); i++) {
        const log::BatchHeader& prev = batches[i - 1].header;
        const log::BatchHeader& h = batches[i].header;
        if (h.producer_id != prev.producer_id || h.producer_epoch != prev.producer_epoch) {
            return refuse(ErrorCode::invalid_record,
                          "batch " + std::to_string(i) + " has producer " +
                              std::to_string(h.producer_id) + " epoch " +
                              std::to_string(h.producer_epoch) + ", the first has " +
                              std::to_string(prev.producer_id) + " epoch " +
                              std::to_string(prev.producer_epoch));
        }
        if (h.producer_id < 0) continue;
        int32_t expected = increment_sequence(batches[i - 1].last_sequence(), 1);
        if (h.base_sequence != expected) {
            return refuse(ErrorCode::invalid_record, "batch " + std::to_string(i) +
                                                         " starts at sequence " +
                                                         std::to_string(h.base_sequence) +
                                                         ", expected " + std::to_string(expected));
        }
    }
    return std::monostate{};
}

// Whether `ts` lies outside [now - before, now + after], without overflow.
bool outside_window(int64_t ts, const ValidationConfig& c) {
    auto before = static_cast<uint64_t>(std::max<int64_t>(c.timestamp_before_max_ms, 0));
    auto after = static_cast<uint64_t>(std::max<int64_t>(c.timestamp_after_max_ms, 0));
    if (ts <= c.now_ms) return static_cast<uint64_t>(c.now_ms) - static_cast<uint64_t>(ts) > before;
    return static_cast<uint64_t>(ts) - static_cast<uint64_t>(c.now_ms) > after;
}

// Kafka's LogValidator.validateTimestamp for one record timestamp.
KafkaResult<std::monostate> check_one_timestamp(const log::BatchHeader& h, int64_t ts,
                                                const ValidationConfig& c) {
    if (c.timestamp_type == log::TimestampType::create_time && ts != bf::kNoTimestamp) {
        if (!outside_window(ts, c)) return std::monostate{};
        int64_t lo = 0, hi = 0;
        if (__builtin_sub_overflow(c.now_ms, c.timestamp_before_max_ms, &lo))
            lo = std::numeric_limits<int64_t>::min();
        if (__builtin_add_overflow(c.now_ms, c.timestamp_after_max_ms, &hi))
            hi = std::numeric_limits<int64_t>::max();
        return refuse(ErrorCode::invalid_timestamp,
                      "Timestamp " + std::to_string(ts) +
                          " of message is out of range. The timestamp "
                          "should be within [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    if (h.timestamp_type() == log::TimestampType::log_append_time) {
        return refuse(ErrorCode::invalid_timestamp,
                      "Invalid timestamp type in message. Producer should not set timestamp type "
                      "to LogAppendTime.");
    }
    return std::monostate{};
}

// A batch's records as parsed here; `records` view `storage` (compressed) or the batch.
struct BatchRecords {
    Bytes storage;
    std::vector<log::Record> records;
};

// The records of a batch, or nullopt for a compressed batch without a codec.
KafkaResult<std::optional<BatchRecords>> read_records(const log::BatchHeader& h, ByteView batch,
                                                      const ValidationConfig& c) {
    ByteView section = log::records_section(batch.first(h.size_bytes()));
    BatchRecords out;
    if (h.compression() != log::Compression::none) {
        if (c.codec == nullptr) return std::optional<BatchRecords>();
        auto raw = c.codec->decompress(h.compression(), section, log::kMaxDecompressedBatchBytes);
        if (!raw.ok()) {
            ErrorCode code = raw.code() == Errc::message_too_large ? ErrorCode::message_too_large
                                                                   : ErrorCode::invalid_record;
            return refuse(code, "cannot decompress the " +
                                    std::string(log::compression_name(h.compression())) +
                                    " batch: " + raw.error().message);
        }
        out.storage = std::move(raw).value();
        section = ByteView(out.storage.data(), out.storage.size());
    }
    auto parsed = log::parse_records(h, section);
    if (!parsed.ok()) return refuse(ErrorCode::invalid_record, parsed.error().message);
    out.records = std::move(parsed).value();
    return std::optional<BatchRecords>(std::move(out));
}

// Kafka's LogValidator.validateRecord (key, then timestamp) plus Keel's inner-offset rule.
KafkaResult<std::monostate> check_one_record(const log::BatchHeader& h, const log::Record& r,
                                             size_t index, const ValidationConfig& c) {
    if (r.offset != h.base_offset + static_cast<int64_t>(index)) {
        return refuse(ErrorCode::invalid_record, "record " + std::to_string(index) +
                                                     " has offset delta " +
                                                     std::to_string(r.offset - h.base_offset) +
                                                     "; inner offsets must run 0..n-1");
    }
    if (c.compacted && !r.key) {
        return refuse(ErrorCode::invalid_record,
                      "Compacted topic cannot accept message without key (record " +
                          std::to_string(index) + ")");
    }
    return check_one_timestamp(h, r.timestamp, c);
}

}  // namespace

int32_t increment_sequence(int32_t sequence, int32_t increment) {
    KEEL_ASSERT(sequence >= 0 && increment >= 0);
    if (sequence > std::numeric_limits<int32_t>::max() - increment) {
        return increment - (std::numeric_limits<int32_t>::max() - sequence) - 1;
    }
    return sequence + increment;
}

int32_t decrement_sequence(int32_t sequence, int32_t decrement) {
    KEEL_ASSERT(sequence >= 0 && decrement >= 0);
    if (sequence < decrement)
        return std::numeric_limits<int32_t>::max() - (decrement - sequence) + 1;
    return sequence - decrement;
}

int32_t ValidatedBatch::last_sequence() const {
    if (header.base_sequence < 0) return bf::kNoSequence;
    return increment_sequence(header.base_sequence, header.last_offset_delta);
}

KafkaResult<std::monostate> check_records(const log::BatchHeader& h, ByteView batch,
                                          const ValidationConfig& config) {
    auto read = read_records(h, batch, config);
    if (!read.ok()) return read.error();
    if (!read->has_value()) {  // compressed, no codec: the header's timestamps stand in
        for (int64_t ts : {h.base_timestamp, h.max_timestamp}) {
            auto r = check_one_timestamp(h, ts, config);
            if (!r.ok()) return r;
        }
        return std::monostate{};
    }
    const std::vector<log::Record>& records = (*read)->records;
    for (size_t i = 0; i < records.size(); i++) {
        auto r = check_one_record(h, records[i], i, config);
        if (!r.ok()) return r;
    }
    return std::monostate{};
}

KafkaResult<ValidatedBatches> validate_produce_records(ByteView records,
                                                       const ValidationConfig& config) {
    auto split = split_batches(records, config);
    if (!split.ok()) return split.error();
    if (split->size() > 1 && !config.allow_multiple_batches) {
        return refuse(ErrorCode::invalid_record,
                      "Produce requests are only allowed to contain exactly one record batch per "
                      "partition; got " +
                          std::to_string(split->size()));
    }
    if (static_cast<int64_t>(records.size()) > config.segment_bytes) {
        return refuse(ErrorCode::record_list_too_large,
                      "Message batch size is " + std::to_string(records.size()) +
                          " bytes which exceeds the maximum configured segment size of " +
                          std::to_string(config.segment_bytes));
    }
    ValidatedBatches out;
    out.records = records;
    for (size_t pos : *split) {
        auto one = validate_one(records, pos, config);
        if (!one.ok()) return one.error();
        out.record_count += one->header.records_count;
        out.max_timestamp = std::max(out.max_timestamp, one->header.max_timestamp);
        out.batches.push_back(*one);
    }
    auto agree = check_batches_agree(out.batches);
    if (!agree.ok()) return agree.error();
    return out;
}

Status apply_log_append_time(MutableByteView batch, int64_t now_ms) {
    auto h = log::parse_batch_header(ByteView(batch.data(), batch.size()));
    if (!h.ok()) return h.error();
    if (h->size_bytes() != batch.size()) {
        return Error{Errc::invalid_record, "batch declares " + std::to_string(h->size_bytes()) +
                                               " bytes, the buffer holds " +
                                               std::to_string(batch.size())};
    }
    log::set_log_append_time(batch, now_ms);
    return ok_status();
}

ValidationConfig validation_config(const log::LogConfig& lc, int64_t now_ms, int16_t produce_version,
                                   const log::BatchCodec* codec) {
    ValidationConfig vc;
    vc.max_message_bytes = lc.max_message_bytes;
    vc.segment_bytes = lc.segment_bytes;
    vc.timestamp_type = lc.message_timestamp_type;
    vc.now_ms = now_ms;
    vc.produce_version = produce_version;
    vc.compacted = lc.cleanup_compact;
    vc.codec = codec;
    return vc;
}

}  // namespace keel::broker
