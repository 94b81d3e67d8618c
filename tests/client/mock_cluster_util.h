// Test support: librdkafka's built-in mock cluster (rdkafka_mock.h, a Kafka broker someone
// else wrote, on loopback) and a prod::ProdNode that runs a client body on its fiber.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"
#include "tests/prod/loopback_util.h"

namespace keel::client::testing {

class MockCluster {
public:
    explicit MockCluster(int brokers) {
        char err[512];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (rk_ != nullptr) mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    }
    ~MockCluster() {
        if (mc_ != nullptr) rd_kafka_mock_cluster_destroy(mc_);
        if (rk_ != nullptr) rd_kafka_destroy(rk_);
    }
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    bool ok() const { return mc_ != nullptr; }
    rd_kafka_mock_cluster_t* get() { return mc_; }

    // "127.0.0.1:p1,127.0.0.1:p2,..." as addresses.
    std::vector<env::Address> bootstrap() const {
        std::vector<env::Address> out;
        std::stringstream ss(rd_kafka_mock_cluster_bootstraps(mc_));
        std::string item;
        while (std::getline(ss, item, ',')) {
            if (auto a = env::Address::parse(item)) out.push_back(*a);
        }
        return out;
    }

private:
    rd_kafka_t* rk_ = nullptr;
    rd_kafka_mock_cluster_t* mc_ = nullptr;
};

// Runs `body` on the main fiber of a fresh ProdNode and waits (up to `limit`) for it to end.
inline bool run_on_prod_node(const std::function<void(env::Env&)>& body,
                             std::chrono::seconds limit = std::chrono::seconds(120)) {
    prod::TempDir dir("keel-client-");
    std::atomic<bool> done{false};
    prod::ProdNodeOptions options;
    options.stop_when_main_returns = true;
    prod::ProdNode node("client", dir.path() + "/client", options);
    if (!node.start([&](env::Env& e) {
            body(e);
            done = true;
        }).ok()) {
        return false;
    }
    bool finished = loopback::wait_until([&] { return done.load(); }, limit);
    node.stop();
    return finished;
}

}  // namespace keel::client::testing
