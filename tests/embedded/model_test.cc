// A RapidCheck model test of the pub-sub semantics, single-threaded: random publishes,
// subscribers (both lag policies) coming, going, subscribing and unsubscribing, polls and
// resets against a model that keeps every published message and each subscriber's
// position. Small segments and retention so trimming, gaps and overruns happen often.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "embedded/pubsub.h"

namespace keel::embedded {
namespace {

constexpr int kTopics = 2;
constexpr auto kNoWait = std::chrono::nanoseconds(0);

std::string name(int t) { return "t" + std::to_string(t); }

struct ModelSub {
    std::unique_ptr<Subscriber> sub;
    LagPolicy policy = LagPolicy::clamp;
    std::map<int, uint64_t> next;  // subscribed topics -> next offset
};

struct Model {
    Broker broker;
    size_t retention = 0;
    std::vector<std::pair<std::string, std::string>> values[kTopics];  // (key, value) by offset
    std::vector<ModelSub> subs;

    uint64_t end(int t) const { return values[t].size(); }
    uint64_t start(int t) { return broker.info(name(t)).value.start_offset; }
};

void publish(Model& m) {
    int t = *rc::gen::inRange(0, kTopics);
    auto value = *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 200), rc::gen::inRange('a', 'z'));
    auto key = *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 4), rc::gen::inRange('a', 'z'));
    auto r = m.broker.publish(name(t), value, key);
    RC_ASSERT(r.ok());
    RC_ASSERT(r.value == m.end(t));
    m.values[t].emplace_back(key, value);
    TopicInfo info = m.broker.info(name(t)).value;
    RC_ASSERT(info.end_offset == m.end(t));
    // The newest `retention` messages stay; at most two segments (<= 64 records each) more.
    RC_ASSERT(info.end_offset - info.start_offset >= std::min<uint64_t>(m.retention, m.end(t)));
    RC_ASSERT(info.end_offset - info.start_offset <= m.retention + 128);
}

void add_subscriber(Model& m) {
    ModelSub s;
    s.policy = *rc::gen::element(LagPolicy::clamp, LagPolicy::error);
    std::vector<std::string> topics;
    for (int t = 0; t < kTopics; t++) {
        if (*rc::gen::arbitrary<bool>()) {
            topics.push_back(name(t));
            s.next[t] = m.end(t);
        }
    }
    auto r = m.broker.subscribe(topics, {.lag_policy = s.policy});
    RC_ASSERT(r.ok());
    s.sub = std::move(r.value);
    m.subs.push_back(std::move(s));
}

void change_topics(Model& m, ModelSub& s) {
    int t = *rc::gen::inRange(0, kTopics);
    if (*rc::gen::arbitrary<bool>()) {
        RC_ASSERT(s.sub->subscribe(name(t)) == Status::ok);
        if (!s.next.count(t)) s.next[t] = m.end(t);
    } else {
        Status st = s.sub->unsubscribe(name(t));
        RC_ASSERT(st == (s.next.count(t) ? Status::ok : Status::not_subscribed));
        s.next.erase(t);
    }
}

void reset(Model& m, ModelSub& s) {
    int t = *rc::gen::inRange(0, kTopics);
    uint64_t offset = *rc::gen::inRange<uint64_t>(0, m.end(t) + 3);
    Status st = s.sub->reset(name(t), offset);
    if (!s.next.count(t)) {
        RC_ASSERT(st == Status::not_subscribed);
        return;
    }
    uint64_t first = m.start(t), last = m.end(t);
    bool inside = offset >= first && offset <= last;
    if (s.policy == LagPolicy::error && !inside) {
        RC_ASSERT(st == Status::out_of_range);
    } else {
        RC_ASSERT(st == Status::ok);
        s.next[t] = std::clamp(offset, first, last);
    }
    RC_ASSERT(s.sub->position(name(t)).value == s.next[t]);
}

int topic_of(std::string_view topic) { return topic.back() - '0'; }

void check_batch(Model& m, ModelSub& s, const Batch& b) {
    for (const auto& g : b.gaps()) {
        int t = topic_of(g.topic);
        RC_ASSERT(s.policy == LagPolicy::clamp);
        RC_ASSERT(g.from == s.next[t]);
        RC_ASSERT(g.to > g.from);
        RC_ASSERT(g.to <= m.start(t));  // only trimmed offsets are skipped
        s.next[t] = g.to;
    }
    for (const auto& msg : b) {
        int t = topic_of(msg.topic);
        RC_ASSERT(msg.offset == s.next[t]);
        RC_ASSERT(msg.key == m.values[t][msg.offset].first);
        RC_ASSERT(msg.value == m.values[t][msg.offset].second);
        s.next[t]++;
    }
}

void poll(Model& m, ModelSub& s) {
    size_t max = *rc::gen::inRange<size_t>(1, 20);
    Batch b;
    Status st = s.sub->poll(b, max, kNoWait);
    RC_ASSERT(st == Status::ok || st == Status::timeout || st == Status::overrun);
    RC_ASSERT(b.size() <= max);
    RC_ASSERT((st == Status::ok) == (!b.empty() || !b.gaps().empty()));
    check_batch(m, s, b);
    bool overrun_seen = false;
    for (auto [t, next] : s.next) {
        bool behind = next < m.start(t);
        overrun_seen = overrun_seen || (behind && s.policy == LagPolicy::error);
        // A batch with room left read every topic to its end (or stopped at an overrun).
        if (b.size() < max) RC_ASSERT(next == m.end(t) || (behind && s.policy == LagPolicy::error));
    }
    if (st == Status::overrun) RC_ASSERT(overrun_seen);
}

TEST(EmbeddedModel, PollsAndResetsMatchAModelOfTheLogs) {
    EXPECT_TRUE(rc::check([] {
        Model m;
        m.retention = *rc::gen::inRange<size_t>(1, 24);
        for (int t = 0; t < kTopics; t++) {
            TopicOptions o{.retention_messages = m.retention, .retention_bytes = 1 << 20, .segment_bytes = 1024};
            RC_ASSERT(m.broker.create_topic(name(t), o) == Status::ok);
        }
        int ops = *rc::gen::inRange(1, 300);
        for (int i = 0; i < ops; i++) {
            if (i + 1 == ops) RC_CLASSIFY(m.start(0) > 0 || m.start(1) > 0, "trimmed");
            int kind = *rc::gen::inRange(0, 12);
            if (kind <= 4) {
                publish(m);
                continue;
            }
            if (kind == 5 || m.subs.empty()) {
                add_subscriber(m);
                continue;
            }
            ModelSub& s = m.subs[*rc::gen::inRange<size_t>(0, m.subs.size())];
            if (kind == 6) change_topics(m, s);
            if (kind == 7) reset(m, s);
            if (kind >= 8 && kind <= 10) poll(m, s);
            if (kind == 11) {
                s.sub->close();
                Batch b;
                RC_ASSERT(s.sub->poll(b, 10, kNoWait) == Status::closed);
                std::swap(s, m.subs.back());
                m.subs.pop_back();
            }
        }
    }));
}

}  // namespace
}  // namespace keel::embedded
