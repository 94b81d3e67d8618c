// Many publisher and subscriber threads at once, with resets from other threads, churning
// subscribers (subscribe, poll, unsubscribe, close, destroy) and trimming. Checked per
// subscriber and topic: no loss after subscribe, no duplicate within a pass, offset order,
// every reset honoured, every byte as published. Built and run under ThreadSanitizer by
// `make tsan-embedded` and under ASan+UBSan by `make test`. No timing assertions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embedded/pubsub.h"

namespace keel::embedded {
namespace {

using std::chrono::milliseconds;
constexpr int kTopics = 3;

std::string topic_name(int t) { return "topic-" + std::to_string(t); }

constexpr int kMaxPublishers = 8;

// What the publishers did.
struct Published {
    std::atomic<uint64_t> count[kTopics] = {};
    std::atomic<bool> done{false};
};

// "<publisher>:<sequence>:<padding length>:" + padding: a value that checks itself.
std::string make_value(int id, int i, size_t pad) {
    return std::to_string(id) + ":" + std::to_string(i) + ":" + std::to_string(pad) + ":" + std::string(pad, 'x');
}

struct Parsed {
    int id = -1, seq = -1;
};

Parsed parse_value(std::string_view v) {
    Parsed p;
    size_t a = v.find(':'), b = v.find(':', a + 1), c = v.find(':', b + 1);
    if (c == std::string_view::npos) return {};
    size_t pad = std::stoul(std::string(v.substr(b + 1, c - b - 1)));
    if (v.size() != c + 1 + pad || v.find_first_not_of('x', c + 1) != std::string_view::npos) return {};
    p.id = std::stoi(std::string(v.substr(0, a)));
    p.seq = std::stoi(std::string(v.substr(a + 1, b - a - 1)));
    return p;
}

// Each publisher's messages to a topic carry increasing sequence numbers, so within a pass
// a reader must see them increase.
struct PublisherOrder {
    int last[kMaxPublishers];
    PublisherOrder() { reset(); }
    void reset() { std::fill(std::begin(last), std::end(last), -1); }
    bool next(std::string_view value, const std::string& key) {
        Parsed p = parse_value(value);
        if (p.id < 0 || p.id >= kMaxPublishers || p.seq <= last[p.id]) return false;
        last[p.id] = p.seq;
        return key == "key" + std::to_string(p.seq % 7);
    }
};

void publish_all(Broker& broker, Published& out, int id, int messages, int spread) {
    std::mt19937 rng(static_cast<unsigned>(id));
    std::vector<Publisher> pubs;
    for (int t = 0; t < kTopics; t++) pubs.push_back(broker.publisher(topic_name(t)).value);
    for (int i = 0; i < messages; i++) {
        int t = static_cast<int>(rng() % static_cast<unsigned>(spread));
        auto r = pubs[static_cast<size_t>(t)].publish(make_value(id, i, rng() % 90), "key" + std::to_string(i % 7));
        ASSERT_TRUE(r.ok());
        out.count[t]++;
    }
}

// One subscriber's view, shared with the thread that resets it.
struct Reader {
    std::unique_ptr<Subscriber> sub;
    uint64_t next[kTopics] = {};
    std::atomic<uint64_t> since_jump[kTopics] = {};  // delivered since the last reset was seen
    std::atomic<int> jumps[kTopics] = {};            // resets to 0 seen
    std::atomic<bool> resets_done{false};
    PublisherOrder order[kTopics];
};

// Reads until publishing and resetting are over and every topic is read to its end.
void consume(Reader& r, const Published& pub, const std::vector<uint64_t>& ends_after) {
    Batch batch;
    for (;;) {
        Status s = r.sub->poll(batch, 64, milliseconds(20));
        ASSERT_TRUE(s == Status::ok || s == Status::timeout) << to_string(s);
        for (const auto& m : batch) {
            int t = m.topic.back() - '0';
            if (m.offset != r.next[t]) {
                ASSERT_EQ(m.offset, 0u) << "loss or duplicate in " << m.topic << ": expected " << r.next[t];
                r.jumps[t]++;
                r.since_jump[t] = 0;
                r.order[t].reset();
            }
            ASSERT_TRUE(r.order[t].next(m.value, std::string(m.key))) << m.value;
            r.next[t] = m.offset + 1;
            r.since_jump[t]++;
        }
        if (!pub.done.load() || !r.resets_done.load()) continue;
        bool all = true;
        for (int t = 0; t < kTopics; t++) all = all && r.next[t] == ends_after[static_cast<size_t>(t)];
        if (all) return;
    }
}

// Resets r to offset 0 of a topic `count` times, each time after r read something and
// waiting until r saw the reset (so every reset must be honoured for this to end).
void reset_repeatedly(Reader& r, int count, unsigned seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < count; i++) {
        int t = static_cast<int>(rng() % kTopics);
        while (r.since_jump[t].load() == 0) std::this_thread::yield();
        int seen = r.jumps[t].load();
        ASSERT_EQ(r.sub->reset(topic_name(t), 0), Status::ok);
        while (r.jumps[t].load() == seen) std::this_thread::yield();
    }
    r.resets_done = true;
}

// Subscribers that come and go while everything else runs.
void churn(Broker& broker, const Published& pub, unsigned seed) {
    std::mt19937 rng(seed);
    Batch batch;
    while (!pub.done.load()) {
        auto sub = broker.subscribe({topic_name(static_cast<int>(rng() % kTopics))}).value;
        ASSERT_EQ(sub->subscribe(topic_name(static_cast<int>(rng() % kTopics))), Status::ok);
        uint64_t last[kTopics] = {};
        bool any[kTopics] = {};
        for (int i = 0; i < 5; i++) {
            ASSERT_NE(sub->poll(batch, 32, milliseconds(1)), Status::closed);
            for (const auto& m : batch) {
                int t = m.topic.back() - '0';
                if (any[t]) {
                    ASSERT_EQ(m.offset, last[t] + 1);
                }
                any[t] = true;
                last[t] = m.offset;
            }
        }
        if (rng() % 2) (void)sub->unsubscribe(topic_name(0));
        if (rng() % 2) {
            ASSERT_EQ(sub->start([](const Message&) {}), Status::ok);
            std::this_thread::yield();
        }
        if (rng() % 2) sub->close();
    }
}

TEST(EmbeddedStress, PublishersSubscribersResetsAndChurnAgreeOnEveryMessage) {
    constexpr int kPublishers = 4, kMessages = 3000, kReaders = 3, kResets = 20;
    Broker broker;
    Published pub;
    std::vector<std::unique_ptr<Reader>> readers;
    for (int i = 0; i < kReaders; i++) {
        readers.push_back(std::make_unique<Reader>());
        readers.back()->sub = broker.subscribe({topic_name(0), topic_name(1), topic_name(2)}).value;
    }
    std::vector<uint64_t> ends(kTopics, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kPublishers; i++) {
        threads.emplace_back([&, i] { publish_all(broker, pub, i, kMessages, kTopics); });
    }
    std::vector<std::thread> others;
    for (int i = 0; i < kReaders; i++) {
        others.emplace_back([&, i] { consume(*readers[static_cast<size_t>(i)], pub, ends); });
        others.emplace_back([&, i] { reset_repeatedly(*readers[static_cast<size_t>(i)], kResets, 100u + i); });
    }
    for (unsigned i = 0; i < 2; i++) others.emplace_back([&, i] { churn(broker, pub, 7u + i); });
    for (auto& t : threads) t.join();
    for (int t = 0; t < kTopics; t++) ends[static_cast<size_t>(t)] = broker.info(topic_name(t)).value.end_offset;
    pub.done = true;
    for (auto& t : others) t.join();
    uint64_t total = 0;
    for (int t = 0; t < kTopics; t++) {
        EXPECT_EQ(ends[static_cast<size_t>(t)], pub.count[t].load());  // offsets are dense
        total += ends[static_cast<size_t>(t)];
        int jumps = 0;
        for (auto& r : readers) jumps += r->jumps[t].load();
        EXPECT_GT(jumps, 0);
    }
    EXPECT_EQ(total, uint64_t{kPublishers} * kMessages);
}

// A reader of a topic whose retention is far smaller than what is published: under clamp
// every skipped range is reported exactly; under error every overrun is fixed by a reset.
// Returns how many times it fell behind retention (gaps or overruns).
int read_trimmed(Broker& broker, Subscriber& sub, LagPolicy policy, uint64_t end) {
    Batch batch;
    uint64_t next = 0;
    PublisherOrder order;
    int behind = 0;
    uint64_t stall_at = 500;
    while (next < end) {
        if (next >= stall_at) {  // fall far behind on purpose: retention is ~100 messages
            stall_at += 2000;
            while (broker.info(topic_name(0)).value.end_offset < std::min(end, next + 300)) std::this_thread::yield();
        }
        Status s = sub.poll(batch, 16, milliseconds(20));
        if (s == Status::overrun) {
            behind++;
            EXPECT_EQ(policy, LagPolicy::error);
            uint64_t start = broker.info(topic_name(0)).value.start_offset;
            EXPECT_GT(start, next);
            Status r = sub.reset(topic_name(0), start);
            EXPECT_TRUE(r == Status::ok || r == Status::out_of_range);  // may be trimmed again
            if (r == Status::ok) next = start;
            continue;
        }
        EXPECT_TRUE(s == Status::ok || s == Status::timeout) << to_string(s);
        for (const auto& g : batch.gaps()) {
            behind++;
            EXPECT_EQ(policy, LagPolicy::clamp);
            EXPECT_EQ(g.from, next);
            EXPECT_GT(g.to, g.from);
            next = g.to;
        }
        for (const auto& m : batch) {
            if (m.offset != next || !order.next(m.value, std::string(m.key))) {
                ADD_FAILURE() << "at " << next << ": offset " << m.offset << " value " << m.value;
                return behind;
            }
            next++;
        }
        if (next % 7 == 0) std::this_thread::yield();  // fall behind now and then
    }
    return behind;
}

TEST(EmbeddedStress, TrimmingUnderLoadReportsEveryGapAndReusesSegmentsSafely) {
    constexpr int kPublishers = 2, kMessages = 6000;
    Broker broker;
    ASSERT_EQ(broker.create_topic(topic_name(0), {.retention_messages = 40, .retention_bytes = 4096, .segment_bytes = 1024}),
              Status::ok);
    Published pub;
    auto clamp = broker.subscribe({topic_name(0)}).value;
    auto strict = broker.subscribe({topic_name(0)}, {.lag_policy = LagPolicy::error}).value;
    std::vector<std::thread> threads;
    for (int i = 0; i < kPublishers; i++) {
        threads.emplace_back([&, i] { publish_all(broker, pub, i, kMessages, 1); });
    }
    const uint64_t end = kPublishers * kMessages;
    int gaps = 0, overruns = 0;
    std::thread a([&] { gaps = read_trimmed(broker, *clamp, LagPolicy::clamp, end); });
    std::thread b([&] { overruns = read_trimmed(broker, *strict, LagPolicy::error, end); });
    for (auto& t : threads) t.join();
    a.join();
    b.join();
    EXPECT_GT(gaps, 0);  // the stalls guarantee both fell behind
    EXPECT_GT(overruns, 0);
    TopicInfo info = broker.info(topic_name(0)).value;
    EXPECT_EQ(info.end_offset, end);
    EXPECT_LE(info.retained_bytes, 4096u + 2 * 1024u);
}

}  // namespace
}  // namespace keel::embedded
