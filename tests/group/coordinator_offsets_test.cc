// Offsets and partition leadership in the simulator: commit validation, persistence and
// reload on failover, load-in-progress and not-coordinator answers, retention, and the
// admin requests.
#include <gtest/gtest.h>

#include "tests/group/coordinator_test_helpers.h"

namespace keel::group::testing {
namespace {

TEST(CoordinatorOffsets, CommitValidation) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        // A simple consumer (generation -1, no member) into a group that does not exist.
        EXPECT_EQ(commit(c, commit_req("simple", -1, "", "t", 0, 10)), ErrorCode::none);
        EXPECT_EQ(fetched_offset(c, "simple", "t", 0), 10);
        EXPECT_EQ(commit(c, commit_req("nogroup", 3, "m", "t", 0, 10)), ErrorCode::illegal_generation);

        auto joined = form_group(c, 1);
        std::string m = joined[0].member_id;
        EXPECT_EQ(commit(c, commit_req("g", 1, m, "t", 0, 5)), ErrorCode::rebalance_in_progress);  // CompletingRebalance
        sync_all(c, joined);
        EXPECT_EQ(commit(c, commit_req("g", 1, m, "t", 0, 5)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("g", 1, "stranger", "t", 0, 6)), ErrorCode::unknown_member_id);
        EXPECT_EQ(commit(c, commit_req("g", -1, "", "t", 0, 6)), ErrorCode::unknown_member_id);  // not Empty
        EXPECT_EQ(commit(c, commit_req("g", 1, m, "t", 0, 7, std::string(5000, 'x'))),
                  ErrorCode::offset_metadata_too_large);
        // A second member makes generation 2: generation 1 commits are refused.
        auto second = join_async(c, JoinSpec{}, "late");
        c.sleep(ms(1));  // it joins first and waits for the known member
        EXPECT_EQ(state_of(c, "g"), "PreparingRebalance");
        EXPECT_EQ(commit(c, commit_req("g", 1, m, "t", 0, 6)), ErrorCode::none);  // allowed while preparing
        JoinSpec again;
        again.member_id = m;
        auto rejoin = join(c, again);
        EXPECT_EQ(rejoin.generation_id, 2);
        second.get();
        EXPECT_EQ(commit(c, commit_req("g", 1, m, "t", 0, 8)), ErrorCode::illegal_generation);
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), 6);
        EXPECT_EQ(c.coord.stats().offsets_committed, 3u);
    }));
}

TEST(CoordinatorOffsets, FailedAppendLeavesTheOffsetUnchanged) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "t", 1, 10)), ErrorCode::none);
        c.log.fail_appends = 1;
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "t", 1, 20)), ErrorCode::coordinator_not_available);
        EXPECT_EQ(fetched_offset(c, "s", "t", 1), 10);
        c.log.fail_appends = 1;
        c.log.fail_code = Errc::not_leader;
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "t", 1, 20)), ErrorCode::not_coordinator);
        c.log.fail_appends = 1;
        c.log.fail_code = Errc::timeout;
        EXPECT_EQ(commit(c, commit_req("s", -1, "", "t", 1, 20)), ErrorCode::coordinator_not_available);
        EXPECT_EQ(fetched_offset(c, "s", "t", 1), 10);
        EXPECT_EQ(fetched_offset(c, "s", "t", 2), -1);
        EXPECT_EQ(fetched_offset(c, "unknown-group", "t", 2), -1);
    }));
}

TEST(CoordinatorOffsets, FailoverReloadsOffsetsAndGroups) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    std::string member;
    ASSERT_TRUE(sim.run([&](Ctx& c) {
        auto joined = form_group(c, 1);
        sync_all(c, joined);
        member = joined[0].member_id;
        EXPECT_EQ(commit(c, commit_req("g", 1, member, "t", 3, 33)), ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("simple", -1, "", "u", 0, 7)), ErrorCode::none);
    }));
    // A new coordinator (another broker) takes the partitions over and loads them.
    ASSERT_TRUE(sim.run(
        [&](Ctx& c) {
            EXPECT_EQ(fetched_offset(c, "g", "t", 3), 33);
            EXPECT_EQ(fetched_offset(c, "simple", "u", 0), 7);
            EXPECT_EQ(state_of(c, "g"), "Stable");
            EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, member), 4).error_code, ErrorCode::none);
            auto all = c.coord.offset_fetch(fetch_req("g"), 7);
            ASSERT_EQ(all.topics.size(), 1u);
            EXPECT_EQ(all.topics[0].partitions.at(0).committed_offset, 33);
            EXPECT_GE(c.coord.stats().groups_loaded, 2u);
        },
        ms(600'000), "b2"));
}

TEST(CoordinatorOffsets, LoadInProgressThenLoadedAndNotCoordinator) {
    CoordSim sim;
    sim.lead_all = false;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        int32_t p = c.coord.partition_for("g");
        c.log.fail_reads = 1;
        c.coord.on_became_leader(p, LeaderEpoch(1));
        JoinSpec s;
        EXPECT_EQ(join(c, s).error_code, ErrorCode::coordinator_load_in_progress);
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), -100 - int64_t(ErrorCode::coordinator_load_in_progress));
        std::string other = "other";
        for (int i = 0; c.coord.partition_for(other) == p; i++) other = "other" + std::to_string(i);
        JoinSpec s2;
        s2.group = other;
        EXPECT_EQ(join(c, s2).error_code, ErrorCode::not_coordinator);
        c.sleep(ms(1'000));  // the load is retried after its backoff
        EXPECT_EQ(c.coord.stats().load_failures, 1u);
        auto joined = join(c, s);
        EXPECT_EQ(joined.error_code, ErrorCode::none);
        // A second member's join parks (the first does not rejoin); resignation answers it.
        auto parked = join_async(c, JoinSpec{}, "second");
        c.sleep(ms(100));
        EXPECT_FALSE(parked.ready());
        c.coord.on_resigned(p);
        EXPECT_EQ(parked.get().error_code, ErrorCode::not_coordinator);
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, joined.member_id), 4).error_code, ErrorCode::not_coordinator);
    }));
}

TEST(CoordinatorOffsets, OffsetsOfEmptyGroupsExpire) {
    CoordSim sim;
    sim.config.offsets_retention = ms(60'000);
    sim.config.offsets_retention_check = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        EXPECT_EQ(commit(c, commit_req("simple", -1, "", "t", 0, 10)), ErrorCode::none);
        JoinSpec s;
        s.group = "live";
        s.session_ms = 100'000;
        auto joined = join(c, s);
        ASSERT_EQ(joined.error_code, ErrorCode::none);
        auto sy = c.coord.sync_group(sync_req("live", 1, joined.member_id, {{joined.member_id, "x"}}), 5);
        ASSERT_EQ(sy.error_code, ErrorCode::none);
        EXPECT_EQ(commit(c, commit_req("live", 1, joined.member_id, "t", 0, 20)), ErrorCode::none);
        c.sleep(ms(30'000));
        EXPECT_EQ(fetched_offset(c, "simple", "t", 0), 10);
        EXPECT_EQ(c.coord.heartbeat(hb_req("live", 1, joined.member_id), 4).error_code, ErrorCode::none);
        c.sleep(ms(40'000));
        EXPECT_EQ(fetched_offset(c, "simple", "t", 0), -1);
        EXPECT_EQ(fetched_offset(c, "live", "t", 0), 20);  // its group is not empty
        EXPECT_EQ(c.coord.stats().offsets_expired, 1u);
        EXPECT_EQ(state_of(c, "simple"), "Dead");
        EXPECT_GE(c.log.tombstones(c.coord.partition_for("simple")), 2u);  // offset and group
    }));
}

TEST(CoordinatorOffsets, DescribeListAndDeleteGroups) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 2);
        sync_all(c, joined);
        EXPECT_EQ(commit(c, commit_req("g", 1, joined[0].member_id, "t", 0, 4)), ErrorCode::none);
        protocol::DescribeGroupsRequest dreq;
        dreq.groups = {"g", "nope"};
        auto d = c.coord.describe_groups(dreq, 5);
        ASSERT_EQ(d.groups.size(), 2u);
        EXPECT_EQ(d.groups[0].group_state, "Stable");
        EXPECT_EQ(d.groups[0].protocol_type, "consumer");
        EXPECT_EQ(d.groups[0].protocol_data, "range");
        ASSERT_EQ(d.groups[0].members.size(), 2u);
        for (const auto& m : d.groups[0].members) {
            EXPECT_EQ(std::string(m.member_assignment.begin(), m.member_assignment.end()), "a-" + m.member_id);
            EXPECT_FALSE(m.member_metadata.empty());
        }
        EXPECT_EQ(d.groups[1].group_state, "Dead");
        EXPECT_EQ(d.groups[1].error_code, ErrorCode::none);

        protocol::ListGroupsRequest lreq;
        auto l = c.coord.list_groups(lreq, 4);
        ASSERT_EQ(l.groups.size(), 1u);
        EXPECT_EQ(l.groups[0].group_state, "Stable");
        lreq.states_filter = {"Empty"};
        EXPECT_TRUE(c.coord.list_groups(lreq, 4).groups.empty());

        protocol::DeleteGroupsRequest del;
        del.groups_names = {"g", "nope"};
        auto r = c.coord.delete_groups(del, 2);
        EXPECT_EQ(r.results[0].error_code, ErrorCode::non_empty_group);
        EXPECT_EQ(r.results[1].error_code, ErrorCode::group_id_not_found);

        protocol::LeaveGroupRequest leave;
        leave.group_id = "g";
        for (const auto& j : joined) leave.members.push_back({j.member_id, std::nullopt, std::nullopt, {}});
        EXPECT_EQ(c.coord.leave_group(leave, 3).error_code, ErrorCode::none);
        EXPECT_EQ(state_of(c, "g"), "Empty");
        lreq.states_filter = {"empty"};
        EXPECT_EQ(c.coord.list_groups(lreq, 4).groups.size(), 1u);
        size_t tomb = c.log.tombstones(c.coord.partition_for("g"));
        del.groups_names = {"g"};
        EXPECT_EQ(c.coord.delete_groups(del, 2).results[0].error_code, ErrorCode::none);
        EXPECT_EQ(c.log.tombstones(c.coord.partition_for("g")), tomb + 2);  // one offset and the group
        EXPECT_EQ(state_of(c, "g"), "Dead");
        EXPECT_EQ(fetched_offset(c, "g", "t", 0), -1);
    }));
}

}  // namespace
}  // namespace keel::group::testing
