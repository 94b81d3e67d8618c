// keel::embedded — an in-process, thread-safe, topic-based publish-subscribe broker with
// replay. The one header a program includes. Design and memory ordering: docs/pubsub.md.
//
//   keel::embedded::Broker broker;
//   auto sub = broker.subscribe({"orders"}).value;        // receives what is published from now
//   broker.publish("orders", "hello");                    // -> {Status::ok, offset 0}
//   keel::embedded::Batch batch;
//   sub->poll(batch, 100, std::chrono::milliseconds(10)); // batch[0].value == "hello"
//   sub->reset("orders", 0);                              // re-read from offset 0
//
// Semantics
// - One append-only log per topic. Offsets start at 0 and are dense; publish returns the
//   offset the message got. Any number of threads publish concurrently.
// - A subscriber reads each of its topics in offset order from its own position, which
//   starts at the topic's end when it subscribes (so it sees every message published after
//   subscribe returns). Every subscriber of a topic sees every message (fan-out).
// - Readers take no lock shared with publishers: publishers serialize among themselves on a
//   short per-topic lock, publish the committed end with an atomic release store, and
//   readers acquire-load it and copy committed bytes (docs/pubsub.md).
// - Bounded memory: each topic keeps the newest messages within its retention bounds
//   (count and bytes, at segment granularity). A subscriber that falls behind the oldest
//   retained offset is handled by its LagPolicy: `clamp` skips to the oldest retained
//   message and reports the skipped range in Batch::gaps(); `error` makes poll return
//   Status::overrun until reset() moves the subscriber.
// - Publishers never wait for subscribers and subscribers never wait for each other.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel::embedded {

enum class Status {
    ok,
    timeout,          // poll: nothing arrived before the deadline
    closed,           // the subscriber or the broker was closed (and nothing is left to read)
    no_such_topic,    // the topic does not exist and the broker does not create it implicitly
    topic_exists,     // create_topic of an existing topic
    too_large,        // a message bigger than its topic's segment
    out_of_range,     // reset to an offset outside [oldest retained, end] under LagPolicy::error
    overrun,          // poll under LagPolicy::error: the subscriber fell behind retention
    not_subscribed,   // reset/unsubscribe/position of a topic the subscriber does not read
    busy,             // poll while another poll or a callback thread consumes, or start twice
    invalid_argument  // bad options or an empty topic name
};
const char* to_string(Status s);

// What happens to a subscriber whose position is no longer retained, and to a reset outside
// the retained range [oldest retained offset, end].
enum class LagPolicy {
    clamp,  // move to the nearest retained position; poll reports skipped ranges as gaps
    error   // reset returns out_of_range; poll returns overrun until reset() is called
};

struct TopicOptions {
    size_t retention_messages = size_t{1} << 20;  // keep at least the newest this many...
    size_t retention_bytes = size_t{64} << 20;    // ...and this many bytes (whichever is fewer)
    size_t segment_bytes = size_t{256} << 10;     // unit of allocation and trimming (>= 1 KiB)
    // Allocate and touch every segment the bounds allow when the topic is created (about
    // retention_bytes + 2 segments), so publishing never page-faults fresh memory.
    bool preallocate = false;
};

struct BrokerOptions {
    bool create_topics_implicitly = true;  // publish/subscribe to an unknown topic creates it
    TopicOptions topic_defaults;
};

struct SubscriberOptions {
    LagPolicy lag_policy = LagPolicy::clamp;
};

template <class T>
struct Outcome {
    Status status = Status::ok;
    T value{};
    bool ok() const { return status == Status::ok; }
};

// One delivered message. The views stay valid until the next poll into the same Batch.
struct Message {
    std::string_view topic;
    uint64_t offset = 0;
    std::string_view key;
    std::string_view value;
};

// Offsets [from, to) of `topic` that were trimmed before this subscriber read them.
struct Gap {
    std::string_view topic;
    uint64_t from = 0, to = 0;
};

namespace detail {
struct Segment;
struct Topic;
}  // namespace detail

// What poll fills: messages in offset order per topic. Zero-copy: the views point into the
// topic's segments, which the batch keeps pinned (never overwritten, even if trimmed) until
// the next poll into it, clear() or its destruction; so hold a batch only briefly, since a
// pinned segment is not reused and the topic allocates another instead. A topic's gap, if
// any, comes before (at lower offsets than) all of that topic's messages in the batch.
class Batch {
public:
    Batch() = default;
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    const std::vector<Message>& messages() const { return messages_; }
    const std::vector<Gap>& gaps() const { return gaps_; }
    size_t size() const { return messages_.size(); }
    bool empty() const { return messages_.empty(); }
    const Message& operator[](size_t i) const { return messages_[i]; }
    auto begin() const { return messages_.begin(); }
    auto end() const { return messages_.end(); }
    void clear();  // releases the pins; the views become invalid

private:
    friend class Subscriber;
    struct Hold {
        std::shared_ptr<detail::Topic> topic;  // keeps the segment's memory alive
        detail::Segment* segment;
        uint64_t seq;
    };
    std::vector<Hold> holds_;
    std::vector<Message> messages_;
    std::vector<Gap> gaps_;
};

namespace detail {
struct BrokerCore;
struct Waiter;
}  // namespace detail

// Publishes to one topic without looking its name up (cheap to copy; thread-safe).
class Publisher {
public:
    Publisher() = default;
    // The offset the message got. too_large if it does not fit a segment; closed after close().
    Outcome<uint64_t> publish(std::string_view value, std::string_view key = {}) const;
    const std::string& topic() const;

private:
    friend class Broker;
    std::shared_ptr<detail::Topic> topic_;
};

// Reads one or more topics. poll, reset, subscribe, unsubscribe, position and close may be
// called from any thread; one consumer polls at a time (a poll that overlaps another, or a
// running callback thread, returns busy).
class Subscriber {
public:
    ~Subscriber();  // stops the callback thread, unsubscribes from everything
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    // Up to max_messages (>= 1) across the subscribed topics. Blocks until at least one
    // message (or gap) is available, the timeout passes (timeout) or the subscriber or broker
    // is closed with nothing left to read (closed). ok means out is non-empty.
    Status poll(Batch& out, size_t max_messages, std::chrono::nanoseconds timeout);

    // Moves the position in `topic` to `offset` (earlier: replay; later: skip), up to the end.
    // Outside the retained range: LagPolicy::clamp clamps; LagPolicy::error -> out_of_range.
    Status reset(std::string_view topic, uint64_t offset);
    // Adds a topic, read from its current end. topic_exists-like duplicates are ok (no-op).
    Status subscribe(std::string_view topic);
    Status unsubscribe(std::string_view topic);
    // The next offset this subscriber will read in `topic`.
    Outcome<uint64_t> position(std::string_view topic) const;

    // Push consumption: a thread owned by this subscriber polls and calls fn for each
    // message (and on_gap, if set, for each gap) until stop(), close() or destruction.
    Status start(std::function<void(const Message&)> fn, std::function<void(const Gap&)> on_gap = {});
    void stop();

    // Wakes blocked pollers; poll returns closed from now on. Idempotent.
    void close();

private:
    friend class Broker;
    struct Impl;
    explicit Subscriber(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct TopicInfo {
    uint64_t start_offset = 0;  // oldest retained
    uint64_t end_offset = 0;    // next offset to be assigned
    size_t retained_bytes = 0;
    size_t segments = 0;
};

class Broker {
public:
    explicit Broker(BrokerOptions options = {});
    ~Broker();  // close(); subscribers may outlive the broker (they then see closed)
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // invalid_argument for an empty name or bad options; topic_exists if it exists.
    Status create_topic(std::string_view name);
    Status create_topic(std::string_view name, const TopicOptions& options);
    Outcome<Publisher> publisher(std::string_view topic);
    Outcome<uint64_t> publish(std::string_view topic, std::string_view value, std::string_view key = {});
    Outcome<std::unique_ptr<Subscriber>> subscribe(const std::vector<std::string>& topics,
                                                   SubscriberOptions options = {});
    Outcome<TopicInfo> info(std::string_view topic) const;
    std::vector<std::string> topics() const;

    // Refuses further publishes (closed), wakes every blocked poller. Idempotent.
    void close();

private:
    std::shared_ptr<detail::BrokerCore> core_;
};

}  // namespace keel::embedded
