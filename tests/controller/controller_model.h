// A metadata log in memory for tests: the controller logic writes batches at increasing
// offsets and a live image applies them, exactly as the active controller and every
// replica would (offset = index in the log, so a broker's epoch is its registration's
// offset).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/controller/broker_sessions.h"
#include "core/controller/controller_logic.h"
#include "core/controller/metadata_image.h"
#include "core/env/random.h"

namespace keel::controller::testing {

class LogModel {
public:
    explicit LogModel(uint64_t seed = 1) : random_(seed) {}

    MetadataImage& image() { return image_; }
    const std::vector<std::vector<MetadataRecord>>& log() const { return log_; }
    Offset next_offset() const { return Offset(static_cast<int64_t>(log_.size())); }
    env::Random& random() { return random_; }
    ControllerConfig& config() { return config_; }

    // Appends a batch (if non-empty) and applies it.
    void write(const std::vector<MetadataRecord>& batch) {
        if (batch.empty()) return;
        Offset at = next_offset();
        log_.push_back(batch);
        image_.apply_batch(at, batch);
    }

    // Registers broker `id` (listener "b<id>:9092") and returns its epoch.
    BrokerEpoch register_broker(int32_t id, uint64_t incarnation = 1, bool live_session = false) {
        RegistrationInput in;
        in.broker_id = NodeId(id);
        in.cluster_id = config_.cluster_id;
        in.incarnation_id = Uuid{static_cast<uint64_t>(id), incarnation};
        in.listeners = {BrokerEndpoint{"PLAINTEXT", "b" + std::to_string(id), 9092, 0}};
        auto r = controller::register_broker(image_, in, BrokerEpoch(next_offset().value()), live_session, config_);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
        write(r->records);
        return r->reply;
    }

    // A heartbeat from a broker that has applied everything so far.
    HeartbeatReply heartbeat(int32_t id, bool want_shut_down = false, bool want_fence = false) {
        const BrokerRegistration* b = image_.broker(NodeId(id));
        EXPECT_NE(b, nullptr);
        HeartbeatInput in{NodeId(id), b->epoch, Offset(next_offset().value() - 1), want_fence, want_shut_down};
        auto r = broker_heartbeat(image_, in);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
        write(r->records);
        return r->reply;
    }

    // Registers and unfences brokers first..last.
    void start_brokers(int32_t first, int32_t last) {
        for (int32_t id = first; id <= last; id++) register_broker(id);
        for (int32_t id = first; id <= last; id++) heartbeat(id);
    }

    Uuid create_topic(const std::string& name, int32_t partitions, int16_t rf,
                      std::vector<std::pair<std::string, std::optional<std::string>>> configs = {}) {
        CreatableTopic t{name, partitions, rf, {}, std::move(configs)};
        auto r = create_topics(image_, {t}, false, config_, random_);
        EXPECT_TRUE(r.reply.at(0).status.ok()) << r.reply.at(0).status.error().to_string();
        write(r.records);
        return r.reply.at(0).topic_id;
    }

    void fence(int32_t id) { write(fence_broker(image_, NodeId(id))); }

    // Partition `p` of a fresh topic (epochs 0): its leader shrinks the ISR to itself, as
    // a leader whose followers fell behind does (AlterPartition).
    void shrink_isr_to_leader(const Uuid& topic, int32_t p) {
        NodeId leader = partition(topic, p).leader;
        AlterPartitionInput in;
        in.broker_id = leader;
        in.broker_epoch = image_.broker(leader)->epoch;
        in.topics.push_back(
            {topic, {{PartitionIndex(p), LeaderEpoch(0), {{leader, BrokerEpoch(-1)}}, 0, PartitionEpoch(0)}}});
        auto r = alter_partition(image_, in);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
        write(r->records);
    }

    const PartitionState& partition(const Uuid& topic, int32_t p) {
        const PartitionState* s = image_.partition(topic, PartitionIndex(p));
        EXPECT_NE(s, nullptr);
        return *s;
    }

private:
    env::SeededRandom random_;
    ControllerConfig config_;
    MetadataImage image_;
    std::vector<std::vector<MetadataRecord>> log_;
};

inline std::vector<NodeId> ids(std::initializer_list<int32_t> v) {
    std::vector<NodeId> out;
    for (int32_t x : v) out.push_back(NodeId(x));
    return out;
}

}  // namespace keel::controller::testing
