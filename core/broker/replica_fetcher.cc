#include "core/broker/replica_fetcher.h"

#include "core/broker/replica_manager.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;

ReplicaFetcher::ReplicaFetcher(ReplicaManager& manager, NodeId leader)
    : manager_(manager),
      leader_(leader),
      client_(manager.env(), "replica-fetcher-" + std::to_string(manager.config().id.value())),
      wake_(manager.env().executor()),
      done_(manager.env().executor()) {}

ReplicaFetcher::~ReplicaFetcher() { stop(); }

void ReplicaFetcher::join() {
    stop();
    if (started_) done_.wait();
}

void ReplicaFetcher::start() {
    started_ = true;
    env::spawn_joinable(manager_.env().executor(), "fetcher-from-" + std::to_string(leader_.value()), done_,
                        [this] { run(); });
}

void ReplicaFetcher::stop() {
    stopping_ = true;
    wake_.set();
    client_.close_all();
}

void ReplicaFetcher::run() {
    while (!stopping_ && !manager_.failed()) {
        if (fetch_once()) continue;
        if (stopping_) break;
        wake_.wait(manager_.env().now() + manager_.config().replica_fetch_backoff);
        wake_.reset();
    }
}

std::optional<FetchRequest> ReplicaFetcher::build_request() {
    const BrokerConfig& c = manager_.config();
    FetchRequest req;
    req.replica_id = c.id;
    auto epoch = manager_.lifecycle().epoch();
    req.replica_epoch = epoch ? epoch->value() : -1;
    req.max_wait_ms = static_cast<int32_t>(c.replica_fetch_wait_max / ms(1));
    req.min_bytes = 1;
    req.max_bytes = c.replica_fetch_max_bytes;
    std::map<Uuid, FetchRequest::FetchTopic> topics;
    for (const auto& [tp, p] : manager_.partitions()) {
        if (p->role() != ReplicaRole::follower || p->leader() != leader_) continue;
        FetchRequest::FetchPartition fp;
        fp.partition = tp.partition;
        fp.current_leader_epoch = p->leader_epoch().value();
        fp.fetch_offset = p->log_end();
        fp.last_fetched_epoch = c.kip101_off ? -1 : p->last_fetched_epoch();
        fp.log_start_offset = p->log_start();
        fp.partition_max_bytes = c.replica_fetch_max_bytes;
        FetchRequest::FetchTopic& t = topics[p->topic_id()];
        t.topic_id = p->topic_id();
        t.topic = tp.topic;
        t.partitions.push_back(fp);
    }
    if (topics.empty()) return std::nullopt;
    for (auto& [id, t] : topics) req.topics.push_back(std::move(t));
    return req;
}

bool ReplicaFetcher::fetch_once() {
    std::optional<FetchRequest> req = build_request();
    if (!req) return false;
    const controller::BrokerRegistration* b = manager_.image().broker(leader_);
    if (b == nullptr || b->endpoints.empty()) return false;
    env::Address to{b->endpoints[0].host, b->endpoints[0].port};
    manager_.stats().fetch_requests++;
    Instant deadline = manager_.env().now() + manager_.config().replica_fetch_wait_max + manager_.config().request_timeout;
    auto resp = client_.call<FetchResponse>(to, *req, replica_fetch_version, deadline);
    if (stopping_) return false;
    if (!resp.ok() || resp->error_code != ErrorCode::none) {
        manager_.stats().fetch_errors++;
        return false;
    }
    handle(*req, *resp);
    return !manager_.failed();
}

void ReplicaFetcher::handle(const FetchRequest& req, const FetchResponse& resp) {
    std::map<std::pair<Uuid, int32_t>, LeaderEpoch> asked;
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) asked[{t.topic_id, p.partition}] = LeaderEpoch(p.current_leader_epoch);
    }
    bool any_error = false;
    for (const auto& t : resp.responses) {
        for (const auto& d : t.partitions) {
            auto a = asked.find({t.topic_id, d.partition_index});
            Partition* raw = manager_.partition(t.topic_id, d.partition_index);
            std::shared_ptr<Partition> p = raw != nullptr ? manager_.partition_ref(raw->tp()) : nullptr;
            if (a == asked.end() || p == nullptr) continue;
            if (d.error_code != ErrorCode::none) any_error = true;
            handle_partition(*p, a->second, d);
            if (manager_.failed()) return;
        }
    }
    if (any_error) manager_.stats().fetch_errors++;
}

void ReplicaFetcher::handle_partition(Partition& p, LeaderEpoch asked_epoch, const FetchResponse::PartitionData& d) {
    // The image moved while the fetch was out: the answer is for another epoch.
    if (p.role() != ReplicaRole::follower || p.leader() != leader_ || p.leader_epoch() != asked_epoch) return;
    Status st = ok_status();
    if (d.error_code == ErrorCode::none && d.diverging_epoch.present()) {
        manager_.stats().divergence_truncations++;
        st = p.truncate_for_divergence(Divergence{LeaderEpoch(d.diverging_epoch.epoch), d.diverging_epoch.end_offset},
                                       d.log_start_offset, asked_epoch);
    } else if (d.error_code == ErrorCode::none) {
        auto r = p.append_as_follower(d.records, d.high_watermark, asked_epoch);
        if (!r.ok()) {
            st = r.error();
        } else {
            manager_.stats().records_replicated_bytes += d.records.size();
            st = p.follow_leader_log_start(d.log_start_offset);
        }
    } else if (d.error_code == ErrorCode::offset_out_of_range && d.log_start_offset > p.log_end()) {
        st = p.restart_at_leader_log_start(d.log_start_offset, asked_epoch);
    } else if (d.error_code == ErrorCode::offset_out_of_range && d.high_watermark.value() >= 0 &&
               p.log_end() > d.high_watermark) {
        // Without epochs (kip101_off) a follower ahead of the leader's log learns it this
        // way, and cuts back to the leader's high watermark before fetching again.
        st = p.log().truncate_to(d.high_watermark);
    }
    manager_.changed(p);
    // The partition became leader, or moved to another epoch, while the append waited
    // for the one before it (or for a role change) to finish: the answer is dropped.
    if (!st.ok() && (st.error().code == Errc::not_leader || st.error().code == Errc::fenced_leader_epoch ||
                     st.error().code == Errc::cancelled)) {
        return;
    }
    if (!st.ok()) {
        // A leader's batch that does not fit our log (invalid_record) is a protocol
        // error, logged and retried; anything on the disk stops the broker.
        if (st.error().code == Errc::invalid_record || st.error().code == Errc::corrupt_record) {
            manager_.env().tracer().log(env::Level::warn, p.tp().to_string() + ": " + st.error().to_string());
            return;
        }
        if (manager_.hosts(p)) manager_.fail(st);
    }
}

}  // namespace keel::broker
