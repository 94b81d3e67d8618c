// keel pubsub demo: the embedded pub-sub library (embedded/pubsub.h) in one process —
// publisher threads, pull subscribers on their own threads (one of them resets to replay),
// a push subscriber with a callback, and what each one saw.
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "embedded/pubsub.h"

namespace keel::cli {

namespace {

using embedded::Batch;
using embedded::Status;

const char* kHelp = R"(usage: keel pubsub demo [--publishers N] [--subscribers N] [--messages N] [--reset-after N]

Runs the embedded publish-subscribe library (embedded/pubsub.h, docs/pubsub.md) in this
process: N publisher threads each publish --messages messages to topic "orders"; the
subscribers (each on its own thread) read every message, subscriber 1 resets to offset 0
after --reset-after messages and reads everything again, and the last subscriber consumes
by callback (push). Prints the offsets each subscriber saw as ranges, and checks them: no
loss, no duplicate within a pass, offset order. Exit 0 if every check holds, 1 if not.

options:
  --publishers N    publisher threads (default 2, 1..16)
  --subscribers N   subscribers (default 3, 3..16)
  --messages N      messages per publisher (default 20, 1..100000)
  --reset-after N   subscriber 1 resets after this many messages (default 10)
)";

// Offsets as ranges, a new range at every jump: "0-9, 0-39".
struct Seen {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    uint64_t count = 0;
    void add(uint64_t offset) {
        count++;
        if (!ranges.empty() && ranges.back().second + 1 == offset) {
            ranges.back().second = offset;
        } else {
            ranges.emplace_back(offset, offset);
        }
    }
    std::string text() const {
        std::string out;
        for (auto [a, b] : ranges) out += (out.empty() ? "" : ", ") + std::to_string(a) + "-" + std::to_string(b);
        return out;
    }
};

struct Demo {
    uint64_t publishers = 2, subscribers = 3, messages = 20, reset_after = 10;
    uint64_t total() const { return publishers * messages; }
};

void pull(embedded::Subscriber& sub, const Demo& d, bool resets, Seen& seen, std::string& first) {
    Batch batch;
    uint64_t next = 0;
    bool reset_done = !resets;
    while (next < d.total() || !reset_done) {
        if (sub.poll(batch, 8, std::chrono::milliseconds(200)) != Status::ok) continue;
        for (const auto& m : batch) {
            if (first.empty()) first = std::string(m.value);
            seen.add(m.offset);
            next = m.offset + 1;
        }
        if (!reset_done && seen.count >= d.reset_after) {
            reset_done = sub.reset("orders", 0) == Status::ok;
            next = 0;
        }
    }
}

// The expected picture: every pass is one contiguous range, the last one ends at the end.
bool check(const Seen& s, const Demo& d, bool resets) {
    if (s.ranges.empty() || s.ranges.back().second + 1 != d.total()) return false;
    if (s.ranges.size() != (resets ? 2u : 1u)) return false;
    for (auto [a, b] : s.ranges) {
        if (a != 0) return false;
    }
    return true;
}

int run_demo(const Demo& d) {
    embedded::Broker broker;
    std::vector<std::unique_ptr<embedded::Subscriber>> subs;
    for (uint64_t i = 0; i < d.subscribers; i++) subs.push_back(broker.subscribe({"orders"}).value);
    std::vector<Seen> seen(d.subscribers);
    std::vector<std::string> first(d.subscribers);
    std::mutex push_mu;
    std::atomic<uint64_t> pushed{0};
    auto& push_seen = seen.back();
    (void)subs.back()->start([&](const embedded::Message& m) {
        std::lock_guard lock(push_mu);
        if (first.back().empty()) first.back() = std::string(m.value);
        push_seen.add(m.offset);
        pushed++;
    });
    std::vector<std::thread> threads;
    for (uint64_t i = 0; i + 1 < d.subscribers; i++) {
        threads.emplace_back([&, i] { pull(*subs[i], d, i == 1, seen[i], first[i]); });
    }
    for (uint64_t p = 0; p < d.publishers; p++) {
        threads.emplace_back([&, p] {
            auto pub = broker.publisher("orders").value;
            for (uint64_t k = 0; k < d.messages; k++) (void)pub.publish("p" + std::to_string(p) + "-" + std::to_string(k));
        });
    }
    for (auto& t : threads) t.join();
    while (pushed.load() < d.total()) std::this_thread::yield();
    subs.back()->stop();
    std::printf("keel pubsub demo: %llu publishers x %llu messages to \"orders\", %llu subscribers\n",
                static_cast<unsigned long long>(d.publishers), static_cast<unsigned long long>(d.messages),
                static_cast<unsigned long long>(d.subscribers));
    bool ok = true;
    for (uint64_t i = 0; i < d.subscribers; i++) {
        bool resets = i == 1, push = i + 1 == d.subscribers;
        bool good = check(seen[i], d, resets);
        ok = ok && good;
        std::printf("subscriber %llu (%s%s): %llu messages, offsets %s, first \"%s\": %s\n",
                    static_cast<unsigned long long>(i), push ? "push callback" : "pull",
                    resets ? ", resets to 0" : "", static_cast<unsigned long long>(seen[i].count),
                    seen[i].text().c_str(), first[i].c_str(), good ? "in order, nothing lost" : "WRONG");
    }
    return ok ? 0 : 1;
}

}  // namespace

int cmd_pubsub(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h") {
        std::fputs(kHelp, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (std::string(argv[2]) != "demo") return usage_error("pubsub", "unknown subcommand '" + std::string(argv[2]) + "'");
    Args a(argc, argv, 3, ArgSpec{{"--publishers", "--subscribers", "--messages", "--reset-after"}, {"--help", "-h"}, {}});
    if (a.flag("--help") || a.flag("-h")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    Demo d;
    d.publishers = a.u64("--publishers").value_or(d.publishers);
    d.subscribers = a.u64("--subscribers").value_or(d.subscribers);
    d.messages = a.u64("--messages").value_or(d.messages);
    d.reset_after = a.u64("--reset-after").value_or(d.reset_after);
    if (!a.ok()) return usage_error("pubsub demo", a.error());
    if (d.publishers < 1 || d.publishers > 16 || d.subscribers < 3 || d.subscribers > 16 || d.messages < 1 ||
        d.messages > 100000 || d.reset_after < 1 || d.reset_after > d.total()) {
        return usage_error("pubsub demo", "--publishers 1..16, --subscribers 3..16, --messages 1..100000, "
                                          "--reset-after 1..publishers*messages");
    }
    return run_demo(d);
}

}  // namespace keel::cli
