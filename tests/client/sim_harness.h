// Test support: a simulated world with the fake broker on node b1 and a client body on
// node c1 (tests/client/fake_broker.h).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/controller/rpc.h"
#include "sim/world.h"
#include "tests/client/fake_broker.h"

namespace keel::client::testing {

inline const env::Address kBroker{"b1", 9092};

struct SimRun {
    explicit SimRun(uint64_t seed, std::map<std::string, int32_t> topics = {{"t", 3}})
        : world(sim::WorldOptions{.seed = seed}), broker(kBroker, std::move(topics)) {
        world.add_node("b1", [this](env::Env& env) {
            controller::RpcServer server(env, kBroker,
                                         [this](const protocol::RequestFrame& f) { return broker.handle(f); });
            (void)server.run();
        });
    }
    // Runs `body` on node c1 until it returns; false if it did not within `limit`.
    bool client(const std::function<void(env::Env&)>& body, Duration limit = ms(600'000)) {
        bool done = false;
        world.add_node("c1", [&](env::Env& env) {
            body(env);
            done = true;
        });
        return world.run_until([&] { return done; }, limit);
    }
    int64_t records_in_log(const std::string& topic, int32_t partitions) const {
        int64_t n = 0;
        for (int32_t p = 0; p < partitions; p++) {
            if (const auto* part = broker.partition(topic, p)) n += part->next_offset;
        }
        return n;
    }
    sim::World world;
    FakeBroker broker;
};

}  // namespace keel::client::testing
