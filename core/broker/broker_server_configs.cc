// BrokerServer's configs: DescribeConfigs answered here from this broker's metadata image
// and its own properties; IncrementalAlterConfigs and AlterConfigs forwarded to the active
// controller, which validates them and writes ConfigRecords (controller_logic.h's
// alter_configs). The replica manager applies a topic's new config to its partition logs
// when the image shows it.
//
// A topic config's value comes from, in Kafka's precedence: the topic's own dynamic config
// (DYNAMIC_TOPIC_CONFIG), a cluster-wide dynamic default (DYNAMIC_DEFAULT_BROKER_CONFIG),
// server.properties (STATIC_BROKER_CONFIG, through the config's broker synonyms), Keel's
// default (DEFAULT_CONFIG). With include_synonyms every level that has a value is listed,
// most specific first, as Kafka lists them.
#include <algorithm>
#include <charconv>

#include "core/broker/broker_server.h"
#include "core/controller/controller_logic.h"
#include "core/controller/topic_configs.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using controller::ConfigSource;
using controller::TopicConfigDef;
using protocol::ErrorCode;

namespace {

using ConfigEntry = protocol::DescribeConfigsResponse::DescribeConfigsResourceResult;
using Synonym = protocol::DescribeConfigsResponse::DescribeConfigsSynonym;

constexpr int8_t resource_topic = 2;
constexpr int8_t resource_broker = 4;
constexpr int8_t resource_broker_logger = 8;

// How long an alter-configs answer waits for this broker's image to show the change.
constexpr Duration config_visible_wait = ms(5000);

int8_t code(ConfigSource s) { return static_cast<int8_t>(s); }

const BrokerProperty* property(const BrokerConfig& config, std::string_view name) {
    auto it = std::find_if(config.properties.begin(), config.properties.end(),
                           [&](const BrokerProperty& p) { return p.name == name; });
    return it == config.properties.end() ? nullptr : &*it;
}

// The broker-level value of topic config `def` as this broker runs it: its log defaults
// for the log properties, min.insync.replicas, else the synonym's property or Kafka's
// default.
std::string broker_default(const BrokerConfig& config, const TopicConfigDef& def) {
    if (auto v = log::get_log_property(config.log_defaults, def.name)) return *v;
    if (def.name == "min.insync.replicas") return std::to_string(config.min_insync_replicas);
    if (def.name == "file.delete.delay.ms") {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(config.file_delete_delay).count());
    }
    for (std::string_view s : def.broker_synonyms) {
        const BrokerProperty* p = property(config, s);
        if (p != nullptr && p->is_set && p->value) return *p->value;
    }
    return std::string(def.kafka_default);
}

bool wanted(const std::optional<std::vector<std::string>>& keys, std::string_view name) {
    return !keys || std::find(keys->begin(), keys->end(), name) != keys->end();
}

// Every level of `def` that has a value for topic `topic`, most specific first.
std::vector<Synonym> topic_config_levels(const controller::MetadataImage& image, const BrokerConfig& config,
                                         const std::string& topic, const TopicConfigDef& def) {
    std::vector<Synonym> levels;
    if (auto v = image.config(controller::config_resource_topic, topic, std::string(def.name))) {
        levels.push_back({std::string(def.name), *v, code(ConfigSource::dynamic_topic), {}});
    }
    for (std::string_view s : def.broker_synonyms) {
        if (auto v = image.config(controller::config_resource_broker, "", std::string(s))) {
            levels.push_back({std::string(s), *v, code(ConfigSource::dynamic_default_broker), {}});
        }
    }
    bool static_set = false;
    for (std::string_view s : def.broker_synonyms) {
        const BrokerProperty* p = property(config, s);
        if (p != nullptr && p->is_set) {
            levels.push_back({std::string(s), p->value, code(ConfigSource::static_broker), {}});
            static_set = true;
        }
    }
    std::string fallback = broker_default(config, def);
    if (static_set) {
        // The first static synonym names the level; the value is what the broker derived
        // from all of them (log.retention.hours=1 is retention.ms 3600000).
        auto first = std::find_if(levels.begin(), levels.end(),
                                  [](const Synonym& l) { return l.source == code(ConfigSource::static_broker); });
        first->value = fallback;
    } else {
        levels.push_back({std::string(def.broker_synonyms.front()), fallback, code(ConfigSource::default_config), {}});
    }
    return levels;
}

void describe_topic(const controller::MetadataImage& image, const BrokerConfig& config,
                    const protocol::DescribeConfigsRequest& req, const std::string& topic,
                    protocol::DescribeConfigsResponse::DescribeConfigsResult& out, int16_t version,
                    const protocol::DescribeConfigsRequest::DescribeConfigsResource& r) {
    for (const TopicConfigDef& def : controller::topic_config_defs()) {
        if (!wanted(r.configuration_keys, def.name)) continue;
        std::vector<Synonym> levels = topic_config_levels(image, config, topic, def);
        ConfigEntry e;
        e.name = std::string(def.name);
        e.value = levels.front().value;
        e.config_source = levels.front().source;
        e.is_default = e.config_source == code(ConfigSource::default_config);
        e.read_only = false;
        if (version >= 1 && req.include_synonyms) e.synonyms = std::move(levels);
        e.config_type = static_cast<int8_t>(def.type);
        if (req.include_documentation) e.documentation = std::string(def.doc);
        out.configs.push_back(std::move(e));
    }
}

Status describe_broker(const controller::MetadataImage& image, const BrokerConfig& config,
                       const protocol::DescribeConfigsRequest& req,
                       const protocol::DescribeConfigsRequest::DescribeConfigsResource& r,
                       protocol::DescribeConfigsResponse::DescribeConfigsResult& out) {
    if (!r.resource_name.empty()) {
        int32_t id = -1;
        const char* end = r.resource_name.data() + r.resource_name.size();
        auto [ptr, ec] = std::from_chars(r.resource_name.data(), end, id);
        if (ec != std::errc() || ptr != end || id != config.id.value()) {
            return Status(Errc::invalid_request, "this is broker " + std::to_string(config.id.value()) +
                                                     ": describe broker " + r.resource_name + " on that broker");
        }
    }
    for (const BrokerProperty& p : config.properties) {
        if (!wanted(r.configuration_keys, p.name)) continue;
        ConfigEntry e;
        e.name = p.name;
        e.value = p.value;
        e.read_only = true;  // no dynamic broker configs: server.properties sets them
        e.config_source = code(p.is_set ? ConfigSource::static_broker : ConfigSource::default_config);
        e.is_default = !p.is_set;
        auto dynamic = image.config(controller::config_resource_broker, "", p.name);
        if (dynamic) {
            e.value = dynamic;
            e.config_source = code(ConfigSource::dynamic_default_broker);
            e.is_default = false;
        }
        if (req.include_synonyms) {
            if (dynamic) e.synonyms.push_back({p.name, dynamic, code(ConfigSource::dynamic_default_broker), {}});
            e.synonyms.push_back(
                {p.name, p.value, code(p.is_set ? ConfigSource::static_broker : ConfigSource::default_config), {}});
        }
        e.config_type = static_cast<int8_t>(controller::ConfigType::string);
        if (req.include_documentation) e.documentation = p.doc;
        out.configs.push_back(std::move(e));
    }
    return ok_status();
}

}  // namespace

protocol::DescribeConfigsResponse BrokerServer::describe_configs(const protocol::DescribeConfigsRequest& req,
                                                                 int16_t version) {
    const controller::MetadataImage& image = replicas_.image();
    const BrokerConfig& config = replicas_.config();
    protocol::DescribeConfigsResponse resp;
    for (const auto& r : req.resources) {
        protocol::DescribeConfigsResponse::DescribeConfigsResult out;
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        Status st;
        if (r.resource_type == resource_topic) {
            if (image.topic_by_name(r.resource_name) == nullptr) {
                st = Status(Errc::unknown_topic_or_partition, "topic " + r.resource_name + " does not exist");
            } else {
                describe_topic(image, config, req, r.resource_name, out, version, r);
            }
        } else if (r.resource_type == resource_broker) {
            st = describe_broker(image, config, req, r, out);
        } else if (r.resource_type == resource_broker_logger) {
            st = Status(Errc::invalid_request, "broker loggers are not described: Keel's log level is --log-level");
        } else {
            st = Status(Errc::invalid_request,
                        "config resource type " + std::to_string(r.resource_type) + " is not supported");
        }
        if (!st.ok()) {
            out.configs.clear();
            out.error_code = protocol::to_error_code(st.code());
            out.error_message = st.error().message;
        }
        resp.results.push_back(std::move(out));
    }
    return resp;
}

namespace {

// Per-resource results of a forwarded alter, or every resource failed with `message`.
template <typename Response, typename Request>
Response fail_all_resources(const Request& req, const std::string& message) {
    Response resp;
    for (const auto& r : req.resources) {
        typename Response::AlterConfigsResourceResponse out;
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        out.error_code = ErrorCode::request_timed_out;
        out.error_message = message;
        resp.responses.push_back(std::move(out));
    }
    return resp;
}

bool succeeded(const auto& responses, const auto& resource) {
    return std::any_of(responses.begin(), responses.end(), [&](const auto& r) {
        return r.resource_type == resource.resource_type && r.resource_name == resource.resource_name &&
               r.error_code == ErrorCode::none;
    });
}

}  // namespace

protocol::IncrementalAlterConfigsResponse BrokerServer::incremental_alter_configs(
    const protocol::IncrementalAlterConfigsRequest& req) {
    Instant deadline = replicas_.env().now() + config_visible_wait;
    auto r = replicas_.lifecycle().incremental_alter_configs(req, deadline);
    if (!r.ok()) {
        return fail_all_resources<protocol::IncrementalAlterConfigsResponse>(
            req, "no controller answered: " + r.error().message);
    }
    if (req.validate_only) return std::move(r).value();
    // Answer once this broker's image shows what was set and removed (appends and
    // subtractions depend on the controller's state; the sets are enough to wait on).
    await_image(
        [&](const controller::MetadataImage& image) {
            for (const auto& res : req.resources) {
                if (res.resource_type != resource_topic || !succeeded(r->responses, res)) continue;
                for (const auto& c : res.configs) {
                    auto now = image.config(controller::config_resource_topic, res.resource_name, c.name);
                    if (c.config_operation == static_cast<int8_t>(controller::ConfigOp::set) && now != c.value) {
                        return false;
                    }
                    if (c.config_operation == static_cast<int8_t>(controller::ConfigOp::remove) && now) return false;
                }
            }
            return true;
        },
        deadline);
    return std::move(r).value();
}

protocol::AlterConfigsResponse BrokerServer::alter_configs(const protocol::AlterConfigsRequest& req) {
    Instant deadline = replicas_.env().now() + config_visible_wait;
    auto r = replicas_.lifecycle().alter_configs(req, deadline);
    if (!r.ok()) {
        return fail_all_resources<protocol::AlterConfigsResponse>(req,
                                                                  "no controller answered: " + r.error().message);
    }
    if (req.validate_only) return std::move(r).value();
    await_image(
        [&](const controller::MetadataImage& image) {
            for (const auto& res : req.resources) {
                if (res.resource_type != resource_topic || !succeeded(r->responses, res)) continue;
                for (const auto& c : res.configs) {
                    if (image.config(controller::config_resource_topic, res.resource_name, c.name) != c.value) {
                        return false;
                    }
                }
            }
            return true;
        },
        deadline);
    return std::move(r).value();
}

}  // namespace keel::broker
