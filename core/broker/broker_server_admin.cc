// BrokerServer's topic administration: CreateTopics, DeleteTopics and CreatePartitions from
// clients, forwarded
// to the active controller as KRaft brokers do (Kafka's ForwardingManager). The controller
// decides and answers per topic (controller_logic.h); this side adds what is the broker's
// to say (delete.topic.enable), retries NOT_CONTROLLER on the next controller until the
// request's timeout, and answers once its own image shows the outcome (bounded by the
// timeout), so that the client's next Metadata here agrees with the answer.
#include <algorithm>

#include "core/broker/broker_server.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::ErrorCode;

namespace {

// Kafka's admin requests wait at most timeout_ms; a negative timeout is none.
Instant deadline_of(env::Env& env, int32_t timeout_ms) { return env.now() + ms(std::max<int32_t>(0, timeout_ms)); }

}  // namespace

void BrokerServer::await_image(const std::function<bool(const controller::MetadataImage&)>& done, Instant deadline) {
    while (!done(replicas_.image()) && replicas_.env().now() < deadline && !replicas_.failed()) {
        replicas_.env().executor().sleep_for(ms(10));
    }
}

protocol::CreateTopicsResponse BrokerServer::create_topics(const protocol::CreateTopicsRequest& req, int16_t version) {
    Instant deadline = deadline_of(replicas_.env(), req.timeout_ms);
    auto r = replicas_.lifecycle().create_topics(req, deadline);
    if (!r.ok()) {
        protocol::CreateTopicsResponse resp;
        for (const auto& t : req.topics) {
            protocol::CreateTopicsResponse::Topic out;
            out.name = t.name;
            out.error_code = ErrorCode::request_timed_out;
            if (version >= 1) out.error_message = "no controller answered: " + r.error().message;
            resp.topics.push_back(std::move(out));
        }
        return resp;
    }
    std::vector<Uuid> created;
    for (const auto& t : r->topics) {
        if (t.error_code == ErrorCode::none && !req.validate_only) created.push_back(t.topic_id);
    }
    stats_.topics_created += created.size();
    await_image(
        [&](const controller::MetadataImage& image) {
            return std::all_of(created.begin(), created.end(), [&](const Uuid& id) { return image.topic(id) != nullptr; });
        },
        deadline);
    return std::move(r).value();
}

protocol::DeleteTopicsResponse BrokerServer::delete_topics(const protocol::DeleteTopicsRequest& req, int16_t version) {
    // The controller is always asked at v6: names become by-name entries.
    protocol::DeleteTopicsRequest forward;
    forward.timeout_ms = req.timeout_ms;
    if (version < 6) {
        for (const std::string& name : req.topic_names) forward.topics.push_back({name, Uuid{}, {}});
    } else {
        forward.topics = req.topics;
    }
    protocol::DeleteTopicsResponse resp;
    auto fail_all = [&](ErrorCode code, const std::string& message) {
        for (const auto& t : forward.topics) {
            protocol::DeleteTopicsResponse::DeletableTopicResult out;
            out.name = t.name;
            out.topic_id = t.topic_id;
            out.error_code = code;
            if (version >= 5) out.error_message = message;
            resp.responses.push_back(std::move(out));
        }
        return resp;
    };
    if (!replicas_.config().delete_topic_enable) {
        // Kafka: TOPIC_DELETION_DISABLED from v3 on; older clients get INVALID_REQUEST.
        return fail_all(version >= 3 ? ErrorCode::topic_deletion_disabled : ErrorCode::invalid_request,
                        "topic deletion is disabled (delete.topic.enable=false)");
    }
    Instant deadline = deadline_of(replicas_.env(), req.timeout_ms);
    auto r = replicas_.lifecycle().delete_topics(forward, deadline);
    if (!r.ok()) return fail_all(ErrorCode::request_timed_out, "no controller answered: " + r.error().message);
    std::vector<Uuid> deleted;
    for (auto& t : r->responses) {
        if (t.error_code == ErrorCode::none) deleted.push_back(t.topic_id);
        if (version < 5) t.error_message.reset();
        if (version < 6 && !t.name) t.name = "";
    }
    stats_.topics_deleted += deleted.size();
    await_image(
        [&](const controller::MetadataImage& image) {
            return std::none_of(deleted.begin(), deleted.end(), [&](const Uuid& id) { return image.topic(id) != nullptr; });
        },
        deadline);
    return std::move(r).value();
}

protocol::CreatePartitionsResponse BrokerServer::create_partitions(const protocol::CreatePartitionsRequest& req,
                                                                   int16_t) {
    Instant deadline = deadline_of(replicas_.env(), req.timeout_ms);
    auto r = replicas_.lifecycle().create_partitions(req, deadline);
    if (!r.ok()) {
        protocol::CreatePartitionsResponse resp;
        for (const auto& t : req.topics) {
            protocol::CreatePartitionsResponse::CreatePartitionsTopicResult out;
            out.name = t.name;
            out.error_code = ErrorCode::request_timed_out;
            out.error_message = "no controller answered: " + r.error().message;
            resp.results.push_back(std::move(out));
        }
        return resp;
    }
    // Answer once this broker's image has the new partitions, so that the client's next
    // Metadata here shows them.
    std::vector<std::pair<std::string, size_t>> grown;
    for (const auto& res : r->results) {
        if (res.error_code != ErrorCode::none || req.validate_only) continue;
        for (const auto& t : req.topics) {
            if (t.name == res.name && t.count > 0) grown.emplace_back(t.name, static_cast<size_t>(t.count));
        }
    }
    await_image(
        [&](const controller::MetadataImage& image) {
            return std::all_of(grown.begin(), grown.end(), [&](const auto& g) {
                const controller::TopicState* t = image.topic_by_name(g.first);
                return t != nullptr && t->partitions.size() >= g.second;
            });
        },
        deadline);
    return std::move(r).value();
}

}  // namespace keel::broker
