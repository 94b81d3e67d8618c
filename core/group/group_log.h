// GroupLog: how the group coordinator reaches its partitions of __consumer_offsets. The
// broker implements it over its ReplicaManager (the coordinator of a partition is its
// leader); tests implement it in memory (tests/group/).
//
// Records are (key, value) pairs in Kafka's __consumer_offsets format
// (offsets_records.h); a null value is a tombstone.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::group {

struct OffsetsRecord {
    Bytes key;
    std::optional<Bytes> value;  // nullopt: a tombstone
};

class GroupLog {
public:
    virtual ~GroupLog() = default;

    // Appends the records as one batch to `partition`, as its leader at `leader_epoch`, and
    // waits until they are committed (the high watermark passes them: acks=all with
    // min.insync.replicas), or until `deadline`. Errors: not_leader (leadership moved or the
    // epoch is stale), not_enough_replicas, timeout (the records may still commit: the
    // caller treats it as indeterminate), closed.
    virtual Status append(int32_t partition, LeaderEpoch leader_epoch, std::vector<OffsetsRecord> records,
                          Instant deadline) = 0;

    // Calls `fn` for every committed record of `partition` (log start to high watermark) in
    // offset order, as the leader at `leader_epoch`. Parks while reading. Errors: not_leader,
    // corrupt_record (a batch that fails its CRC: the load fails, the partition stays
    // unloaded and is retried), closed.
    virtual Status read_committed(int32_t partition, LeaderEpoch leader_epoch,
                                  const std::function<void(const OffsetsRecord&)>& fn) = 0;
};

}  // namespace keel::group
