// The consumer protocol bytes (known vectors written from Kafka's
// ConsumerProtocolSubscription/Assignment schemas) and the assignors on the examples of
// Kafka's documentation and tests.
#include "core/client/assignor.h"

#include <gtest/gtest.h>

namespace keel::client {
namespace {

using TPs = std::vector<TopicPartitionName>;

TopicPartitionName tp(const std::string& t, int32_t p) { return {t, PartitionIndex(p)}; }

Subscription sub(std::vector<std::string> topics, TPs owned = {}, int32_t generation = -1) {
    Subscription s;
    s.topics = std::move(topics);
    s.owned_partitions = std::move(owned);
    s.generation_id = generation;
    return s;
}

std::map<std::string, Assignment> run(std::string_view name, const std::map<std::string, int32_t>& parts,
                                      const std::map<std::string, Subscription>& members) {
    auto a = make_assignor(name);
    EXPECT_NE(a, nullptr);
    EXPECT_EQ(a->name(), name);
    return a->assign(parts, members);
}

// ---- bytes ----

const Bytes kSubscriptionV0 = {0, 0, 0, 0, 0, 2, 0, 2, 't', '0', 0, 2, 't', '1', 0, 0, 0, 2, 'u', 'd'};
const Bytes kOwnedT0 = {0, 0, 0, 1, 0, 2, 't', '0', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1};

Subscription full_subscription() {
    Subscription s = sub({"t0", "t1"}, {tp("t0", 0), tp("t0", 1)}, 7);
    s.user_data = to_bytes("ud");
    s.rack_id = "r1";
    return s;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST(AssignorProtocol, SubscriptionKnownBytesAtEveryVersion) {
    const Subscription s = full_subscription();
    Bytes v0 = kSubscriptionV0;
    EXPECT_EQ(encode_subscription(s, 0), v0);
    Bytes v1 = concat({v0, kOwnedT0});
    v1[1] = 1;
    EXPECT_EQ(encode_subscription(s, 1), v1);
    Bytes v2 = concat({v1, {0, 0, 0, 7}});
    v2[1] = 2;
    EXPECT_EQ(encode_subscription(s, 2), v2);
    Bytes v3 = concat({v2, {0, 2, 'r', '1'}});
    v3[1] = 3;
    EXPECT_EQ(encode_subscription(s, 3), v3);
    EXPECT_EQ(encode_subscription(s), v3);

    auto d3 = decode_subscription(v3);
    ASSERT_TRUE(d3.ok()) << d3.error().message;
    EXPECT_EQ(*d3, s);
    auto d0 = decode_subscription(v0);
    ASSERT_TRUE(d0.ok());
    EXPECT_EQ(d0->topics, s.topics);
    EXPECT_EQ(d0->user_data, s.user_data);
    EXPECT_TRUE(d0->owned_partitions.empty());
    EXPECT_EQ(d0->generation_id, -1);
    EXPECT_EQ(d0->rack_id, std::nullopt);
}

TEST(AssignorProtocol, NullUserDataAndRack) {
    Subscription s = sub({"t"});
    const Bytes expected = {0, 3, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(encode_subscription(s), expected);
    auto d = decode_subscription(expected);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
}

TEST(AssignorProtocol, AssignmentKnownBytes) {
    Assignment a;
    a.partitions = {tp("t0", 0), tp("t0", 1)};
    const Bytes null_ud = {0xff, 0xff, 0xff, 0xff};
    for (int16_t v = 0; v <= 3; v++) {
        Bytes expected = concat({{0, static_cast<uint8_t>(v)}, kOwnedT0, null_ud});
        EXPECT_EQ(encode_assignment(a, v), expected) << v;
        auto d = decode_assignment(expected);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(*d, a);
    }
    a.user_data = Bytes{};
    EXPECT_EQ(encode_assignment(a), concat({{0, 3}, kOwnedT0, {0, 0, 0, 0}}));
}

TEST(AssignorProtocol, NewerVersionReadsKnownPrefixAndIgnoresTheRest) {
    Bytes v9 = concat({encode_subscription(full_subscription(), 3), {1, 2, 3, 4, 5}});
    v9[1] = 9;
    auto d = decode_subscription(v9);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(*d, full_subscription());

    Assignment a{{tp("x", 3)}, to_bytes("u")};
    Bytes av = concat({encode_assignment(a), {9, 9}});
    av[1] = 4;
    auto da = decode_assignment(av);
    ASSERT_TRUE(da.ok());
    EXPECT_EQ(*da, a);
}

TEST(AssignorProtocol, MalformedBytesAreErrors) {
    const Bytes good = encode_subscription(full_subscription());
    for (size_t n = 0; n < good.size(); n++) {
        auto d = decode_subscription(ByteView(good.data(), n));
        ASSERT_FALSE(d.ok()) << "truncated at " << n;
        EXPECT_EQ(d.code(), Errc::corrupt_record);
    }
    EXPECT_FALSE(decode_subscription(Bytes{0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}).ok());  // version -1
    EXPECT_FALSE(decode_subscription(Bytes{0, 0, 0x7f, 0xff, 0xff, 0xff}).ok());                    // huge count
    EXPECT_FALSE(decode_subscription(Bytes{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).ok());  // null topics
    EXPECT_FALSE(decode_assignment(Bytes{0, 1, 0, 0, 0, 1, 0xff, 0xff}).ok());  // null topic name
    EXPECT_FALSE(decode_assignment(Bytes{}).ok());
}

// ---- assignors ----

TEST(AssignorRange, KafkaDocExampleTwoMembersTwoTopics) {
    auto out = run("range", {{"t0", 3}, {"t1", 3}}, {{"C0", sub({"t0", "t1"})}, {"C1", sub({"t0", "t1"})}});
    EXPECT_EQ(out["C0"].partitions, (TPs{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)}));
    EXPECT_EQ(out["C1"].partitions, (TPs{tp("t0", 2), tp("t1", 2)}));
}

TEST(AssignorRange, PerTopicSubscribersAndMissingTopics) {
    // Kafka's RangeAssignorTest.testMultipleConsumersMixedTopics.
    auto out = run("range", {{"t1", 3}, {"t2", 2}},
                   {{"c1", sub({"t1"})}, {"c2", sub({"t1", "t2"})}, {"c3", sub({"t1"})}, {"c4", sub({"nope"})}});
    EXPECT_EQ(out["c1"].partitions, (TPs{tp("t1", 0)}));
    EXPECT_EQ(out["c2"].partitions, (TPs{tp("t1", 1), tp("t2", 0), tp("t2", 1)}));
    EXPECT_EQ(out["c3"].partitions, (TPs{tp("t1", 2)}));
    EXPECT_TRUE(out["c4"].partitions.empty());
    EXPECT_EQ(out.size(), 4u);
}

TEST(AssignorRoundRobin, KafkaDocExampleTwoMembersTwoTopics) {
    auto out = run("roundrobin", {{"t0", 3}, {"t1", 3}}, {{"C0", sub({"t0", "t1"})}, {"C1", sub({"t0", "t1"})}});
    EXPECT_EQ(out["C0"].partitions, (TPs{tp("t0", 0), tp("t0", 2), tp("t1", 1)}));
    EXPECT_EQ(out["C1"].partitions, (TPs{tp("t0", 1), tp("t1", 0), tp("t1", 2)}));
}

TEST(AssignorRoundRobin, SkipsMembersNotSubscribed) {
    // Kafka's RoundRobinAssignorTest.testTwoConsumersOneTopicOnePartition and mixed topics.
    auto out = run("roundrobin", {{"t1", 3}, {"t2", 2}},
                   {{"c0", sub({"t1"})}, {"c1", sub({"t1", "t2"})}, {"c2", sub({"t1"})}});
    EXPECT_EQ(out["c0"].partitions, (TPs{tp("t1", 0)}));
    EXPECT_EQ(out["c1"].partitions, (TPs{tp("t1", 1), tp("t2", 0), tp("t2", 1)}));
    EXPECT_EQ(out["c2"].partitions, (TPs{tp("t1", 2)}));
}

TEST(AssignorMake, NamesAndProtocols) {
    EXPECT_EQ(make_assignor("range")->protocol(), RebalanceProtocol::eager);
    EXPECT_EQ(make_assignor("roundrobin")->protocol(), RebalanceProtocol::eager);
    EXPECT_EQ(make_assignor("cooperative-sticky")->protocol(), RebalanceProtocol::cooperative);
    EXPECT_EQ(make_assignor("sticky"), nullptr);
    EXPECT_EQ(make_assignor(""), nullptr);
}

TEST(AssignorSticky, FreshGroupIsBalanced) {
    auto out = run("cooperative-sticky", {{"t0", 3}, {"t1", 3}}, {{"C0", sub({"t0", "t1"})}, {"C1", sub({"t0", "t1"})}});
    EXPECT_EQ(out["C0"].partitions.size(), 3u);
    EXPECT_EQ(out["C1"].partitions.size(), 3u);
}

TEST(AssignorSticky, NewMemberGetsPartitionsInTwoRounds) {
    const std::map<std::string, int32_t> parts{{"t", 4}};
    const TPs all{tp("t", 0), tp("t", 1), tp("t", 2), tp("t", 3)};
    // Round 1: C0 owns everything, C1 joins: C0 keeps two, the two others are revoked
    // and given to nobody yet.
    auto r1 = run("cooperative-sticky", parts, {{"C0", sub({"t"}, all, 3)}, {"C1", sub({"t"})}});
    EXPECT_EQ(r1["C0"].partitions.size(), 2u);
    EXPECT_TRUE(r1["C1"].partitions.empty());
    // Round 2: C0 owns its two; C1 gets the other two, C0 keeps its own.
    auto r2 = run("cooperative-sticky", parts, {{"C0", sub({"t"}, r1["C0"].partitions, 4)}, {"C1", sub({"t"}, {}, 4)}});
    EXPECT_EQ(r2["C0"].partitions, r1["C0"].partitions);
    EXPECT_EQ(r2["C1"].partitions.size(), 2u);
}

TEST(AssignorSticky, HigherGenerationKeepsAContestedPartition) {
    const std::map<std::string, int32_t> parts{{"t", 2}};
    auto out = run("cooperative-sticky", parts, {{"A", sub({"t"}, {tp("t", 1)}, 5)}, {"B", sub({"t"}, {tp("t", 1)}, 3)}});
    EXPECT_EQ(out["A"].partitions, (TPs{tp("t", 1)}));
    EXPECT_EQ(out["B"].partitions, (TPs{tp("t", 0)}));
    out = run("cooperative-sticky", parts, {{"A", sub({"t"}, {tp("t", 1)}, 2)}, {"B", sub({"t"}, {tp("t", 1)}, 3)}});
    EXPECT_EQ(out["B"].partitions, (TPs{tp("t", 1)}));
    EXPECT_EQ(out["A"].partitions, (TPs{tp("t", 0)}));
}

TEST(AssignorSticky, GenerationFromUserDataOfOlderClients) {
    const std::map<std::string, int32_t> parts{{"t", 2}};
    Subscription a = sub({"t"}, {tp("t", 1)});
    a.user_data = Bytes{0, 0, 0, 9};
    Subscription b = sub({"t"}, {tp("t", 1)});
    b.user_data = Bytes{0, 0, 0, 2};
    auto out = run("cooperative-sticky", parts, {{"A", a}, {"B", b}});
    EXPECT_EQ(out["A"].partitions, (TPs{tp("t", 1)}));
    // The loser still claims t-1, so t-0 (unclaimed) is all B gets.
    EXPECT_EQ(out["B"].partitions, (TPs{tp("t", 0)}));
}

TEST(AssignorSticky, UnsubscribedTopicIsRevoked) {
    const std::map<std::string, int32_t> parts{{"t", 2}, {"u", 1}};
    auto out = run("cooperative-sticky", parts,
                   {{"A", sub({"u"}, {tp("t", 0), tp("t", 1)}, 1)}, {"B", sub({"t", "u"}, {}, 1)}});
    // A no longer wants t: B is its only candidate, but A still owns it this round.
    EXPECT_EQ(out["A"].partitions, (TPs{tp("u", 0)}));
    EXPECT_TRUE(out["B"].partitions.empty());
    out = run("cooperative-sticky", parts, {{"A", sub({"u"}, {tp("u", 0)}, 2)}, {"B", sub({"t", "u"}, {}, 2)}});
    EXPECT_EQ(out["B"].partitions, (TPs{tp("t", 0), tp("t", 1)}));
}

}  // namespace
}  // namespace keel::client
