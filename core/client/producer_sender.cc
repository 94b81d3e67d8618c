// Producer, the sender fiber: metadata refresh, InitProducerId, draining ready batches by
// leader, one Produce request per broker on its own fiber, and the answer to each batch's
// outcome (complete, retry with the same sequence, fail, reset the producer id).
#include <algorithm>

#include "core/client/producer.h"
#include "core/protocol/error_codes.h"
#include "core/protocol/generated/init_producer_id_request.h"
#include "core/protocol/generated/init_producer_id_response.h"
#include "core/protocol/generated/produce_request.h"

namespace keel::client {

using protocol::ErrorCode;


void Producer::sender_loop() {
    while (!stopped_) {
        Instant next = sender_round(env_.now());
        if (stopped_) break;
        bool woken = wake_.wait(next);
        if (!woken && env_.now() < next) return;  // not set, deadline not passed: the node is dying
        wake_.reset();
    }
}

Instant Producer::sender_round(Instant now) {
    maybe_refresh_metadata(now);
    Instant next = expire_batches(env_.now());
    if (config_.enable_idempotence && !ensure_producer_id(env_.now())) {
        // Waiting for in-flight answers before a reset: each finished request wakes us.
        if (producer_id_reset_needed_ && requests_in_flight_ > 0) return next;
        return std::min(next, std::max(producer_id_retry_at_, env_.now() + ms(1)));
    }
    std::map<NodeId, BatchList> ready;
    next = std::min(next, drain(env_.now(), ready));
    for (auto& [node, batches] : ready) dispatch(node, std::move(batches));
    if (metadata_.needs_refresh()) {
        bool waiting = std::any_of(partitions_.begin(), partitions_.end(),
                                   [](const auto& kv) { return !kv.second.queue.empty(); });
        if (waiting) next = std::min(next, std::max(metadata_retry_at_, env_.now() + ms(1)));
    }
    return next;
}

void Producer::maybe_refresh_metadata(Instant now) {
    if (stopped_ || !metadata_.needs_refresh() || now < metadata_retry_at_) return;
    // At most one refresh per retry_backoff, so a leaderless partition does not turn into
    // a stream of Metadata requests.
    metadata_retry_at_ = now + config_.retry_backoff;
    Status s = metadata_.refresh(now + config_.request_timeout);
    (void)s;  // failures show as partitions without leaders; retried after the backoff
}

bool Producer::ensure_producer_id(Instant now) {
    if (producer_id_reset_needed_) {
        if (requests_in_flight_ > 0) return false;  // wait until every answer is in
        reset_producer_id();
    }
    if (producer_id_ >= 0) return true;
    if (now < producer_id_retry_at_) return false;
    producer_id_retry_at_ = now + config_.retry_backoff;
    protocol::InitProducerIdRequest req;
    req.transaction_timeout_ms = INT32_MAX;
    for (const env::Address& a : metadata_.any_brokers()) {
        if (stopped_) return false;
        BrokerConnection& conn = pool_.get(a);
        auto resp = conn.call<protocol::InitProducerIdResponse>(req, 0, 5, env_.now() + config_.request_timeout);
        if (!resp.ok() && resp.code() == Errc::unsupported_version) {
            // Without a producer id nothing can be sent: fail what waits instead of letting
            // it expire, with the reason.
            fail_everything(Error{Errc::unsupported_version,
                                  "UNSUPPORTED_VERSION: broker " + a.to_string() +
                                      " does not serve InitProducerId, which idempotence needs "
                                      "(enable_idempotence = false to produce without it)"});
            continue;
        }
        if (!resp.ok() || resp->error_code != ErrorCode::none) continue;
        producer_id_ = resp->producer_id;
        producer_epoch_ = resp->producer_epoch;
        return true;
    }
    return false;
}

void Producer::reset_producer_id() {
    // Every batch already sent under the old id has an unknown outcome (it may be in the
    // log): fail it rather than resend it under a new id, which could write it twice.
    Error unknown{Errc::unknown, "producer id reset: the batch was sent under the old producer id and its outcome "
                                 "is unknown"};
    for (auto& [tp, ps] : partitions_) {
        KEEL_ASSERT(ps.in_flight == 0);
        while (!ps.queue.empty() && ps.queue.front()->encoded()) {
            std::unique_ptr<ProducerBatch> b = std::move(ps.queue.front());
            ps.queue.pop_front();
            b->fail(unknown);
            finish_batch(std::move(b));
        }
        ps.next_sequence = 0;
        ps.last_acked_sequence = -1;
    }
    producer_id_ = -1;
    producer_epoch_ = -1;
    producer_id_reset_needed_ = false;
    producer_id_retry_at_ = Instant{};
}

Instant Producer::expire_batches(Instant now) {
    Instant next = Instant::max();
    for (auto& [tp, ps] : partitions_) {
        // Only batches waiting in the queue expire; one in flight waits for its answer.
        for (auto it = ps.queue.begin(); it != ps.queue.end();) {
            Instant expiry = (*it)->created() + config_.delivery_timeout;
            if (expiry > now) {
                next = std::min(next, expiry);
                ++it;
                continue;
            }
            std::unique_ptr<ProducerBatch> b = std::move(*it);
            it = ps.queue.erase(it);
            if (config_.enable_idempotence && b->encoded()) producer_id_reset_needed_ = true;
            b->fail(Error{Errc::timeout, "delivery timeout: " + std::to_string(b->record_count()) + " record(s) for " +
                                             tp.to_string() + " not acknowledged within delivery_timeout"});
            finish_batch(std::move(b));
        }
    }
    return next;
}

bool Producer::partition_ready(const PartitionState& ps, Instant now, Instant& next) const {
    if (ps.queue.empty()) return false;
    const ProducerBatch& head = *ps.queue.front();
    if (head.retry_at && *head.retry_at > now) {
        next = std::min(next, *head.retry_at);
        return false;
    }
    if (ps.in_flight >= config_.max_in_flight) return false;
    // A retried batch goes alone: nothing of its partition may be in flight beside it, so
    // the broker sees the partition's sequences in order.
    if (head.encoded() && ps.in_flight > 0) return false;
    // Until the broker has acknowledged one batch of this producer id for the partition, it
    // accepts any sequence (it knows no state): a second batch in flight could be written
    // ahead of a first one that failed. So the first batch goes alone.
    if (config_.enable_idempotence && ps.last_acked_sequence < 0 && ps.in_flight > 0) return false;
    bool lingered = now >= head.created() + config_.linger;
    if (head.full() || ps.queue.size() > 1 || lingered || flushing_ > 0 || closing_) return true;
    next = std::min(next, head.created() + config_.linger);
    return false;
}

Instant Producer::drain(Instant now, std::map<NodeId, BatchList>& out) {
    Instant next = Instant::max();
    for (auto& [tp, ps] : partitions_) {
        if (!partition_ready(ps, now, next)) continue;
        auto leader = metadata_.partition(tp);
        if (!leader) {
            metadata_.request_refresh();
            continue;
        }
        std::unique_ptr<ProducerBatch> b = std::move(ps.queue.front());
        ps.queue.pop_front();
        Status stamped = stamp(tp, ps, *b);
        if (!stamped.ok()) {
            b->fail(stamped.error());
            finish_batch(std::move(b));
            continue;
        }
        b->attempts++;
        ps.in_flight++;
        out[leader->leader].push_back(std::move(b));
        if (!ps.queue.empty() && partition_ready(ps, now, next)) next = now;  // more to send
    }
    return next;
}

Status Producer::stamp(const TopicPartitionName& tp, PartitionState& ps, ProducerBatch& b) {
    (void)tp;
    if (b.encoded()) return ok_status();  // a retry: same bytes, same sequence
    ProducerIdentity id;
    if (config_.enable_idempotence) id = ProducerIdentity{producer_id_, producer_epoch_, ps.next_sequence};
    auto encoded = b.encode(id, config_.compression, config_.codec);
    if (!encoded.ok()) return encoded.error();
    if (config_.enable_idempotence) ps.next_sequence += b.record_count();
    return ok_status();
}

Duration Producer::backoff_for(int attempts) {
    int shift = std::clamp(attempts - 1, 0, 20);
    Duration d = config_.retry_backoff * (int64_t{1} << shift);
    d = std::min(d, config_.retry_backoff_max);
    // +-20% jitter, as Kafka's exponential backoff.
    Duration jitter = d / 5;
    return d - jitter + env_.random().uniform(Duration(0), 2 * jitter);
}

}  // namespace keel::client
