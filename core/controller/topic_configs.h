// The topic configs Keel knows: Kafka's topic-level names, their types, the broker
// properties that give their defaults (Kafka's "synonyms"), Kafka's defaults and one line
// of documentation. The controller validates CreateTopics' and the alter-configs requests'
// values against it; the broker answers DescribeConfigs from it.
//
//   const TopicConfigDef* d = find_topic_config("retention.ms");   // nullptr: unknown
//   d->broker_synonyms[0]                                          // "log.retention.ms"
//   KEEL_TRY(validate_topic_config("retention.ms", "3600000"));
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace keel::controller {

// Kafka's ConfigEntry type codes (DescribeConfigs v3+ ConfigType).
enum class ConfigType : int8_t {
    unknown = 0,
    boolean = 1,
    string = 2,
    int32 = 3,
    int16 = 4,
    int64 = 5,
    float64 = 6,
    list = 7,
};

// Kafka's ConfigSource codes (DescribeConfigs v1+).
enum class ConfigSource : int8_t {
    unknown = 0,
    dynamic_topic = 1,           // DYNAMIC_TOPIC_CONFIG
    dynamic_broker = 2,          // DYNAMIC_BROKER_CONFIG
    dynamic_default_broker = 3,  // DYNAMIC_DEFAULT_BROKER_CONFIG
    static_broker = 4,           // STATIC_BROKER_CONFIG (server.properties)
    default_config = 5,          // DEFAULT_CONFIG
};

struct TopicConfigDef {
    std::string_view name;
    ConfigType type;
    // The broker properties that set this config's default, most specific first (Kafka
    // reads log.retention.ms, then log.retention.minutes, then log.retention.hours).
    std::vector<std::string_view> broker_synonyms;
    std::string_view kafka_default;
    std::string_view doc;
};

// Every topic config, sorted by name.
std::span<const TopicConfigDef> topic_config_defs();
const TopicConfigDef* find_topic_config(std::string_view name);

// A config's value syntax: its type, range, and what a partition log can honour (a
// segment.bytes too small for one batch header is refused here, not ignored later).
// Errors: invalid_config naming the config (an unknown name, a null or malformed value).
Status validate_topic_config(const std::string& name, const std::optional<std::string>& value);

}  // namespace keel::controller
