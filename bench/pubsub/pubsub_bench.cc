#include "bench/pubsub/pubsub_bench.h"

#include <algorithm>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "embedded/pubsub.h"

namespace keel::bench {
namespace {

constexpr size_t kMessageBytes = 100;
constexpr uint64_t kStampEvery = 16;  // every 16th message carries its publish time
constexpr size_t kSpscCapacity = 1 << 15;

const char* kHelp = R"(usage: keel bench pubsub [--json FILE] [--messages N] [--topics T] [--shapes PxS,...] [--reps R]

The embedded pub-sub library (embedded/pubsub.h) against, in the same run:
  mutex_deque  per subscriber: std::mutex + std::condition_variable + std::deque<std::string>
  spsc_sub     per subscriber: boost::lockfree::spsc_queue<std::string>; with several
               publishers a mutex orders their fan-out (a single-producer queue needs one
               writer), so every subscriber sees one order, as a keel topic gives
  spsc         information only: an spsc_queue<std::string> per (publisher, subscriber)
               pair: no lock, but also no order across publishers
  spsc_fixed   information only: spsc with fixed 128-byte slots (no allocation; it cannot
               carry messages of arbitrary size)
P publishers x S subscribers x T topics, 100-byte messages, every subscriber reads every
topic. Prints messages/s published and delivered, publish->receive latency p50/p99 (a
sample of every 16th message), and ratio = delivered(keel) / delivered(better of
mutex_deque and spsc_sub, the two baselines of the design); the target is ratio >= 1 at
every shape. Also the ratios to spsc and spsc_fixed. Medians of R runs; on a shared
machine use --reps 5 or more.

options:
  --json FILE     also write the figures as JSON ("runs": one object per shape)
  --messages N    messages published per run, over all publishers (default 1000000)
  --topics T      topics (default 1)
  --shapes LIST   P x S shapes (default 1x1,1x4,2x2,4x1,4x4)
  --reps R        repetitions (default 3)
)";

using Clock = std::chrono::steady_clock;

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

struct Shape {
    int publishers, subscribers, topics;
    uint64_t messages;
    uint64_t per_publisher() const { return messages / static_cast<uint64_t>(publishers); }
    uint64_t total() const { return per_publisher() * static_cast<uint64_t>(publishers); }
};

// What a subscriber thread measured.
struct Received {
    uint64_t count = 0, lost = 0;
    std::vector<int64_t> latencies_ns;
    void on_message(std::string_view v) {
        count++;
        int64_t stamp;
        std::memcpy(&stamp, v.data(), sizeof stamp);
        if (stamp != 0) latencies_ns.push_back(now_ns() - stamp);
    }
};

inline void relax(int& spins) {
    if (++spins < 64) return;
    std::this_thread::yield();
}

// ---- The implementations: publish(p, topic, message) and consume(s, total, received). ----

struct KeelImpl {
    static constexpr const char* name = "keel";
    embedded::Broker broker;
    std::vector<std::vector<embedded::Publisher>> publishers;  // [p][topic]
    std::vector<std::unique_ptr<embedded::Subscriber>> subscribers;

    explicit KeelImpl(const Shape& s) {
        embedded::TopicOptions o;
        o.segment_bytes = 1 << 20;
        // Holds a whole run of the default size, so no subscriber falls behind retention;
        // allocated and touched before the clock starts, as the spsc rings are.
        o.retention_bytes = std::min<size_t>(size_t{64} << 20, s.messages * 128 + (size_t{4} << 20));
        o.retention_messages = s.messages + 1;
        o.preallocate = true;
        std::vector<std::string> names;
        for (int t = 0; t < s.topics; t++) {
            names.push_back("t" + std::to_string(t));
            (void)broker.create_topic(names.back(), o);
        }
        publishers.resize(static_cast<size_t>(s.publishers));
        for (auto& p : publishers) {
            for (auto& n : names) p.push_back(broker.publisher(n).value);
        }
        for (int i = 0; i < s.subscribers; i++) subscribers.push_back(broker.subscribe(names).value);
    }
    void publish(int p, int topic, std::string_view m) {
        (void)publishers[static_cast<size_t>(p)][static_cast<size_t>(topic)].publish(m);
    }
    void consume(int s, uint64_t total, Received& r) {
        embedded::Batch batch;
        auto& sub = *subscribers[static_cast<size_t>(s)];
        while (r.count + r.lost < total) {
            if (sub.poll(batch, 4096, std::chrono::milliseconds(100)) != embedded::Status::ok) continue;
            for (const auto& g : batch.gaps()) r.lost += g.to - g.from;
            for (const auto& m : batch) r.on_message(m.value);
        }
    }
};

struct MutexDequeImpl {
    static constexpr const char* name = "mutex_deque";
    struct alignas(64) Queue {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<std::string> items;
    };
    std::vector<std::unique_ptr<Queue>> queues;

    explicit MutexDequeImpl(const Shape& s) {
        for (int i = 0; i < s.subscribers; i++) queues.push_back(std::make_unique<Queue>());
    }
    void publish(int, int, std::string_view m) {
        for (auto& q : queues) {
            {
                std::lock_guard lock(q->mu);
                q->items.emplace_back(m);
            }
            q->cv.notify_one();
        }
    }
    void consume(int s, uint64_t total, Received& r) {
        Queue& q = *queues[static_cast<size_t>(s)];
        std::deque<std::string> local;
        while (r.count < total) {
            {
                std::unique_lock lock(q.mu);
                q.cv.wait(lock, [&] { return !q.items.empty(); });
                local.swap(q.items);  // drain the whole queue per lock
            }
            for (const auto& m : local) r.on_message(m);
            local.clear();
        }
    }
};

template <class Item>
struct SpscImpl {
    using Queue = boost::lockfree::spsc_queue<Item, boost::lockfree::capacity<kSpscCapacity>>;
    std::vector<std::vector<std::unique_ptr<Queue>>> queues;  // [subscriber][lane]

    // lanes: one queue per publisher (per pair) or a single one per subscriber.
    SpscImpl(const Shape& s, int lanes) : queues(static_cast<size_t>(s.subscribers)) {
        for (auto& row : queues) {
            for (int p = 0; p < lanes; p++) row.push_back(std::make_unique<Queue>());
        }
    }
    void push(int p, const Item& item) {
        for (auto& row : queues) {
            int spins = 0;
            while (!row[static_cast<size_t>(p)]->push(item)) relax(spins);
        }
    }
    template <class F>
    void drain(int s, uint64_t total, Received& r, F&& view) {
        auto& row = queues[static_cast<size_t>(s)];
        int spins = 0;
        while (r.count < total) {
            size_t n = 0;
            for (auto& q : row) n += q->consume_all([&](const Item& item) { r.on_message(view(item)); });
            if (n == 0) relax(spins);
            else spins = 0;
        }
    }
};

struct SpscStringImpl : SpscImpl<std::string> {
    static constexpr const char* name = "spsc";
    explicit SpscStringImpl(const Shape& s) : SpscImpl(s, s.publishers) {}
    void publish(int p, int, std::string_view m) {
        thread_local std::string copy;
        copy.assign(m);
        push(p, copy);  // the queue copies it into its slot (one allocation per subscriber)
    }
    void consume(int s, uint64_t total, Received& r) {
        drain(s, total, r, [](const std::string& item) { return std::string_view(item); });
    }
};

// One queue per subscriber: with one publisher no lock, with several a mutex orders the
// fan-out (each queue has one writer at a time and every subscriber sees the same order).
struct SpscPerSubscriberImpl : SpscImpl<std::string> {
    static constexpr const char* name = "spsc_sub";
    bool shared;
    std::mutex mu;
    explicit SpscPerSubscriberImpl(const Shape& s) : SpscImpl(s, 1), shared(s.publishers > 1) {}
    void publish(int, int, std::string_view m) {
        thread_local std::string copy;
        copy.assign(m);
        if (!shared) return push(0, copy);
        std::lock_guard lock(mu);
        push(0, copy);
    }
    void consume(int s, uint64_t total, Received& r) {
        drain(s, total, r, [](const std::string& item) { return std::string_view(item); });
    }
};

struct Slot {
    uint32_t size;
    char bytes[124];
};

struct SpscFixedImpl : SpscImpl<Slot> {
    static constexpr const char* name = "spsc_fixed";
    explicit SpscFixedImpl(const Shape& s) : SpscImpl(s, s.publishers) {}
    void publish(int p, int, std::string_view m) {
        Slot slot;
        slot.size = static_cast<uint32_t>(m.size());
        std::memcpy(slot.bytes, m.data(), m.size());
        push(p, slot);
    }
    void consume(int s, uint64_t total, Received& r) {
        drain(s, total, r, [](const Slot& item) { return std::string_view(item.bytes, item.size); });
    }
};

// ---- The harness. ----

struct Figures {
    double published_per_sec = 0, delivered_per_sec = 0, p50_us = 0, p99_us = 0;
    uint64_t lost = 0;
};

double percentile(std::vector<int64_t>& v, double q) {
    if (v.empty()) return 0;
    size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return static_cast<double>(v[i]) / 1000.0;
}

void wait_gate(std::atomic<int>& gate) {
    gate--;
    while (gate.load() > 0) std::this_thread::yield();
}

void publish_loop(auto& impl, const Shape& s, int p, std::atomic<int>& gate, int64_t& start_ns, int64_t& end_ns) {
    char msg[kMessageBytes];
    std::memset(msg, 'a' + p, sizeof msg);
    wait_gate(gate);
    start_ns = now_ns();
    uint64_t n = s.per_publisher();
    for (uint64_t i = 0; i < n; i++) {
        int64_t stamp = i % kStampEvery == 0 ? now_ns() : 0;
        std::memcpy(msg, &stamp, sizeof stamp);
        impl.publish(p, static_cast<int>(i % static_cast<uint64_t>(s.topics)), std::string_view(msg, sizeof msg));
    }
    end_ns = now_ns();
}

template <class Impl>
Figures run_once(const Shape& s) {
    Impl impl(s);
    std::vector<Received> received(static_cast<size_t>(s.subscribers));
    std::vector<int64_t> pub_start(static_cast<size_t>(s.publishers)), pub_end(pub_start.size()), sub_end(received.size());
    std::atomic<int> gate{s.publishers + s.subscribers};
    std::vector<std::thread> threads;
    for (int i = 0; i < s.subscribers; i++) {
        threads.emplace_back([&, i] {
            auto& r = received[static_cast<size_t>(i)];
            r.latencies_ns.reserve(s.total() / kStampEvery + 16);
            wait_gate(gate);
            impl.consume(i, s.total(), r);
            sub_end[static_cast<size_t>(i)] = now_ns();
        });
    }
    for (int p = 0; p < s.publishers; p++) {
        auto i = static_cast<size_t>(p);
        threads.emplace_back([&, p, i] { publish_loop(impl, s, p, gate, pub_start[i], pub_end[i]); });
    }
    for (auto& t : threads) t.join();
    int64_t start = *std::min_element(pub_start.begin(), pub_start.end());
    Figures f;
    std::vector<int64_t> lat;
    for (auto& r : received) {
        lat.insert(lat.end(), r.latencies_ns.begin(), r.latencies_ns.end());
        f.lost += r.lost;
    }
    double pub_s = static_cast<double>(*std::max_element(pub_end.begin(), pub_end.end()) - start) / 1e9;
    double all_s = static_cast<double>(*std::max_element(sub_end.begin(), sub_end.end()) - start) / 1e9;
    f.published_per_sec = static_cast<double>(s.total()) / pub_s;
    f.delivered_per_sec = static_cast<double>(s.total() * static_cast<uint64_t>(s.subscribers) - f.lost) / all_s;
    f.p50_us = percentile(lat, 0.50);
    f.p99_us = percentile(lat, 0.99);
    return f;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

Figures median_of(const std::vector<Figures>& runs) {
    std::vector<double> pub, del, p50, p99;
    Figures f;
    for (const auto& r : runs) {
        pub.push_back(r.published_per_sec);
        del.push_back(r.delivered_per_sec);
        p50.push_back(r.p50_us);
        p99.push_back(r.p99_us);
        f.lost += r.lost;
    }
    f.published_per_sec = median(pub);
    f.delivered_per_sec = median(del);
    f.p50_us = median(p50);
    f.p99_us = median(p99);
    return f;
}

constexpr int kImpls = 5;  // keel, the two baselines, then the information-only ones
const char* const kImplNames[kImpls] = {KeelImpl::name, MutexDequeImpl::name, SpscPerSubscriberImpl::name,
                                        SpscStringImpl::name, SpscFixedImpl::name};

struct ShapeResult {
    Shape shape;
    Figures figures[kImpls];
    double ratio() const { return figures[0].delivered_per_sec / std::max(figures[1].delivered_per_sec, figures[2].delivered_per_sec); }
    double ratio_pair() const { return figures[0].delivered_per_sec / figures[3].delivered_per_sec; }
    double ratio_fixed() const { return figures[0].delivered_per_sec / figures[4].delivered_per_sec; }
};

// Each repetition runs every implementation once, so they share the machine's mood.
ShapeResult run_shape(const Shape& s, int repetitions) {
    std::vector<Figures> runs[kImpls];
    for (int r = 0; r < repetitions; r++) {
        runs[0].push_back(run_once<KeelImpl>(s));
        runs[1].push_back(run_once<MutexDequeImpl>(s));
        runs[2].push_back(run_once<SpscPerSubscriberImpl>(s));
        runs[3].push_back(run_once<SpscStringImpl>(s));
        runs[4].push_back(run_once<SpscFixedImpl>(s));
    }
    ShapeResult out{s, {}};
    for (int i = 0; i < kImpls; i++) out.figures[i] = median_of(runs[i]);
    return out;
}

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string figures_json(const Figures& f) {
    return "{\"published_per_sec\": " + num(f.published_per_sec) + ", \"delivered_per_sec\": " +
           num(f.delivered_per_sec) + ", \"latency_p50_us\": " + num(f.p50_us) + ", \"latency_p99_us\": " +
           num(f.p99_us) + ", \"lost\": " + std::to_string(f.lost) + "}";
}

std::string to_json(const std::vector<ShapeResult>& results, const PubSubBenchOptions& o) {
    std::string j = "{\n  \"message_bytes\": " + std::to_string(kMessageBytes) + ",\n  \"messages_per_run\": " +
                    std::to_string(o.messages) + ",\n  \"topics\": " + std::to_string(o.topics) +
                    ",\n  \"repetitions\": " + std::to_string(o.repetitions) + ",\n  \"runs\": [\n";
    bool all = true;
    for (size_t i = 0; i < results.size(); i++) {
        const auto& r = results[i];
        all = all && r.ratio() >= 1.0;
        j += "    {\"publishers\": " + std::to_string(r.shape.publishers) +
             ", \"subscribers\": " + std::to_string(r.shape.subscribers);
        for (int k = 0; k < kImpls; k++) j += ", \"" + std::string(kImplNames[k]) + "\": " + figures_json(r.figures[k]);
        j += ", \"ratio\": " + num(r.ratio()) + ", \"ratio_vs_spsc\": " + num(r.ratio_pair()) +
             ", \"ratio_vs_spsc_fixed\": " + num(r.ratio_fixed()) +
             ", \"meets_target\": " + (r.ratio() >= 1.0 ? "true" : "false") + "}" + (i + 1 < results.size() ? ",\n" : "\n");
    }
    j += "  ],\n  \"all_meet_target\": " + std::string(all ? "true" : "false") + "\n}\n";
    return j;
}

void print(const ShapeResult& r) {
    std::printf("%dx%d (P x S):\n", r.shape.publishers, r.shape.subscribers);
    for (int k = 0; k < kImpls; k++) {
        const Figures& f = r.figures[k];
        std::printf("  %-11s published %6.2f M/s  delivered %6.2f M/s  latency p50 %9.1f us  p99 %9.1f us%s\n",
                    kImplNames[k], f.published_per_sec / 1e6, f.delivered_per_sec / 1e6, f.p50_us, f.p99_us,
                    f.lost ? "  (lost some)" : "");
    }
    std::printf("  ratio keel / better baseline: %.2f %s   (information only: vs spsc %.2f, vs spsc_fixed %.2f)\n",
                r.ratio(), r.ratio() >= 1.0 ? "meets target" : "MISSES target", r.ratio_pair(), r.ratio_fixed());
    std::fflush(stdout);
}

}  // namespace

const char* pubsub_bench_help() { return kHelp; }

bool parse_pubsub_shapes(const std::string& text, std::vector<std::pair<int, int>>& out) {
    out.clear();
    size_t at = 0;
    while (at <= text.size()) {
        size_t comma = text.find(',', at);
        std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        int p = 0, s = 0;
        char x = 0, extra = 0;
        if (std::sscanf(item.c_str(), "%d%c%d%c", &p, &x, &s, &extra) != 3 || x != 'x') return false;
        if (p < 1 || p > 64 || s < 1 || s > 64) return false;
        out.emplace_back(p, s);
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return !out.empty();
}

int run_pubsub_bench(const PubSubBenchOptions& o) {
    if (o.messages == 0 || o.topics < 1 || o.repetitions < 1 || o.shapes.empty()) {
        std::fprintf(stderr, "keel bench pubsub: --messages, --topics, --reps must be >= 1 and --shapes non-empty\n");
        return 2;
    }
    std::printf("pubsub bench: %llu messages of %zu bytes per run, %d topic(s), median of %d, %u hardware threads\n",
                static_cast<unsigned long long>(o.messages), kMessageBytes, o.topics, o.repetitions,
                std::thread::hardware_concurrency());
    std::vector<ShapeResult> results;
    for (auto [p, s] : o.shapes) {
        Shape shape{p, s, o.topics, std::max<uint64_t>(o.messages, static_cast<uint64_t>(p))};
        results.push_back(run_shape(shape, o.repetitions));
        print(results.back());
    }
    if (o.json_path && !write_text_file(*o.json_path, to_json(results, o))) return 1;
    return 0;
}

}  // namespace keel::bench
