#include "core/controller/topic_configs.h"

#include <algorithm>
#include <initializer_list>

#include "core/log/log_config.h"

namespace keel::controller {

namespace {

const std::vector<TopicConfigDef>& defs() {
    static const std::vector<TopicConfigDef> all = [] {
        std::vector<TopicConfigDef> d = {
            {"cleanup.policy", ConfigType::list, {"log.cleanup.policy"}, "delete",
             "delete old segments (retention), compact to the last record per key, or both"},
            {"compression.type", ConfigType::string, {"compression.type"}, "producer",
             "stored and described; Keel keeps batches as the producer compressed them"},
            {"delete.retention.ms", ConfigType::int64, {"log.cleaner.delete.retention.ms"}, "86400000",
             "how long a compacted topic keeps tombstones"},
            {"file.delete.delay.ms", ConfigType::int64, {"log.segment.delete.delay.ms"}, "60000",
             "stored and described; deleted segments wait log.segment.delete.delay.ms (broker-wide)"},
            {"flush.messages", ConfigType::int64, {"log.flush.interval.messages"}, "9223372036854775807",
             "fsync after this many records"},
            {"flush.ms", ConfigType::int64, {"log.flush.interval.ms"}, "9223372036854775807",
             "fsync after this long"},
            {"index.interval.bytes", ConfigType::int32, {"log.index.interval.bytes"}, "4096",
             "bytes between offset index entries"},
            {"max.compaction.lag.ms", ConfigType::int64, {"log.cleaner.max.compaction.lag.ms"},
             "9223372036854775807", "stored and described; the cleaner runs on the dirty ratio"},
            {"max.message.bytes", ConfigType::int32, {"message.max.bytes"}, "1048588",
             "largest record batch accepted"},
            {"message.timestamp.type", ConfigType::string, {"log.message.timestamp.type"}, "CreateTime",
             "CreateTime (the producer's) or LogAppendTime (the broker's)"},
            {"min.cleanable.dirty.ratio", ConfigType::float64, {"log.cleaner.min.cleanable.ratio"}, "0.5",
             "the dirty share of a compacted log that starts the cleaner"},
            {"min.compaction.lag.ms", ConfigType::int64, {"log.cleaner.min.compaction.lag.ms"}, "0",
             "records younger than this are not compacted"},
            {"min.insync.replicas", ConfigType::int32, {"min.insync.replicas"}, "1",
             "acks=all needs this many in-sync replicas"},
            {"retention.bytes", ConfigType::int64, {"log.retention.bytes"}, "-1",
             "per partition; -1: unlimited"},
            {"retention.ms", ConfigType::int64, {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
             "604800000", "how long records are kept; -1: unlimited"},
            {"segment.bytes", ConfigType::int32, {"log.segment.bytes"}, "1073741824", "segment size"},
            {"segment.index.bytes", ConfigType::int32, {"log.index.size.max.bytes"}, "10485760",
             "stored and described; Keel's indexes grow as needed"},
            {"segment.ms", ConfigType::int64, {"log.roll.ms", "log.roll.hours"}, "604800000",
             "a segment older than this is rolled"},
            {"unclean.leader.election.enable", ConfigType::boolean, {"unclean.leader.election.enable"}, "false",
             "elect a replica outside the ISR when none is left (may lose acknowledged records)"},
        };
        std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        return d;
    }();
    return all;
}

bool is_integer(const std::string& v, int64_t min) {
    if (v.empty() || v.size() > 19) return false;
    size_t i = v[0] == '-' ? 1 : 0;
    if (i == v.size()) return false;
    for (size_t k = i; k < v.size(); k++) {
        if (v[k] < '0' || v[k] > '9') return false;
    }
    return std::stoll(v) >= min;
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
    return std::any_of(options.begin(), options.end(), [&](const char* o) { return v == o; });
}

}  // namespace

std::span<const TopicConfigDef> topic_config_defs() { return defs(); }

const TopicConfigDef* find_topic_config(std::string_view name) {
    for (const TopicConfigDef& d : defs()) {
        if (d.name == name) return &d;
    }
    return nullptr;
}

Status validate_topic_config(const std::string& name, const std::optional<std::string>& value) {
    const TopicConfigDef* def = find_topic_config(name);
    if (def == nullptr) return Status(Errc::invalid_config, "unknown topic config " + name);
    if (!value) return Status(Errc::invalid_config, "config " + name + " has a null value");
    const std::string& v = *value;
    bool ok = true;
    if (name == "unclean.leader.election.enable") {
        ok = one_of(v, {"true", "false"});
    } else if (name == "min.insync.replicas") {
        ok = is_integer(v, 1) && std::stoll(v) <= INT32_MAX;
    } else if (name == "compression.type") {
        ok = one_of(v, {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"});
    } else if (name == "max.compaction.lag.ms") {
        ok = is_integer(v, 1);
    } else if (name == "segment.index.bytes") {
        ok = is_integer(v, 4) && std::stoll(v) <= INT32_MAX;
    } else if (name == "file.delete.delay.ms") {
        ok = is_integer(v, 0);
    } else {
        // The rest are partition-log properties: the log's own parser and range checks
        // decide, so nothing is accepted here that a log would then ignore.
        log::LogConfig c;
        Status st = log::set_log_property(c, name, v);
        if (!st.ok()) {
            return Status(Errc::invalid_config, "invalid value " + v + " for config " + name + ": " +
                                                    st.error().message);
        }
    }
    if (!ok) return Status(Errc::invalid_config, "invalid value " + v + " for config " + name);
    return ok_status();
}

}  // namespace keel::controller
