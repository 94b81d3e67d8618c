#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/controller/broker_sessions.h"
#include "core/controller/controller_logic.h"
#include "core/controller/partition_change.h"
#include "core/protocol/error_codes.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

// ------------------------------------------------------------------------ registration

TEST(BrokerRegistration, GivesAFencedRegistrationWhoseEpochIsTheOffsetOfItsRecord) {
    LogModel m;
    m.write({NoOpRecord{}});
    m.write({NoOpRecord{}});
    BrokerEpoch e = m.register_broker(1);
    EXPECT_EQ(e, BrokerEpoch(2));
    const BrokerRegistration* b = m.image().broker(NodeId(1));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->epoch, BrokerEpoch(2));
    EXPECT_TRUE(b->fenced);
    EXPECT_EQ(b->endpoints.at(0).host, "b1");
}

TEST(BrokerRegistration, WithAnotherClusterIdIsRejected) {
    LogModel m;
    RegistrationInput in{NodeId(1), "other-cluster", Uuid{1, 1}, {}, {}, std::nullopt};
    auto r = register_broker(m.image(), in, BrokerEpoch(0), false, m.config());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::inconsistent_cluster_id);
}

TEST(BrokerRegistration, OfANewIncarnationIsRejectedWhileTheOldOneHasALiveSession) {
    LogModel m;
    m.register_broker(1, /*incarnation=*/1);
    m.heartbeat(1);  // unfenced: its session is one to protect
    RegistrationInput in{NodeId(1), m.config().cluster_id, Uuid{1, 2}, {}, {}, std::nullopt};
    auto r = register_broker(m.image(), in, BrokerEpoch(5), /*has_live_session=*/true, m.config());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::duplicate_broker_registration);
    // The same incarnation retrying (a lost response) is fine; so is a new one once the
    // old session lapsed.
    in.incarnation_id = Uuid{1, 1};
    EXPECT_TRUE(register_broker(m.image(), in, BrokerEpoch(5), true, m.config()).ok());
    in.incarnation_id = Uuid{1, 2};
    EXPECT_TRUE(register_broker(m.image(), in, BrokerEpoch(5), false, m.config()).ok());
}

TEST(BrokerRegistration, OfANewIncarnationIsAcceptedAtOnceWhenTheOldOneIsFenced) {
    // Kafka's hasValidSession is false for a fenced broker: after a fence (or the end of a
    // controlled shutdown) a restarted broker need not wait out the old session. Before
    // this rule, controller failovers (each gives every broker a fresh session) kept a
    // crashed incarnation's id taken for as long as they kept coming.
    LogModel m;
    m.start_brokers(1, 1);
    m.fence(1);
    RegistrationInput in{NodeId(1), m.config().cluster_id, Uuid{1, 2}, {}, {}, std::nullopt};
    auto r = register_broker(m.image(), in, BrokerEpoch(50), /*has_live_session=*/true, m.config());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->reply, BrokerEpoch(50));
}

TEST(BrokerRegistration, OfARestartedActiveBrokerTakesItOutOfEveryIsrBeforeFencingIt) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("orders", 3, 3);
    m.register_broker(2, /*incarnation=*/2);
    EXPECT_TRUE(m.image().broker(NodeId(2))->fenced);
    for (int p = 0; p < 3; p++) {
        EXPECT_FALSE(m.partition(t, p).in_isr(NodeId(2))) << p;
        EXPECT_NE(m.partition(t, p).leader, NodeId(2)) << p;
        EXPECT_TRUE(m.partition(t, p).has_leader()) << p;
    }
}

// --------------------------------------------------------------------------- heartbeat

TEST(BrokerHeartbeat, UnfencesABrokerOnceItHasAppliedItsOwnRegistration) {
    LogModel m;
    BrokerEpoch e = m.register_broker(1);
    HeartbeatInput behind{NodeId(1), e, Offset(e.value() - 1), false, false};
    auto r = broker_heartbeat(m.image(), behind);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->records.empty());
    EXPECT_EQ(r->reply, (HeartbeatReply{false, true, false}));

    HeartbeatInput caught_up{NodeId(1), e, Offset(e.value()), false, false};
    r = broker_heartbeat(m.image(), caught_up);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->records.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<UnfenceBrokerRecord>(r->records[0]));
    EXPECT_EQ(r->reply, (HeartbeatReply{true, false, false}));
    m.write(r->records);
    EXPECT_TRUE(m.image().is_active(NodeId(1)));
}

TEST(BrokerHeartbeat, WithAStaleEpochOrFromAnUnknownBrokerIsRejected) {
    LogModel m;
    BrokerEpoch e = m.register_broker(1);
    auto r = broker_heartbeat(m.image(), HeartbeatInput{NodeId(1), e + 1, Offset(9), false, false});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::stale_broker_epoch);
    r = broker_heartbeat(m.image(), HeartbeatInput{NodeId(7), e, Offset(9), false, false});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::broker_not_registered);
    EXPECT_EQ(protocol::to_error_code(Errc::broker_not_registered), protocol::ErrorCode::broker_id_not_registered);
}

TEST(BrokerHeartbeat, AskingToBeFencedFencesAnActiveBroker) {
    LogModel m;
    m.start_brokers(1, 2);
    Uuid t = m.create_topic("t", 1, 2);
    HeartbeatReply r = m.heartbeat(m.partition(t, 0).leader.value(), false, /*want_fence=*/true);
    EXPECT_TRUE(r.is_fenced);
    EXPECT_EQ(m.partition(t, 0).isr.size(), 1u);
}

TEST(BrokerHeartbeat, UnfencingElectsTheReturningBrokerWhereItWasTheLastIsrMember) {
    LogModel m;
    m.start_brokers(1, 1);
    Uuid t = m.create_topic("solo", 1, 1);
    m.fence(1);
    EXPECT_FALSE(m.partition(t, 0).has_leader());
    EXPECT_EQ(m.partition(t, 0).isr, ids({1}));  // last replica standing
    LeaderEpoch before = m.partition(t, 0).leader_epoch;
    m.heartbeat(1);
    EXPECT_EQ(m.partition(t, 0).leader, NodeId(1));
    EXPECT_GT(m.partition(t, 0).leader_epoch, before);
}

TEST(ControlledShutdown, MovesLeadershipAwayThenFencesTheBrokerAndLetsItGo) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("t", 6, 3);
    ASSERT_FALSE(m.image().partitions_led_by(NodeId(2)).empty());
    HeartbeatReply first = m.heartbeat(2, /*want_shut_down=*/true);
    EXPECT_FALSE(first.should_shut_down);
    EXPECT_TRUE(m.image().broker(NodeId(2))->in_controlled_shutdown);
    EXPECT_TRUE(m.image().partitions_led_by(NodeId(2)).empty());
    EXPECT_TRUE(m.image().partitions_with_isr_member(NodeId(2)).empty());
    for (int p = 0; p < 6; p++) EXPECT_TRUE(m.partition(t, p).has_leader());
    HeartbeatReply second = m.heartbeat(2, true);
    EXPECT_TRUE(second.should_shut_down);
    EXPECT_TRUE(second.is_fenced);
    EXPECT_TRUE(m.image().broker(NodeId(2))->fenced);
}

// --------------------------------------------------------------------- session expiry

TEST(SessionExpiry, FencesTheBrokerTakesItOutOfEveryIsrAndElectsNewLeadersFromTheIsr) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("t", 3, 3);
    std::vector<TopicPartition> led = m.image().partitions_led_by(NodeId(1));
    ASSERT_FALSE(led.empty());
    m.fence(1);
    EXPECT_TRUE(m.image().broker(NodeId(1))->fenced);
    EXPECT_TRUE(m.image().partitions_with_isr_member(NodeId(1)).empty());
    for (const auto& tp : led) {
        const PartitionState& p = m.partition(t, tp.partition.value());
        EXPECT_TRUE(p.has_leader());
        EXPECT_TRUE(p.in_isr(p.leader));
        EXPECT_EQ(p.leader_epoch, LeaderEpoch(1));
    }
}

TEST(SessionExpiry, OfTheLastIsrMemberLeavesThePartitionLeaderlessWithItsIsrUnchanged) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("t", 1, 3);
    NodeId leader = m.partition(t, 0).leader;
    m.shrink_isr_to_leader(t, 0);
    m.fence(leader.value());
    EXPECT_FALSE(m.partition(t, 0).has_leader());
    EXPECT_EQ(m.partition(t, 0).isr, std::vector<NodeId>{leader});
}

TEST(SessionExpiry, WithUncleanElectionOnAReplicaOutsideTheIsrLeadsAndIsMarkedRecovering) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("t", 1, 3, {{"unclean.leader.election.enable", "true"}});
    NodeId leader = m.partition(t, 0).leader;
    m.shrink_isr_to_leader(t, 0);
    m.fence(leader.value());
    const PartitionState& p = m.partition(t, 0);
    ASSERT_TRUE(p.has_leader());
    EXPECT_NE(p.leader, leader);
    EXPECT_EQ(p.isr, std::vector<NodeId>{p.leader});
    EXPECT_EQ(p.leader_recovery_state, leader_recovering);
}

TEST(SessionExpiry, WithUncleanElectionOffNoReplicaOutsideTheIsrIsEverElected) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("t", 1, 3);
    NodeId leader = m.partition(t, 0).leader;
    m.shrink_isr_to_leader(t, 0);
    m.fence(leader.value());
    m.write(elect_leaderless(m.image()));
    EXPECT_FALSE(m.partition(t, 0).has_leader());
    // Turning the switch on later lets the periodic pass elect someone.
    m.write({ConfigRecord{config_resource_topic, "t", "unclean.leader.election.enable", "true"}});
    m.write(elect_leaderless(m.image()));
    EXPECT_TRUE(m.partition(t, 0).has_leader());
}

TEST(BrokerSessions, ASessionLapsesAfterTheTimeoutAndResetGivesEveryBrokerAFreshOne) {
    LogModel m;
    m.start_brokers(1, 2);
    BrokerSessions s(ms(9000));
    Instant t0{1'000'000'000};
    s.touch(NodeId(1), t0);
    s.touch(NodeId(2), t0 + ms(5000));
    EXPECT_TRUE(s.has_live_session(NodeId(1), t0 + ms(8999)));
    EXPECT_FALSE(s.has_live_session(NodeId(1), t0 + ms(9000)));
    EXPECT_EQ(s.next_expiry(m.image()), t0 + ms(9000));
    EXPECT_EQ(s.expired(m.image(), t0 + ms(9000)), ids({1}));
    EXPECT_EQ(s.expired(m.image(), t0 + ms(14000)), ids({1, 2}));
    s.reset(m.image(), t0 + ms(20000));
    EXPECT_TRUE(s.expired(m.image(), t0 + ms(28999)).empty());
    // Fenced brokers are never "expired": they are already out.
    m.fence(1);
    EXPECT_EQ(s.expired(m.image(), t0 + ms(40000)), ids({2}));
}

// ---------------------------------------------------------------------- create topics

TEST(CreateTopics, PlacementSpreadsLeadersAndReplicasEvenlyOverTheBrokers) {
    std::vector<NodeId> brokers = ids({1, 2, 3, 4});
    auto placement = place_replicas(brokers, 8, 3, 1, 2);
    std::map<NodeId, int> leaders;
    std::map<NodeId, int> replicas;
    for (const auto& r : placement) {
        ASSERT_EQ(r.size(), 3u);
        EXPECT_EQ(std::set<NodeId>(r.begin(), r.end()).size(), 3u);
        leaders[r[0]]++;
        for (NodeId b : r) replicas[b]++;
    }
    for (NodeId b : brokers) {
        EXPECT_EQ(leaders[b], 2) << b;
        EXPECT_EQ(replicas[b], 6) << b;
    }
    EXPECT_EQ(placement[0][0], NodeId(2));  // partition 0 starts at the drawn start index
}

TEST(CreateTopics, PlacementIsDecidedByTheSeed) {
    auto place = [](uint64_t seed) {
        LogModel m(seed);
        m.start_brokers(1, 5);
        Uuid t = m.create_topic("t", 5, 2);
        std::vector<std::vector<NodeId>> out;
        for (int p = 0; p < 5; p++) out.push_back(m.partition(t, p).replicas);
        return std::make_pair(t, out);
    };
    EXPECT_EQ(place(7), place(7));
    bool differs = false;
    for (uint64_t s = 8; s < 20 && !differs; s++) differs = place(s).second != place(7).second;
    EXPECT_TRUE(differs);
}

TEST(CreateTopics, NewPartitionsHaveEveryReplicaInTheIsrTheFirstAsLeaderAndEpochsZero) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid t = m.create_topic("orders", 4, 3, {{"min.insync.replicas", "2"}});
    ASSERT_NE(m.image().topic_by_name("orders"), nullptr);
    EXPECT_EQ(m.image().config(config_resource_topic, "orders", "min.insync.replicas"), "2");
    for (int p = 0; p < 4; p++) {
        const PartitionState& s = m.partition(t, p);
        EXPECT_EQ(s.isr, s.replicas);
        EXPECT_EQ(s.leader, s.replicas[0]);
        EXPECT_EQ(s.leader_epoch, LeaderEpoch(0));
        EXPECT_EQ(s.partition_epoch, PartitionEpoch(0));
    }
}

TEST(CreateTopics, RejectsBadRequestsTopicByTopic) {
    LogModel m;
    m.start_brokers(1, 3);
    m.create_topic("exists", 1, 1);
    std::vector<CreatableTopic> req = {
        {"exists", 1, 1, {}, {}},
        {"bad/name", 1, 1, {}, {}},
        {"zero-partitions", 0, 1, {}, {}},
        {"rf-too-big", 1, 4, {}, {}},
        {"rf-zero", 1, 0, {}, {}},
        {"twice", 1, 1, {}, {}},
        {"twice", 1, 1, {}, {}},
        {"bad-config", 1, 1, {}, {{"unclean.leader.election.enable", "maybe"}}},
        {"unknown-config", 1, 1, {}, {{"no.such.config", "1"}}},
        {"assignment-and-count", 1, -1, {{0, ids({1})}}, {}},
        {"gap", -1, -1, {{0, ids({1})}, {2, ids({2})}}, {}},
        {"unregistered", -1, -1, {{0, ids({9})}}, {}},
        {"good", -1, -1, {{0, ids({3, 1})}}, {}},
    };
    auto r = create_topics(m.image(), req, false, m.config(), m.random());
    std::vector<Errc> want = {Errc::topic_already_exists, Errc::invalid_topic, Errc::invalid_partitions,
                              Errc::invalid_replication_factor, Errc::invalid_replication_factor,
                              Errc::invalid_request, Errc::invalid_request, Errc::invalid_config,
                              Errc::invalid_config, Errc::invalid_request, Errc::invalid_replica_assignment,
                              Errc::invalid_replica_assignment};
    ASSERT_EQ(r.reply.size(), req.size());
    for (size_t i = 0; i < want.size(); i++) {
        ASSERT_FALSE(r.reply[i].status.ok()) << req[i].name;
        EXPECT_EQ(r.reply[i].status.code(), want[i]) << req[i].name << ": " << r.reply[i].status.error().message;
    }
    EXPECT_TRUE(r.reply.back().status.ok());
    EXPECT_EQ(r.reply.back().replication_factor, 2);
    m.write(r.records);
    const TopicState* good = m.image().topic_by_name("good");
    ASSERT_NE(good, nullptr);
    EXPECT_EQ(good->partitions.at(PartitionIndex(0)).leader, NodeId(3));
    EXPECT_EQ(protocol::to_error_code(Errc::invalid_partitions), protocol::ErrorCode::invalid_partitions);
    EXPECT_EQ(protocol::to_error_code(Errc::invalid_topic), protocol::ErrorCode::invalid_topic_exception);
}

TEST(CreateTopics, PlacesOnlyOnActiveBrokersAndValidateOnlyWritesNothing) {
    LogModel m;
    m.start_brokers(1, 3);
    m.fence(3);
    auto r = create_topics(m.image(), {{"t", 4, 3, {}, {}}}, false, m.config(), m.random());
    EXPECT_EQ(r.reply[0].status.code(), Errc::invalid_replication_factor);
    r = create_topics(m.image(), {{"t", 4, 2, {}, {}}}, true, m.config(), m.random());
    EXPECT_TRUE(r.reply[0].status.ok());
    EXPECT_TRUE(r.records.empty());
    r = create_topics(m.image(), {{"t", 4, 2, {}, {}}}, false, m.config(), m.random());
    m.write(r.records);
    for (const auto& [i, p] : m.image().topic_by_name("t")->partitions) EXPECT_FALSE(p.is_replica(NodeId(3)));
}

// ------------------------------------------------------------------- create partitions

TEST(CreatePartitions, AddsPartitionsWithTheTopicsReplicationFactorAndKeepsTheOldOnes) {
    LogModel m;
    m.start_brokers(1, 4);
    Uuid t = m.create_topic("orders", 2, 3);
    PartitionState p0 = m.partition(t, 0);
    PartitionState p1 = m.partition(t, 1);
    auto r = create_partitions(m.image(), {{"orders", 6, std::nullopt}}, false, m.config(), m.random());
    ASSERT_EQ(r.reply.size(), 1u);
    ASSERT_TRUE(r.reply[0].status.ok()) << r.reply[0].status.error().to_string();
    ASSERT_EQ(r.records.size(), 4u);
    m.write(r.records);
    const TopicState* topic = m.image().topic_by_name("orders");
    ASSERT_EQ(topic->partitions.size(), 6u);
    EXPECT_EQ(m.partition(t, 0), p0);
    EXPECT_EQ(m.partition(t, 1), p1);
    std::map<NodeId, int> leaders;
    for (int p = 0; p < 6; p++) {
        const PartitionState& s = m.partition(t, p);
        ASSERT_EQ(s.replicas.size(), 3u);
        EXPECT_EQ(std::set<NodeId>(s.replicas.begin(), s.replicas.end()).size(), 3u);
        EXPECT_EQ(s.isr, s.replicas);
        EXPECT_EQ(s.leader, s.replicas[0]);
        if (p >= 2) {
            EXPECT_EQ(s.leader_epoch, LeaderEpoch(0));
            EXPECT_EQ(s.partition_epoch, PartitionEpoch(0));
            leaders[s.leader]++;
        }
    }
    // Four new partitions over four brokers: round robin gives each one leader.
    EXPECT_EQ(leaders.size(), 4u);
}

TEST(CreatePartitions, RejectsBadRequestsTopicByTopic) {
    LogModel m;
    m.start_brokers(1, 3);
    m.create_topic("t", 2, 2);
    m.create_topic("__consumer_offsets", 1, 1);
    m.create_topic("twice", 1, 1);
    m.create_topic("manual", 1, 2);
    m.create_topic("rf3", 1, 3);
    std::vector<PartitionIncrease> req = {
        {"nosuch", 3, std::nullopt},
        {"t", 2, std::nullopt},
        {"t2", 1, std::nullopt},
        {"__consumer_offsets", 5, std::nullopt},
        {"twice", 2, std::nullopt},
        {"twice", 3, std::nullopt},
    };
    req[2].name = "t";  // the same topic twice, once lower
    auto r = create_partitions(m.image(), req, false, m.config(), m.random());
    ASSERT_EQ(r.reply.size(), req.size());
    std::vector<Errc> want = {Errc::unknown_topic_or_partition, Errc::invalid_request, Errc::invalid_request,
                              Errc::invalid_request, Errc::invalid_request, Errc::invalid_request};
    for (size_t i = 0; i < want.size(); i++) {
        ASSERT_FALSE(r.reply[i].status.ok()) << i;
        EXPECT_EQ(r.reply[i].status.code(), want[i]) << i << ": " << r.reply[i].status.error().message;
    }
    EXPECT_TRUE(r.records.empty());

    auto one = [&](PartitionIncrease in) {
        return create_partitions(m.image(), {std::move(in)}, false, m.config(), m.random()).reply.at(0).status;
    };
    EXPECT_EQ(one({"t", 2, std::nullopt}).code(), Errc::invalid_partitions);  // not an increase
    EXPECT_EQ(one({"t", 1, std::nullopt}).code(), Errc::invalid_partitions);  // a decrease
    using Assign = std::vector<std::vector<NodeId>>;
    Assign two_new = {ids({1, 2}), ids({2, 3})};
    EXPECT_EQ(one({"manual", 2, two_new}).code(), Errc::invalid_replica_assignment);  // 1 new, 2 given
    EXPECT_EQ(one({"manual", 2, Assign{ids({1})}}).code(), Errc::invalid_replica_assignment);  // RF 1, not 2
    EXPECT_EQ(one({"manual", 2, Assign{ids({1, 1})}}).code(), Errc::invalid_replica_assignment);
    EXPECT_EQ(one({"manual", 2, Assign{ids({1, 9})}}).code(), Errc::invalid_replica_assignment);
    m.config().partitions_per_request_max = 10;
    EXPECT_EQ(one({"t", 13, std::nullopt}).code(), Errc::invalid_partitions);
    m.fence(3);
    EXPECT_EQ(one({"rf3", 2, std::nullopt}).code(), Errc::invalid_replication_factor);
    EXPECT_EQ(one({"manual", 2, Assign{ids({3, 3})}}).code(), Errc::invalid_replica_assignment);

    // A manual assignment is taken as given; its ISR holds the active replicas only.
    Status ok = one({"manual", 2, Assign{ids({3, 1})}});
    ASSERT_TRUE(ok.ok()) << ok.error().to_string();
    auto w = create_partitions(m.image(), {{"manual", 2, Assign{ids({3, 1})}}}, false, m.config(), m.random());
    m.write(w.records);
    const PartitionState& added = m.image().topic_by_name("manual")->partitions.at(PartitionIndex(1));
    EXPECT_EQ(added.replicas, ids({3, 1}));
    EXPECT_EQ(added.isr, ids({1}));
    EXPECT_EQ(added.leader, NodeId(1));
}

TEST(CreatePartitions, ValidateOnlyWritesNothing) {
    LogModel m;
    m.start_brokers(1, 3);
    m.create_topic("t", 1, 3);
    auto r = create_partitions(m.image(), {{"t", 3, std::nullopt}}, true, m.config(), m.random());
    ASSERT_TRUE(r.reply.at(0).status.ok());
    EXPECT_TRUE(r.records.empty());
    EXPECT_EQ(m.image().topic_by_name("t")->partitions.size(), 1u);
}

// ----------------------------------------------------------------------- alter configs

TEST(AlterConfigs, SetsRemovesAppendsAndSubtractsTopicConfigs) {
    LogModel m;
    m.start_brokers(1, 3);
    m.create_topic("t", 1, 3, {{"retention.ms", "1000"}, {"segment.bytes", "1048576"}});
    ConfigResourceChange change{config_resource_topic, "t",
                                {{"retention.ms", ConfigOp::set, "60000"},
                                 {"segment.bytes", ConfigOp::remove, std::nullopt},
                                 {"cleanup.policy", ConfigOp::append, "compact"},
                                 {"max.message.bytes", ConfigOp::set, "2000000"}},
                                false};
    auto r = alter_configs(m.image(), {change}, false);
    ASSERT_EQ(r.reply.size(), 1u);
    ASSERT_TRUE(r.reply[0].status.ok()) << r.reply[0].status.error().to_string();
    EXPECT_EQ(r.records.size(), 4u);  // retention changed, segment removed, two new
    m.write(r.records);
    const MetadataImage& image = m.image();
    EXPECT_EQ(image.config(config_resource_topic, "t", "retention.ms"), "60000");
    EXPECT_EQ(image.config(config_resource_topic, "t", "segment.bytes"), std::nullopt);
    EXPECT_EQ(image.config(config_resource_topic, "t", "cleanup.policy"), "delete,compact");  // from the default
    EXPECT_EQ(image.config(config_resource_topic, "t", "max.message.bytes"), "2000000");

    auto sub = alter_configs(
        m.image(), {{config_resource_topic, "t", {{"cleanup.policy", ConfigOp::subtract, "delete"}}, false}}, false);
    ASSERT_TRUE(sub.reply[0].status.ok());
    m.write(sub.records);
    EXPECT_EQ(m.image().config(config_resource_topic, "t", "cleanup.policy"), "compact");
    // Setting what is already set writes nothing.
    auto same = alter_configs(
        m.image(), {{config_resource_topic, "t", {{"retention.ms", ConfigOp::set, "60000"}}, false}}, false);
    EXPECT_TRUE(same.reply[0].status.ok());
    EXPECT_TRUE(same.records.empty());
}

TEST(AlterConfigs, ReplaceAllRemovesWhatItDoesNotName) {
    LogModel m;
    m.start_brokers(1, 1);
    m.create_topic("t", 1, 1, {{"retention.ms", "1000"}, {"min.insync.replicas", "1"}});
    auto r = alter_configs(m.image(), {{config_resource_topic, "t", {{"retention.ms", ConfigOp::set, "2000"}}, true}},
                           false);
    ASSERT_TRUE(r.reply[0].status.ok()) << r.reply[0].status.error().to_string();
    m.write(r.records);
    EXPECT_EQ(m.image().config(config_resource_topic, "t", "retention.ms"), "2000");
    EXPECT_EQ(m.image().config(config_resource_topic, "t", "min.insync.replicas"), std::nullopt);
}

TEST(AlterConfigs, RejectsBadChangesResourceByResourceAndWritesNothingForThem) {
    LogModel m;
    m.start_brokers(1, 1);
    m.create_topic("t", 1, 1);
    m.create_topic("u", 1, 1);
    auto one = [&](ConfigResourceChange c) { return alter_configs(m.image(), {std::move(c)}, false); };
    auto topic = [](std::vector<ConfigChange> changes) {
        return ConfigResourceChange{config_resource_topic, "t", std::move(changes), false};
    };
    struct Case {
        ConfigResourceChange change;
        Errc want;
    };
    std::vector<Case> cases = {
        {{config_resource_topic, "nosuch", {{"retention.ms", ConfigOp::set, "1"}}, false},
         Errc::unknown_topic_or_partition},
        {{config_resource_broker, "", {{"min.insync.replicas", ConfigOp::set, "2"}}, false}, Errc::invalid_request},
        {{16, "x", {}, false}, Errc::invalid_request},
        {topic({{"no.such.config", ConfigOp::set, "1"}}), Errc::invalid_config},
        {topic({{"retention.ms", ConfigOp::set, "soon"}}), Errc::invalid_config},
        {topic({{"segment.bytes", ConfigOp::set, "10"}}), Errc::invalid_config},  // under one batch header
        {topic({{"min.insync.replicas", ConfigOp::set, "0"}}), Errc::invalid_config},
        {topic({{"retention.ms", ConfigOp::set, std::nullopt}}), Errc::invalid_request},
        {topic({{"retention.ms", ConfigOp::append, "1"}}), Errc::invalid_config},  // not a list
        {topic({{"cleanup.policy", ConfigOp::subtract, "delete"}}), Errc::invalid_config},  // left empty
        {topic({{"cleanup.policy", ConfigOp::append, "shred"}}), Errc::invalid_config},
        {topic({{"retention.ms", ConfigOp::set, "1"}, {"retention.ms", ConfigOp::remove, std::nullopt}}),
         Errc::invalid_request},
        {topic({{"retention.ms", static_cast<ConfigOp>(7), "1"}}), Errc::invalid_request},
    };
    for (size_t i = 0; i < cases.size(); i++) {
        auto r = one(cases[i].change);
        ASSERT_EQ(r.reply.size(), 1u);
        ASSERT_FALSE(r.reply[0].status.ok()) << i;
        EXPECT_EQ(r.reply[0].status.code(), cases[i].want) << i << ": " << r.reply[0].status.error().message;
        EXPECT_TRUE(r.records.empty()) << i;
    }
    // One bad resource does not stop a good one; the same resource twice is refused.
    auto mixed = alter_configs(m.image(),
                               {topic({{"retention.ms", ConfigOp::set, "soon"}}),
                                {config_resource_topic, "u", {{"retention.ms", ConfigOp::set, "5"}}, false}},
                               false);
    EXPECT_FALSE(mixed.reply[0].status.ok());
    EXPECT_TRUE(mixed.reply[1].status.ok());
    EXPECT_EQ(mixed.records.size(), 1u);
    auto twice = alter_configs(m.image(), {topic({}), topic({})}, false);
    EXPECT_EQ(twice.reply[0].status.code(), Errc::invalid_request);
    auto dry = alter_configs(m.image(), {topic({{"retention.ms", ConfigOp::set, "5"}})}, true);
    EXPECT_TRUE(dry.reply[0].status.ok());
    EXPECT_TRUE(dry.records.empty());
}

TEST(CreateTopics, ValidatesTopicNamesAsKafkaDoes) {
    EXPECT_TRUE(validate_topic_name("orders.v2_EU-1").ok());
    EXPECT_FALSE(validate_topic_name("").ok());
    EXPECT_FALSE(validate_topic_name(".").ok());
    EXPECT_FALSE(validate_topic_name("..").ok());
    EXPECT_FALSE(validate_topic_name(std::string(250, 'a')).ok());
    EXPECT_TRUE(validate_topic_name(std::string(249, 'a')).ok());
    EXPECT_FALSE(validate_topic_name("a b").ok());
}

// ---------------------------------------------------------------------- alter partition

struct AlterFixture {
    LogModel m;
    Uuid t;
    NodeId leader;
    AlterFixture() {
        m.start_brokers(1, 3);
        t = m.create_topic("t", 1, 3);
        leader = m.partition(t, 0).leader;
    }
    // A request from `from` for partition 0 with the given ISR and epochs.
    AlterPartitionInput request(NodeId from, std::vector<NodeId> isr, int32_t leader_epoch, int32_t partition_epoch) {
        AlterPartitionInput in;
        in.broker_id = from;
        in.broker_epoch = m.image().broker(from)->epoch;
        AlterPartitionInput::Partition p{PartitionIndex(0), LeaderEpoch(leader_epoch), {}, leader_recovered,
                                         PartitionEpoch(partition_epoch)};
        for (NodeId b : isr) p.new_isr.push_back({b, BrokerEpoch(-1)});
        in.topics.push_back({t, {p}});
        return in;
    }
    Status outcome(const AlterPartitionInput& in) {
        auto r = alter_partition(m.image(), in);
        EXPECT_TRUE(r.ok());
        return r->reply.topics.at(0).partitions.at(0).status;
    }
    std::vector<NodeId> others() {
        std::vector<NodeId> out;
        for (NodeId b : ids({1, 2, 3})) {
            if (b != leader) out.push_back(b);
        }
        return out;
    }
};

TEST(AlterPartition, TheLeaderShrinksAndExpandsTheIsrAtTheCurrentEpochs) {
    AlterFixture f;
    auto r = alter_partition(f.m.image(), f.request(f.leader, {f.leader, f.others()[0]}, 0, 0));
    ASSERT_TRUE(r.ok());
    const auto& p = r->reply.topics[0].partitions[0];
    ASSERT_TRUE(p.status.ok());
    EXPECT_EQ(p.partition_epoch, PartitionEpoch(1));
    EXPECT_EQ(p.leader_epoch, LeaderEpoch(0));
    EXPECT_EQ(p.leader, f.leader);
    f.m.write(r->records);
    EXPECT_EQ(f.m.partition(f.t, 0).isr.size(), 2u);
    r = alter_partition(f.m.image(), f.request(f.leader, {f.leader, f.others()[0], f.others()[1]}, 0, 1));
    ASSERT_TRUE(r->reply.topics[0].partitions[0].status.ok());
    f.m.write(r->records);
    EXPECT_EQ(f.m.partition(f.t, 0).isr.size(), 3u);
    EXPECT_EQ(f.m.partition(f.t, 0).partition_epoch, PartitionEpoch(2));
}

TEST(AlterPartition, AtAnOlderLeaderEpochIsFenced) {
    AlterFixture f;
    PartitionChangeRecord bump;  // same leader: a leader-epoch bump
    bump.topic_id = f.t;
    bump.partition_id = PartitionIndex(0);
    bump.leader = f.leader;
    f.m.write({bump});
    EXPECT_EQ(f.outcome(f.request(f.leader, {f.leader}, 0, 1)).code(), Errc::fenced_leader_epoch);
    EXPECT_EQ(protocol::to_error_code(Errc::fenced_leader_epoch), protocol::ErrorCode::fenced_leader_epoch);
}

TEST(AlterPartition, AtAnOlderPartitionEpochIsAnInvalidUpdateVersion) {
    AlterFixture f;
    f.m.write(alter_partition(f.m.image(), f.request(f.leader, {f.leader, f.others()[0]}, 0, 0))->records);
    Status s = f.outcome(f.request(f.leader, {f.leader}, 0, 0));
    EXPECT_EQ(s.code(), Errc::invalid_partition_epoch);
    EXPECT_EQ(protocol::to_error_code(s.code()), protocol::ErrorCode::invalid_update_version);
}

TEST(AlterPartition, WithNewerEpochsThanTheControllerKnowsAsksTheLeaderToFindTheController) {
    AlterFixture f;
    EXPECT_EQ(f.outcome(f.request(f.leader, {f.leader}, 3, 0)).code(), Errc::not_controller);
    EXPECT_EQ(f.outcome(f.request(f.leader, {f.leader}, 0, 3)).code(), Errc::not_controller);
}

TEST(AlterPartition, FromABrokerThatIsNotTheLeaderIsInvalid) {
    AlterFixture f;
    EXPECT_EQ(f.outcome(f.request(f.others()[0], {f.others()[0]}, 0, 0)).code(), Errc::invalid_request);
}

TEST(AlterPartition, NeverRemovesTheLeaderNorAddsNonReplicasOrDuplicates) {
    AlterFixture f;
    EXPECT_EQ(f.outcome(f.request(f.leader, f.others(), 0, 0)).code(), Errc::invalid_request);
    EXPECT_EQ(f.outcome(f.request(f.leader, {f.leader, NodeId(9)}, 0, 0)).code(), Errc::invalid_request);
    EXPECT_EQ(f.outcome(f.request(f.leader, {f.leader, f.leader}, 0, 0)).code(), Errc::invalid_request);
}

TEST(AlterPartition, AFencedBrokerOrAStaleIncarnationCannotJoinTheIsr) {
    AlterFixture f;
    NodeId follower = f.others()[0];
    f.m.write(alter_partition(f.m.image(), f.request(f.leader, {f.leader, f.others()[1]}, 0, 0))->records);
    f.m.fence(follower.value());
    Status s = f.outcome(f.request(f.leader, {f.leader, f.others()[1], follower}, 0, 1));
    EXPECT_EQ(s.code(), Errc::ineligible_replica);
    EXPECT_EQ(protocol::to_error_code(s.code()), protocol::ErrorCode::ineligible_replica);
    // KIP-903: an ISR member named with an old broker epoch is refused too.
    AlterPartitionInput in = f.request(f.leader, {f.leader, f.others()[1]}, 0, 1);
    in.topics[0].partitions[0].new_isr[1].broker_epoch = BrokerEpoch(12345);
    EXPECT_EQ(f.outcome(in).code(), Errc::ineligible_replica);
}

TEST(AlterPartition, FromAStaleBrokerEpochIsRejectedWhole) {
    AlterFixture f;
    AlterPartitionInput in = f.request(f.leader, {f.leader}, 0, 0);
    in.broker_epoch = in.broker_epoch + 100;
    auto r = alter_partition(f.m.image(), in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::stale_broker_epoch);
}

TEST(AlterPartition, ForAnUnknownTopicIdOrPartitionSaysSo) {
    AlterFixture f;
    AlterPartitionInput in = f.request(f.leader, {f.leader}, 0, 0);
    in.topics[0].topic_id = Uuid{99, 99};
    EXPECT_EQ(f.outcome(in).code(), Errc::unknown_topic_id);
    in = f.request(f.leader, {f.leader}, 0, 0);
    in.topics[0].partitions[0].partition = PartitionIndex(5);
    EXPECT_EQ(f.outcome(in).code(), Errc::unknown_topic_or_partition);
}

TEST(AlterPartition, ARecoveringLeaderReportsRecoveryAndOnlyThenMayGrowTheIsr) {
    LogModel m;
    m.start_brokers(1, 2);
    Uuid t = m.create_topic("t", 1, 2, {{"unclean.leader.election.enable", "true"}});
    NodeId first = m.partition(t, 0).leader;
    NodeId second = first == NodeId(1) ? NodeId(2) : NodeId(1);
    m.shrink_isr_to_leader(t, 0);
    m.fence(first.value());
    ASSERT_EQ(m.partition(t, 0).leader, second);
    ASSERT_EQ(m.partition(t, 0).leader_recovery_state, leader_recovering);
    const PartitionState& p = m.partition(t, 0);
    AlterPartitionInput in;
    in.broker_id = second;
    in.broker_epoch = m.image().broker(second)->epoch;
    in.topics.push_back({t, {{PartitionIndex(0), p.leader_epoch, {{second, BrokerEpoch(-1)}}, leader_recovered,
                              p.partition_epoch}}});
    auto r = alter_partition(m.image(), in);
    ASSERT_TRUE(r->reply.topics[0].partitions[0].status.ok());
    m.write(r->records);
    EXPECT_EQ(m.partition(t, 0).leader_recovery_state, leader_recovered);
}

// ------------------------------------------------------------------- partition change

TEST(PartitionChangeBuilder, KeepsAnAcceptableLeaderAndWritesNothingWhenNothingChanges) {
    PartitionState p{ids({1, 2, 3}), ids({1, 2, 3}), NodeId(2), 0, LeaderEpoch(4), PartitionEpoch(7)};
    PartitionChangeBuilder b(Uuid{1, 1}, PartitionIndex(0), p, [](NodeId) { return true; });
    EXPECT_FALSE(b.build().has_value());
    b.set_target_isr(ids({2, 3}));
    auto r = b.build();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->leader, NodeId(no_leader_change));
    EXPECT_EQ(r->isr, ids({2, 3}));
}

TEST(PartitionChangeBuilder, ElectsTheFirstAcceptableIsrMemberInReplicaOrder) {
    PartitionState p{ids({1, 2, 3}), ids({3, 2, 1}), NodeId(1), 0, LeaderEpoch(0), PartitionEpoch(0)};
    PartitionChangeBuilder b(Uuid{1, 1}, PartitionIndex(0), p, [](NodeId r) { return r != NodeId(1); });
    b.set_target_isr(ids({3, 2}));
    auto r = b.build();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->leader, NodeId(2));
}

}  // namespace
}  // namespace keel::controller
