// Producer: Kafka's producer over the wire protocol, written once against core/env so the
// same code runs in simulated node fibers (sim::World) and in production (prod::ProdNode).
//
//   client::Producer producer(env, {.bootstrap = {{"b1", 9092}}, .client_id = "orders"});
//   env::Future<client::RecordMetadata> f = producer.send({.topic = "orders", .key = k, .value = v});
//   Result<client::RecordMetadata> md = f.get();   // topic, partition, offset, timestamp
//   producer.flush(ms(10'000));
//   producer.close();
//
// What it does (docs/client.md explains why):
// - Partitioning: an explicit partition, else murmur2(key) as Kafka's default partitioner,
//   else (null key) the sticky partitioner.
// - Batching: records accumulate per partition into batches of up to batch_size bytes; a
//   batch is sent when full, when it has waited `linger`, or on flush()/close(). A sender
//   fiber groups ready batches by partition leader into one Produce request per broker.
// - Retries: retriable errors (NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT,
//   NOT_ENOUGH_REPLICAS, transport errors, ...) retry with exponential backoff until
//   `delivery_timeout` after send(); leadership errors and transport errors refresh the
//   metadata first.
// - Idempotence (default on, as in Kafka 3+): InitProducerId gives a producer id and epoch;
//   every batch carries a per-partition base sequence, and a retry resends the same bytes
//   with the same sequence, so the broker drops duplicates. It forces acks=-1 and at most
//   5 batches in flight per partition; a retried batch is sent alone, ahead of later ones,
//   so the broker sees sequences in order. If the sequence of a partition can no longer be
//   trusted (OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch, UNKNOWN_PRODUCER_ID,
//   an epoch error, or a sent batch that failed), the producer waits for its in-flight
//   requests, fails every batch that was already sent under the old id (its outcome is
//   unknown: it may be in the log), takes a new producer id and restarts sequences at 0.
//   It never resends such a batch under a new id, which could write it twice.
// - acks=0: fire and forget; the future completes once the request is handed to the
//   network, with offset -1.
//
// Errors: a send's future fails with a Status whose message starts with the Kafka error
// name (e.g. "MESSAGE_TOO_LARGE: ..."); Errc::timeout when delivery_timeout expired;
// Errc::closed after close(). Threading: every call from fibers of the env's node; no call
// may still be running on another fiber when the producer is destroyed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/client/connection.h"
#include "core/client/metadata.h"
#include "core/client/partitioner.h"
#include "core/client/producer_batch.h"
#include "core/client/types.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/log/record_batch.h"
#include "core/protocol/generated/produce_response.h"

namespace keel::client {

struct ProducerConfig {
    std::vector<env::Address> bootstrap;      // bootstrap.servers
    std::string client_id = "keel-producer";  // client.id
    int16_t acks = -1;                        // 0, 1 or -1 (all)
    bool enable_idempotence = true;           // forces acks=-1 and max_in_flight <= 5
    int max_in_flight = 5;                    // batches in flight per partition
    Duration linger = ms(5);                  // linger.ms
    size_t batch_size = 16384;                // batch.size (bytes)
    size_t buffer_memory = size_t{32} << 20;  // buffer.memory: send() blocks above it
    int32_t retries = INT32_MAX;
    Duration retry_backoff = ms(100);         // retry.backoff.ms
    Duration retry_backoff_max = ms(1000);    // retry.backoff.max.ms
    Duration delivery_timeout = ms(120'000);  // delivery.timeout.ms
    Duration request_timeout = ms(30'000);    // request.timeout.ms
    Duration max_block = ms(60'000);          // max.block.ms: send() waiting for metadata/buffer
    Duration metadata_max_age = ms(300'000);  // metadata.max.age.ms
    log::Compression compression = log::Compression::none;  // compression.type
    // Compresses batches (e.g. &compression::batch_codec()); required for compression
    // other than none. Not owned; must outlive the producer.
    const log::BatchCodec* codec = nullptr;
};

// The checks Producer applies to a config. Errc::invalid_argument naming the field.
Status validate_producer_config(const ProducerConfig& config);

class Producer {
public:
    // Starts the sender fiber. An invalid config makes every send() fail with the reason.
    Producer(env::Env& env, ProducerConfig config);
    ~Producer();  // close()
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    // Queues the record and returns the future of its metadata (get() gives
    // Result<RecordMetadata>). May block the calling fiber up to max_block while the
    // topic's metadata is fetched or the buffer is full. Errors (in the future):
    // invalid_argument (no topic, partition out of range, bad config), unknown_topic_or_partition,
    // timeout, closed, and the broker's errors as described above.
    env::Future<RecordMetadata> send(ProducerRecord record);

    // Sends everything queued now, without waiting for linger, and waits until nothing is
    // queued or in flight — every record sent before the call has completed (acknowledged
    // or failed); records other fibers send meanwhile are waited for too. Errc::timeout if
    // that takes longer than `timeout`.
    Status flush(Duration timeout);

    // Flushes (bounded by delivery_timeout + request_timeout), fails what is left with
    // Errc::closed, stops the sender fiber and closes the connections. Idempotent.
    void close();

    // The idempotent producer's current id and epoch (-1 before InitProducerId).
    int64_t producer_id() const { return producer_id_; }
    int16_t producer_epoch() const { return producer_epoch_; }
    const ProducerConfig& config() const { return config_; }

private:
    struct PartitionState {
        std::deque<std::unique_ptr<ProducerBatch>> queue;  // to send; retries first, by sequence
        int in_flight = 0;
        int32_t next_sequence = 0;
        int32_t last_acked_sequence = -1;
        // Idempotence: base sequence → connection generation of each batch in flight.
        std::map<int32_t, uint64_t> in_flight_generation;
    };
    using BatchList = std::vector<std::unique_ptr<ProducerBatch>>;

    // producer.cc: the application side.
    Result<const TopicMetadata*> await_topic(const std::string& topic, Instant deadline);
    Result<PartitionIndex> choose_partition(const ProducerRecord& r, const TopicMetadata& t, bool* sticky);
    Status await_buffer(size_t bytes, Instant deadline);
    bool fits_open_batch(const TopicPartitionName& tp, const ProducerRecord& r) const;
    env::Future<RecordMetadata> append(const TopicPartitionName& tp, const ProducerRecord& r, int64_t ts);
    bool idle() const;
    void fail_everything(const Error& error);

    // producer_sender.cc: the sender fiber.
    void sender_loop();
    Instant sender_round(Instant now);
    void maybe_refresh_metadata(Instant now);
    bool ensure_producer_id(Instant now);
    void reset_producer_id();
    Instant expire_batches(Instant now);
    Instant drain(Instant now, std::map<NodeId, BatchList>& out);
    bool partition_ready(const PartitionState& ps, Instant now, Instant& next) const;
    Status stamp(const TopicPartitionName& tp, PartitionState& ps, ProducerBatch& b);
    void dispatch(NodeId node, BatchList batches);
    void run_request(NodeId node, std::shared_ptr<BatchList> batches, uint64_t ticket);
    bool await_turn(uint64_t ticket);
    void end_turn(uint64_t ticket);
    bool keeps_sequence_order(const BatchList& batches, uint64_t generation) const;
    Result<std::optional<protocol::ProduceResponse>> exchange(const env::Address& address, const BatchList& batches,
                                                              uint64_t ticket);
    void on_batch_result(std::unique_ptr<ProducerBatch> b, const Status& error, Offset base_offset,
                         int64_t log_append_time_ms);
    bool should_retry(const ProducerBatch& b, const Status& error, const PartitionState& ps) const;
    void requeue(std::unique_ptr<ProducerBatch> b, PartitionState& ps);
    void finish_batch(std::unique_ptr<ProducerBatch> b);
    Duration backoff_for(int attempts);

    env::Env& env_;
    ProducerConfig config_;
    Status config_status_;
    ConnectionPool pool_;
    MetadataCache metadata_;
    StickyPartitioner sticky_;
    std::map<TopicPartitionName, PartitionState> partitions_;
    size_t buffered_bytes_ = 0;
    int requests_in_flight_ = 0;
    int flushing_ = 0;
    bool closing_ = false;
    bool closed_ = false;
    bool stopped_ = false;  // the sender fiber must exit now
    int64_t producer_id_ = -1;
    int16_t producer_epoch_ = -1;
    bool producer_id_reset_needed_ = false;
    Instant producer_id_retry_at_{};
    Instant metadata_retry_at_{};
    // Requests start (are handed to a connection) in the order the sender drained them.
    uint64_t next_ticket_ = 0;
    uint64_t turn_ = 0;
    env::WaitQueue turns_;
    env::Event wake_;         // the sender has work
    env::WaitQueue changed_;  // a batch completed, buffer space freed, a request ended
    env::Event sender_done_;
};

}  // namespace keel::client
