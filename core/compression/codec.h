// The four record-batch codecs Kafka clients use, as pure functions over bytes
// (deterministic: same input, same output). Built on Debian's zlib, libsnappy, liblz4 and
// libzstd; a separate library (keel_compression) so core/log stays standard-library only.
//
// Framing, as Kafka writes it (kafka-wire.md §4.6):
//   gzip   a gzip stream (RFC 1952); concatenated members are accepted on input
//   snappy raw snappy (librdkafka) or xerial framing (Java client, kafka-python): both read;
//          compress() writes xerial, which every client reads
//   lz4    LZ4 frame format, written as Kafka does: 64 KiB independent blocks, no checksums
//   zstd   a standard zstd frame
//
// Errors: Errc::invalid_record for input that does not decode; Errc::message_too_large when
// the output would exceed max_bytes (a decompression bomb is bad input, not an allocation).
#pragma once

#include <cstddef>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/log/record_batch.h"

namespace keel::compression {

using log::Compression;

inline constexpr size_t kDefaultMaxBytes = log::kMaxDecompressedBatchBytes;

Result<Bytes> decompress(Compression codec, ByteView data, size_t max_bytes = kDefaultMaxBytes);
Result<Bytes> compress(Compression codec, ByteView data);

// Per-codec entry points (decompress dispatches to these).
Result<Bytes> gzip_decompress(ByteView data, size_t max_bytes);
Result<Bytes> gzip_compress(ByteView data);
Result<Bytes> snappy_decompress(ByteView data, size_t max_bytes);  // raw or xerial
Result<Bytes> snappy_compress_raw(ByteView data);
Result<Bytes> snappy_compress_xerial(ByteView data);
Result<Bytes> lz4_decompress(ByteView data, size_t max_bytes);
Result<Bytes> lz4_compress(ByteView data);
Result<Bytes> zstd_decompress(ByteView data, size_t max_bytes);
Result<Bytes> zstd_compress(ByteView data);

// True if data starts with the xerial snappy magic (0x82 "SNAPPY" 0x00).
bool is_xerial_snappy(ByteView data);

}  // namespace keel::compression
