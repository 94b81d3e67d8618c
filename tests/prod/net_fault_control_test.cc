// keel server --net-faults (prod/net_fault_control.h): the control file's lines, the
// acknowledgement, and the polling fiber applying a file to a node's NetFaults. Nothing
// is timed: the test waits for the acknowledgement with a bound only a hung test reaches.
#include "prod/net_fault_control.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "prod/local_cluster.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::prod {
namespace {

using env::Address;

TEST(NetFaultControl, ParsesCutAndSlowLinesAndReportsMalformedOnes) {
    NetFaultFile f = parse_net_fault_file(
        "# comment\n\ngeneration 12\ncut 127.0.0.1:4003\n  slow 127.0.0.1:4005 150  \n"
        "cut nonsense\nslow 127.0.0.1:1 0\nslow 127.0.0.1:1 abc\nflood 127.0.0.1:1\ngeneration -1\n");
    EXPECT_EQ(f.generation, 12);
    EXPECT_EQ(f.rules.cut, (std::set<Address>{{"127.0.0.1", 4003}}));
    EXPECT_EQ(f.rules.slow, (std::map<Address, Duration>{{{"127.0.0.1", 4005}, 150ms}}));
    ASSERT_EQ(f.malformed.size(), 5u);
    EXPECT_NE(f.malformed[0].find("line 6"), std::string::npos) << f.malformed[0];
    EXPECT_NE(f.malformed[3].find("unknown directive 'flood'"), std::string::npos) << f.malformed[3];
}

TEST(NetFaultControl, TheFileTextAndTheAckReadBack) {
    NetFaultRules rules{.cut = {{"127.0.0.1", 1}, {"127.0.0.1", 2}}, .slow = {{{"127.0.0.1", 3}, 250ms}}};
    NetFaultFile back = parse_net_fault_file(net_fault_file_text(77, rules));
    EXPECT_EQ(back.generation, 77);
    EXPECT_EQ(back.rules, rules);
    EXPECT_TRUE(back.malformed.empty());
    NetFaultAck ack{.generation = 77, .cut = 2, .slow = 1, .malformed = 0,
                    .since = {.connects_refused = 3, .connections_closed = 2, .sends_delayed = 0},
                    .total = {.connects_refused = 9, .connections_closed = 4, .sends_delayed = 100}};
    auto parsed = parse_net_fault_ack(net_fault_ack_text(ack));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, ack);
    EXPECT_FALSE(parse_net_fault_ack("generation 1\n").has_value());
    EXPECT_FALSE(parse_net_fault_ack("generation x\n").has_value());
}

// Waits (bounded) until path.ack names `generation`; the ack then.
std::optional<NetFaultAck> await_ack(const std::string& path, int64_t generation) {
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < limit) {
        bool ok = false;
        std::string text = read_text_file(path + ".ack", &ok);
        auto ack = ok ? parse_net_fault_ack(text) : std::nullopt;
        if (ack && ack->generation == generation) return ack;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

TEST(NetFaultControl, TheServerFiberAppliesTheFileAndAcknowledges) {
    TempDir dir;
    std::string path = dir.path() + "/net-faults";
    NetFaults faults;
    std::mutex mu;
    std::vector<std::string> lines;
    ProdNodeOptions options;
    options.tcp.faults = &faults;
    options.log.sink = [&](std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(line);
    };
    ProdNode node("n1", dir.path() + "/data", options);
    ASSERT_TRUE(write_text_file(path, "generation 3\ncut 127.0.0.1:1\nslow 127.0.0.1:2 100\nbogus line\n").ok());
    ASSERT_TRUE(node.start([&](env::Env& env) {
        env.executor().spawn("net-fault-control", [&] { run_net_fault_control(env, faults, path); });
        // A connect to the cut address is refused (and counted) without touching the network.
        for (;;) {
            if (faults.is_cut(Address{"127.0.0.1", 1})) {
                auto c = env.network().connect(Address{"127.0.0.1", 1}, env.now() + 30s);
                KEEL_ASSERT(!c.ok() && c.code() == Errc::connection_refused);
                return;
            }
            env.executor().sleep_for(10ms);
        }
    }).ok());
    auto first = await_ack(path, 3);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->cut, 1);
    EXPECT_EQ(first->slow, 1);
    EXPECT_EQ(first->malformed, 1);
    // The refused connect shows up in a later rewrite of the same generation's ack.
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::optional<NetFaultAck> counted;
    while (std::chrono::steady_clock::now() < limit) {
        counted = await_ack(path, 3);
        if (counted && counted->since.connects_refused == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(counted.has_value());
    EXPECT_EQ(counted->since.connects_refused, 1u);
    EXPECT_EQ(counted->total.connects_refused, 1u);
    // Healed: a new generation with no rule; its own counters start from zero.
    ASSERT_TRUE(write_text_file(path, net_fault_file_text(4, {})).ok());
    auto healed = await_ack(path, 4);
    node.stop();
    ASSERT_TRUE(healed.has_value());
    EXPECT_EQ(healed->cut + healed->slow + healed->malformed, 0);
    EXPECT_EQ(healed->since, NetFaultCounters{});
    EXPECT_EQ(healed->total.connects_refused, 1u);
    std::lock_guard lock(mu);
    bool warned = false;
    for (const std::string& l : lines) warned |= l.find("WARN") != std::string::npos && l.find("bogus line") != std::string::npos;
    EXPECT_TRUE(warned) << "the malformed line is logged as a warning";
}

}  // namespace
}  // namespace keel::prod
