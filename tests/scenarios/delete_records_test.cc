// DeleteRecords (API 21, KIP-107) end to end in the simulator: the leader of a partition
// with three replicas moves its log start to the requested offset and answers once every
// ISR member's log start reached it (the low watermark). A fetch below it is out of range,
// the followers' logs start there too, and the start survives a restart. Per partition:
// -1 means the high watermark; past the high watermark is OFFSET_OUT_OF_RANGE; a follower
// answers NOT_LEADER_OR_FOLLOWER, an unknown topic UNKNOWN_TOPIC_OR_PARTITION, a
// compact-only topic POLICY_VIOLATION.
#include <gtest/gtest.h>

#include "core/protocol/generated/delete_records_request.h"
#include "core/protocol/generated/delete_records_response.h"
#include "tests/scenarios/topic_admin_fixture.h"

namespace keel::topic_admin {
namespace {

Result<protocol::DeleteRecordsResponse> delete_records(Admin& a, const std::string& broker, const std::string& topic,
                                                       int64_t offset, int16_t version = 2) {
    protocol::DeleteRecordsRequest req;
    req.timeout_ms = 10000;
    req.topics.push_back({topic, {{PartitionIndex(0), offset, {}}}, {}});
    return a.rpc.call<protocol::DeleteRecordsResponse>(env::Address{broker, 9092}, req, version, a.env.now() + 20s);
}

const protocol::DeleteRecordsResponse::DeleteRecordsPartitionResult& only(const protocol::DeleteRecordsResponse& r) {
    return r.topics.at(0).partitions.at(0);
}

// Log starts of the three replicas of `topic`-0, by broker name.
std::map<std::string, int64_t> log_starts(Fixture& f, const std::string& topic) {
    std::map<std::string, int64_t> out;
    const auto* t = f.cluster->active_image()->topic_by_name(topic);
    for (const std::string& b : f.cluster->brokers()) {
        auto* parts = f.cluster->parts(b);
        if (parts == nullptr || t == nullptr) continue;
        broker::Partition* p = f.cluster->replica(f.cluster->id_of(b), t->id, 0);
        if (p != nullptr) out[b] = p->log_start().value();
    }
    return out;
}

TEST(DeleteRecords, TheLeaderAndEveryIsrMemberStartAtTheOffsetAndFetchesBelowAreOutOfRange) {
    Fixture f;
    Uuid id;
    f.client("creator", [&](Admin& a) {
        auto c = a.create("b1", {topic("purge", 1, 3)});
        ASSERT_TRUE(c.ok());
        id = c->topics.at(0).topic_id;
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("purge", 0).empty(); }, 20s));
    std::string leader = f.leader_of("purge", 0);
    std::string follower = leader == "b1" ? "b2" : "b1";
    f.client("writer", [&](Admin& a) {
        for (int i = 0; i < 10; i++) {
            auto p = a.produce(leader, "purge", 0, batch_of(std::to_string(i), 1 + i));
            ASSERT_TRUE(p.ok());
            ASSERT_EQ(p->responses.at(0).partition_responses.at(0).error_code, ErrorCode::none);
        }
        auto r = delete_records(a, leader, "purge", 4);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(only(*r).error_code, ErrorCode::none);
        EXPECT_EQ(only(*r).low_watermark, 4);  // every ISR member's start reached it
        auto fetched = a.fetch_by_id(leader, id, 0);  // from offset 0
        ASSERT_TRUE(fetched.ok());
        EXPECT_EQ(fetched->responses.at(0).partitions.at(0).error_code, ErrorCode::offset_out_of_range);
        EXPECT_EQ(fetched->responses.at(0).partitions.at(0).log_start_offset, Offset(4));

        EXPECT_EQ(only(delete_records(a, leader, "purge", 11).value()).error_code, ErrorCode::offset_out_of_range);
        EXPECT_EQ(only(delete_records(a, follower, "purge", 5).value()).error_code,
                  ErrorCode::not_leader_or_follower);
        EXPECT_EQ(only(delete_records(a, leader, "nope", 1).value()).error_code,
                  ErrorCode::unknown_topic_or_partition);
        auto lower = delete_records(a, leader, "purge", 2, 0);  // below the start: nothing to do
        ASSERT_TRUE(lower.ok());
        EXPECT_EQ(only(*lower).error_code, ErrorCode::none);
        EXPECT_EQ(only(*lower).low_watermark, 4);
        auto all = delete_records(a, leader, "purge", -1, 1);  // -1: the high watermark
        ASSERT_TRUE(all.ok());
        EXPECT_EQ(only(*all).error_code, ErrorCode::none);
        EXPECT_EQ(only(*all).low_watermark, 10);
    });
    for (const auto& [b, start] : log_starts(f, "purge")) EXPECT_EQ(start, 10) << b;
    // The start is checkpointed: a restarted follower still starts at 10.
    f.world.restart(follower);
    ASSERT_TRUE(f.world.run_until([&] { return log_starts(f, "purge").count(follower) != 0; }, 30s));
    EXPECT_EQ(log_starts(f, "purge").at(follower), 10);
    f.expect_clean();
}

TEST(DeleteRecords, ACompactOnlyTopicRefusesIt) {
    Fixture f;
    f.client("creator", [&](Admin& a) {
        auto c = a.create("b1", {{"compacted", 1, 3, {}, {{"cleanup.policy", "compact"}}}});
        ASSERT_TRUE(c.ok());
        ASSERT_EQ(c->topics.at(0).error_code, ErrorCode::none);
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("compacted", 0).empty(); }, 20s));
    std::string leader = f.leader_of("compacted", 0);
    f.client("writer", [&](Admin& a) {
        ASSERT_TRUE(a.produce(leader, "compacted", 0, batch_of("v", 1)).ok());
        auto r = delete_records(a, leader, "compacted", 1);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(only(*r).error_code, ErrorCode::policy_violation);
    });
    f.expect_clean();
}

}  // namespace
}  // namespace keel::topic_admin
