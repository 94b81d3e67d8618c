// ProdNode: the same fiber scheduler as the simulator, in real time on its own thread.
#include "prod/prod_node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <unistd.h>

#include "core/env/sync.h"
#include "prod/os_random.h"
#include "prod/real_clock.h"
#include "prod/temp_dir.h"

namespace keel::prod {
namespace {

using env::Env;

constexpr auto kTestLimit = std::chrono::seconds(60);  // only a hung test ever waits this long

bool wait_until(const std::function<bool()>& done) {
    auto limit = std::chrono::steady_clock::now() + kTestLimit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > limit) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

// Counts its own destruction: proof that a fiber's stack was unwound.
struct Guard {
    std::atomic<int>* destroyed;
    ~Guard() { destroyed->fetch_add(1); }
};

TEST(ProdNode, StopUnwindsEveryFiber) {
    TempDir dir;
    ProdNode node("n1", dir.path());
    std::atomic<int> started{0}, destroyed{0};
    constexpr int kFibers = 7;  // main + six blocked in different ways
    ASSERT_TRUE(node.start([&](Env& env) {
        auto& ex = env.executor();
        auto block = [&](std::string name, std::function<void()> how) {
            ex.spawn(std::move(name), [&, how] {
                Guard g{&destroyed};
                started++;
                how();
            });
        };
        env::Channel<int> channel(ex, 1);
        env::Event never(ex);
        auto listener = env.network().listen(env::Address{"127.0.0.1", 0});
        ASSERT_TRUE(listener.ok());
        auto conn = env.network().connect((*listener)->address(), env.now() + 30s);
        ASSERT_TRUE(conn.ok());
        auto accepted = (*listener)->accept(env.now() + 30s);
        ASSERT_TRUE(accepted.ok());
        block("sleeper", [&] { ex.sleep_for(1h); });
        block("parked", [&] { ex.park(Instant::max()); });
        block("channel", [&] { (void)channel.receive(); });
        block("accept", [&] { (void)(*listener)->accept(); });
        block("receive", [&] { (void)(*conn)->receive(); });
        block("spinner", [&] {  // never parks: stop must still get through
            while (true) ex.yield();
        });
        Guard g{&destroyed};
        started++;
        never.wait();
    }).ok());
    ASSERT_TRUE(wait_until([&] { return started.load() == kFibers; }));
    EXPECT_TRUE(node.running());
    EXPECT_EQ(destroyed.load(), 0);
    std::thread other([&] { node.stop(); });  // stop is safe from several threads at once
    node.stop();
    other.join();
    EXPECT_FALSE(node.running());
    EXPECT_EQ(destroyed.load(), kFibers);
    node.stop();  // idempotent
}

TEST(ProdNode, RunsTheSyncPrimitivesInRealTime) {
    TempDir dir;
    ProdNodeOptions options;
    options.stop_when_main_returns = true;
    ProdNode node("n1", dir.path(), options);
    Result<int> timed_out(Errc::unknown), later(Errc::unknown);
    Duration waited{};
    std::vector<int> consumed;
    size_t channel_peak = 0;
    ASSERT_TRUE(node.start([&](Env& env) {
        auto& ex = env.executor();
        env::Promise<int> promise(ex);
        auto future = promise.future();
        Instant before = ex.now();
        timed_out = future.get_for(50ms);
        waited = ex.now() - before;
        ex.spawn("setter", [&] {
            ex.sleep_for(10ms);
            promise.set(42);
        });
        later = future.get_for(30s);

        env::Channel<int> channel(ex, 4);
        env::Event consumer_done(ex);
        ex.spawn("consumer", [&] {
            while (auto v = channel.receive()) {
                channel_peak = std::max(channel_peak, channel.size() + 1);
                consumed.push_back(*v);
            }
            consumer_done.set();
        });
        for (int i = 0; i < 1000; i++) ASSERT_TRUE(channel.send(i).ok());
        channel.close();
        ASSERT_TRUE(consumer_done.wait(ex.now() + 30s));
    }).ok());
    ASSERT_TRUE(wait_until([&] { return !node.running(); }));
    ASSERT_FALSE(timed_out.ok());
    EXPECT_EQ(timed_out.code(), Errc::timeout);
    EXPECT_GE(waited, Duration(50ms));  // a deadline never fires early
    ASSERT_TRUE(later.ok());
    EXPECT_EQ(*later, 42);
    ASSERT_EQ(consumed.size(), 1000u);
    for (int i = 0; i < 1000; i++) ASSERT_EQ(consumed[static_cast<size_t>(i)], i);
    EXPECT_LE(channel_peak, 4u);
}

TEST(ProdNode, GivesEachNodeItsDiskClockRandomAndName) {
    TempDir dir;
    ProdNodeOptions options;
    options.stop_when_main_returns = true;
    options.seed = 1234;
    ProdNode node("b7", dir.path() + "/deep/data", options);
    std::string name;
    uint64_t draw = 0;
    bool wrote = false, buggify = true;
    Instant mono{};
    WallTime wall{};
    ASSERT_TRUE(node.start([&](Env& env) {
        name = env.node_name();
        draw = env.random().next_u64();
        buggify = KEEL_BUGGIFY(env, "prod.never");
        mono = env.clock().monotonic_now();
        wall = env.clock().wall_now();
        auto f = env.disk().open("marker", env::OpenMode::create_new);
        wrote = f.ok() && (*f)->append(as_bytes("x")).ok() && (*f)->sync().ok();
    }).ok());
    ASSERT_TRUE(wait_until([&] { return !node.running(); }));
    EXPECT_EQ(name, "b7");
    EXPECT_EQ(node.seed(), 1234u);
    EXPECT_EQ(draw, env::SeededRandom(1234).next_u64());  // the seed replays the draws
    EXPECT_FALSE(buggify);
    EXPECT_TRUE(wrote);
    EXPECT_TRUE(::access((dir.path() + "/deep/data/marker").c_str(), F_OK) == 0);
    EXPECT_LE(mono, RealClock::monotonic());
    EXPECT_GT(wall.ns, int64_t{1'600'000'000} * 1'000'000'000);  // after 2020
}

TEST(ProdNode, RunBlockingReturnsAfterRequestStop) {
    TempDir dir;
    ProdNode node("n1", dir.path());
    std::atomic<bool> looping{false};
    std::thread stopper([&] {
        wait_until([&] { return looping.load(); });
        node.request_stop();  // as a signal handler would
    });
    Status ran = node.run_blocking([&](Env& env) {
        while (true) {
            looping = true;
            env.executor().sleep_for(1ms);
        }
    });
    stopper.join();
    EXPECT_TRUE(ran.ok());
    EXPECT_FALSE(node.running());
}

TEST(ProdNode, ReportsAnUnusableDataDirectory) {
    ProdNode node("n1", "/proc/keel-cannot-create-this");
    Status s = node.start([](Env&) {});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("n1"), std::string::npos) << s.error().message;
    EXPECT_FALSE(node.running());
}

TEST(OsRandom, SeedsFromTheOsAndReportsTheSeed) {
    OsRandom a, b;
    EXPECT_NE(a.seed(), b.seed());  // 2^-64 odds of a false failure
    OsRandom replay(a.seed());
    for (int i = 0; i < 10; i++) EXPECT_EQ(a.next_u64(), replay.next_u64());
}

TEST(RealClock, MonotonicNeverGoesBack) {
    Instant last = RealClock::monotonic();
    for (int i = 0; i < 10000; i++) {
        Instant now = RealClock::monotonic();
        ASSERT_GE(now, last);
        last = now;
    }
}

}  // namespace
}  // namespace keel::prod
