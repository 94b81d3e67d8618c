// Producer, one Produce request: sent on its own fiber to the partition leaders' broker;
// each batch's outcome then decides between complete, retry (same bytes, same sequence),
// fail, and a producer-id reset (see producer.h).
#include <algorithm>

#include "core/client/producer.h"
#include "core/protocol/error_codes.h"
#include "core/protocol/generated/produce_request.h"

namespace keel::client {

using protocol::ErrorCode;

namespace {

constexpr int16_t kProduceVersionMin = 3;  // the first with RecordBatch v2
constexpr int16_t kProduceVersionMax = 11;
// A request that was held back to keep sequences in order: not an attempt.
constexpr const char* kNotSent = "NOT_SENT";

bool name_is_one_of(const Status& s, std::initializer_list<const char*> names) {
    if (s.ok()) return false;
    for (const char* n : names) {
        if (s.error().message.rfind(n, 0) == 0) return true;
    }
    return false;
}

bool is_transport(Errc e) {
    return e == Errc::disconnected || e == Errc::connection_refused || e == Errc::timeout || e == Errc::closed;
}

// Kafka's retriable errors plus transport failures; the error name is what tells them.
bool is_retriable_status(const Status& s) {
    if (is_transport(s.code())) return true;
    for (const auto& info : protocol::kafka_error_codes()) {
        if (info.retriable && s.error().message.rfind(std::string(info.name) + ":", 0) == 0) return true;
    }
    return false;
}

bool refreshes_metadata(const Status& s) {
    return is_transport(s.code()) ||
           name_is_one_of(s, {"NOT_LEADER_OR_FOLLOWER", "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE",
                              "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH", "KAFKA_STORAGE_ERROR"});
}

}  // namespace

void Producer::dispatch(NodeId node, BatchList batches) {
    auto shared = std::make_shared<BatchList>(std::move(batches));
    uint64_t ticket = next_ticket_++;
    requests_in_flight_++;
    env::FiberId f = env_.executor().spawn("producer-request-" + std::to_string(node.value()),
                                           [this, node, shared, ticket] { run_request(node, shared, ticket); });
    if (f == 0) {  // the node is dying; nothing will run
        requests_in_flight_--;
    }
}

bool Producer::await_turn(uint64_t ticket) {
    while (turn_ != ticket) {
        if (turns_.wait(Instant::max()) == env::WakeReason::dying) return false;
    }
    return true;
}

void Producer::end_turn(uint64_t ticket) {
    if (turn_ != ticket) return;
    turn_++;
    turns_.notify_all();
}

bool Producer::keeps_sequence_order(const BatchList& batches, uint64_t generation) const {
    if (!config_.enable_idempotence) return true;
    for (const auto& b : batches) {
        const PartitionState& ps = partitions_.at(b->tp());
        int32_t seq = b->identity().base_sequence;
        // An earlier batch of the partition in flight on another connection, or waiting to
        // be retried, could reach the broker after this one.
        for (const auto& [earlier, g] : ps.in_flight_generation) {
            if (earlier < seq && g != generation) return false;
        }
        for (const auto& q : ps.queue) {
            if (q->encoded() && q->identity().base_sequence < seq) return false;
        }
    }
    return true;
}

Result<std::optional<protocol::ProduceResponse>> Producer::exchange(const env::Address& address,
                                                                    const BatchList& batches, uint64_t ticket) {
    protocol::ProduceRequest req;
    req.acks = config_.acks;
    req.timeout_ms = static_cast<int32_t>(to_ms(config_.request_timeout));
    for (const auto& b : batches) {
        auto it = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                               [&](const auto& t) { return t.name == b->tp().topic; });
        if (it == req.topic_data.end()) {
            req.topic_data.emplace_back();
            it = std::prev(req.topic_data.end());
            it->name = b->tp().topic;
        }
        protocol::ProduceRequest::PartitionProduceData pd;
        pd.index = b->tp().partition;
        auto bytes = b->encode({}, config_.compression, config_.codec);  // already encoded: same bytes
        KEEL_ASSERT(bytes.ok());
        pd.records = Bytes(bytes->begin(), bytes->end());
        it->partition_data.push_back(std::move(pd));
    }
    BrokerConnection& conn = pool_.get(address);
    Instant deadline = env_.now() + config_.request_timeout;
    struct Turn {  // ends once the request is handed to the connection (or on failure)
        Producer* p;
        uint64_t t;
        ~Turn() { p->end_turn(t); }
    } turn{this, ticket};
    if (!await_turn(ticket)) return Error{Errc::cancelled, "the node is stopping"};
    KEEL_TRY(conn.ensure_open(deadline));
    if (!keeps_sequence_order(batches, conn.generation())) {
        return Error{Errc::cancelled, std::string(kNotSent) + ": an earlier batch of the partition is not on this connection"};
    }
    KEEL_TRY_ASSIGN(int16_t version, conn.version_for(req.api_key, kProduceVersionMin, kProduceVersionMax));
    for (const auto& b : batches) {
        if (config_.enable_idempotence) {
            partitions_[b->tp()].in_flight_generation[b->identity().base_sequence] = conn.generation();
        }
    }
    KEEL_TRY_ASSIGN(PendingRequest p, conn.start(req, version, deadline, config_.acks != 0));
    end_turn(ticket);  // later requests may go out while this one waits for its answer
    if (config_.acks == 0) return std::optional<protocol::ProduceResponse>();
    KEEL_TRY_ASSIGN(protocol::ProduceResponse resp, conn.finish<protocol::ProduceResponse>(p, deadline));
    return std::optional<protocol::ProduceResponse>(std::move(resp));
}

void Producer::run_request(NodeId node, std::shared_ptr<BatchList> batches, uint64_t ticket) {
    struct Done {
        Producer* p;
        ~Done() {
            p->requests_in_flight_--;
            p->wake_.set();
            p->changed_.notify_all();
        }
    } done{this};
    auto address = metadata_.broker_address(node);
    if (!address) end_turn(ticket);  // (await_turn is not needed: nothing is sent)
    Result<std::optional<protocol::ProduceResponse>> result =
        address ? exchange(*address, *batches, ticket)
                : Result<std::optional<protocol::ProduceResponse>>(Errc::disconnected, "broker unknown");
    for (auto& b : *batches) {
        if (!result.ok()) {
            on_batch_result(std::move(b), Status(result.error()), Offset(-1), -1);
            continue;
        }
        if (!result->has_value()) {  // acks=0: handed to the network is all we learn
            on_batch_result(std::move(b), ok_status(), Offset(-1), -1);
            continue;
        }
        Status outcome(Errc::invalid_request, "NETWORK_EXCEPTION: the response does not mention the partition");
        Offset base{-1};
        int64_t append_time = -1;
        for (const auto& t : (*result)->responses) {
            if (t.name != b->tp().topic) continue;
            for (const auto& p : t.partition_responses) {
                if (p.index != b->tp().partition) continue;
                outcome = p.error_code == ErrorCode::duplicate_sequence_number
                              ? ok_status()  // an earlier attempt was written; offsets unknown
                              : protocol::status_from(p.error_code, b->tp().to_string());
                base = p.error_code == ErrorCode::none ? Offset(p.base_offset) : Offset(-1);
                append_time = p.log_append_time_ms;
            }
        }
        on_batch_result(std::move(b), outcome, base, append_time);
    }
}

bool Producer::should_retry(const ProducerBatch& b, const Status& error, const PartitionState& ps) const {
    if (stopped_) return false;
    if (b.attempts > config_.retries) return false;
    if (env_.now() >= b.created() + config_.delivery_timeout) return false;
    if (config_.enable_idempotence && name_is_one_of(error, {"OUT_OF_ORDER_SEQUENCE_NUMBER"})) {
        // A gap caused by an earlier batch of ours that is still being retried: retry in
        // order. The very next expected batch rejected as out of order: the broker lost our
        // state, and only a new producer id can continue (not retried).
        // A sequence at or below the last acknowledged one can never be accepted: not retried.
        return b.identity().base_sequence > ps.last_acked_sequence + 1;
    }
    return is_retriable_status(error);
}

void Producer::on_batch_result(std::unique_ptr<ProducerBatch> b, const Status& error, Offset base_offset,
                               int64_t log_append_time_ms) {
    PartitionState& ps = partitions_[b->tp()];
    ps.in_flight--;
    ps.in_flight_generation.erase(b->identity().base_sequence);
    if (!error.ok() && error.error().message.rfind(kNotSent, 0) == 0 && !stopped_) {
        b->attempts--;  // held back, never sent
        requeue(std::move(b), ps);
        return;
    }
    if (error.ok()) {
        if (config_.enable_idempotence) ps.last_acked_sequence = std::max(ps.last_acked_sequence, b->last_sequence());
        b->complete(base_offset, log_append_time_ms);
        finish_batch(std::move(b));
        return;
    }
    if (refreshes_metadata(error)) metadata_.request_refresh();
    if (should_retry(*b, error, ps)) {
        b->retry_at = env_.now() + backoff_for(b->attempts);
        requeue(std::move(b), ps);
        return;
    }
    // A sent batch that failed leaves its sequence number unusable for the partition.
    if (config_.enable_idempotence) producer_id_reset_needed_ = true;
    b->fail(error.error());
    finish_batch(std::move(b));
}

void Producer::requeue(std::unique_ptr<ProducerBatch> b, PartitionState& ps) {
    // Retries go before fresh batches, in sequence order among themselves.
    auto pos = ps.queue.begin();
    while (pos != ps.queue.end() && (*pos)->encoded() &&
           (!config_.enable_idempotence || (*pos)->identity().base_sequence < b->identity().base_sequence)) {
        if (!config_.enable_idempotence) break;
        ++pos;
    }
    ps.queue.insert(pos, std::move(b));
}

void Producer::finish_batch(std::unique_ptr<ProducerBatch> b) {
    KEEL_ASSERT(b->done());
    buffered_bytes_ -= std::min(buffered_bytes_, b->buffered_bytes);
    changed_.notify_all();
}

}  // namespace keel::client
