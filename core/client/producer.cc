// Producer, the application side: config checks, send() (metadata, partitioning, buffer
// limit, batching), flush() and close(). The sender fiber is in producer_sender.cc.
#include "core/client/producer.h"

#include <algorithm>

#include "core/protocol/error_codes.h"

namespace keel::client {

Status validate_producer_config(const ProducerConfig& c) {
    auto bad = [](const std::string& what) { return Status(Errc::invalid_argument, "producer config: " + what); };
    if (c.bootstrap.empty()) return bad("bootstrap is empty");
    if (c.acks != 0 && c.acks != 1 && c.acks != -1) return bad("acks must be 0, 1 or -1");
    if (c.max_in_flight < 1) return bad("max_in_flight must be at least 1");
    if (c.batch_size < 64) return bad("batch_size must be at least 64 bytes");
    if (c.buffer_memory < c.batch_size) return bad("buffer_memory must be at least batch_size");
    if (c.retries < 0) return bad("retries must not be negative");
    if (c.delivery_timeout < c.linger + c.request_timeout) {
        return bad("delivery_timeout must be at least linger + request_timeout (as Kafka requires)");
    }
    if (c.request_timeout <= Duration(0) || c.retry_backoff <= Duration(0)) return bad("timeouts must be positive");
    if (c.compression != log::Compression::none && c.codec == nullptr) return bad("compression needs a codec");
    return ok_status();
}

namespace {

ProducerConfig normalized(ProducerConfig c) {
    if (c.enable_idempotence) {
        c.acks = -1;
        c.max_in_flight = std::min(c.max_in_flight, 5);
        if (c.retries == 0) c.retries = INT32_MAX;  // idempotence needs retries
    }
    return c;
}

ConnectionOptions connection_options(const ProducerConfig& c) {
    ConnectionOptions o;
    o.client_id = c.client_id;
    o.connect_timeout = c.request_timeout;
    return o;
}

MetadataOptions metadata_options(const ProducerConfig& c) {
    MetadataOptions o;
    o.bootstrap = c.bootstrap;
    o.max_age = c.metadata_max_age;
    o.request_timeout = c.request_timeout;
    o.allow_auto_topic_creation = true;
    return o;
}

env::Future<RecordMetadata> failed(env::Executor& ex, Error e) {
    env::Promise<RecordMetadata> p(ex);
    p.set(std::move(e));
    return p.future();
}

}  // namespace

Producer::Producer(env::Env& env, ProducerConfig config)
    : env_(env),
      config_(normalized(std::move(config))),
      config_status_(validate_producer_config(config_)),
      pool_(env, connection_options(config_)),
      metadata_(env, pool_, metadata_options(config_)),
      sticky_(env.random()),
      turns_(env.executor()),
      wake_(env.executor()),
      changed_(env.executor()),
      sender_done_(env.executor()) {
    if (!config_status_.ok()) {
        closed_ = true;
        sender_done_.set();
        return;
    }
    env::spawn_joinable(env_.executor(), "producer-sender-" + config_.client_id, sender_done_,
                        [this] { sender_loop(); });
}

Producer::~Producer() { close(); }

env::Future<RecordMetadata> Producer::send(ProducerRecord record) {
    env::Executor& ex = env_.executor();
    if (!config_status_.ok()) return failed(ex, config_status_.error());
    if (closing_ || closed_) return failed(ex, Error{Errc::closed, "the producer is closed"});
    if (record.topic.empty()) return failed(ex, Error{Errc::invalid_argument, "a record needs a topic"});
    Instant deadline = env_.now() + config_.max_block;
    auto topic = await_topic(record.topic, deadline);
    if (!topic.ok()) return failed(ex, topic.error());
    if (closing_ || closed_) return failed(ex, Error{Errc::closed, "the producer is closed"});
    bool sticky = false;
    auto partition = choose_partition(record, **topic, &sticky);
    if (!partition.ok()) return failed(ex, partition.error());
    if (sticky && !fits_open_batch({record.topic, *partition}, record)) {
        // KIP-480: the sticky partition's batch was sent or is full: this record would
        // start a new batch, so it starts it on another partition instead.
        sticky_.on_new_batch(record.topic, *partition, (*topic)->partition_count());
        partition = sticky_.partition(record.topic, (*topic)->partition_count());
    }
    Status space = await_buffer(estimated_record_size(record), deadline);
    if (!space.ok()) return failed(ex, space.error());
    // await_buffer may have blocked: the topic's metadata may have changed meanwhile.
    const TopicMetadata* t = metadata_.topic(record.topic);
    if (t == nullptr || partition->value() >= t->partition_count()) {
        return failed(ex, Error{Errc::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION: " + record.topic});
    }
    int64_t timestamp = record.timestamp_ms.value_or(env_.clock().wall_now().ms());
    return append(TopicPartitionName{record.topic, *partition}, record, timestamp);
}

Result<const TopicMetadata*> Producer::await_topic(const std::string& topic, Instant deadline) {
    metadata_.add_topic(topic);
    while (true) {
        if (const TopicMetadata* t = metadata_.topic(topic)) return t;
        Status s = metadata_.refresh(deadline);
        if (const TopicMetadata* t = metadata_.topic(topic)) return t;
        if (closing_ || closed_) return Error{Errc::closed, "the producer is closed"};
        if (env_.now() + config_.retry_backoff >= deadline) {
            std::string why = s.ok() ? "the topic has no usable metadata" : s.error().to_string();
            return Error{Errc::timeout, "metadata for topic " + topic + " not available within max_block: " + why};
        }
        env_.executor().sleep_for(config_.retry_backoff);
    }
}

Result<PartitionIndex> Producer::choose_partition(const ProducerRecord& r, const TopicMetadata& t, bool* sticky) {
    int32_t count = t.partition_count();
    if (r.partition) {
        if (r.partition->value() < 0 || r.partition->value() >= count) {
            return Error{Errc::invalid_argument, "partition " + std::to_string(r.partition->value()) + " of " +
                                                     r.topic + " is out of range (" + std::to_string(count) +
                                                     " partitions)"};
        }
        return *r.partition;
    }
    if (r.key) return partition_for_key(*r.key, count);
    *sticky = true;
    return sticky_.partition(r.topic, count);
}

Status Producer::await_buffer(size_t bytes, Instant deadline) {
    while (buffered_bytes_ > 0 && buffered_bytes_ + bytes > config_.buffer_memory) {
        if (closing_ || closed_) return Status(Errc::closed, "the producer is closed");
        if (changed_.wait(deadline) != env::WakeReason::unparked && env_.now() >= deadline) {
            return Status(Errc::timeout, "buffer_memory full for longer than max_block");
        }
    }
    return ok_status();
}

bool Producer::fits_open_batch(const TopicPartitionName& tp, const ProducerRecord& r) const {
    auto it = partitions_.find(tp);
    if (it == partitions_.end() || it->second.queue.empty()) return false;
    return it->second.queue.back()->fits(r);
}

env::Future<RecordMetadata> Producer::append(const TopicPartitionName& tp, const ProducerRecord& r, int64_t ts) {
    PartitionState& ps = partitions_[tp];
    size_t charge = estimated_record_size(r);
    buffered_bytes_ += charge;
    if (!ps.queue.empty() && !ps.queue.back()->encoded()) {
        ProducerBatch& last = *ps.queue.back();
        if (auto f = last.try_append(env_.executor(), r, ts)) {
            last.buffered_bytes += charge;
            if (last.full()) wake_.set();
            return *f;
        }
    }
    ps.queue.push_back(std::make_unique<ProducerBatch>(tp, env_.now(), config_.batch_size));
    ProducerBatch& b = *ps.queue.back();
    auto f = b.try_append(env_.executor(), r, ts);
    KEEL_ASSERT(f.has_value());  // an empty batch takes any record
    b.buffered_bytes += charge;
    wake_.set();
    return *f;
}

bool Producer::idle() const {
    if (requests_in_flight_ > 0) return false;
    return std::all_of(partitions_.begin(), partitions_.end(),
                       [](const auto& kv) { return kv.second.queue.empty() && kv.second.in_flight == 0; });
}

Status Producer::flush(Duration timeout) {
    Instant deadline = env_.now() + timeout;
    flushing_++;
    wake_.set();
    Status result = ok_status();
    while (!idle()) {
        if (changed_.wait(deadline) != env::WakeReason::unparked && !idle()) {
            result = Status(Errc::timeout, "flush: records still in flight after the timeout");
            break;
        }
    }
    flushing_--;
    return result;
}

void Producer::fail_everything(const Error& error) {
    for (auto& [tp, ps] : partitions_) {
        while (!ps.queue.empty()) {
            std::unique_ptr<ProducerBatch> b = std::move(ps.queue.front());
            ps.queue.pop_front();
            b->fail(error);
            finish_batch(std::move(b));
        }
    }
}

void Producer::close() {
    if (closed_) return;
    closing_ = true;
    wake_.set();
    Status flushed = flush(config_.delivery_timeout + config_.request_timeout);
    (void)flushed;  // whatever is left fails below
    stopped_ = true;
    wake_.set();
    pool_.close_all();  // a sender blocked in a request (metadata, InitProducerId) returns now
    sender_done_.wait();
    fail_everything(Error{Errc::closed, "the producer was closed before the record was sent"});
    pool_.close_all();  // in-flight requests fail and their fibers end
    while (requests_in_flight_ > 0) {
        if (changed_.wait(Instant::max()) == env::WakeReason::dying) break;
    }
    closed_ = true;
    changed_.notify_all();
}

}  // namespace keel::client
