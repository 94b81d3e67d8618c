// LeaderEpochCache: Kafka's assign / endOffsetFor / truncation rules and checkpoint text.
#include <gtest/gtest.h>

#include "core/log/leader_epoch_cache.h"

namespace keel::log {
namespace {

LeaderEpochCache cache_of(std::initializer_list<std::pair<int, int>> entries) {
    LeaderEpochCache c;
    for (auto [e, o] : entries) c.assign(LeaderEpoch(e), Offset(o));
    return c;
}

TEST(LeaderEpochCache, AnswersEndOffsetsAsOffsetsForLeaderEpochDoes) {
    auto c = cache_of({{1, 0}, {3, 10}, {5, 25}});
    Offset leo(40);
    EXPECT_EQ(c.end_offset_for(LeaderEpoch(5), leo), (EpochEntry{LeaderEpoch(5), Offset(40)}));
    EXPECT_EQ(c.end_offset_for(LeaderEpoch(3), leo), (EpochEntry{LeaderEpoch(3), Offset(25)}));
    // Unknown epoch between two known ones: the largest known below it, ending where the next starts.
    EXPECT_EQ(c.end_offset_for(LeaderEpoch(4), leo), (EpochEntry{LeaderEpoch(3), Offset(25)}));
    // Below every known epoch: the requested epoch, ending at the first start offset.
    EXPECT_EQ(c.end_offset_for(LeaderEpoch(0), leo), (EpochEntry{LeaderEpoch(0), Offset(0)}));
    EXPECT_EQ(c.end_offset_for(LeaderEpoch(6), leo), (EpochEntry{kUndefinedEpoch, kUndefinedEpochOffset}));
    EXPECT_EQ(LeaderEpochCache().end_offset_for(LeaderEpoch(1), leo).epoch, kUndefinedEpoch);
}

TEST(LeaderEpochCache, AssigningDropsConflictingEntries) {
    auto c = cache_of({{1, 0}, {3, 10}, {5, 25}});
    EXPECT_FALSE(c.assign(LeaderEpoch(5), Offset(30)));  // same epoch, later offset: no-op
    EXPECT_TRUE(c.assign(LeaderEpoch(4), Offset(20)));   // older epoch: drops 5
    EXPECT_EQ(c.entries().back(), (EpochEntry{LeaderEpoch(4), Offset(20)}));
    EXPECT_TRUE(c.assign(LeaderEpoch(6), Offset(5)));    // lower offset: drops 3 and 4
    EXPECT_EQ(c.entries().size(), 2u);
}

TEST(LeaderEpochCache, TruncatesFromTheEndAndFromTheStart) {
    auto c = cache_of({{1, 0}, {3, 10}, {5, 25}});
    EXPECT_TRUE(c.truncate_from_end(Offset(25)));
    EXPECT_EQ(c.latest()->epoch, LeaderEpoch(3));
    EXPECT_TRUE(c.truncate_from_start(Offset(12)));
    ASSERT_EQ(c.entries().size(), 1u);
    EXPECT_EQ(c.entries()[0], (EpochEntry{LeaderEpoch(3), Offset(12)}));
    EXPECT_FALSE(c.truncate_from_start(Offset(12)));
    EXPECT_EQ(c.epoch_for_offset(Offset(20)), LeaderEpoch(3));
}

TEST(LeaderEpochCache, CheckpointTextRoundTripsAndRejectsDamage) {
    auto c = cache_of({{1, 0}, {3, 10}});
    EXPECT_EQ(c.encode(), "0\n2\n1 0\n3 10\n");
    auto back = LeaderEpochCache::decode(c.encode());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->entries(), c.entries());
    for (const char* bad : {"1\n0\n", "0\n3\n1 0\n3 10\n", "0\n2\n3 0\n1 10\n", "0\n1\n1 x\n", "0\n1\n1 0"}) {
        EXPECT_EQ(LeaderEpochCache::decode(bad).code(), Errc::corrupt) << bad;
    }
}

}  // namespace
}  // namespace keel::log
