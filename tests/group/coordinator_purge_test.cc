// Committed offsets of deleted topics (GroupCoordinator::on_topics_deleted, Kafka's
// onPartitionsDeleted): removed from every hosted group, tombstoned in the log so that a
// reload does not bring them back, Empty groups left without offsets dead; a partition that
// is loading purges once loaded; a commit in flight for the topic is not kept.
#include <gtest/gtest.h>

#include "tests/group/coordinator_test_helpers.h"

namespace keel::group::testing {
namespace {

// Offset tombstones (null value, offset-commit key) for `topic` in the fake log.
size_t offset_tombstones(const FakeGroupLog& log, const std::string& topic) {
    size_t n = 0;
    for (const auto& [p, recs] : log.logs) {
        for (const auto& r : recs) {
            auto k = decode_key(r.key);
            if (r.value || !k.ok()) continue;
            const auto* ok = std::get_if<OffsetCommitKey>(&k.value());
            n += ok != nullptr && ok->topic == topic ? 1 : 0;
        }
    }
    return n;
}

TEST(CoordinatorPurge, DeletedTopicsOffsetsAreGoneAndStayGoneAfterAReload) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    std::string member;
    ASSERT_TRUE(sim.run([&](Ctx& c) {
        auto joined = form_group(c, 1);
        sync_all(c, joined);
        member = joined[0].member_id;
        EXPECT_EQ(commit(c, commit_req("g", 1, member, "t", 0, 10)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("g", 1, member, "t", 1, 11)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("g", 1, member, "u", 0, 12)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("simple", -1, "", "t", 0, 20)), ErrorCode::none);
        c.coord.on_topics_deleted({"t", "never-committed"});
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), -1);
        EXPECT_EQ(fetched_offset(c, "g", "t", 1), -1);
        EXPECT_EQ(fetched_offset(c, "g", "u", 0), 12);
        EXPECT_EQ(fetched_offset(c, "simple", "t", 0), -1);
        EXPECT_EQ(state_of(c, "g"), "Stable");    // members keep it alive
        EXPECT_EQ(state_of(c, "simple"), "Dead");  // Empty and no offsets left
        auto all = c.coord.offset_fetch(fetch_req("g"), 7);
        ASSERT_EQ(all.topics.size(), 1u);
        EXPECT_EQ(all.topics[0].name, "u");
        EXPECT_EQ(c.coord.stats().offsets_purged, 3u);
        c.sleep(ms(10));  // the tombstones' fiber
        EXPECT_EQ(offset_tombstones(c.log, "t"), 3u);
        EXPECT_GE(c.log.tombstones(c.coord.partition_for("simple")), 2u);  // its offset and the group
        // The topic created again: no committed offset until one is committed.
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), -1);
        EXPECT_EQ(commit(c, commit_req("g", 1, member, "t", 0, 1)), ErrorCode::none);
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), 1);
    }));
    // Another coordinator loads the partitions: the tombstones keep the old offsets away.
    ASSERT_TRUE(sim.run(
        [&](Ctx& c) {
            EXPECT_EQ(fetched_offset(c, "g", "t", 0), 1);  // the new topic's commit
            EXPECT_EQ(fetched_offset(c, "g", "t", 1), -1);
            EXPECT_EQ(fetched_offset(c, "g", "u", 0), 12);
            EXPECT_EQ(fetched_offset(c, "simple", "t", 0), -1);
            EXPECT_EQ(state_of(c, "simple"), "Dead");
        },
        ms(600'000), "b2"));
}

TEST(CoordinatorPurge, APartitionLoadingWhenTheTopicGoesPurgesOnceLoaded) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([&](Ctx& c) {
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "t", 0, 5)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "u", 0, 6)), ErrorCode::none);
    }));
    sim.lead_all = false;
    ASSERT_TRUE(sim.run(
        [&](Ctx& c) {
            int32_t p = c.coord.partition_for("s");
            c.log.fail_reads = 1;  // the first load fails: the partition stays loading a while
            c.coord.on_became_leader(p, LeaderEpoch(2));
            c.coord.on_topics_deleted({"t"});
            EXPECT_EQ(fetched_offset(c, "s", "t", 0), -100 - int64_t(ErrorCode::coordinator_load_in_progress));
            c.sleep(ms(1'000));  // the retried load
            EXPECT_EQ(fetched_offset(c, "s", "t", 0), -1);
            EXPECT_EQ(fetched_offset(c, "s", "u", 0), 6);
            c.sleep(ms(10));
            EXPECT_EQ(offset_tombstones(c.log, "t"), 1u);
            EXPECT_EQ(c.coord.stats().offsets_purged, 1u);
        },
        ms(600'000), "b2"));
}

TEST(CoordinatorPurge, ACommitInFlightWhenItsTopicGoesIsNotKept) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([&](Ctx& c) {
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "u", 0, 1)), ErrorCode::none);
        c.log.before_append = [&c] { c.sleep(ms(50)); };  // the append waits for the "ISR"
        auto pending = async(c.env, [&c] { return commit(c, commit_req("s", -1, "", "t", 0, 7)); });
        c.sleep(ms(10));
        c.coord.on_topics_deleted({"t"});
        EXPECT_EQ(pending.get(), ErrorCode::none);  // it reached the log, before the tombstone
        EXPECT_EQ(fetched_offset(c, "s", "t", 0), -1);
        c.sleep(ms(100));
        c.log.before_append = nullptr;
    }));
    ASSERT_TRUE(sim.run([&](Ctx& c) { EXPECT_EQ(fetched_offset(c, "s", "t", 0), -1); }, ms(600'000), "b2"));
}

}  // namespace
}  // namespace keel::group::testing
