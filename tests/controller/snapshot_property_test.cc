// P14 (kafka-semantics.md §3): applying a snapshot at offset n and then the rest of the log
// yields the same image as replaying the whole log. The logs are written by the controller
// logic itself, driven by random commands, so they contain every record type it writes.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/controller/controller_logic.h"
#include "core/controller/metadata_image.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

// The leader of a random partition proposes a random ISR that keeps it.
void random_isr_change(LogModel& m) {
    const MetadataImage& img = m.image();
    if (img.topics().empty()) return;
    auto t = img.topics().begin();
    std::advance(t, *rc::gen::inRange<size_t>(0, img.topics().size()));
    const auto& [index, p] = *t->second.partitions.begin();
    if (!p.has_leader()) return;
    AlterPartitionInput in;
    in.broker_id = p.leader;
    in.broker_epoch = img.broker(p.leader)->epoch;
    int8_t recovery = *rc::gen::inRange(0, 4) == 0 ? leader_recovered : p.leader_recovery_state;
    AlterPartitionInput::Partition ap{index, p.leader_epoch, {}, recovery, p.partition_epoch};
    // Half the time shrink to the leader alone, so that fencing it leaves a
    // last-standing ISR (and, with the switch on, an unclean election).
    bool alone = *rc::gen::arbitrary<bool>();
    for (NodeId r : p.replicas) {
        if (r == p.leader || (!alone && *rc::gen::arbitrary<bool>())) ap.new_isr.push_back({r, BrokerEpoch(-1)});
    }
    in.topics.push_back({t->first, {ap}});
    auto r = alter_partition(img, in);
    if (r.ok()) m.write(r->records);
}

// One random controller command against the model. Commands that the logic rejects simply
// write nothing.
void random_command(LogModel& m, int& next_broker, int& next_topic) {
    const MetadataImage& img = m.image();
    auto pick_broker = [&]() -> std::optional<NodeId> {
        if (img.brokers().empty()) return std::nullopt;
        auto it = img.brokers().begin();
        std::advance(it, *rc::gen::inRange<size_t>(0, img.brokers().size()));
        return it->first;
    };
    switch (*rc::gen::inRange(0, 10)) {
        case 0: {  // a new broker, or a new incarnation of an old one
            int id = (*rc::gen::arbitrary<bool>() || next_broker == 1) ? next_broker++
                                                                         : *rc::gen::inRange(1, next_broker);
            m.register_broker(id, *rc::gen::inRange<uint64_t>(1, 4));
            break;
        }
        case 1: case 2: {  // a heartbeat, maybe asking to be fenced or to shut down
            auto b = pick_broker();
            if (!b) return;
            int kind = *rc::gen::inRange(0, 6);
            m.heartbeat(b->value(), kind == 0, kind == 1);
            break;
        }
        case 3: {  // a session expires, often a leader's
            auto b = pick_broker();
            if (!img.topics().empty() && *rc::gen::arbitrary<bool>()) {
                const PartitionState& p = img.topics().begin()->second.partitions.begin()->second;
                if (p.has_leader()) b = p.leader;
            }
            if (b && !img.broker(*b)->fenced) m.fence(b->value());
            break;
        }
        case 4: {  // topics
            CreatableTopic t{"t" + std::to_string(next_topic++), *rc::gen::inRange(1, 5),
                             static_cast<int16_t>(*rc::gen::inRange(1, 4)), {}, {}};
            if (*rc::gen::inRange(0, 3) > 0) t.configs.push_back({"unclean.leader.election.enable", "true"});
            auto r = create_topics(img, {t}, false, m.config(), m.random());
            m.write(r.records);
            break;
        }
        case 5: random_isr_change(m); break;  // the leader of a random partition proposes an ISR
        case 6: {  // cluster-wide unclean election switch, then the periodic election pass
            m.write({ConfigRecord{config_resource_broker, "", "unclean.leader.election.enable",
                                  *rc::gen::arbitrary<bool>() ? "true" : "false"}});
            m.write(elect_leaderless(img));
            break;
        }
        case 7: m.write({NoOpRecord{}}); break;
        case 8: {  // a broker asks for a block of producer ids
            auto b = pick_broker();
            if (!b) return;
            auto r = allocate_producer_ids(img, *b, img.broker(*b)->epoch);
            if (r.ok()) m.write(r->records);
            break;
        }
        default: m.write(elect_leaderless(img)); break;
    }
}

TEST(SnapshotProperty, ASnapshotAtAnyOffsetPlusTheRestOfTheLogEqualsReplayingEverything) {
    EXPECT_TRUE(rc::check([] {
        LogModel m(*rc::gen::arbitrary<uint64_t>());
        // Warm-up: a few live brokers, then anything goes.
        int brokers = *rc::gen::inRange(2, 7);
        m.start_brokers(1, brokers);
        int next_broker = brokers + 1;
        int next_topic = 0;
        m.create_topic("warm", *rc::gen::inRange(1, 4), static_cast<int16_t>(*rc::gen::inRange(1, 3)),
                       {{"unclean.leader.election.enable", *rc::gen::arbitrary<bool>() ? "true" : "false"}});
        int commands = *rc::gen::inRange(1, 100);
        bool recovering = false;
        bool leaderless = false;
        bool shutting_down = false;
        bool producer_ids = false;
        for (int i = 0; i < commands; i++) {
            random_command(m, next_broker, next_topic);
            RC_ASSERT(m.image().invariant_violations().empty());
            for (const auto& [id, t] : m.image().topics()) {
                for (const auto& [index, p] : t.partitions) {
                    recovering = recovering || p.leader_recovery_state == leader_recovering;
                    leaderless = leaderless || !p.has_leader();
                }
            }
            for (const auto& [id, b] : m.image().brokers()) shutting_down = shutting_down || b.in_controlled_shutdown;
            producer_ids = producer_ids || m.image().next_producer_id() > 0;
        }
        // Coverage marks: the interesting states do occur.
        if (recovering) RC_TAG("an unclean leader was recovering");
        if (leaderless) RC_TAG("a partition was offline");
        if (shutting_down) RC_TAG("a broker was in controlled shutdown");
        if (producer_ids) RC_TAG("producer id blocks were handed out");
        const auto& log = m.log();
        RC_PRE(!log.empty());
        size_t cut = *rc::gen::inRange<size_t>(0, log.size() + 1);

        MetadataImage prefix;
        for (size_t i = 0; i < cut; i++) prefix.apply_batch(Offset(static_cast<int64_t>(i)), log[i]);
        Bytes snap = prefix.take_snapshot(Offset(static_cast<int64_t>(cut)));

        MetadataImage restored;
        RC_ASSERT(restored.restore_snapshot(Offset(static_cast<int64_t>(cut)), snap).ok());
        RC_ASSERT(restored == prefix);
        for (size_t i = cut; i < log.size(); i++) restored.apply_batch(Offset(static_cast<int64_t>(i)), log[i]);

        MetadataImage replayed;
        for (size_t i = 0; i < log.size(); i++) replayed.apply_batch(Offset(static_cast<int64_t>(i)), log[i]);
        RC_ASSERT(replayed == m.image());
        if (!(restored == replayed)) RC_FAIL(restored.describe() + "\nvs replayed\n" + replayed.describe());
    }));
}

// The same log applied by two images gives equal images at every offset (all replicas
// apply the same prefix), and the encoded batches decode to what was written.
TEST(SnapshotProperty, EveryBatchTheLogicWritesSurvivesEncoding) {
    EXPECT_TRUE(rc::check([] {
        LogModel m(*rc::gen::arbitrary<uint64_t>());
        int next_broker = 1;
        int next_topic = 0;
        for (int i = 0; i < 40; i++) random_command(m, next_broker, next_topic);
        MetadataImage decoded;
        for (size_t i = 0; i < m.log().size(); i++) {
            Bytes payload = encode_batch(m.log()[i]);
            decoded.apply(Offset(static_cast<int64_t>(i)), QuorumEpoch(1), payload);
        }
        RC_ASSERT(decoded == m.image());
    }));
}

}  // namespace
}  // namespace keel::controller
