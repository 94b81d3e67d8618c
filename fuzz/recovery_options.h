// The options the recovery fuzz targets (and their seeds) open a log or a Raft storage
// with, chosen by the input's flags byte.
#pragma once

#include <cstdint>

#include "core/compression/batch.h"
#include "core/log/partition_log.h"
#include "core/raft/raft_storage.h"
#include "fuzz/mem_disk.h"

namespace keel::fuzz {

inline constexpr const char* kLogDir = "t-0";
inline constexpr const char* kRaftDir = "__cluster_metadata-0";

// Flags: bit 0 compacted topic, bit 1 index every batch, bits 2-3 segment size.
inline log::PartitionLogOptions log_options(MemDisk& disk, env::Clock& clock, uint8_t flags) {
    log::PartitionLogOptions o;
    o.disk = &disk;
    o.clock = &clock;
    o.codec = &compression::batch_codec();
    o.dir = kLogDir;
    o.topic = "t";
    o.partition = 0;
    o.config.cleanup_compact = (flags & 1) != 0;
    o.config.index_interval_bytes = (flags & 2) ? 1 : 4096;
    static constexpr int64_t kSegmentBytes[] = {int64_t{1} << 30, 4096, 512, 100};
    o.config.segment_bytes = kSegmentBytes[(flags >> 2) & 3];
    return o;
}

// Flags: bits 0-1 segment size, bit 2 one read attempt instead of three.
inline raft::RaftStorageOptions raft_options(MemDisk& disk, env::Clock& clock, uint8_t flags) {
    raft::RaftStorageOptions o;
    o.disk = &disk;
    o.clock = &clock;
    static constexpr int64_t kSegmentBytes[] = {8 << 20, 4096, 512, 100};
    o.segment_bytes = kSegmentBytes[flags & 3];
    o.read_attempts = (flags & 4) ? 1 : 3;
    return o;
}

}  // namespace keel::fuzz
