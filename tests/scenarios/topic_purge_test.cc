// Committed offsets of a deleted topic, end to end in the simulator (Kafka's
// GroupCoordinator.onPartitionsDeleted): groups commit offsets for a topic through their
// coordinator; the topic is deleted; every broker's coordinator drops the topic's offsets
// and tombstones them in __consumer_offsets, so OffsetFetch answers -1 — also after the
// coordinator crashes and another broker loads the group, and after the first comes back
// and takes over again. The topic created again under its name starts with no committed
// offsets; a kept topic's offsets stay. A late commit for the deleted topic is refused with
// UNKNOWN_TOPIC_OR_PARTITION, as Kafka's broker does.
#include <gtest/gtest.h>

#include "tests/scenarios/topic_admin_fixture.h"

namespace keel::topic_admin {
namespace {

void small_offsets_topic(scenarios::DataClusterOptions& o) { o.base.broker_config.offsets_topic_num_partitions = 10; }

// The group's coordinator per FindCoordinator (asked of a live broker), retried until one
// is named; "" if none is within ~20 s.
std::string coordinator(Fixture& f, Admin& a, const std::string& group) {
    for (int i = 0; i < 100; i++) {
        for (const std::string& b : f.cluster->brokers()) {
            if (f.cluster->parts(b) == nullptr) continue;
            auto r = a.find_coordinator(b, group);
            if (r.ok() && r->error_code == ErrorCode::none && r->node_id.value() >= 0) {
                std::string c = f.cluster->name_of(r->node_id);
                if (f.cluster->parts(c) != nullptr) return c;
            }
            break;
        }
        a.env.executor().sleep_for(ms(200));
    }
    return "";
}

// The committed offset per the group's coordinator (retrying NOT_COORDINATOR, loading);
// -999 if no coordinator answers.
int64_t committed(Fixture& f, Admin& a, const std::string& group, const std::string& topic, int32_t p) {
    for (int i = 0; i < 100; i++) {
        std::string c = coordinator(f, a, group);
        if (c.empty()) break;
        auto r = a.fetch_offset(c, group, topic, p);
        if (r.ok() && r->error_code == ErrorCode::none) return r->topics.at(0).partitions.at(0).committed_offset;
        a.env.executor().sleep_for(ms(200));
    }
    return -999;
}

bool commit(Fixture& f, Admin& a, const std::string& group, const std::string& topic,
            const std::vector<std::pair<int32_t, int64_t>>& offsets) {
    for (int i = 0; i < 100; i++) {
        std::string c = coordinator(f, a, group);
        if (c.empty()) return false;
        auto r = a.commit(c, group, topic, offsets);
        bool ok = r.ok();
        for (size_t k = 0; ok && k < offsets.size(); k++) {
            ok = r->topics.at(0).partitions.at(k).error_code == ErrorCode::none;
        }
        if (ok) return true;
        a.env.executor().sleep_for(ms(200));
    }
    return false;
}

// Polls until `group`'s offset of topic-p is -1 (the purge is asynchronous).
bool purged(Fixture& f, Admin& a, const std::string& group, const std::string& topic, int32_t p) {
    for (int i = 0; i < 50; i++) {
        if (committed(f, a, group, topic, p) == -1) return true;
        a.env.executor().sleep_for(ms(200));
    }
    return false;
}

void expect_offsets_after_deletion(Fixture& f, Admin& a) {
    EXPECT_EQ(committed(f, a, "g", "orders", 0), -1);
    EXPECT_EQ(committed(f, a, "g", "orders", 1), -1);
    EXPECT_EQ(committed(f, a, "g", "kept", 0), 7);
    EXPECT_EQ(committed(f, a, "solo", "orders", 0), -1);
}

TEST(TopicPurge, OffsetsOfADeletedTopicAreGoneAcrossCoordinatorMovesAndARecreatedTopicStartsFresh) {
    Fixture f(true, small_offsets_topic);
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("orders", 2, 3), topic("kept", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        ASSERT_TRUE(commit(f, a, "g", "orders", {{0, 5}, {1, 6}}));
        ASSERT_TRUE(commit(f, a, "g", "kept", {{0, 7}}));
        ASSERT_TRUE(commit(f, a, "solo", "orders", {{0, 9}}));
        EXPECT_EQ(committed(f, a, "g", "orders", 1), 6);
        EXPECT_EQ(committed(f, a, "solo", "orders", 0), 9);
        auto d = a.delete_by_name("b2", "orders");
        ASSERT_TRUE(d.ok());
        ASSERT_EQ(d->responses.at(0).error_code, ErrorCode::none);
        EXPECT_TRUE(purged(f, a, "g", "orders", 0));
        expect_offsets_after_deletion(f, a);
        // A consumer still committing to the deleted topic is refused, as by Kafka's broker
        // (its metadata does not have the partition); a partition that does not exist too.
        std::string c = coordinator(f, a, "g");
        auto late = a.commit(c, "g", "orders", {{0, 50}});
        ASSERT_TRUE(late.ok());
        EXPECT_EQ(late->topics.at(0).partitions.at(0).error_code, ErrorCode::unknown_topic_or_partition);
        auto mixed = a.commit(c, "g", "kept", {{0, 8}, {5, 1}});
        ASSERT_TRUE(mixed.ok());
        EXPECT_EQ(mixed->topics.at(0).partitions.at(0).error_code, ErrorCode::none);
        EXPECT_EQ(mixed->topics.at(0).partitions.at(1).error_code, ErrorCode::unknown_topic_or_partition);
        EXPECT_EQ(committed(f, a, "g", "orders", 0), -1);
        ASSERT_TRUE(commit(f, a, "g", "kept", {{0, 7}}));
    });
    // The coordinator crashes: another broker loads the groups from __consumer_offsets.
    std::string first;
    f.client("who", [&](Admin& a) { first = coordinator(f, a, "g"); });
    ASSERT_FALSE(first.empty());
    f.world.crash(first);
    std::string second;
    f.client("after-crash", [&](Admin& a) {
        expect_offsets_after_deletion(f, a);
        second = coordinator(f, a, "g");
    });
    EXPECT_NE(second, first);
    // The first comes back (its own log replayed) and the second crashes: the group is
    // loaded a third time, on a broker that restarted.
    f.world.start(first);
    ASSERT_TRUE(f.world.run_until([&] { return f.cluster->brokers_unfenced(); }, 30s));
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    f.world.crash(second);
    f.client("after-restart", [&](Admin& a) {
        expect_offsets_after_deletion(f, a);
        EXPECT_NE(coordinator(f, a, "g"), second);
    });
    f.world.start(second);
    ASSERT_TRUE(f.world.run_until([&] { return f.cluster->brokers_unfenced(); }, 30s));
    // Created again under the same name: no committed offsets until the group commits.
    f.client("recreate", [&](Admin& a) {
        auto r = a.create("b3", {topic("orders", 2, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        EXPECT_EQ(committed(f, a, "g", "orders", 0), -1);
        EXPECT_EQ(committed(f, a, "solo", "orders", 0), -1);
        ASSERT_TRUE(commit(f, a, "g", "orders", {{0, 1}}));
        EXPECT_EQ(committed(f, a, "g", "orders", 0), 1);
        EXPECT_EQ(committed(f, a, "g", "kept", 0), 7);
    });
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    f.cluster->check_replicas();
    f.expect_clean();
}

}  // namespace
}  // namespace keel::topic_admin
