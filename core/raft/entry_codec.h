// How log entries travel in the Records field of a Fetch response.
//
// Interim format, until the RecordBatch v2 codec (core/log/record_batch.h) is in: a
// sequence of {offset int64, epoch int32, kind int8, payload (int32 length + bytes)}.
// Only this file knows the format; switching to RecordBatch v2 (one batch per entry,
// partitionLeaderEpoch = epoch, control bit for LeaderChange) changes nothing else.
#pragma once

#include <span>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

Bytes encode_entries(std::span<const LogEntry> entries);

// Errc::invalid_record (with the reason) for malformed bytes or an unknown entry kind.
Result<std::vector<LogEntry>> decode_entries(ByteView bytes);

}  // namespace keel::raft
