// BrokerServer's read side: Fetch (consumers and followers) and ListOffsets.
#include <algorithm>

#include "core/broker/broker_server.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

namespace {

// ListOffsets' special timestamps. Keel has no tiered storage, so the local log is the
// whole log: EARLIEST_LOCAL is EARLIEST, and LATEST_TIERED finds nothing (offset -1), as
// Kafka answers when remote storage is off.
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;    // v7+, KIP-734: the record with the largest timestamp
constexpr int64_t kEarliestLocal = -4;   // v8+, KIP-405
constexpr int64_t kLatestTiered = -5;    // v9+, KIP-1005

ErrorCode code_of(Errc e) { return e == Errc{} ? ErrorCode::none : protocol::to_error_code(e); }

}  // namespace

FetchResponse BrokerServer::fetch(const FetchRequest& req, int16_t version) {
    stats_.fetch_requests++;
    if (req.replica_id.value() >= 0) stats_.follower_fetches++;
    env::Env& env = replicas_.env();
    if (req.session_id != 0) {
        // We keep no fetch sessions; a client that believes it has one starts over.
        FetchResponse resp;
        resp.error_code = ErrorCode::fetch_session_id_not_found;
        return resp;
    }
    Instant deadline = env.now() + ms(std::max<int32_t>(0, req.max_wait_ms));
    bool delayed = false;
    while (true) {
        size_t bytes = 0;
        bool urgent = false;
        FetchResponse resp = fetch_once(req, version, bytes);
        for (const auto& t : resp.responses) {
            for (const auto& p : t.partitions) {
                if (p.error_code != ErrorCode::none || p.diverging_epoch.present()) urgent = true;
            }
        }
        bool enough = bytes >= static_cast<size_t>(std::max<int32_t>(1, req.min_bytes));
        if (enough || urgent || req.max_wait_ms <= 0 || env.now() >= deadline || replicas_.failed()) return resp;
        if (!delayed) stats_.delayed_fetches++;
        delayed = true;
        if (replicas_.wait_activity(deadline) == env::WakeReason::dying) return resp;
    }
}

void BrokerServer::count_bytes_out(const FetchRequest& req, const FetchResponse& resp) {
    if (options_.metrics == nullptr) return;
    size_t bytes = 0;
    for (const auto& t : resp.responses) {
        for (const auto& p : t.partitions) bytes += p.records.size();
    }
    bool follower = req.replica_id.value() >= 0;
    options_.metrics
        ->counter(follower ? "keel_broker_replication_bytes_out_total" : "keel_broker_bytes_out_total",
                  follower ? "Record bytes served to follower brokers' fetches."
                           : "Record bytes served to consumers' fetches.")
        .inc(static_cast<double>(bytes));
}

FetchResponse BrokerServer::fetch_once(const FetchRequest& req, int16_t version, size_t& bytes) {
    const controller::MetadataImage& image = replicas_.image();
    FetchResponse resp;
    int32_t bytes_left = req.max_bytes;
    bool first = true;
    for (const auto& t : req.topics) {
        FetchResponse::FetchableTopicResponse tr;
        tr.topic = t.topic;
        tr.topic_id = t.topic_id;
        std::string name = t.topic;
        Uuid id = t.topic_id;
        if (version >= 13) {
            const controller::TopicState* ts = image.topic(t.topic_id);
            name = ts != nullptr ? ts->name : "";
        } else {
            const controller::TopicState* ts = image.topic_by_name(t.topic);
            if (ts != nullptr) id = ts->id;
        }
        for (const auto& fp : t.partitions) {
            tr.partitions.push_back(fetch_partition(req, name, id, fp, bytes_left, first));
            bytes += tr.partitions.back().records.size();
        }
        resp.responses.push_back(std::move(tr));
    }
    return resp;
}

FetchResponse::PartitionData BrokerServer::fetch_partition(const FetchRequest& req, const std::string& topic,
                                                           const Uuid& topic_id,
                                                           const FetchRequest::FetchPartition& fp,
                                                           int32_t& bytes_left, bool& first) {
    FetchResponse::PartitionData d;
    d.partition_index = fp.partition;
    std::shared_ptr<Partition> p = topic.empty() ? nullptr : replicas_.partition_ref({topic, fp.partition});
    if (p == nullptr) {
        bool known = !topic.empty() && replicas_.image().topic(topic_id) != nullptr;
        d.error_code = known ? ErrorCode::not_leader_or_follower
                             : (topic.empty() && !topic_id.is_zero() ? ErrorCode::unknown_topic_id
                                                                    : ErrorCode::unknown_topic_or_partition);
        return d;
    }
    d.current_leader = {p->leader(), p->leader_epoch().value()};
    d.high_watermark = p->high_watermark();
    d.last_stable_offset = p->high_watermark();
    d.log_start_offset = p->log_start();
    if (Errc e = p->check_leader(fp.current_leader_epoch); e != Errc{}) {
        d.error_code = code_of(e);
        return d;
    }
    bool follower = req.replica_id.value() >= 0;
    if (follower) {
        if (auto div = p->divergence(fp.last_fetched_epoch, fp.fetch_offset)) {
            d.diverging_epoch = {div->epoch.value(), div->end_offset};
            return d;
        }
        // Only a moved high watermark is news (for acks=all and consumers' delayed fetches);
        // waking every delayed fetch on each follower fetch would make followers wake each
        // other forever.
        if (p->update_follower(req.replica_id, BrokerEpoch(req.replica_epoch), fp.fetch_offset, fp.log_start_offset)) {
            replicas_.changed(*p);
        }
        d.high_watermark = p->high_watermark();
        d.last_stable_offset = p->high_watermark();
    }
    if (fp.fetch_offset < p->log_start() || fp.fetch_offset > p->log_end()) {
        d.error_code = ErrorCode::offset_out_of_range;
        return d;
    }
    std::optional<Offset> limit;
    if (!follower) limit = p->high_watermark();
    if ((limit && fp.fetch_offset >= *limit) || (bytes_left <= 0 && !first)) return d;
    size_t max = static_cast<size_t>(std::max(1, std::min(fp.partition_max_bytes, std::max(bytes_left, 1))));
    auto read = p->log().read(fp.fetch_offset, max, limit);
    if (!read.ok()) {
        d.error_code = read.error().code == Errc::offset_out_of_range ? ErrorCode::offset_out_of_range
                                                                      : ErrorCode::kafka_storage_error;
        return d;
    }
    d.records = std::move(read->records);
    if (!d.records.empty()) first = false;
    bytes_left -= static_cast<int32_t>(d.records.size());
    return d;
}

// ----------------------------------------------------------------------- ListOffsets

ListOffsetsResponse BrokerServer::list_offsets(const ListOffsetsRequest& req, int16_t version) {
    stats_.list_offsets_requests++;
    ListOffsetsResponse resp;
    for (const auto& t : req.topics) {
        ListOffsetsResponse::ListOffsetsTopicResponse tr;
        tr.name = t.name;
        for (const auto& lp : t.partitions) {
            tr.partitions.push_back(list_offset(t.name, lp, req.isolation_level));
            auto& r = tr.partitions.back();
            if (version == 0 && r.error_code == ErrorCode::none && r.offset >= 0) {
                r.old_style_offsets.push_back(r.offset);
            }
        }
        resp.topics.push_back(std::move(tr));
    }
    return resp;
}

ListOffsetsResponse::ListOffsetsPartitionResponse BrokerServer::list_offset(
    const std::string& topic, const ListOffsetsRequest::ListOffsetsPartition& lp, int8_t isolation) {
    (void)isolation;  // no transactions: the last stable offset is the high watermark
    ListOffsetsResponse::ListOffsetsPartitionResponse r;
    r.partition_index = lp.partition_index;
    std::shared_ptr<Partition> p = replicas_.partition_ref({topic, lp.partition_index.value()});
    if (p == nullptr) {
        r.error_code = replicas_.image().topic_by_name(topic) != nullptr ? ErrorCode::not_leader_or_follower
                                                                         : ErrorCode::unknown_topic_or_partition;
        return r;
    }
    if (Errc e = p->check_leader(lp.current_leader_epoch.value()); e != Errc{}) {
        r.error_code = code_of(e);
        return r;
    }
    Offset hw = p->high_watermark();
    std::optional<Offset> found;
    int64_t ts = -1;
    if (lp.timestamp == kEarliest || lp.timestamp == kEarliestLocal) {
        found = p->log_start();
    } else if (lp.timestamp == kLatest) {
        found = hw;
    } else if (lp.timestamp == kLatestTiered) {
        return r;  // nothing is tiered: offset, timestamp and leader epoch -1, no error
    } else if (lp.timestamp >= 0 || lp.timestamp == kMaxTimestamp) {
        auto at = lp.timestamp == kMaxTimestamp ? p->log().offset_of_max_timestamp()
                                                : p->log().offset_for_timestamp(lp.timestamp);
        if (!at.ok()) {
            r.error_code = ErrorCode::kafka_storage_error;
            return r;
        }
        // Only records below the high watermark are visible.
        if (*at && (*at)->offset < hw) {
            found = (*at)->offset;
            ts = (*at)->timestamp_ms;
        }
    } else {
        r.error_code = ErrorCode::invalid_request;  // another negative timestamp: none is defined
        return r;
    }
    if (found) {
        r.offset = found->value();
        r.timestamp = ts;
        auto epoch = p->log().leader_epochs().epoch_for_offset(*found);
        if (lp.timestamp >= 0 && epoch) r.leader_epoch = *epoch;
        else r.leader_epoch = p->leader_epoch();
    }
    return r;
}

}  // namespace keel::broker
