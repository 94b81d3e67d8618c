// RecordBatch v2 (magic 2): Kafka's only stored and wire format for records, byte for
// byte. See docs/log-format.md ("RecordBatch v2") for the layout.
//
//   offset size field                   offset size field
//     0     8  baseOffset                  35   8  maxTimestamp
//     8     4  batchLength (= size - 12)   43   8  producerId
//    12     4  partitionLeaderEpoch        51   2  producerEpoch
//    16     1  magic (= 2)                 53   4  baseSequence
//    17     4  crc (CRC-32C of [21, end))  57   4  recordsCount
//    21     2  attributes                  61   …  records (maybe one compressed blob)
//    23     4  lastOffsetDelta
//    27     8  baseTimestamp
//
// Errors: a batch whose CRC does not match is Errc::corrupt_record; any other structural
// problem (too short, wrong magic, lengths or counts that disagree, malformed varints) is
// Errc::invalid_record. Callers reading their own disk translate both to Errc::corrupt.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::log {

enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };
std::string_view compression_name(Compression c);

enum class TimestampType : uint8_t { create_time = 0, log_append_time = 1 };

// Byte positions and sizes of the v2 batch header.
namespace batch_format {
inline constexpr size_t kBaseOffsetPos = 0;
inline constexpr size_t kBatchLengthPos = 8;
inline constexpr size_t kPartitionLeaderEpochPos = 12;
inline constexpr size_t kMagicPos = 16;
inline constexpr size_t kCrcPos = 17;
inline constexpr size_t kAttributesPos = 21;  // first byte the CRC covers
inline constexpr size_t kLastOffsetDeltaPos = 23;
inline constexpr size_t kBaseTimestampPos = 27;
inline constexpr size_t kMaxTimestampPos = 35;
inline constexpr size_t kProducerIdPos = 43;
inline constexpr size_t kProducerEpochPos = 51;
inline constexpr size_t kBaseSequencePos = 53;
inline constexpr size_t kRecordsCountPos = 57;
inline constexpr size_t kRecordsPos = 61;
inline constexpr size_t kHeaderSize = 61;
inline constexpr size_t kLogOverhead = 12;  // baseOffset + batchLength precede the length
inline constexpr int32_t kMinBatchLength = static_cast<int32_t>(kHeaderSize - kLogOverhead);
inline constexpr int8_t kMagic = 2;

inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;
inline constexpr int16_t kDeleteHorizonBit = 0x40;

inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;
inline constexpr int32_t kNoPartitionLeaderEpoch = -1;
inline constexpr int64_t kNoTimestamp = -1;
}  // namespace batch_format

struct BatchHeader {
    Offset base_offset{0};
    int32_t batch_length = 0;
    LeaderEpoch partition_leader_epoch{batch_format::kNoPartitionLeaderEpoch};
    int8_t magic = batch_format::kMagic;
    uint32_t crc = 0;
    int16_t attributes = 0;
    int32_t last_offset_delta = 0;
    int64_t base_timestamp = batch_format::kNoTimestamp;
    int64_t max_timestamp = batch_format::kNoTimestamp;
    int64_t producer_id = batch_format::kNoProducerId;
    int16_t producer_epoch = batch_format::kNoProducerEpoch;
    int32_t base_sequence = batch_format::kNoSequence;
    int32_t records_count = 0;

    // Whole batch, including baseOffset and batchLength.
    size_t size_bytes() const { return static_cast<size_t>(batch_length) + batch_format::kLogOverhead; }
    Offset last_offset() const { return base_offset + last_offset_delta; }
    Offset next_offset() const { return last_offset() + 1; }
    Compression compression() const {
        return static_cast<Compression>(attributes & batch_format::kCompressionMask);
    }
    TimestampType timestamp_type() const {
        return (attributes & batch_format::kTimestampTypeBit) ? TimestampType::log_append_time
                                                              : TimestampType::create_time;
    }
    bool is_transactional() const { return (attributes & batch_format::kTransactionalBit) != 0; }
    bool is_control() const { return (attributes & batch_format::kControlBit) != 0; }
    // KIP-534: once set by the cleaner, baseTimestamp holds the delete horizon (ms) after
    // which this batch's tombstones may be dropped.
    std::optional<int64_t> delete_horizon_ms() const {
        if ((attributes & batch_format::kDeleteHorizonBit) == 0) return std::nullopt;
        return base_timestamp;
    }
};

// Parses the 61-byte header at the start of `bytes`. Checks only that the header is
// there, that magic is 2 and that batchLength is at least 49: Errc::invalid_record
// otherwise. Does not check the CRC or that the whole batch is present.
Result<BatchHeader> parse_batch_header(ByteView bytes);

// CRC-32C over [attributes, end of batch). Requires batch.size() >= kHeaderSize.
uint32_t compute_batch_crc(ByteView batch);

// The first batch of `bytes`, checked: header as above, the whole batch present
// (Errc::invalid_record if cut short) and its CRC (Errc::corrupt_record).
Result<BatchHeader> read_batch(ByteView bytes);

// Deep checks a producer's batch needs beyond read_batch: a known codec, recordsCount > 0,
// lastOffsetDelta == recordsCount - 1, and, if uncompressed, that the records parse
// exactly (offset deltas 0..n-1, lengths consistent, no trailing bytes). Errc::invalid_record.
Status validate_producer_batch(const BatchHeader& h, ByteView batch);

// Overwrites fields the CRC does not cover (the broker's offset assignment and epoch).
void set_base_offset(std::span<uint8_t> batch, Offset base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch);
// LogAppendTime: sets the timestamp-type attribute and maxTimestamp, then the CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);

struct RecordHeader {
    std::string_view key;
    std::optional<ByteView> value;
};

// One record, as views into the bytes it was parsed from (the batch, or the decompressed
// records section): those bytes must outlive it.
struct Record {
    Offset offset{0};
    int64_t timestamp = 0;  // baseTimestamp + timestampDelta
    int8_t attributes = 0;
    std::optional<ByteView> key;    // nullopt: null key
    std::optional<ByteView> value;  // nullopt: null value (a tombstone)
    std::vector<RecordHeader> headers;
};

// Parses an uncompressed records section (the bytes after recordsCount, or the output of
// decompressing them). Errc::invalid_record if it does not hold exactly
// h.records_count well-formed records.
Result<std::vector<Record>> parse_records(const BatchHeader& h, ByteView records);

// The records section of a whole batch (bytes after recordsCount).
inline ByteView records_section(ByteView batch) {
    return batch.subspan(batch_format::kRecordsPos);
}

// A decoder for compressed records sections. core/log is standard-library only; the real
// codecs (gzip, snappy, lz4, zstd) live in core/compression, which implements this.
class BatchCodec {
public:
    virtual ~BatchCodec() = default;
    // Errc::invalid_record (bad input) or Errc::message_too_large (output over max_bytes).
    virtual Result<Bytes> decompress(Compression c, ByteView data, size_t max_bytes) const = 0;
    virtual Result<Bytes> compress(Compression c, ByteView data) const = 0;
};

inline constexpr size_t kMaxDecompressedBatchBytes = size_t{256} << 20;

// A batch with its records parsed; records view `storage` (compressed batches) or the
// batch bytes passed to decode_batch (uncompressed), which must outlive it.
struct DecodedBatch {
    BatchHeader header;
    Bytes storage;
    std::vector<Record> records;
};

// Header (read_batch checks) and records of the first batch in `batch`. A compressed batch
// needs `codec`; without one: Errc::unsupported_version ("no codec").
Result<DecodedBatch> decode_batch(ByteView batch, const BatchCodec* codec);

// Builds v2 batches byte for byte as Kafka's producer writes them.
class RecordBatchBuilder {
public:
    struct Fields {
        Offset base_offset{0};
        LeaderEpoch partition_leader_epoch{batch_format::kNoPartitionLeaderEpoch};
        bool transactional = false;
        bool control = false;
        TimestampType timestamp_type = TimestampType::create_time;
        int64_t producer_id = batch_format::kNoProducerId;
        int16_t producer_epoch = batch_format::kNoProducerEpoch;
        int32_t base_sequence = batch_format::kNoSequence;
        // KIP-534 delete horizon: when set, baseTimestamp holds it and the attribute bit is
        // set; record timestamp deltas are then relative to it.
        std::optional<int64_t> delete_horizon_ms;
        // LogAppendTime batches keep the broker's time here instead of the records' max.
        std::optional<int64_t> max_timestamp;
    };
    struct HeaderInput {
        std::string_view key;
        std::optional<ByteView> value;
    };

    RecordBatchBuilder() = default;
    explicit RecordBatchBuilder(Fields fields) : fields_(fields) {}

    // Appends a record at the next offset delta.
    RecordBatchBuilder& add(int64_t timestamp, std::optional<ByteView> key,
                            std::optional<ByteView> value,
                            std::span<const HeaderInput> headers = {});
    // Appends a record at an explicit offset (>= base_offset, above the previous one):
    // the cleaner keeps original offsets when it drops records.
    RecordBatchBuilder& add_at(Offset offset, int64_t timestamp, std::optional<ByteView> key,
                               std::optional<ByteView> value,
                               std::span<const HeaderInput> headers = {});

    int32_t record_count() const { return count_; }
    bool empty() const { return count_ == 0; }
    const Fields& fields() const { return fields_; }

    // The uncompressed records section built so far.
    ByteView records() const { return records_.size() ? ByteView(records_.data(), records_.size()) : ByteView(); }
    // An uncompressed batch. Requires at least one record.
    Bytes build() const;
    // A batch whose records section is `section` (e.g. compressed records()) under codec c.
    Bytes build_with_section(ByteView section, Compression c) const;

private:
    Fields fields_;
    Bytes records_;
    int32_t count_ = 0;
    int32_t last_offset_delta_ = -1;
    int64_t base_timestamp_ = batch_format::kNoTimestamp;
    int64_t max_timestamp_ = batch_format::kNoTimestamp;
};

}  // namespace keel::log
