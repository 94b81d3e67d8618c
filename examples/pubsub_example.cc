// The embedded pub-sub library in a few lines: two threads publish temperature readings,
// one subscriber pulls them with poll(), another is pushed them on its own thread, and the
// first one then resets to offset 0 to replay the topic. See docs/pubsub.md.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "embedded/pubsub.h"

using namespace keel::embedded;

int main() {
    Broker broker;  // topics are created on first use (BrokerOptions::create_topics_implicitly)
    TopicOptions retention;
    retention.retention_messages = 10'000;  // keep (at least) the newest 10 000 readings
    if (broker.create_topic("readings", retention) != Status::ok) return 1;

    // Subscribe before publishing: a subscriber sees what is published after it subscribed.
    auto puller = broker.subscribe({"readings"}).value;
    auto pushed = broker.subscribe({"readings"}).value;
    std::atomic<int> pushed_count{0};
    pushed->start([&](const Message& m) {  // runs on the subscriber's own thread
        if (m.offset == 0) std::printf("push: first reading \"%.*s\"\n", int(m.value.size()), m.value.data());
        pushed_count++;
    });

    constexpr int kPerSensor = 50;
    std::thread sensors[2];
    for (int s = 0; s < 2; s++) {
        sensors[s] = std::thread([&broker, s] {
            Publisher pub = broker.publisher("readings").value;  // no name lookup per publish
            for (int i = 0; i < kPerSensor; i++) {
                std::string key = "sensor-" + std::to_string(s);
                (void)pub.publish(std::to_string(20 + (i + s) % 5) + " C", key);
            }
        });
    }

    Batch batch;
    int pulled = 0;
    while (pulled < 2 * kPerSensor) {
        Status st = puller->poll(batch, 32, std::chrono::seconds(5));  // blocks until data
        if (st != Status::ok) {
            std::fprintf(stderr, "poll: %s\n", to_string(st));
            return 1;
        }
        pulled += int(batch.size());  // batch[i].offset, .key, .value: views valid until next poll
    }
    for (auto& t : sensors) t.join();
    std::printf("pull: %d readings, offsets 0..%d\n", pulled, pulled - 1);

    // Replay from the beginning: the subscriber's own offset moves; nobody else is affected.
    if (puller->reset("readings", 0) != Status::ok) return 1;
    if (puller->poll(batch, 3, std::chrono::seconds(5)) != Status::ok) return 1;
    for (const Message& m : batch) {
        std::printf("replay: offset %llu key %.*s value %.*s\n", (unsigned long long)m.offset, int(m.key.size()),
                    m.key.data(), int(m.value.size()), m.value.data());
    }

    while (pushed_count.load() < 2 * kPerSensor) std::this_thread::yield();
    pushed->stop();
    std::printf("push: %d readings\n", pushed_count.load());
    return 0;
}
