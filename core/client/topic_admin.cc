#include "core/client/topic_admin.h"

#include <algorithm>

#include "core/protocol/controller_messages.h"
#include "core/protocol/generated/create_partitions_request.h"
#include "core/protocol/generated/create_partitions_response.h"
#include "core/protocol/generated/delete_records_request.h"
#include "core/protocol/generated/delete_records_response.h"
#include "core/protocol/generated/delete_topics_request.h"
#include "core/protocol/generated/delete_topics_response.h"
#include "core/protocol/generated/describe_cluster_request.h"
#include "core/protocol/generated/describe_cluster_response.h"
#include "core/protocol/generated/describe_configs_request.h"
#include "core/protocol/generated/describe_configs_response.h"
#include "core/protocol/generated/incremental_alter_configs_request.h"
#include "core/protocol/generated/incremental_alter_configs_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"

namespace keel::client {

namespace {

// A topic's error code with the broker's message, as the call's status.
Status topic_status(protocol::ErrorCode code, const std::optional<std::string>& message, const std::string& context) {
    if (code == protocol::ErrorCode::none) return ok_status();
    Status st = protocol::status_from(code, context);
    if (message && !message->empty()) return Status(st.error().code, st.error().message + ": " + *message);
    return st;
}

// Kafka's internal topics (Topic.INTERNAL_TOPICS), also when a broker does not flag them.
bool is_internal_name(const std::string& name) { return name == "__consumer_offsets" || name == "__transaction_state"; }

}  // namespace

TopicAdmin::TopicAdmin(env::Env& env, std::vector<env::Address> bootstrap, Duration timeout)
    : env_(env),
      timeout_(timeout),
      pool_(env, ConnectionOptions{"keel-topics"}),
      metadata_(env, pool_, MetadataOptions{std::move(bootstrap), ms(300'000), timeout, false}) {}

TopicAdmin::~TopicAdmin() { pool_.close_all(); }

// The request to the first broker that answers (known brokers first, then bootstrap).
// A broker that does not serve the API at all is an answer: unsupported_version.
template <typename Resp, typename Req>
Result<Resp> TopicAdmin::call_any(const Req& req, int16_t min_version, int16_t max_version, Instant deadline) {
    Status last(Errc::not_found, "no broker to ask");
    for (const env::Address& a : metadata_.any_brokers()) {
        auto r = pool_.get(a).call<Resp>(req, min_version, max_version, deadline);
        if (r.ok()) return r;
        last = r.error();
        if (last.error().code == Errc::unsupported_version) break;
    }
    return last.error();
}

Result<protocol::Uuid> TopicAdmin::create_topic(const NewTopic& topic, bool validate_only) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::CreateTopicsRequest req;
    protocol::CreateTopicsRequest::Topic t;
    t.name = topic.name;
    t.num_partitions = topic.partitions;
    t.replication_factor = topic.replication_factor;
    for (const auto& [k, v] : topic.configs) t.configs.push_back({k, v});
    req.topics.push_back(std::move(t));
    req.timeout_ms = static_cast<int32_t>(timeout_.count() / 1'000'000);
    req.validate_only = validate_only;
    // v4+: -1 partitions or replication factor mean the broker's defaults.
    KEEL_TRY_ASSIGN(auto resp, call_any<protocol::CreateTopicsResponse>(req, 4, 7, deadline));
    for (const auto& r : resp.topics) {
        if (r.name != topic.name) continue;
        KEEL_TRY(topic_status(r.error_code, r.error_message, "CreateTopics " + topic.name));
        return r.topic_id;
    }
    return Error{Errc::invalid_request, "CreateTopics: no answer for topic " + topic.name};
}

Status TopicAdmin::delete_topic(const std::string& name) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::DeleteTopicsRequest req;
    req.topic_names = {name};                   // v0-v5
    req.topics.push_back({name, protocol::Uuid{}, {}});  // v6+
    req.timeout_ms = static_cast<int32_t>(timeout_.count() / 1'000'000);
    KEEL_TRY_ASSIGN(auto resp, call_any<protocol::DeleteTopicsResponse>(req, 1, 6, deadline));
    for (const auto& r : resp.responses) {
        if (r.name && *r.name == name) return topic_status(r.error_code, r.error_message, "DeleteTopics " + name);
    }
    return Status(Errc::invalid_request, "DeleteTopics: no answer for topic " + name);
}

Result<std::vector<TopicDescription>> TopicAdmin::describe(const std::vector<std::string>& topics) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::MetadataRequest req;
    req.allow_auto_topic_creation = false;
    if (!topics.empty()) {
        req.topics.emplace();
        for (const std::string& t : topics) req.topics->push_back({protocol::Uuid{}, t, {}});
    }
    KEEL_TRY_ASSIGN(auto resp,
                    call_any<protocol::MetadataResponse>(req, kMetadataVersionMin, kMetadataVersionMax, deadline));
    std::vector<TopicDescription> out;
    for (const auto& t : resp.topics) {
        TopicDescription d{t.name.value_or(""), t.topic_id, t.is_internal || is_internal_name(t.name.value_or("")),
                           t.error_code, {}};
        for (const auto& p : t.partitions) {
            d.partitions.push_back({p.partition_index, p.error_code, p.leader_id, p.leader_epoch, p.replica_nodes,
                                    p.isr_nodes, p.offline_replicas});
        }
        std::sort(d.partitions.begin(), d.partitions.end(),
                  [](const auto& a, const auto& b) { return a.partition < b.partition; });
        out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

Result<std::vector<std::string>> TopicAdmin::list_topics(bool include_internal) {
    KEEL_TRY_ASSIGN(auto topics, describe({}));
    std::vector<std::string> out;
    for (const TopicDescription& t : topics) {
        if (t.error == protocol::ErrorCode::none && (include_internal || !t.internal)) out.push_back(t.name);
    }
    return out;
}

Status TopicAdmin::create_partitions(const std::string& topic, int32_t count) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::CreatePartitionsRequest req;
    req.topics.push_back({topic, count, std::nullopt, {}});
    req.timeout_ms = static_cast<int32_t>(timeout_.count() / 1'000'000);
    auto resp = call_any<protocol::CreatePartitionsResponse>(req, 0, 3, deadline);
    if (!resp.ok() && resp.error().code == Errc::unsupported_version) {
        return Status(Errc::unsupported_version, "CreatePartitions (adding partitions) is not supported by this server");
    }
    KEEL_TRY(resp);
    for (const auto& r : resp->results) {
        if (r.name == topic) return topic_status(r.error_code, r.error_message, "CreatePartitions " + topic);
    }
    return Status(Errc::invalid_request, "CreatePartitions: no answer for topic " + topic);
}

Result<int64_t> TopicAdmin::delete_records(const std::string& topic, int32_t partition, int64_t offset) {
    Instant deadline = env_.now() + timeout_;
    metadata_.add_topic(topic);
    TopicPartitionName tp{topic, PartitionIndex(partition)};
    protocol::DeleteRecordsRequest req;
    req.timeout_ms = static_cast<int32_t>(timeout_.count() / 1'000'000);
    req.topics.push_back({topic, {{PartitionIndex(partition), offset, {}}}, {}});
    Status last = Status(Errc::timeout, "DeleteRecords " + tp.to_string() + ": no leader answered");
    int unknown = 0;  // Metadata without the topic (or with its error) several times: unknown
    while (env_.now() < deadline) {
        KEEL_TRY(metadata_.refresh(deadline));
        if (metadata_.topic(topic) == nullptr && ++unknown >= 3) {
            return protocol::status_from(protocol::ErrorCode::unknown_topic_or_partition, "topic " + topic).error();
        }
        auto leader = metadata_.partition(tp);
        auto address = leader ? metadata_.broker_address(leader->leader) : std::nullopt;
        if (address) {
            auto resp = pool_.get(*address).call<protocol::DeleteRecordsResponse>(req, 0, 2, deadline);
            if (!resp.ok() && resp.error().code == Errc::unsupported_version) {
                return Error{Errc::unsupported_version, "DeleteRecords is not supported by this server"};
            }
            if (resp.ok() && !resp->topics.empty() && !resp->topics[0].partitions.empty()) {
                const auto& r = resp->topics[0].partitions[0];
                if (r.error_code == protocol::ErrorCode::none) return r.low_watermark;
                last = protocol::status_from(r.error_code, "DeleteRecords " + tp.to_string());
                if (!protocol::is_retriable(r.error_code)) return last.error();
            } else if (!resp.ok()) {
                last = resp.error();
            }
        }
        env_.executor().sleep_for(ms(200));  // a leader is being elected, or moved
    }
    return last.error();
}

namespace {

constexpr int8_t resource_topic = 2;

}  // namespace

Result<ClusterDescription> TopicAdmin::describe_cluster() {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::DescribeClusterRequest req;
    auto resp = call_any<protocol::DescribeClusterResponse>(req, 0, 1, deadline);
    if (!resp.ok() && resp.error().code == Errc::unsupported_version) {
        return Error{Errc::unsupported_version, "DescribeCluster is not supported by this server"};
    }
    KEEL_TRY(resp);
    KEEL_TRY(topic_status(resp->error_code, resp->error_message, "DescribeCluster"));
    ClusterDescription out{resp->cluster_id, resp->controller_id, {}};
    for (const auto& b : resp->brokers) {
        out.brokers.emplace_back(b.broker_id, env::Address{b.host, static_cast<uint16_t>(b.port)});
    }
    std::sort(out.brokers.begin(), out.brokers.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

Result<std::vector<TopicConfigEntry>> TopicAdmin::describe_configs(const std::string& topic) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::DescribeConfigsRequest req;
    req.resources.push_back({resource_topic, topic, std::nullopt, {}});
    auto resp = call_any<protocol::DescribeConfigsResponse>(req, 1, 4, deadline);
    if (!resp.ok() && resp.error().code == Errc::unsupported_version) {
        return Error{Errc::unsupported_version, "DescribeConfigs is not supported by this server"};
    }
    KEEL_TRY(resp);
    for (const auto& r : resp->results) {
        if (r.resource_type != resource_topic || r.resource_name != topic) continue;
        KEEL_TRY(topic_status(r.error_code, r.error_message, "DescribeConfigs " + topic));
        std::vector<TopicConfigEntry> out;
        for (const auto& c : r.configs) {
            out.push_back({c.name, c.value, std::max<int8_t>(0, c.config_source), c.is_default || c.config_source == 5,
                           c.read_only});
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        return out;
    }
    return Error{Errc::invalid_request, "DescribeConfigs: no answer for topic " + topic};
}

Status TopicAdmin::alter_configs(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& set,
                                 const std::vector<std::string>& remove) {
    Instant deadline = env_.now() + timeout_;
    KEEL_TRY(metadata_.refresh(deadline));
    protocol::IncrementalAlterConfigsRequest req;
    protocol::IncrementalAlterConfigsRequest::AlterConfigsResource r;
    r.resource_type = resource_topic;
    r.resource_name = topic;
    for (const auto& [k, v] : set) r.configs.push_back({k, 0, v, {}});
    for (const std::string& k : remove) r.configs.push_back({k, 1, std::nullopt, {}});
    req.resources.push_back(std::move(r));
    auto resp = call_any<protocol::IncrementalAlterConfigsResponse>(req, 0, 1, deadline);
    if (!resp.ok() && resp.error().code == Errc::unsupported_version) {
        return Status(Errc::unsupported_version, "IncrementalAlterConfigs is not supported by this server");
    }
    KEEL_TRY(resp);
    for (const auto& res : resp->responses) {
        if (res.resource_type == resource_topic && res.resource_name == topic) {
            return topic_status(res.error_code, res.error_message, "IncrementalAlterConfigs " + topic);
        }
    }
    return Status(Errc::invalid_request, "IncrementalAlterConfigs: no answer for topic " + topic);
}

}  // namespace keel::client
