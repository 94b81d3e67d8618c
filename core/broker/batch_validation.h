// Produce-side validation of a partition's `records` field, as Kafka's broker does it
// (ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and LogValidator),
// before anything reaches the log. Pure: no I/O, no clock (the caller passes now_ms).
//
// What a Produce partition may carry, and the Kafka error code for each refusal:
//
//   check (in Kafka's order)                                  error code
//   no whole batch in the field / a batch cut short           INVALID_RECORD
//   batchLength smaller than a v2 header                      CORRUPT_MESSAGE
//   magic 0 or 1: Produce v3+ (all Keel serves)               INVALID_RECORD
//                 Produce v0-2 (no down-conversion in Keel)   UNSUPPORTED_FOR_MESSAGE_FORMAT
//   zstd before Produce v7                                    UNSUPPORTED_COMPRESSION_TYPE
//   more than one batch (Kafka allows exactly one)            INVALID_RECORD
//   the field larger than a segment (segment.bytes)           RECORD_LIST_TOO_LARGE
//   a batch larger than max.message.bytes                     MESSAGE_TOO_LARGE
//   CRC-32C mismatch                                          CORRUPT_MESSAGE
//   recordsCount <= 0, lastOffsetDelta != recordsCount - 1,
//   unknown codec, records that do not parse (uncompressed,
//   or compressed with a codec), a keyless record on a
//   compacted topic                                           INVALID_RECORD
//   a control batch (clients may not write markers)           INVALID_RECORD
//   a producer id with baseSequence < 0                       INVALID_RECORD
//   a transactional batch (Keel has no transactions)          INVALID_TXN_STATE
//   CreateTime outside [now - before.max, now + after.max],
//   or a producer-set LogAppendTime Kafka would refuse        INVALID_TIMESTAMP
//
// Why INVALID_TXN_STATE for transactional batches: the batch is well formed, so Kafka never
// answers INVALID_RECORD for it, and UNSUPPORTED_FOR_MESSAGE_FORMAT is about magic < 2.
// What a Kafka broker answers for a transactional batch whose partition no coordinator
// added to an ongoing transaction is INVALID_TXN_STATE (KIP-890 verification, on by default
// since 3.6: "Record was not part of an ongoing transaction"). Keel has no coordinator, so
// no transaction is ever ongoing. (Kafka's request-level check, a transactional batch in a
// request without transactional_id -> TRANSACTIONAL_ID_AUTHORIZATION_FAILED, belongs to the
// Produce handler: it sees the whole request.)
//
// The producer's bytes are never modified here: ValidatedBatches views them. The broker
// rewrites only baseOffset and partitionLeaderEpoch (core/log), and, on LogAppendTime
// topics, the timestamp type and maxTimestamp (apply_log_append_time below).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/log/log_config.h"
#include "core/log/record_batch.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using MutableByteView = std::span<uint8_t>;

// A refusal as the Produce response carries it: Kafka's code and a human reason
// (the response's error_message).
struct KafkaError {
    protocol::ErrorCode code = protocol::ErrorCode::unknown_server_error;
    std::string reason;
};

// A T or a KafkaError (keel::Result carries an Errc, which has no INVALID_TIMESTAMP,
// OUT_OF_ORDER_SEQUENCE_NUMBER, ...: the Produce path needs Kafka's codes exactly).
template <typename T>
class [[nodiscard]] KafkaResult {
public:
    KafkaResult(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
    KafkaResult(KafkaError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const& {
        KEEL_ASSERT(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        KEEL_ASSERT(ok());
        return std::get<0>(std::move(v_));
    }
    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }
    const KafkaError& error() const {
        KEEL_ASSERT(!ok());
        return std::get<1>(v_);
    }
    protocol::ErrorCode code() const { return ok() ? protocol::ErrorCode::none : error().code; }

private:
    std::variant<T, KafkaError> v_;
};

// Producer sequence arithmetic, as Kafka's DefaultRecordBatch: sequences are int32 and wrap
// from INT32_MAX to 0. Require increment, decrement >= 0 and sequence >= 0.
int32_t increment_sequence(int32_t sequence, int32_t increment);
int32_t decrement_sequence(int32_t sequence, int32_t decrement);

// Topic and broker settings validation needs, by their Kafka names.
struct ValidationConfig {
    int32_t max_message_bytes = 1048588;       // max.message.bytes (message.max.bytes)
    int64_t segment_bytes = int64_t{1} << 30;  // segment.bytes
    log::TimestampType timestamp_type = log::TimestampType::create_time;  // message.timestamp.type
    // message.timestamp.before.max.ms / after.max.ms (KIP-937); the older
    // message.timestamp.difference.max.ms sets both. Kafka's default: unbounded.
    int64_t timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
    int64_t timestamp_after_max_ms = std::numeric_limits<int64_t>::max();
    int64_t now_ms = 0;           // the broker's wall clock, for the CreateTime window
    int16_t produce_version = 9;  // the request's Produce version
    // Kafka accepts exactly one batch per partition. On: several contiguous batches of one
    // producer are accepted as one append (a Keel extension; off everywhere by default).
    bool allow_multiple_batches = false;
    bool compacted = false;  // cleanup.policy contains "compact": every record needs a key
    // Decompresses compressed batches so their records are checked like uncompressed ones
    // (compression::batch_codec() in a broker). Without one, a compressed batch is checked
    // by its header only.
    const log::BatchCodec* codec = nullptr;
};

// The checks of a partition with log config `lc`, at the broker's wall clock `now_ms`, for
// a Produce of `produce_version` (the group coordinator's own appends pass the newest).
ValidationConfig validation_config(const log::LogConfig& lc, int64_t now_ms, int16_t produce_version,
                                   const log::BatchCodec* codec);

// One accepted batch: where it sits in the records field and its header as sent.
struct ValidatedBatch {
    size_t position = 0;      // byte position in the records field
    log::BatchHeader header;  // base_offset as the producer sent it (normally 0)

    size_t size_bytes() const { return header.size_bytes(); }
    bool is_idempotent() const { return header.producer_id >= 0; }
    int32_t record_count() const { return header.records_count; }
    // The sequence of the batch's last record (Kafka wraps from INT32_MAX to 0).
    int32_t last_sequence() const;
};

// The whole records field, accepted.
struct ValidatedBatches {
    ByteView records;                     // the producer's bytes, untouched (a view of the input)
    std::vector<ValidatedBatch> batches;  // at least one; exactly one unless allow_multiple_batches
    int64_t record_count = 0;             // sum over the batches
    int64_t max_timestamp = log::batch_format::kNoTimestamp;  // max of the batches' maxTimestamp

    // Producer fields of the append (the first batch's; validation made them agree).
    int64_t producer_id() const { return batches.front().header.producer_id; }
    int16_t producer_epoch() const { return batches.front().header.producer_epoch; }
    int32_t base_sequence() const { return batches.front().header.base_sequence; }
};

// Validates a Produce partition's records field (see the table above). On success the
// result views `records`, which must outlive it.
KafkaResult<ValidatedBatches> validate_produce_records(ByteView records,
                                                       const ValidationConfig& config);

// The record-level checks of one batch (part of the above; exposed for tests): every
// record's timestamp against the CreateTime window and the LogAppendTime rule
// (INVALID_TIMESTAMP), a key on every record of a compacted topic, and, for a compressed
// batch, that it decompresses to exactly recordsCount records at offset deltas 0..n-1
// (INVALID_RECORD; Kafka would rewrite odd inner offsets, Keel stores batches as sent).
// Uncompressed batches are always checked record by record, as Kafka does; compressed ones
// only with config.codec, and otherwise by their header's baseTimestamp and maxTimestamp.
KafkaResult<std::monostate> check_records(const log::BatchHeader& header, ByteView batch,
                                          const ValidationConfig& config);

// LogAppendTime: sets the timestamp-type attribute bit and maxTimestamp = now_ms, then
// recomputes the CRC, exactly as Kafka's in-place path (DefaultRecordBatch.setMaxTimestamp).
// Kafka leaves baseTimestamp (firstTimestamp) alone: records' deltas are relative to it, and
// a reader of a LogAppendTime batch takes every record's timestamp from maxTimestamp. So
// does Keel. `batch` is one whole batch; Errc::invalid_record if it is not one (too short,
// not magic 2, or batchLength disagreeing with its size).
Status apply_log_append_time(MutableByteView batch, int64_t now_ms);

}  // namespace keel::broker
