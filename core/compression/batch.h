// RecordBatch helpers that need the real codecs: decoding a compressed batch's records
// and building compressed batches (the client's producer side).
#pragma once

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/log/record_batch.h"

namespace keel::compression {

// A log::BatchCodec backed by codec.h; hand it to PartitionLog (compaction, timestamp
// lookups) or to log::decode_batch. Stateless; lives for the whole program.
const log::BatchCodec& batch_codec();

// The first batch of `batch`, checked (CRC, structure) with its records decoded,
// decompressing if needed. Errors as log::decode_batch and decompress().
Result<log::DecodedBatch> decode_batch(ByteView batch);

// The builder's records as a batch compressed with `codec` (none: uncompressed).
Result<Bytes> build_batch(const log::RecordBatchBuilder& builder, log::Compression codec);

}  // namespace keel::compression
