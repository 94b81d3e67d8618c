// Human-readable renderings of a partition directory's files, in the spirit of Kafka's
// kafka-dump-log.sh: pure functions from bytes to text (the `keel dump-log` command reads
// the files). Damage is shown, never hidden: each batch says whether its CRC holds, and
// a batch that cannot be parsed ends the listing with its position and the reason.
#pragma once

#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/types.h"
#include "core/log/record_batch.h"

namespace keel::log {

struct DumpOptions {
    bool print_records = true;      // one line per record under its batch
    size_t max_payload_chars = 80;  // longer keys/values/header values are cut with "..."
    const BatchCodec* codec = nullptr;  // to list records of compressed batches
};

// A .log segment's batches and records. base_offset is the segment's (from its name).
std::string dump_log_segment(ByteView bytes, Offset base_offset, const DumpOptions& options);
// A .index file: one "offset: O position: P" line per entry.
std::string dump_offset_index(ByteView bytes, Offset base_offset);
// A .timeindex file: one "timestamp: T offset: O" line per entry.
std::string dump_time_index(ByteView bytes, Offset base_offset);
// A leader-epoch-checkpoint file.
std::string dump_leader_epoch_checkpoint(std::string_view text);
// A recovery-point / log-start / cleaner offset checkpoint.
std::string dump_offset_checkpoint(std::string_view text);

// Key, value or header bytes for a human: printable ASCII as is, other bytes as \xNN,
// cut at max_chars with "...".
std::string printable(ByteView bytes, size_t max_chars);

}  // namespace keel::log
