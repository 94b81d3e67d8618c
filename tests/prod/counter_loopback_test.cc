// The proof service, unchanged, on real sockets (loopback) and real files (a temporary
// directory), including a primary restart on its surviving directory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "prod/prod_node.h"
#include "prod/temp_dir.h"
#include "tests/prod/loopback_util.h"
#include "scenarios/proof/counter_service.h"

namespace keel {
namespace {

using loopback::free_port;

TEST(CounterOnLoopback, ServesIncrementsAndSurvivesAPrimaryRestart) {
    prod::TempDir dir("keel-counter-");
    proof::CounterConfig config;
    config.primary = env::Address{"127.0.0.1", free_port()};
    config.backups = {env::Address{"127.0.0.1", free_port()}, env::Address{"127.0.0.1", free_port()}};
    config.replicate_timeout = 2s;  // a busy CI machine, not a fault
    std::string root = dir.path();
    prod::ProdNode b1("n2", root + "/n2"), b2("n3", root + "/n3");
    ASSERT_TRUE(b1.start([&](env::Env& e) { proof::run_counter_backup(e, config.backups[0]); }).ok());
    ASSERT_TRUE(b2.start([&](env::Env& e) { proof::run_counter_backup(e, config.backups[1]); }).ok());
    auto primary = std::make_unique<prod::ProdNode>("n1", root + "/n1");
    ASSERT_TRUE(primary->start([&](env::Env& e) { proof::run_counter_primary(e, config); }).ok());

    // Phase 1: 40 operations.
    proof::CounterHistory h1;
    std::atomic<bool> done1{false};
    {
        prod::ProdNode client("cl", root + "/cl", prod::ProdNodeOptions{.stop_when_main_returns = true});
        ASSERT_TRUE(client.start([&](env::Env& e) {
            proof::run_counter_client(e, config, 40, 1ms, e.now() + 60s, e.now() + 60s, h1);
            done1 = true;
        }).ok());
        for (int i = 0; i < 600 && !done1; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(done1.load());
    uint64_t acked = 0;
    for (const auto& op : h1.ops) acked = std::max(acked, op.outcome == proof::CounterOp::Outcome::ok ? op.value : 0);
    EXPECT_GT(acked, 0u);

    // Phase 2: the primary stops (its fibers unwind) and a new one starts on the same directory.
    primary->stop();
    primary = std::make_unique<prod::ProdNode>("n1", root + "/n1");
    ASSERT_TRUE(primary->start([&](env::Env& e) { proof::run_counter_primary(e, config); }).ok());
    proof::CounterHistory h2;
    std::atomic<bool> done2{false};
    {
        prod::ProdNode client("cl", root + "/cl", prod::ProdNodeOptions{.stop_when_main_returns = true});
        ASSERT_TRUE(client.start([&](env::Env& e) {
            proof::run_counter_client(e, config, 0, 1ms, e.now(), e.now() + 60s, h2);
            done2 = true;
        }).ok());
        for (int i = 0; i < 1200 && !done2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(done2.load());
    ASSERT_TRUE(h2.final_read.has_value()) << "the restarted primary never answered";
    EXPECT_GE(*h2.final_read, acked) << "an acknowledged increment was lost across the restart";
    h1.final_read = h2.final_read;
    EXPECT_TRUE(proof::check_counter_history(h1).empty());
    primary->stop();
    b1.stop();
    b2.stop();
}

}  // namespace
}  // namespace keel
