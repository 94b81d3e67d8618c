#include "core/log/log_config.h"

#include <string>

#include "core/log/checkpoint.h"

namespace keel::log {

Status LogConfig::validate() const {
    auto bad = [](const char* what) { return Status(Errc::invalid_argument, what); };
    if (segment_bytes < 14 + static_cast<int64_t>(batch_format::kHeaderSize) ||
        segment_bytes > std::numeric_limits<int32_t>::max()) {
        return bad("segment.bytes must be in [75, 2^31-1]");
    }
    if (segment_ms < 1) return bad("segment.ms must be >= 1");
    if (flush_messages < 1) return bad("flush.messages must be >= 1");
    if (flush_ms < 0) return bad("flush.ms must be >= 0");
    if (retention_ms < -1) return bad("retention.ms must be >= -1");
    if (retention_bytes < -1) return bad("retention.bytes must be >= -1");
    if (!cleanup_delete && !cleanup_compact) return bad("cleanup.policy must name delete or compact");
    if (delete_retention_ms < 0) return bad("delete.retention.ms must be >= 0");
    if (min_compaction_lag_ms < 0) return bad("min.compaction.lag.ms must be >= 0");
    if (!(min_cleanable_dirty_ratio >= 0 && min_cleanable_dirty_ratio <= 1)) {
        return bad("min.cleanable.dirty.ratio must be in [0, 1]");
    }
    if (index_interval_bytes < 0) return bad("index.interval.bytes must be >= 0");
    if (max_message_bytes < 0) return bad("max.message.bytes must be >= 0");
    if (cleaner_map_entries_max < 1 || cleaner_step_bytes < 1) return bad("cleaner limits must be >= 1");
    return ok_status();
}

namespace {

bool set_int(int64_t& field, std::string_view value, int64_t min) {
    auto v = parse_int64(value);
    if (!v || *v < min) return false;
    field = *v;
    return true;
}

bool set_policy(LogConfig& c, std::string_view value) {
    bool del = false, compact = false;
    size_t start = 0;
    while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string_view item = value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item == "delete") del = true;
        else if (item == "compact") compact = true;
        else return false;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    c.cleanup_delete = del;
    c.cleanup_compact = compact;
    return true;
}

}  // namespace

Status set_log_property(LogConfig& c, std::string_view name, std::string_view value) {
    int64_t v = 0;
    bool ok = false;
    if (name == "segment.bytes") ok = set_int(c.segment_bytes, value, 0);
    else if (name == "segment.ms") ok = set_int(c.segment_ms, value, 1);
    else if (name == "flush.messages") ok = set_int(c.flush_messages, value, 1);
    else if (name == "flush.ms") ok = set_int(c.flush_ms, value, 0);
    else if (name == "retention.ms") ok = set_int(c.retention_ms, value, -1);
    else if (name == "retention.bytes") ok = set_int(c.retention_bytes, value, -1);
    else if (name == "cleanup.policy") ok = set_policy(c, value);
    else if (name == "delete.retention.ms") ok = set_int(c.delete_retention_ms, value, 0);
    else if (name == "min.compaction.lag.ms") ok = set_int(c.min_compaction_lag_ms, value, 0);
    else if (name == "index.interval.bytes" || name == "max.message.bytes") {
        ok = set_int(v, value, 0) && v <= std::numeric_limits<int32_t>::max();
        if (ok) (name == "index.interval.bytes" ? c.index_interval_bytes : c.max_message_bytes) = static_cast<int32_t>(v);
    } else if (name == "message.timestamp.type") {
        ok = value == "CreateTime" || value == "LogAppendTime";
        if (ok) c.message_timestamp_type = value == "CreateTime" ? TimestampType::create_time : TimestampType::log_append_time;
    } else if (name == "min.cleanable.dirty.ratio") {
        // Accept "0.5"-style decimals without locale-dependent parsing.
        size_t dot = value.find('.');
        auto whole = parse_int64(value.substr(0, dot));
        std::string_view frac = dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
        auto frac_v = frac.empty() ? std::optional<int64_t>(0) : parse_int64(frac);
        ok = whole && frac_v && *whole >= 0 && frac.size() < 10;
        if (ok) {
            double scale = 1;
            for (size_t i = 0; i < frac.size(); i++) scale *= 10;
            c.min_cleanable_dirty_ratio = static_cast<double>(*whole) + static_cast<double>(*frac_v) / scale;
        }
    } else {
        return Status(Errc::invalid_argument, "unknown log property " + std::string(name));
    }
    if (!ok) return Status(Errc::invalid_argument, "bad value '" + std::string(value) + "' for " + std::string(name));
    return c.validate();
}

std::optional<std::string> get_log_property(const LogConfig& c, std::string_view name) {
    if (name == "segment.bytes") return std::to_string(c.segment_bytes);
    if (name == "segment.ms") return std::to_string(c.segment_ms);
    if (name == "flush.messages") return std::to_string(c.flush_messages);
    if (name == "flush.ms") return std::to_string(c.flush_ms);
    if (name == "retention.ms") return std::to_string(c.retention_ms);
    if (name == "retention.bytes") return std::to_string(c.retention_bytes);
    if (name == "cleanup.policy") {
        if (c.cleanup_delete && c.cleanup_compact) return "delete,compact";
        return c.cleanup_compact ? "compact" : "delete";
    }
    if (name == "delete.retention.ms") return std::to_string(c.delete_retention_ms);
    if (name == "min.compaction.lag.ms") return std::to_string(c.min_compaction_lag_ms);
    if (name == "index.interval.bytes") return std::to_string(c.index_interval_bytes);
    if (name == "max.message.bytes") return std::to_string(c.max_message_bytes);
    if (name == "message.timestamp.type") {
        return c.message_timestamp_type == TimestampType::create_time ? "CreateTime" : "LogAppendTime";
    }
    if (name == "min.cleanable.dirty.ratio") {
        // Up to 9 decimals, trailing zeros dropped: set_log_property reads it back exactly
        // for the ratios it accepts.
        auto micro = static_cast<int64_t>(c.min_cleanable_dirty_ratio * 1e9 + 0.5);
        std::string frac = std::to_string(1'000'000'000 + micro % 1'000'000'000).substr(1);
        while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
        return std::to_string(micro / 1'000'000'000) + "." + frac;
    }
    return std::nullopt;
}

}  // namespace keel::log
