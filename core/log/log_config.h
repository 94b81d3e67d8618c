// LogConfig: a partition log's tunables, named after Kafka's topic-level properties (the
// broker-level `log.` forms set the defaults). Values use Kafka's units and sentinels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/log/record_batch.h"

namespace keel::log {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct LogConfig {
    int64_t segment_bytes = int64_t{1} << 30;            // segment.bytes (1 GiB)
    int64_t segment_ms = 7LL * 24 * 3600 * 1000;         // segment.ms (7 days)
    int64_t flush_messages = kNever;                     // flush.messages (Kafka: never)
    int64_t flush_ms = kNever;                           // flush.ms (Kafka: never)
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;       // retention.ms (-1: unlimited)
    int64_t retention_bytes = -1;                        // retention.bytes (-1: unlimited)
    bool cleanup_delete = true;                          // cleanup.policy contains "delete"
    bool cleanup_compact = false;                        // cleanup.policy contains "compact"
    int64_t delete_retention_ms = 24LL * 3600 * 1000;    // delete.retention.ms (1 day)
    int64_t min_compaction_lag_ms = 0;                   // min.compaction.lag.ms
    double min_cleanable_dirty_ratio = 0.5;              // min.cleanable.dirty.ratio
    int32_t index_interval_bytes = 4096;                 // index.interval.bytes
    int32_t max_message_bytes = 1048588;                 // max.message.bytes
    TimestampType message_timestamp_type = TimestampType::create_time;  // message.timestamp.type
    int64_t flush_offset_checkpoint_interval_ms = 60000; // log.flush.offset.checkpoint.interval.ms
    size_t cleaner_map_entries_max = size_t{1} << 20;    // cf. log.cleaner.dedupe.buffer.size
    size_t cleaner_step_bytes = size_t{1} << 20;         // cf. log.cleaner.io.buffer.size: work per step

    // Errc::invalid_argument when a value is out of its range.
    Status validate() const;
    bool operator==(const LogConfig&) const = default;
};

// Sets one property by its Kafka name ("segment.bytes", "cleanup.policy", ...), from its
// string form. Errc::invalid_argument for an unknown name or a bad value.
Status set_log_property(LogConfig& config, std::string_view name, std::string_view value);

// The string form of one property by its Kafka name, as set_log_property reads it back
// ("delete,compact", "CreateTime", "0.5"); nullopt for a name set_log_property does not know.
std::optional<std::string> get_log_property(const LogConfig& config, std::string_view name);

}  // namespace keel::log
