// A member expelled from its group while frozen, end to end in the simulator with Keel's
// coordinator, for both protocols: it joins alone and commits; it is paused past its session
// timeout, so the coordinator removes it and the group is Empty; it wakes, its heartbeat (or
// a first commit with its old generation or epoch) learns it is no longer a member, and it
// commits an older offset before polling again. That commit must fail in the client instead
// of going out as a "simple" consumer's commit (generation -1, no member id), which the
// coordinator of an Empty group accepts, as Kafka's does (group-chaos seeds 860, 323, 353).
#include <gtest/gtest.h>

#include <optional>

#include "core/client/consumer.h"
#include "tests/scenarios/topic_admin_fixture.h"

namespace keel::topic_admin {
namespace {

enum class Step : uint8_t { joining, joined, resumed, done };

struct ZombieOutcome {
    std::optional<Status> first, second;
    int64_t committed_after = -999;
};

void run_member(env::Env& env, Fixture& f, const std::string& protocol, Step& step, ZombieOutcome& out) {
    client::ConsumerConfig cc;
    cc.group_protocol = protocol;
    cc.bootstrap = f.cluster->bootstrap();
    cc.client_id = "member";
    cc.group_id = "g";
    cc.session_timeout = ms(6'000);
    cc.heartbeat_interval = ms(1'000);
    client::Consumer c(env, cc);
    client::TopicPartitionName p0{"orders", PartitionIndex(0)};
    ASSERT_TRUE(c.subscribe({"orders"}).ok());
    while (c.group_metadata().generation_id < 0 || c.assignment().empty()) (void)c.poll(ms(200));
    ASSERT_TRUE(c.commit_sync(client::OffsetMap{{p0, Offset(5)}}, ms(10'000)).ok());
    step = Step::joined;
    while (step != Step::resumed) env.executor().sleep_for(ms(100));
    env.executor().sleep_for(ms(3'000));  // a heartbeat or two
    out.first = c.commit_sync(client::OffsetMap{{p0, Offset(2)}}, ms(10'000));
    out.second = c.commit_sync(client::OffsetMap{{p0, Offset(2)}}, ms(10'000));
    auto committed = c.committed({p0}, ms(10'000));
    if (committed.ok()) out.committed_after = committed->contains(p0) ? committed->at(p0).value() : -1;
    step = Step::done;
    c.close();
}

class GroupZombieCommit : public ::testing::TestWithParam<const char*> {};

TEST_P(GroupZombieCommit, AMemberExpelledWhilePausedDoesNotCommitOverItsEmptiedGroup) {
    Fixture f(true, [](scenarios::DataClusterOptions& o) {
        o.base.broker_config.offsets_topic_num_partitions = 10;
        o.base.group_config.initial_rebalance_delay = ms(500);
        o.base.group_config.consumer_session_timeout = ms(6'000);  // KIP-848: the coordinator's
        o.base.group_config.consumer_heartbeat_interval = ms(1'000);
    });
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("orders", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
    });
    Step step = Step::joining;
    ZombieOutcome out;
    f.world.add_node("member", [&](env::Env& env) { run_member(env, f, GetParam(), step, out); });
    ASSERT_TRUE(f.world.run_until([&] { return step == Step::joined; }, 60s));
    f.world.pause("member");
    f.world.run_for(15s);  // past the 6 s session timeout: the member is removed, the group Empty
    f.world.resume("member");
    step = Step::resumed;
    ASSERT_TRUE(f.world.run_until([&] { return step == Step::done; }, 60s));
    ASSERT_TRUE(out.first && out.second);
    EXPECT_FALSE(out.first->ok()) << "an expelled member's commit fails";
    EXPECT_FALSE(out.second->ok()) << "also once it knows it is no longer a member";
    EXPECT_EQ(out.committed_after, 5) << "the commit from before the pause stands";
    f.expect_clean();
}

INSTANTIATE_TEST_SUITE_P(Protocols, GroupZombieCommit, ::testing::Values("classic", "consumer"));

}  // namespace
}  // namespace keel::topic_admin
