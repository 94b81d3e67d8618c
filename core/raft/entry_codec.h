// How Raft log entries are encoded, on the wire (the Records field of a KRaft Fetch
// response) and on disk (the __cluster_metadata-0 partition log): RecordBatch v2, as
// Kafka's KRaft does, one batch per entry. baseOffset = the entry's offset,
// partitionLeaderEpoch = its epoch, one record whose value is the payload; a LeaderChange
// entry is a control batch whose record key is Kafka's control key (version 0, type 2).
// Every batch carries its CRC-32C, so a damaged frame or disk block is caught here.
#pragma once

#include <span>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/raft/raft_types.h"

namespace keel::raft {

// One entry as one batch; `timestamp_ms` is the record's timestamp (the leader's append
// time on disk; the wire does not need one, and the follower stamps its own).
Bytes encode_entry_batch(const LogEntry& e, int64_t timestamp_ms);
// Errc::invalid_record (with the reason) unless `batch` is exactly one valid batch that
// holds exactly one entry record.
Result<LogEntry> decode_entry_batch(ByteView batch);

// A run of entries as consecutive batches (timestamps 0), and back.
Bytes encode_entries(std::span<const LogEntry> entries);
// Errc::invalid_record (with the reason) for a cut, damaged or foreign batch.
Result<std::vector<LogEntry>> decode_entries(ByteView bytes);

}  // namespace keel::raft
