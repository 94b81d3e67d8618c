// The classic rebalance protocol in the simulator: member ids, generations, sync, session
// and rebalance timeouts, static membership.
#include <gtest/gtest.h>

#include "tests/group/coordinator_test_helpers.h"

namespace keel::group::testing {
namespace {

TEST(CoordinatorJoin, FirstJoinGetsMemberIdRequired) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        JoinSpec s;
        auto first = c.coord.join_group(join_req(s), 4, "cli", "/h");
        EXPECT_EQ(first.error_code, ErrorCode::member_id_required);
        EXPECT_EQ(first.member_id.rfind("cli-", 0), 0u) << first.member_id;
        s.member_id = first.member_id;
        auto second = c.coord.join_group(join_req(s), 4, "cli", "/h");
        EXPECT_EQ(second.error_code, ErrorCode::none);
        EXPECT_EQ(second.member_id, first.member_id);
        EXPECT_EQ(second.generation_id, 1);
        EXPECT_EQ(second.leader, first.member_id);
        EXPECT_EQ(second.protocol_name, std::optional<std::string>("range"));
        // Version 3 gets its id at once.
        JoinSpec old;
        old.group = "old";
        auto v3 = c.coord.join_group(join_req(old), 3, "legacy", "/h");
        EXPECT_EQ(v3.error_code, ErrorCode::none);
        EXPECT_EQ(v3.member_id.rfind("legacy-", 0), 0u);
        // Bad session timeout and unknown member.
        JoinSpec bad;
        bad.session_ms = 10;
        EXPECT_EQ(c.coord.join_group(join_req(bad), 9, "x", "/h").error_code, ErrorCode::invalid_session_timeout);
        JoinSpec unknown;
        unknown.member_id = "nobody";
        EXPECT_EQ(c.coord.join_group(join_req(unknown), 9, "x", "/h").error_code, ErrorCode::unknown_member_id);
        JoinSpec other_type;
        other_type.protocol_type = "connect";
        EXPECT_EQ(join(c, other_type).error_code, ErrorCode::inconsistent_group_protocol);
    }));
}

TEST(CoordinatorJoin, ThreeMembersOneGenerationLeaderGetsAllMetadata) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(3'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 3);
        for (const auto& r : joined) {
            EXPECT_EQ(r.error_code, ErrorCode::none);
            EXPECT_EQ(r.generation_id, 1);
            EXPECT_EQ(r.leader, joined[0].member_id);
        }
        ASSERT_EQ(joined[0].members.size(), 3u);
        std::set<std::string> metas;
        for (const auto& m : joined[0].members) metas.insert(std::string(m.metadata.begin(), m.metadata.end()));
        EXPECT_EQ(metas, (std::set<std::string>{"meta-0", "meta-1", "meta-2"}));
        EXPECT_TRUE(joined[1].members.empty());
        EXPECT_TRUE(joined[2].members.empty());
        EXPECT_EQ(state_of(c, "g"), "CompletingRebalance");
        EXPECT_EQ(c.coord.stats().rebalances, 1u);
    }));
}

TEST(CoordinatorJoin, SyncDistributesAssignmentsAndPersistsThem) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(3'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 3);
        auto synced = sync_all(c, joined);
        for (size_t i = 0; i < joined.size(); i++) {
            EXPECT_EQ(synced[i].error_code, ErrorCode::none);
            std::string a(synced[i].assignment.begin(), synced[i].assignment.end());
            EXPECT_EQ(a, "a-" + joined[i].member_id);
        }
        EXPECT_EQ(state_of(c, "g"), "Stable");
        // The group record in the log carries the assignments.
        int32_t p = c.coord.partition_for("g");
        ASSERT_GE(c.log.records(p), 1u);
        auto v = group::decode_group_value(*c.log.logs[p].back().value);
        ASSERT_TRUE(v.ok());
        EXPECT_EQ(v->generation, 1);
        EXPECT_EQ(v->members.size(), 3u);
        for (const auto& m : v->members) EXPECT_EQ(std::string(m.assignment.begin(), m.assignment.end()), "a-" + m.member_id);
        // Heartbeats: Stable is fine, a wrong generation is not.
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, joined[1].member_id), 4).error_code, ErrorCode::none);
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 0, joined[1].member_id), 4).error_code, ErrorCode::illegal_generation);
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, "who"), 4).error_code, ErrorCode::unknown_member_id);
        // SyncGroup in Stable returns the stored assignment.
        auto again = c.coord.sync_group(sync_req("g", 1, joined[2].member_id), 5);
        EXPECT_EQ(std::string(again.assignment.begin(), again.assignment.end()), "a-" + joined[2].member_id);
    }));
}

TEST(CoordinatorJoin, SyncAppendFailureFailsEveryoneAndRebalances) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 2);
        c.log.fail_appends = 1;
        auto synced = sync_all(c, joined);
        EXPECT_EQ(synced[0].error_code, ErrorCode::coordinator_not_available);
        EXPECT_EQ(synced[1].error_code, ErrorCode::coordinator_not_available);
        EXPECT_EQ(state_of(c, "g"), "PreparingRebalance");
    }));
}

// Keeps heartbeating until the group rebalances, then rejoins; returns the new join.
JoinGroupResponse heartbeat_then_rejoin(Ctx& c, const JoinGroupResponse& me, int32_t session_ms = 10'000) {
    for (int i = 0; i < 1000; i++) {
        c.sleep(ms(1'000));
        auto hb = c.coord.heartbeat(hb_req("g", me.generation_id, me.member_id), 4);
        if (hb.error_code == ErrorCode::rebalance_in_progress) break;
        EXPECT_EQ(hb.error_code, ErrorCode::none);
    }
    JoinSpec s;
    s.member_id = me.member_id;
    s.session_ms = session_ms;
    return join(c, s);
}

TEST(CoordinatorJoin, SessionExpiryRemovesMemberAndRebalances) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 2);
        sync_all(c, joined);
        Instant t0 = c.env.now();
        auto next = heartbeat_then_rejoin(c, joined[0]);  // joined[1] stays silent
        EXPECT_GE(c.env.now() - t0, ms(10'000));
        EXPECT_EQ(next.error_code, ErrorCode::none);
        EXPECT_EQ(next.generation_id, 2);
        EXPECT_EQ(next.members.size(), 1u);
        EXPECT_EQ(c.coord.stats().members_expired, 1u);
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, joined[1].member_id), 4).error_code, ErrorCode::unknown_member_id);
    }));
}

TEST(CoordinatorJoin, RebalanceTimeoutRemovesMemberThatDoesNotRejoin) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        JoinSpec s;
        s.rebalance_ms = 5'000;
        auto joined = form_group(c, 2, s);
        sync_all(c, joined);
        // The follower heartbeats (so its session lives) but never rejoins.
        auto follower = async(c.env, [&c, f = joined[1]] {
            ErrorCode last = ErrorCode::none;
            for (int i = 0; i < 12; i++) {
                c.sleep(ms(1'000));
                last = c.coord.heartbeat(hb_req("g", f.generation_id, f.member_id), 4).error_code;
                if (last == ErrorCode::unknown_member_id) break;
            }
            return last;
        });
        JoinSpec again = s;
        again.member_id = joined[0].member_id;
        Instant t0 = c.env.now();
        auto next = c.coord.join_group(join_req(again), 9, "client0", "/h");  // the leader forces a rebalance
        EXPECT_GE(c.env.now() - t0, ms(5'000));
        EXPECT_EQ(next.generation_id, 2);
        EXPECT_EQ(next.members.size(), 1u);
        EXPECT_EQ(follower.get(), ErrorCode::unknown_member_id);
        EXPECT_EQ(c.coord.stats().members_expired, 0u);
    }));
}

TEST(CoordinatorJoin, StaticMemberRestartKeepsAssignmentWithoutRebalance) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        JoinSpec s;
        s.instance_id = "inst-";
        auto joined = form_group(c, 2, s);
        ASSERT_EQ(joined[0].error_code, ErrorCode::none);
        sync_all(c, joined);
        uint64_t rebalances = c.coord.stats().rebalances;
        // The follower restarts: no member id, same instance id.
        JoinSpec restart;
        for (const auto& m : joined[0].members) {
            if (m.member_id == joined[1].member_id) restart.instance_id = m.group_instance_id;
        }
        ASSERT_TRUE(restart.instance_id.has_value());
        restart.protocols = {{"range", "meta-x"}};
        auto back = c.coord.join_group(join_req(restart), 9, "client1", "/h");
        EXPECT_EQ(back.error_code, ErrorCode::none);
        EXPECT_EQ(back.generation_id, 1);
        EXPECT_NE(back.member_id, joined[1].member_id);
        EXPECT_TRUE(back.members.empty());
        EXPECT_EQ(c.coord.stats().rebalances, rebalances);
        EXPECT_EQ(state_of(c, "g"), "Stable");
        auto sync = c.coord.sync_group(sync_req("g", 1, back.member_id), 5);
        EXPECT_EQ(std::string(sync.assignment.begin(), sync.assignment.end()), "a-" + joined[1].member_id);
        // The old incarnation is fenced.
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, joined[1].member_id, restart.instance_id), 4).error_code,
                  ErrorCode::fenced_instance_id);
        EXPECT_EQ(commit(c, [&] {
                      auto r = commit_req("g", 1, joined[1].member_id, "t", 0, 5);
                      r.group_instance_id = restart.instance_id;
                      return r;
                  }()),
                  ErrorCode::fenced_instance_id);
        EXPECT_EQ(c.coord.stats().members_fenced, 1u);
    }));
}

TEST(CoordinatorJoin, DuplicateInstanceWithAnotherMemberIdIsFenced) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        JoinSpec s;
        s.instance_id = "i1";
        auto first = join(c, s);
        ASSERT_EQ(first.error_code, ErrorCode::none);
        EXPECT_EQ(first.member_id.rfind("i1-", 0), 0u);
        JoinSpec dup = s;
        dup.member_id = "someone-else";
        EXPECT_EQ(c.coord.join_group(join_req(dup), 9, "c", "/h").error_code, ErrorCode::fenced_instance_id);
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", first.generation_id, "someone-else", "i1"), 4).error_code,
                  ErrorCode::fenced_instance_id);
    }));
}

TEST(CoordinatorJoin, LeaveTriggersRebalanceAndEmptiesGroup) {
    CoordSim sim;
    sim.config.initial_rebalance_delay = ms(1'000);
    ASSERT_TRUE(sim.run([](Ctx& c) {
        auto joined = form_group(c, 2);
        sync_all(c, joined);
        protocol::LeaveGroupRequest leave;
        leave.group_id = "g";
        leave.member_id = joined[1].member_id;
        EXPECT_EQ(c.coord.leave_group(leave, 0).error_code, ErrorCode::none);
        EXPECT_EQ(state_of(c, "g"), "PreparingRebalance");
        EXPECT_EQ(c.coord.heartbeat(hb_req("g", 1, joined[0].member_id), 4).error_code,
                  ErrorCode::rebalance_in_progress);
        protocol::LeaveGroupRequest batch;
        batch.group_id = "g";
        batch.members.push_back({joined[0].member_id, std::nullopt, std::nullopt, {}});
        batch.members.push_back({"ghost", std::nullopt, std::nullopt, {}});
        auto r = c.coord.leave_group(batch, 4);
        ASSERT_EQ(r.members.size(), 2u);
        EXPECT_EQ(r.members[0].error_code, ErrorCode::none);
        EXPECT_EQ(r.members[1].error_code, ErrorCode::unknown_member_id);
        EXPECT_EQ(state_of(c, "g"), "Empty");
    }));
}

}  // namespace
}  // namespace keel::group::testing
