// Consumer: one fetch round (a sessionless Fetch per leader, sent together, then awaited)
// and turning the returned batches into ConsumerRecords past each position.
#include <algorithm>

#include "core/client/consumer.h"
#include "core/protocol/error_codes.h"

namespace keel::client {

namespace {

constexpr int16_t kFetchVersionMin = 4;
constexpr int16_t kFetchVersionMax = 12;  // v13+ names topics by id

std::vector<Header> copy_headers(const log::Record& r) {
    std::vector<Header> out;
    out.reserve(r.headers.size());
    for (const auto& h : r.headers) {
        Header copy{std::string(h.key), std::nullopt};
        if (h.value) copy.value = Bytes(h.value->begin(), h.value->end());
        out.push_back(std::move(copy));
    }
    return out;
}

std::optional<Bytes> copy_bytes(const std::optional<ByteView>& v) {
    if (!v) return std::nullopt;
    return Bytes(v->begin(), v->end());
}

}  // namespace

std::map<NodeId, Consumer::FetchTarget> Consumer::fetch_targets() {
    std::map<NodeId, FetchTarget> out;
    for (const auto& [tp, ps] : assigned_) {
        if (!ps.position || paused_.contains(tp)) continue;
        auto leader = metadata_.partition(tp);
        if (!leader) {
            metadata_.request_refresh();
            continue;
        }
        FetchTarget& t = out[leader->leader];
        t.leader = leader->leader;
        t.partitions.emplace_back(tp, leader->leader_epoch);
    }
    return out;
}

protocol::FetchRequest Consumer::fetch_request(const FetchTarget& target, Duration max_wait) const {
    protocol::FetchRequest req;
    req.replica_id = NodeId(-1);
    req.max_wait_ms = static_cast<int32_t>(std::max<int64_t>(0, to_ms(max_wait)));
    req.min_bytes = config_.fetch_min_bytes;
    req.max_bytes = config_.fetch_max_bytes;
    req.isolation_level = static_cast<int8_t>(config_.isolation_level);
    req.session_id = 0;      // KIP-227: no session,
    req.session_epoch = -1;  // a full fetch each time
    for (const auto& [tp, epoch] : target.partitions) {
        auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](const auto& t) { return t.topic == tp.topic; });
        if (it == req.topics.end()) {
            req.topics.emplace_back();
            it = std::prev(req.topics.end());
            it->topic = tp.topic;
        }
        protocol::FetchRequest::FetchPartition p;
        p.partition = tp.partition.value();
        p.current_leader_epoch = epoch.value();
        const PartitionState& ps = assigned_.at(tp);
        p.fetch_offset = *ps.position;
        p.last_fetched_epoch = ps.last_epoch.value();  // (v12+) lets the leader answer DivergingEpoch
        p.partition_max_bytes = config_.max_partition_fetch_bytes;
        it->partitions.push_back(p);
    }
    return req;
}

Status Consumer::fetch_round(Instant deadline, std::vector<ConsumerRecord>& out) {
    Duration max_wait = std::min(config_.fetch_max_wait, std::max(Duration(0), deadline - env_.now()));
    struct Sent {
        BrokerConnection* conn;
        PendingRequest pending;
    };
    std::vector<Sent> sent;
    for (const auto& [node, target] : fetch_targets()) {
        auto address = metadata_.broker_address(node);
        if (!address) continue;
        BrokerConnection& conn = pool_.get(*address);
        Instant d = env_.now() + config_.request_timeout;
        Status open = conn.ensure_open(d);
        auto version = open.ok() ? conn.version_for(protocol::ApiKey::fetch, kFetchVersionMin, kFetchVersionMax)
                                 : Result<int16_t>(open.error());
        auto p = version.ok() ? conn.start(fetch_request(target, max_wait), *version, d)
                              : Result<PendingRequest>(version.error());
        if (!p.ok()) {
            metadata_.request_refresh();
            continue;
        }
        sent.push_back({&conn, std::move(p).value()});
    }
    for (Sent& s : sent) {
        auto resp = s.conn->finish<protocol::FetchResponse>(s.pending, env_.now() + max_wait + config_.request_timeout);
        if (!resp.ok()) {
            metadata_.request_refresh();
            continue;
        }
        if (resp->error_code != protocol::ErrorCode::none) {
            metadata_.request_refresh();
            continue;
        }
        for (const auto& t : resp->responses) {
            for (const auto& p : t.partitions) KEEL_TRY(absorb_partition(t.topic, p, out));
        }
    }
    return ok_status();
}

Status Consumer::absorb_partition(const std::string& topic, const protocol::FetchResponse::PartitionData& p,
                                  std::vector<ConsumerRecord>& out) {
    TopicPartitionName tp{topic, PartitionIndex(p.partition_index)};
    auto it = assigned_.find(tp);
    if (it == assigned_.end() || !it->second.position) return ok_status();  // unassigned meanwhile
    using protocol::ErrorCode;
    switch (p.error_code) {
        case ErrorCode::none:
            if (p.diverging_epoch.present()) return on_diverging_epoch(tp, it->second, p.diverging_epoch);
            return absorb_records(tp, it->second, p.records, out);
        case ErrorCode::offset_out_of_range:
            if (config_.auto_offset_reset == OffsetReset::none) {
                return protocol::status_from(p.error_code, tp.to_string() + " at offset " +
                                                               std::to_string(it->second.position->value()));
            }
            it->second.position.reset();  // auto_offset_reset on the next round
            return ok_status();
        default:
            break;
    }
    if (protocol::is_retriable(p.error_code) || p.error_code == ErrorCode::unknown_topic_or_partition) {
        metadata_.request_refresh();  // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, ...
        return ok_status();
    }
    return protocol::status_from(p.error_code, "Fetch " + tp.to_string());
}

Status Consumer::on_diverging_epoch(const TopicPartitionName& tp, PartitionState& ps,
                                    const protocol::FetchResponse::EpochEndOffset& diverging) {
    // KIP-320/KIP-595: the log we read has been truncated (an unclean or stale leader's
    // records replaced): the leader's log for our last epoch ends at end_offset. Records we
    // returned at or above it no longer exist there; continue from the divergence point.
    if (diverging.end_offset < *ps.position) {
        if (config_.auto_offset_reset == OffsetReset::none) {
            return Status(Errc::offset_out_of_range, "log truncation detected on " + tp.to_string() + ": position " +
                                                         std::to_string(ps.position->value()) + ", epoch " +
                                                         std::to_string(diverging.epoch) + " ends at " +
                                                         std::to_string(diverging.end_offset.value()));
        }
        ps.position = diverging.end_offset.value() < 0 ? std::nullopt : std::optional<Offset>(diverging.end_offset);
    }
    ps.last_epoch = LeaderEpoch(diverging.epoch);
    truncations_detected_++;
    return ok_status();
}

Status Consumer::absorb_records(const TopicPartitionName& tp, PartitionState& ps, ByteView records,
                                std::vector<ConsumerRecord>& out) {
    size_t pos = 0;
    while (records.size() - pos >= log::batch_format::kHeaderSize) {
        ByteView rest = records.subspan(pos);
        auto header = log::parse_batch_header(rest);
        if (!header.ok()) return Status(Errc::corrupt_record, "Fetch " + tp.to_string() + ": " + header.error().message);
        if (header->size_bytes() > rest.size()) break;  // a partial batch at the end: fetch it again
        ByteView batch = rest.first(header->size_bytes());
        pos += header->size_bytes();
        if (header->next_offset() <= *ps.position) continue;  // entirely below the position
        if (header->is_control()) {
            ps.position = header->next_offset();
            continue;
        }
        auto decoded = log::decode_batch(batch, config_.codec);
        if (!decoded.ok()) return Status(decoded.error().code, "Fetch " + tp.to_string() + ": " + decoded.error().message);
        for (const log::Record& r : decoded->records) {
            if (r.offset < *ps.position) continue;
            ConsumerRecord cr{tp.topic,           tp.partition, r.offset,         header->partition_leader_epoch,
                              r.timestamp,        false,        copy_bytes(r.key), copy_bytes(r.value),
                              copy_headers(r)};
            if (header->timestamp_type() == log::TimestampType::log_append_time) {
                cr.log_append_time = true;
                cr.timestamp_ms = header->max_timestamp;
            }
            out.push_back(std::move(cr));
        }
        ps.position = header->next_offset();
        ps.last_epoch = header->partition_leader_epoch;
    }
    return ok_status();
}

}  // namespace keel::client
