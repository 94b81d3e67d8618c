// ProducerBatch: the records a producer collects for one partition before sending them as
// one RecordBatch v2 (magic 2), with the promises of their senders. The batch's bytes are
// encoded once, when first drained, with the producer id, epoch and base sequence of the
// idempotent producer; every retry resends those same bytes (same sequence), which is what
// lets the broker recognise a retried duplicate.
//
// encode_producer_batch is the pure record-batch builder the producer uses (and tests use
// directly): keys, values, headers, timestamps, producer id/epoch/base sequence, compression
// through a log::BatchCodec (keel_client links no compression library).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/client/types.h"
#include "core/env/sync.h"
#include "core/log/record_batch.h"

namespace keel::client {

// Identity stamped on a batch by the idempotent producer (none: -1/-1/-1).
struct ProducerIdentity {
    int64_t producer_id = log::batch_format::kNoProducerId;
    int16_t producer_epoch = log::batch_format::kNoProducerEpoch;
    int32_t base_sequence = log::batch_format::kNoSequence;
    bool operator==(const ProducerIdentity&) const = default;
};

// The batch bytes for `records` (already added to the builder) with `identity` in the
// header and the records section compressed with `compression`. Errors:
// Errc::invalid_argument (compression other than none without a codec, or an empty
// builder), the codec's errors.
Result<Bytes> encode_producer_batch(const log::RecordBatchBuilder& records, const ProducerIdentity& identity,
                                    log::Compression compression, const log::BatchCodec* codec);

// Bytes a record adds to a batch, estimated from its fields (Kafka's
// DefaultRecord.sizeInBytes upper bound; used to decide whether the record fits).
size_t estimated_record_size(const ProducerRecord& record);

class ProducerBatch {
public:
    ProducerBatch(TopicPartitionName tp, Instant created, size_t batch_size_max)
        : tp_(std::move(tp)), created_(created), batch_size_max_(batch_size_max) {}

    // Appends the record if it fits in batch_size_max (an empty batch takes any one record)
    // and returns the future of its metadata; nullopt if it does not fit. Requires the
    // batch not to be encoded yet.
    std::optional<env::Future<RecordMetadata>> try_append(env::Executor& ex, const ProducerRecord& record,
                                                          int64_t timestamp_ms);

    // Whether try_append would take the record.
    bool fits(const ProducerRecord& record) const {
        return !encoded_.has_value() && !full_ &&
               (builder_.empty() || size_bytes() + estimated_record_size(record) <= batch_size_max_);
    }

    // Encodes the bytes once (later calls return the same bytes).
    Result<ByteView> encode(const ProducerIdentity& identity, log::Compression compression,
                            const log::BatchCodec* codec);
    bool encoded() const { return encoded_.has_value(); }
    const ProducerIdentity& identity() const { return identity_; }

    // Completes every record's future: offsets base_offset + i (or -1 if base_offset < 0).
    void complete(Offset base_offset, int64_t log_append_time_ms);
    // Fails every record's future with `error`.
    void fail(const Error& error);

    const TopicPartitionName& tp() const { return tp_; }
    int32_t record_count() const { return builder_.record_count(); }
    size_t size_bytes() const { return log::batch_format::kHeaderSize + builder_.records().size(); }
    bool full() const { return full_; }
    void mark_full() { full_ = true; }
    Instant created() const { return created_; }
    bool done() const { return done_; }

    int attempts = 0;                  // sends so far
    size_t buffered_bytes = 0;         // what the producer charged its buffer for this batch
    std::optional<Instant> retry_at;   // backoff: not before this instant
    int32_t last_sequence() const { return identity_.base_sequence + record_count() - 1; }

private:
    TopicPartitionName tp_;
    Instant created_;
    size_t batch_size_max_;
    log::RecordBatchBuilder builder_;
    std::vector<env::Promise<RecordMetadata>> promises_;
    std::vector<int64_t> timestamps_;
    std::optional<Bytes> encoded_;
    ProducerIdentity identity_;
    bool full_ = false;
    bool done_ = false;
};

}  // namespace keel::client
