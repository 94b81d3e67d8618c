// The embedded pub-sub library, one behaviour per test (single-threaded unless the behaviour
// is about waking another thread).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "embedded/pubsub.h"

namespace keel::embedded {
namespace {

using std::chrono::milliseconds;
constexpr auto kNoWait = std::chrono::nanoseconds(0);
constexpr auto kForever = std::chrono::hours(1);

std::vector<std::string> values_of(const Batch& b) {
    std::vector<std::string> out;
    for (const auto& m : b) out.emplace_back(m.value);
    return out;
}

TEST(EmbeddedPubSub, PublishReturnsDenseOffsetsFromZero) {
    Broker broker;
    for (uint64_t i = 0; i < 5; i++) {
        auto r = broker.publish("t", "v" + std::to_string(i));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.value, i);
    }
    EXPECT_EQ(broker.info("t").value.end_offset, 5u);
}

TEST(EmbeddedPubSub, SubscriberSeesOnlyMessagesPublishedAfterSubscribing) {
    Broker broker;
    ASSERT_TRUE(broker.publish("t", "before").ok());
    auto sub = broker.subscribe({"t"}).value;
    ASSERT_TRUE(broker.publish("t", "after1").ok());
    ASSERT_TRUE(broker.publish("t", "after2", "k").ok());
    Batch b;
    ASSERT_EQ(sub->poll(b, 10, kNoWait), Status::ok);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].offset, 1u);
    EXPECT_EQ(b[0].value, "after1");
    EXPECT_EQ(b[0].key, "");
    EXPECT_EQ(b[1].key, "k");
    EXPECT_EQ(b[1].value, "after2");
    EXPECT_EQ(b[1].topic, "t");
    EXPECT_EQ(sub->poll(b, 10, kNoWait), Status::timeout);
    EXPECT_TRUE(b.empty());
}

TEST(EmbeddedPubSub, EverySubscriberReceivesEveryMessage) {
    Broker broker;
    auto a = broker.subscribe({"t"}).value;
    auto b = broker.subscribe({"t"}).value;
    for (int i = 0; i < 100; i++) ASSERT_TRUE(broker.publish("t", std::to_string(i)).ok());
    for (auto* s : {a.get(), b.get()}) {
        Batch batch;
        ASSERT_EQ(s->poll(batch, 1000, kNoWait), Status::ok);
        ASSERT_EQ(batch.size(), 100u);
        for (size_t i = 0; i < 100; i++) EXPECT_EQ(batch[i].value, std::to_string(i));
    }
}

TEST(EmbeddedPubSub, PollReturnsAtMostMaxMessagesAndContinuesWhereItStopped) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 10; i++) ASSERT_TRUE(broker.publish("t", std::to_string(i)).ok());
    Batch b;
    ASSERT_EQ(sub->poll(b, 4, kNoWait), Status::ok);
    EXPECT_EQ(values_of(b), (std::vector<std::string>{"0", "1", "2", "3"}));
    ASSERT_EQ(sub->poll(b, 100, kNoWait), Status::ok);
    EXPECT_EQ(b.size(), 6u);
    EXPECT_EQ(b[0].offset, 4u);
    EXPECT_EQ(sub->poll(b, 0, kNoWait), Status::invalid_argument);
}

TEST(EmbeddedPubSub, ResetReplaysFromAnEarlierOffsetAndSkipsToALaterOne) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 6; i++) ASSERT_TRUE(broker.publish("t", std::to_string(i)).ok());
    Batch b;
    ASSERT_EQ(sub->poll(b, 100, kNoWait), Status::ok);
    ASSERT_EQ(sub->reset("t", 2), Status::ok);
    EXPECT_EQ(sub->position("t").value, 2u);
    ASSERT_EQ(sub->poll(b, 100, kNoWait), Status::ok);
    EXPECT_EQ(values_of(b), (std::vector<std::string>{"2", "3", "4", "5"}));
    ASSERT_EQ(sub->reset("t", 0), Status::ok);
    ASSERT_EQ(sub->reset("t", 5), Status::ok);
    ASSERT_EQ(sub->poll(b, 100, kNoWait), Status::ok);
    EXPECT_EQ(values_of(b), (std::vector<std::string>{"5"}));
    EXPECT_EQ(sub->reset("other", 0), Status::not_subscribed);
}

TEST(EmbeddedPubSub, ResetPastTheEndClampsOrFailsByPolicy) {
    Broker broker;
    auto clamp = broker.subscribe({"t"}).value;
    auto strict = broker.subscribe({"t"}, {.lag_policy = LagPolicy::error}).value;
    for (int i = 0; i < 3; i++) ASSERT_TRUE(broker.publish("t", "x").ok());
    EXPECT_EQ(clamp->reset("t", 99), Status::ok);
    EXPECT_EQ(clamp->position("t").value, 3u);
    EXPECT_EQ(strict->reset("t", 1), Status::ok);
    EXPECT_EQ(strict->reset("t", 99), Status::out_of_range);
    EXPECT_EQ(strict->position("t").value, 1u);
    EXPECT_EQ(strict->reset("t", 3), Status::ok);  // the end itself is a valid position
}

TopicOptions small_topic() {
    TopicOptions o;
    o.segment_bytes = 1024;
    o.retention_messages = 20;
    o.retention_bytes = 1 << 20;
    return o;
}

TEST(EmbeddedPubSub, RetentionTrimsOldSegmentsButKeepsTheBoundAndMemoryStaysBounded) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    std::string value(50, 'v');  // 64-byte records: 16 per segment
    for (int i = 0; i < 1000; i++) ASSERT_TRUE(broker.publish("t", value).ok());
    TopicInfo info = broker.info("t").value;
    EXPECT_EQ(info.end_offset, 1000u);
    EXPECT_GE(info.end_offset - info.start_offset, 20u);
    // Trimming is per segment, at a roll: the bound plus at most two segments' worth.
    EXPECT_LE(info.end_offset - info.start_offset, 20u + 2 * 16u);
    EXPECT_LE(info.segments, 4u);
}

TEST(EmbeddedPubSub, ASlowSubscriberUnderClampSkipsToTheOldestRetainedWithAGap) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 200; i++) ASSERT_TRUE(broker.publish("t", std::string(50, 'a') + std::to_string(i)).ok());
    uint64_t start = broker.info("t").value.start_offset;
    ASSERT_GT(start, 0u);
    Batch b;
    ASSERT_EQ(sub->poll(b, 1000, kNoWait), Status::ok);
    ASSERT_EQ(b.gaps().size(), 1u);
    EXPECT_EQ(b.gaps()[0].from, 0u);
    EXPECT_EQ(b.gaps()[0].to, start);
    ASSERT_EQ(b.size(), 200 - start);
    EXPECT_EQ(b[0].offset, start);
    EXPECT_EQ(b[b.size() - 1].value, std::string(50, 'a') + "199");
}

TEST(EmbeddedPubSub, ASlowSubscriberUnderErrorGetsOverrunUntilItResets) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    auto sub = broker.subscribe({"t"}, {.lag_policy = LagPolicy::error}).value;
    for (int i = 0; i < 200; i++) ASSERT_TRUE(broker.publish("t", std::string(50, 'a')).ok());
    Batch b;
    EXPECT_EQ(sub->poll(b, 1000, kNoWait), Status::overrun);
    EXPECT_EQ(sub->poll(b, 1000, kForever), Status::overrun);  // does not block
    EXPECT_EQ(sub->reset("t", 0), Status::out_of_range);
    uint64_t start = broker.info("t").value.start_offset;
    ASSERT_EQ(sub->reset("t", start), Status::ok);
    ASSERT_EQ(sub->poll(b, 1000, kNoWait), Status::ok);
    EXPECT_EQ(b.size(), 200 - start);
    EXPECT_TRUE(b.gaps().empty());
}

TEST(EmbeddedPubSub, ResetBelowTheRetainedStartClampsUnderClamp) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 200; i++) ASSERT_TRUE(broker.publish("t", std::string(50, 'a')).ok());
    uint64_t start = broker.info("t").value.start_offset;
    ASSERT_EQ(sub->reset("t", 0), Status::ok);
    EXPECT_EQ(sub->position("t").value, start);
}

TEST(EmbeddedPubSub, SegmentsAreReusedWithoutCorruptingWhatASubscriberReads) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    auto sub = broker.subscribe({"t"}).value;
    Batch b;
    uint64_t next = 0;
    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < 7; i++) {
            ASSERT_TRUE(broker.publish("t", "m" + std::to_string(round * 7 + i), "k").ok());
        }
        ASSERT_EQ(sub->poll(b, 1000, kNoWait), Status::ok);
        for (const auto& m : b) {
            ASSERT_EQ(m.offset, next);
            ASSERT_EQ(m.value, "m" + std::to_string(next));
            next++;
        }
    }
    EXPECT_EQ(next, 2100u);
    EXPECT_LE(broker.info("t").value.segments, 4u);
}

TEST(EmbeddedPubSub, ABatchKeepsItsMessagesIntactWhilePublishersTrimAndReuseSegments) {
    Broker broker;
    TopicOptions o = small_topic();
    o.preallocate = true;
    ASSERT_EQ(broker.create_topic("t", o), Status::ok);
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 10; i++) ASSERT_TRUE(broker.publish("t", "first-" + std::to_string(i)).ok());
    Batch held;
    ASSERT_EQ(sub->poll(held, 100, kNoWait), Status::ok);
    for (int i = 0; i < 2000; i++) ASSERT_TRUE(broker.publish("t", std::string(50, 'z')).ok());
    ASSERT_GT(broker.info("t").value.start_offset, 10u);  // what `held` shows was trimmed
    ASSERT_EQ(held.size(), 10u);
    for (int i = 0; i < 10; i++) EXPECT_EQ(held[static_cast<size_t>(i)].value, "first-" + std::to_string(i));
    held.clear();
    Batch next;
    ASSERT_EQ(sub->poll(next, 100, kNoWait), Status::ok);
    ASSERT_EQ(next.gaps().size(), 1u);
    EXPECT_EQ(next.gaps()[0].from, 10u);
}

TEST(EmbeddedPubSub, TopicsAreCreatedImplicitlyOnlyWhenTheBrokerSaysSo) {
    BrokerOptions no_implicit;
    no_implicit.create_topics_implicitly = false;
    Broker strict(no_implicit);
    EXPECT_EQ(strict.publish("t", "x").status, Status::no_such_topic);
    EXPECT_EQ(strict.subscribe({"t"}).status, Status::no_such_topic);
    EXPECT_EQ(strict.create_topic("t"), Status::ok);
    EXPECT_EQ(strict.create_topic("t"), Status::topic_exists);
    EXPECT_TRUE(strict.publish("t", "x").ok());
    EXPECT_EQ(strict.topics(), std::vector<std::string>{"t"});
    Broker lenient;
    EXPECT_TRUE(lenient.subscribe({"a", "b"}).ok());
    EXPECT_EQ(lenient.topics(), (std::vector<std::string>{"a", "b"}));
}

TEST(EmbeddedPubSub, BadArgumentsGetClearErrors) {
    Broker broker;
    EXPECT_EQ(broker.publish("", "x").status, Status::invalid_argument);
    EXPECT_EQ(broker.create_topic("t", TopicOptions{.retention_messages = 1, .retention_bytes = 1, .segment_bytes = 10}), Status::invalid_argument);
    EXPECT_EQ(broker.create_topic("t", TopicOptions{.retention_messages = 0, .retention_bytes = 1, .segment_bytes = 4096}), Status::invalid_argument);
    ASSERT_EQ(broker.create_topic("small", small_topic()), Status::ok);
    EXPECT_EQ(broker.publish("small", std::string(2000, 'x')).status, Status::too_large);
    EXPECT_EQ(Publisher().publish("x").status, Status::invalid_argument);
    EXPECT_EQ(broker.info("nope").status, Status::no_such_topic);
    EXPECT_STREQ(to_string(Status::overrun), "overrun");
}

TEST(EmbeddedPubSub, ASubscriberReadsEachOfItsTopicsInOrder) {
    Broker broker;
    auto sub = broker.subscribe({"a", "b"}).value;
    for (int i = 0; i < 5; i++) {
        ASSERT_TRUE(broker.publish("a", "a" + std::to_string(i)).ok());
        ASSERT_TRUE(broker.publish("b", "b" + std::to_string(i)).ok());
    }
    Batch batch;
    uint64_t next_a = 0, next_b = 0;
    while (sub->poll(batch, 3, kNoWait) == Status::ok) {
        for (const auto& m : batch) {
            uint64_t& next = m.topic == "a" ? next_a : next_b;
            EXPECT_EQ(m.offset, next++);
            EXPECT_EQ(m.value, std::string(m.topic) + std::to_string(m.offset));
        }
    }
    EXPECT_EQ(next_a, 5u);
    EXPECT_EQ(next_b, 5u);
}

TEST(EmbeddedPubSub, SubscribeAndUnsubscribeChangeWhatIsRead) {
    Broker broker;
    auto sub = broker.subscribe({"a"}).value;
    ASSERT_EQ(sub->subscribe("b"), Status::ok);
    ASSERT_EQ(sub->subscribe("b"), Status::ok);  // already: no-op
    ASSERT_TRUE(broker.publish("b", "x").ok());
    Batch batch;
    ASSERT_EQ(sub->poll(batch, 10, kNoWait), Status::ok);
    EXPECT_EQ(batch[0].topic, "b");
    ASSERT_EQ(sub->unsubscribe("b"), Status::ok);
    EXPECT_EQ(sub->unsubscribe("b"), Status::not_subscribed);
    EXPECT_EQ(sub->position("b").status, Status::not_subscribed);
    ASSERT_TRUE(broker.publish("b", "y").ok());
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::timeout);
}

TEST(EmbeddedPubSub, ABlockedPollWakesWhenAnotherThreadPublishes) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    Batch batch;
    std::thread publisher([&] { ASSERT_TRUE(broker.publish("t", "hello").ok()); });
    Status s = sub->poll(batch, 10, kForever);
    publisher.join();
    ASSERT_EQ(s, Status::ok);
    EXPECT_EQ(batch[0].value, "hello");
}

TEST(EmbeddedPubSub, ClosingASubscriberWakesItsBlockedPollerWithClosed) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    Status seen = Status::ok;
    std::thread poller([&] {
        Batch batch;
        seen = sub->poll(batch, 10, kForever);
    });
    sub->close();
    poller.join();
    EXPECT_EQ(seen, Status::closed);
    Batch batch;
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::closed);
}

TEST(EmbeddedPubSub, ClosingTheBrokerWakesPollersAfterTheyDrainWhatIsLeft) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    auto idle = broker.subscribe({}).value;
    ASSERT_TRUE(broker.publish("t", "last").ok());
    Status idle_seen = Status::ok;
    std::thread poller([&] {
        Batch batch;
        idle_seen = idle->poll(batch, 10, kForever);
    });
    broker.close();
    poller.join();
    EXPECT_EQ(idle_seen, Status::closed);
    EXPECT_EQ(broker.publish("t", "late").status, Status::closed);
    EXPECT_EQ(broker.subscribe({"t"}).status, Status::closed);
    Batch batch;
    ASSERT_EQ(sub->poll(batch, 10, kForever), Status::ok);
    EXPECT_EQ(batch[0].value, "last");
    EXPECT_EQ(sub->poll(batch, 10, kForever), Status::closed);
}

TEST(EmbeddedPubSub, ASubscriberMayOutliveItsBroker) {
    std::unique_ptr<Subscriber> sub;
    {
        Broker broker;
        sub = broker.subscribe({"t"}).value;
        ASSERT_TRUE(broker.publish("t", "x").ok());
    }
    Batch batch;
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::ok);
    EXPECT_EQ(sub->poll(batch, 10, kForever), Status::closed);
}

TEST(EmbeddedPubSub, PushDeliversEveryMessageOnTheSubscribersThread) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    std::mutex mu;
    std::vector<uint64_t> seen;
    std::atomic<int> count{0};
    ASSERT_EQ(sub->start([&](const Message& m) {
        std::lock_guard lock(mu);
        seen.push_back(m.offset);
        count++;
    }),
              Status::ok);
    EXPECT_EQ(sub->start([](const Message&) {}), Status::busy);
    Batch batch;
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::busy);
    auto pub = broker.publisher("t").value;
    for (int i = 0; i < 500; i++) ASSERT_TRUE(pub.publish("x").ok());
    while (count.load() < 500) std::this_thread::yield();
    sub->stop();
    ASSERT_EQ(seen.size(), 500u);
    for (uint64_t i = 0; i < 500; i++) EXPECT_EQ(seen[i], i);
    ASSERT_TRUE(pub.publish("after stop").ok());
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::ok);  // pull again after stop
}

TEST(EmbeddedPubSub, APollOverlappingAnotherPollOfTheSameSubscriberGetsBusy) {
    Broker broker;
    auto sub = broker.subscribe({"t"}).value;
    Status first = Status::busy;
    std::thread blocked([&] {
        Batch batch;
        // Until it is inside, the main thread's short polls may win: then this one is told
        // busy and tries again. Either way only one of two overlapping polls proceeds.
        while (first == Status::busy) first = sub->poll(batch, 10, kForever);
    });
    Batch batch;
    Status second = Status::ok;
    for (int i = 0; i < 1000 && second != Status::busy; i++) {
        second = sub->poll(batch, 10, kNoWait);
        std::this_thread::sleep_for(milliseconds(1));
    }
    EXPECT_EQ(second, Status::busy);
    EXPECT_TRUE(batch.empty());
    ASSERT_TRUE(broker.publish("t", "one").ok());
    blocked.join();
    EXPECT_EQ(first, Status::ok);
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::timeout);  // not busy once it returned
}

TEST(EmbeddedPubSub, PollOfAPushSubscriberWhoseBrokerClosedSaysClosedNotBusy) {
    std::unique_ptr<Subscriber> sub;
    Broker broker;
    sub = broker.subscribe({"t"}).value;
    ASSERT_EQ(sub->start([](const Message&) {}), Status::ok);
    Batch batch;
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::busy);
    broker.close();
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::closed);
    sub->stop();
    EXPECT_EQ(sub->poll(batch, 10, kNoWait), Status::closed);
}

TEST(EmbeddedPubSub, PushReportsGapsToItsGapCallbackBeforeTheMessagesAfterThem) {
    Broker broker;
    ASSERT_EQ(broker.create_topic("t", small_topic()), Status::ok);
    auto sub = broker.subscribe({"t"}).value;
    for (int i = 0; i < 200; i++) ASSERT_TRUE(broker.publish("t", std::string(50, 'a')).ok());
    uint64_t start = broker.info("t").value.start_offset;
    std::mutex mu;
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    uint64_t first_message = 0;
    std::atomic<uint64_t> count{0};
    ASSERT_EQ(sub->start(
                  [&](const Message& m) {
                      std::lock_guard lock(mu);
                      if (count == 0) first_message = m.offset;
                      count++;
                  },
                  [&](const Gap& g) {
                      std::lock_guard lock(mu);
                      gaps.emplace_back(g.from, g.to);
                  }),
              Status::ok);
    while (count.load() < 200 - start) std::this_thread::yield();
    sub->stop();
    std::lock_guard lock(mu);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0], (std::pair<uint64_t, uint64_t>{0, start}));
    EXPECT_EQ(first_message, start);
}

}  // namespace
}  // namespace keel::embedded
