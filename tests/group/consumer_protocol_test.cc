// KIP-848's consumer protocol on the coordinator (core/group/consumer_protocol.h): the
// assignors, joining with member epochs, incremental reconciliation (a partition moves only
// after its previous owner's heartbeat shows it revoked), fencing, leaving, session expiry,
// commits with member epochs, persistence across a reload, and the classic/consumer clash.
#include <gtest/gtest.h>

#include "core/group/consumer_protocol.h"
#include "tests/group/coordinator_test_helpers.h"

namespace keel::group::testing {
namespace {

using protocol::ConsumerGroupHeartbeatRequest;
using protocol::ConsumerGroupHeartbeatResponse;

// Topics "t" (4 partitions, id {0,1}) and "u" (2 partitions, id {0,2}).
std::map<std::string, TopicInfo>& topic_table() {
    static std::map<std::string, TopicInfo> t{{"t", {"t", protocol::Uuid{0, 1}, 4}},
                                              {"u", {"u", protocol::Uuid{0, 2}, 2}}};
    return t;
}

TopicSource test_topics() {
    TopicSource s;
    s.by_name = [](const std::string& n) -> std::optional<TopicInfo> {
        auto it = topic_table().find(n);
        if (it == topic_table().end()) return std::nullopt;
        return it->second;
    };
    s.by_id = [](const protocol::Uuid& id) -> std::optional<TopicInfo> {
        for (const auto& [n, i] : topic_table()) {
            if (i.id == id) return i;
        }
        return std::nullopt;
    };
    return s;
}

// What a member owns, as "t0 t1 u1" (sorted by topic, partition).
using Owned = std::set<std::pair<std::string, int32_t>>;

Owned owned_of(const ConsumerGroupHeartbeatResponse& r) {
    Owned out;
    if (!r.assignment) return out;
    for (const auto& tp : r.assignment->topic_partitions) {
        std::string name = tp.topic_id == protocol::Uuid{0, 1} ? "t" : "u";
        for (PartitionIndex p : tp.partitions) out.insert({name, p.value()});
    }
    return out;
}

ConsumerGroupHeartbeatRequest hb(const std::string& member, int32_t epoch, const Owned& owned,
                                 std::vector<std::string> topics = {"t"}, const std::string& group = "cg") {
    ConsumerGroupHeartbeatRequest r;
    r.group_id = group;
    r.member_id = member;
    r.member_epoch = epoch;
    r.rebalance_timeout_ms = 30'000;
    r.subscribed_topic_names = std::move(topics);
    r.topic_partitions.emplace();
    for (const auto& [t, p] : owned) {
        protocol::Uuid id = topic_table().at(t).id;
        auto it = std::find_if(r.topic_partitions->begin(), r.topic_partitions->end(),
                               [&](const auto& x) { return x.topic_id == id; });
        if (it == r.topic_partitions->end()) it = r.topic_partitions->insert(r.topic_partitions->end(), {id, {}, {}});
        it->partitions.push_back(PartitionIndex(p));
    }
    return r;
}

// A member as its client would run it: it owns what the last answer assigned.
struct Client {
    std::string id;
    int32_t epoch = 0;
    Owned owned;
    std::vector<int32_t> epochs;  // every epoch seen
    ConsumerGroupHeartbeatResponse beat(Ctx& c, std::vector<std::string> topics = {"t"}) {
        auto r = c.coord.consumer_group_heartbeat(hb(id, epoch, owned, std::move(topics)), 0);
        if (r.error_code == ErrorCode::none) {
            id = r.member_id.value_or(id);
            epoch = r.member_epoch;
            owned = owned_of(r);
            epochs.push_back(epoch);
        }
        return r;
    }
};

bool monotone(const std::vector<int32_t>& v) { return std::is_sorted(v.begin(), v.end()); }

TEST(ConsumerProtocolAssign, UniformIsBalancedAndSticky) {
    std::map<std::string, CgMember> members;
    members["a"].topics = {"t"};
    members["b"].topics = {"t"};
    auto first = assign_uniform(members, {{"t", 4}}, {});
    EXPECT_EQ(count(first["a"]), 2u);
    EXPECT_EQ(count(first["b"]), 2u);
    members["c"].topics = {"t"};
    auto second = assign_uniform(members, {{"t", 4}}, first);
    EXPECT_EQ(count(second["a"]) + count(second["b"]) + count(second["c"]), 4u);
    EXPECT_EQ(count(second["c"]), 1u);
    // Sticky: a and b keep their earlier partitions (only one of them gives one up).
    EXPECT_EQ(count(minus(first["a"], second["a"])) + count(minus(first["b"], second["b"])), 1u);
}

TEST(ConsumerProtocolAssign, RangeGivesContiguousRanges) {
    std::map<std::string, CgMember> members;
    members["a"].topics = {"t", "u"};
    members["b"].topics = {"t"};
    auto r = assign_range(members, {{"t", 5}, {"u", 2}});
    EXPECT_EQ(r["a"]["t"], (std::set<int32_t>{0, 1, 2}));
    EXPECT_EQ(r["b"]["t"], (std::set<int32_t>{3, 4}));
    EXPECT_EQ(r["a"]["u"], (std::set<int32_t>{0, 1}));
    EXPECT_TRUE(r["b"]["u"].empty());
}

TEST(ConsumerProtocol, JoinRevokeThenAssign) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a, b;
        ASSERT_EQ(a.beat(c).error_code, ErrorCode::none);
        EXPECT_FALSE(a.id.empty());  // v0: the coordinator names the member
        EXPECT_EQ(a.epoch, 1);
        EXPECT_EQ(a.owned.size(), 4u);
        ASSERT_EQ(b.beat(c).error_code, ErrorCode::none);  // epoch 2: the target splits t
        EXPECT_EQ(b.epoch, 2);
        EXPECT_TRUE(b.owned.empty());  // a still owns everything
        auto ra = a.beat(c);           // a is told to give two up; its epoch stays
        EXPECT_EQ(ra.member_epoch, 1);
        EXPECT_EQ(a.owned.size(), 2u);
        EXPECT_TRUE(b.beat(c).error_code == ErrorCode::none && b.owned.empty());  // not released yet
        a.beat(c);  // a's heartbeat shows them revoked: a moves to epoch 2
        EXPECT_EQ(a.epoch, 2);
        b.beat(c);
        EXPECT_EQ(b.owned.size(), 2u);
        for (const auto& p : a.owned) EXPECT_FALSE(b.owned.count(p)) << p.first << p.second;
        EXPECT_TRUE(monotone(a.epochs));
        EXPECT_TRUE(monotone(b.epochs));

        protocol::ConsumerGroupDescribeRequest d;
        d.group_ids = {"cg", "none"};
        auto desc = c.coord.consumer_group_describe(d, 0);
        ASSERT_EQ(desc.groups.size(), 2u);
        EXPECT_EQ(desc.groups[0].group_state, "Stable");
        EXPECT_EQ(desc.groups[0].group_epoch, 2);
        EXPECT_EQ(desc.groups[0].assignor_name, "uniform");
        EXPECT_EQ(desc.groups[0].members.size(), 2u);
        EXPECT_EQ(desc.groups[1].error_code, ErrorCode::group_id_not_found);
    }));
}

TEST(ConsumerProtocol, AJoiningMemberKeepsItsClientIdAndHost) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        auto r = c.coord.consumer_group_heartbeat(hb("", 0, {}), 0, "app-7", "/10.0.0.7");
        ASSERT_EQ(r.error_code, ErrorCode::none);
        std::string id = r.member_id.value_or("");
        // A later heartbeat (epoch > 0) names no client: what the join recorded stays.
        ASSERT_EQ(c.coord.consumer_group_heartbeat(hb(id, r.member_epoch, owned_of(r)), 0).error_code,
                  ErrorCode::none);
        protocol::ConsumerGroupDescribeRequest d;
        d.group_ids = {"cg"};
        auto desc = c.coord.consumer_group_describe(d, 0);
        ASSERT_EQ(desc.groups.size(), 1u);
        ASSERT_EQ(desc.groups[0].members.size(), 1u);
        EXPECT_EQ(desc.groups[0].members[0].client_id, "app-7");
        EXPECT_EQ(desc.groups[0].members[0].client_host, "/10.0.0.7");
    }));
}

TEST(ConsumerProtocol, FencingLeavingAndExpiry) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a, b;
        a.beat(c);
        b.beat(c);
        a.beat(c);
        a.beat(c);
        b.beat(c);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb(a.id, a.epoch + 5, a.owned), 0).error_code,
                  ErrorCode::fenced_member_epoch);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb("nobody", 3, {}), 0).error_code, ErrorCode::unknown_member_id);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb("", 3, {}), 0).error_code, ErrorCode::invalid_request);
        // b leaves: a gets everything back at a higher epoch.
        auto left = c.coord.consumer_group_heartbeat(hb(b.id, -1, {}), 0);
        EXPECT_EQ(left.error_code, ErrorCode::none);
        EXPECT_EQ(left.member_epoch, -1);
        a.beat(c);
        EXPECT_EQ(a.owned.size(), 4u);
        EXPECT_EQ(a.epoch, 3);
        // b rejoins, then stops heartbeating: after the session timeout a owns all again.
        Client b2;
        b2.beat(c);
        for (int i = 0; i < 3; i++) a.beat(c);
        b2.beat(c);
        EXPECT_EQ(a.owned.size() + b2.owned.size(), 4u);
        for (int i = 0; i < 10; i++) {
            c.sleep(ms(5'000));
            a.beat(c);
        }
        EXPECT_EQ(a.owned.size(), 4u);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb(b2.id, b2.epoch, b2.owned), 0).error_code,
                  ErrorCode::unknown_member_id);
        EXPECT_TRUE(monotone(a.epochs));
    }));
    EXPECT_GE(sim.stats.members_expired, 1u);
}

TEST(ConsumerProtocol, CommitsCarryTheMemberEpoch) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a;
        a.beat(c);
        EXPECT_EQ(commit(c, commit_req("cg", a.epoch, a.id, "t", 0, 7)), ErrorCode::none);
        EXPECT_EQ(fetched_offset(c, "cg", "t", 0), 7);
        EXPECT_EQ(commit(c, commit_req("cg", a.epoch + 1, a.id, "t", 0, 8)), ErrorCode::stale_member_epoch);
        EXPECT_EQ(commit(c, commit_req("cg", a.epoch, "other", "t", 0, 8)), ErrorCode::unknown_member_id);
        EXPECT_EQ(commit(c, commit_req("cg", -1, "", "t", 0, 8)), ErrorCode::unknown_member_id);  // not empty
        EXPECT_EQ(fetched_offset(c, "cg", "t", 0), 7);
    }));
}

TEST(ConsumerProtocol, ClassicAndConsumerGroupsDoNotMix) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a;
        a.beat(c);
        JoinSpec s;
        s.group = "cg";
        EXPECT_EQ(join(c, s).error_code, ErrorCode::inconsistent_group_protocol);
        auto joined = form_group(c, 1);  // classic group "g"
        ASSERT_EQ(joined[0].error_code, ErrorCode::none);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb("", 0, {}, {"t"}, "g"), 0).error_code,
                  ErrorCode::group_id_not_found);
        protocol::ListGroupsRequest lr;
        bool listed = false;
        for (const auto& lg : c.coord.list_groups(lr, 5).groups) {
            if (lg.group_id == "cg") listed = lg.group_type == "consumer";
        }
        EXPECT_TRUE(listed);
        // An empty consumer group converts to classic on JoinGroup.
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb(a.id, -1, {}), 0).error_code, ErrorCode::none);
        auto j = join(c, s);
        EXPECT_NE(j.error_code, ErrorCode::inconsistent_group_protocol);
    }));
}

TEST(ConsumerProtocol, StateSurvivesAReload) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a, b;
        a.beat(c);
        b.beat(c);
        a.beat(c);
        a.beat(c);
        b.beat(c);
        ASSERT_EQ(commit(c, commit_req("cg", a.epoch, a.id, "t", 0, 3)), ErrorCode::none);
        int32_t p = c.coord.partition_for("cg");
        c.coord.on_resigned(p);
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb(a.id, a.epoch, a.owned), 0).error_code,
                  ErrorCode::not_coordinator);
        c.coord.on_became_leader(p, LeaderEpoch(2));
        c.sleep(ms(10));
        Owned a_before = a.owned, b_before = b.owned;
        int32_t a_epoch = a.epoch;
        ASSERT_EQ(a.beat(c).error_code, ErrorCode::none);
        ASSERT_EQ(b.beat(c).error_code, ErrorCode::none);
        EXPECT_EQ(a.owned, a_before);
        EXPECT_EQ(b.owned, b_before);
        EXPECT_EQ(a.epoch, a_epoch);
        EXPECT_EQ(fetched_offset(c, "cg", "t", 0), 3);
        protocol::ConsumerGroupDescribeRequest d;
        d.group_ids = {"cg"};
        EXPECT_EQ(c.coord.consumer_group_describe(d, 0).groups[0].group_epoch, 2);
    }));
}

// A removal's own store can fail (an expiry's is not even awaited); the next store that
// succeeds must carry the member's tombstones, or a reload brings it back with its old epoch
// and assignment beside the member its partitions went to (group-chaos seed 1068: two
// owners of a partition after the coordinator moved).
TEST(ConsumerProtocol, AMemberWhoseRemovalWasNotWrittenStaysGoneAfterAReload) {
    CoordSim sim;
    ASSERT_TRUE(sim.run([](Ctx& c) {
        c.coord.set_topic_source(test_topics());
        Client a, b;
        a.beat(c);
        b.beat(c);
        a.beat(c);
        a.beat(c);
        b.beat(c);
        ASSERT_EQ(a.owned.size() + b.owned.size(), 4u);
        ASSERT_FALSE(b.owned.empty());
        c.log.fail_appends = 1;  // b's leave is not written
        EXPECT_NE(c.coord.consumer_group_heartbeat(hb(b.id, -1, {}), 0).error_code, ErrorCode::none);
        a.beat(c);
        a.beat(c);
        ASSERT_EQ(a.owned.size(), 4u) << "b's partitions went to a";
        int32_t p = c.coord.partition_for("cg");
        c.coord.on_resigned(p);
        c.coord.on_became_leader(p, LeaderEpoch(2));
        c.sleep(ms(10));
        EXPECT_EQ(c.coord.consumer_group_heartbeat(hb(b.id, b.epoch, b.owned), 0).error_code,
                  ErrorCode::unknown_member_id)
            << "b stays removed";
        ASSERT_EQ(a.beat(c).error_code, ErrorCode::none);
        EXPECT_EQ(a.owned.size(), 4u);
    }));
}

TEST(ConsumerProtocolRecords, RoundTrip) {
    ConsumerGroupState s;
    s.group_epoch = 4;
    s.assignment_epoch = 4;
    CgMember& m = s.members["m1"];
    m.id = "m1";
    m.topics = {"t", "u"};
    m.assignor = "range";
    m.epoch = 3;
    m.previous_epoch = 2;
    m.state = CgMemberState::unrevoked;
    m.assigned["t"] = {0, 1};
    m.revoking["u"] = {1};
    s.target["m1"]["t"] = {0, 1};
    ConsumerGroupLoader loader;
    for (const auto& r : consumer_group_records("g", s)) loader.apply(r);
    auto groups = loader.take();
    ASSERT_EQ(groups.count("g"), 1u);
    const ConsumerGroupState& back = groups["g"];
    EXPECT_EQ(back.group_epoch, 4);
    EXPECT_EQ(back.assignment_epoch, 4);
    ASSERT_EQ(back.members.count("m1"), 1u);
    const CgMember& bm = back.members.at("m1");
    EXPECT_EQ(bm.topics, m.topics);
    EXPECT_EQ(bm.assignor, "range");
    EXPECT_EQ(bm.epoch, 3);
    EXPECT_EQ(bm.previous_epoch, 2);
    EXPECT_EQ(bm.state, CgMemberState::unrevoked);
    EXPECT_EQ(bm.assigned, m.assigned);
    EXPECT_EQ(bm.revoking, m.revoking);
    EXPECT_EQ(back.target.at("m1"), s.target["m1"]);
    // Tombstones remove the member; garbage keys are ignored.
    for (const auto& r : consumer_group_records("g", s)) loader.apply(r);
    for (const auto& r : consumer_member_tombstones("g", "m1")) loader.apply(r);
    loader.apply({Bytes{0, 5, 1}, Bytes{1, 2}});
    groups = loader.take();
    EXPECT_TRUE(groups["g"].members.empty());
}

}  // namespace
}  // namespace keel::group::testing
