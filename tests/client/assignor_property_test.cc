// Properties of the assignors and of the consumer protocol bytes, over groups RapidCheck
// draws: every partition to at most one member (exactly one for the eager assignors),
// only to members subscribed to its topic, balance, stickiness, and the cooperative rule
// (a partition is never given to a new member in the round it is taken from its owner).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <set>

#include "core/client/assignor.h"

namespace keel::client {
namespace {

using Parts = std::map<std::string, int32_t>;
using Members = std::map<std::string, Subscription>;
using Result_ = std::map<std::string, Assignment>;

Parts gen_parts() {
    Parts parts;
    const int topics = *rc::gen::inRange(1, 5);
    for (int t = 0; t < topics; t++) parts["t" + std::to_string(t)] = *rc::gen::inRange(0, 9);
    return parts;
}

std::vector<std::string> gen_topics(const Parts& parts) {
    std::vector<std::string> topics;
    for (const auto& [t, n] : parts) {
        if (*rc::gen::inRange(0, 3) != 0) topics.push_back(t);
    }
    if (*rc::gen::inRange(0, 8) == 0) topics.push_back("missing");
    return topics;
}

Members gen_members(const Parts& parts, bool identical) {
    Members members;
    const int n = *rc::gen::inRange(1, 7);
    const auto shared = gen_topics(parts);
    for (int m = 0; m < n; m++) {
        members["m" + std::to_string(m)].topics = identical ? shared : gen_topics(parts);
    }
    return members;
}

// Every existing partition of a topic some member subscribed to.
std::set<TopicPartitionName> subscribed_partitions(const Parts& parts, const Members& members) {
    std::set<TopicPartitionName> out;
    for (const auto& [id, s] : members) {
        for (const auto& t : s.topics) {
            auto it = parts.find(t);
            if (it == parts.end()) continue;
            for (int32_t p = 0; p < it->second; p++) out.insert({t, PartitionIndex(p)});
        }
    }
    return out;
}

// At most once, only to subscribers; returns partition → member.
std::map<TopicPartitionName, std::string> check_valid(const Parts& parts, const Members& members, const Result_& out) {
    RC_ASSERT(out.size() == members.size());
    const auto all = subscribed_partitions(parts, members);
    std::map<TopicPartitionName, std::string> owner;
    for (const auto& [id, a] : out) {
        RC_ASSERT(members.contains(id));
        const auto& topics = members.at(id).topics;
        for (const auto& tp : a.partitions) {
            RC_ASSERT(all.contains(tp));
            RC_ASSERT(std::find(topics.begin(), topics.end(), tp.topic) != topics.end());
            RC_ASSERT(owner.emplace(tp, id).second);
        }
    }
    return owner;
}

void check_complete(const Parts& parts, const Members& members, const Result_& out) {
    RC_ASSERT(check_valid(parts, members, out).size() == subscribed_partitions(parts, members).size());
}

void check_balanced(const Result_& out) {
    size_t lo = SIZE_MAX, hi = 0;
    for (const auto& [id, a] : out) {
        lo = std::min(lo, a.partitions.size());
        hi = std::max(hi, a.partitions.size());
    }
    RC_ASSERT(hi - lo <= 1);
}

Result_ assign(std::string_view name, const Parts& parts, const Members& members) {
    return make_assignor(name)->assign(parts, members);
}

// The members of `members` owning what `prev` gave them, at `generation`.
Members with_owned(Members members, const Result_& prev, int32_t generation) {
    for (auto& [id, s] : members) {
        s.owned_partitions = prev.at(id).partitions;
        s.generation_id = generation;
    }
    return members;
}

// Cooperative: a partition goes to a member that did not claim it only if nobody did.
void check_cooperative(const Members& members, const Result_& out) {
    std::set<TopicPartitionName> claimed;
    for (const auto& [id, s] : members) claimed.insert(s.owned_partitions.begin(), s.owned_partitions.end());
    for (const auto& [id, a] : out) {
        const auto& own = members.at(id).owned_partitions;
        for (const auto& tp : a.partitions) {
            const bool owned_here = std::find(own.begin(), own.end(), tp) != own.end();
            RC_ASSERT(owned_here || !claimed.contains(tp));
        }
    }
}

TEST(AssignorProperty, EagerAssignorsAssignEveryPartitionOnceToASubscriber) {
    EXPECT_TRUE(rc::check("range/roundrobin: complete and valid", [] {
        const Parts parts = gen_parts();
        const Members members = gen_members(parts, *rc::gen::arbitrary<bool>());
        check_complete(parts, members, assign("range", parts, members));
        check_complete(parts, members, assign("roundrobin", parts, members));
        check_complete(parts, members, assign("cooperative-sticky", parts, members));  // nothing owned
    }));
}

TEST(AssignorProperty, RoundRobinAndStickyBalanceIdenticalSubscriptions) {
    EXPECT_TRUE(rc::check("balanced", [] {
        const Parts parts = gen_parts();
        const Members members = gen_members(parts, true);
        check_balanced(assign("roundrobin", parts, members));
        check_balanced(assign("cooperative-sticky", parts, members));
    }));
}

TEST(AssignorProperty, StickyMovesNothingWhenMembershipIsUnchanged) {
    EXPECT_TRUE(rc::check("sticky: fixed point", [] {
        const Parts parts = gen_parts();
        const Members members = gen_members(parts, *rc::gen::arbitrary<bool>());
        const Result_ r1 = assign("cooperative-sticky", parts, members);
        const Result_ r2 = assign("cooperative-sticky", parts, with_owned(members, r1, 1));
        RC_ASSERT(r2 == r1);
    }));
}

// Arbitrary claims: overlapping, stale, of unsubscribed topics or unknown partitions.
Members gen_claims(const Parts& parts, Members members) {
    for (auto& [id, s] : members) {
        for (const auto& [t, n] : parts) {
            for (int32_t p = 0; p <= n; p++) {
                if (*rc::gen::inRange(0, 3) == 0) s.owned_partitions.push_back({t, PartitionIndex(p)});
            }
        }
        s.generation_id = *rc::gen::inRange(-1, 4);
    }
    return members;
}

void check_cooperative_rounds(bool identical) {
    const Parts parts = gen_parts();
    const Members members = gen_claims(parts, gen_members(parts, identical));
    const Result_ r1 = assign("cooperative-sticky", parts, members);
    check_valid(parts, members, r1);
    check_cooperative(members, r1);
    // The follow-up rebalance: everyone owns what round 1 gave it.
    const Members next = with_owned(members, r1, 10);
    const Result_ r2 = assign("cooperative-sticky", parts, next);
    check_complete(parts, next, r2);
    check_cooperative(next, r2);
    for (const auto& [id, a] : r1) {
        for (const auto& tp : a.partitions) {
            const auto& kept = r2.at(id).partitions;
            RC_ASSERT(std::find(kept.begin(), kept.end(), tp) != kept.end());
        }
    }
    if (identical) check_balanced(r2);
}

TEST(AssignorProperty, CooperativeTwoRoundsIdenticalSubscriptions) {
    EXPECT_TRUE(rc::check("cooperative: complete after the follow-up round", [] { check_cooperative_rounds(true); }));
}

TEST(AssignorProperty, CooperativeTwoRoundsMixedSubscriptions) {
    EXPECT_TRUE(rc::check("cooperative, mixed: complete after the follow-up round", [] { check_cooperative_rounds(false); }));
}

// ---- bytes ----

std::string gen_name() { return *rc::gen::container<std::string>(rc::gen::inRange('a', 'z')); }

std::vector<TopicPartitionName> gen_grouped_partitions() {
    std::vector<TopicPartitionName> out;
    std::set<std::string> seen;
    const int topics = *rc::gen::inRange(0, 4);
    for (int t = 0; t < topics; t++) {
        const std::string topic = gen_name();
        if (!seen.insert(topic).second) continue;
        for (int32_t p : *rc::gen::container<std::vector<int32_t>>(rc::gen::arbitrary<int32_t>())) {
            out.push_back({topic, PartitionIndex(p)});
        }
    }
    return out;
}

std::optional<Bytes> gen_user_data() {
    if (*rc::gen::arbitrary<bool>()) return std::nullopt;
    return *rc::gen::arbitrary<Bytes>();
}

TEST(AssignorProperty, SubscriptionAndAssignmentRoundTripAtEveryVersion) {
    EXPECT_TRUE(rc::check("encode/decode", [] {
        Subscription s;
        s.topics = *rc::gen::container<std::vector<std::string>>(rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
        s.user_data = gen_user_data();
        s.owned_partitions = gen_grouped_partitions();
        s.generation_id = *rc::gen::arbitrary<int32_t>();
        if (*rc::gen::arbitrary<bool>()) s.rack_id = gen_name();
        const auto version = *rc::gen::inRange<int16_t>(0, 4);
        Subscription expected = s;
        if (version < 1) expected.owned_partitions.clear();
        if (version < 2) expected.generation_id = -1;
        if (version < 3) expected.rack_id.reset();
        auto d = decode_subscription(encode_subscription(s, version));
        RC_ASSERT(d.ok());
        RC_ASSERT(*d == expected);

        const Assignment a{gen_grouped_partitions(), gen_user_data()};
        auto da = decode_assignment(encode_assignment(a, version));
        RC_ASSERT(da.ok());
        RC_ASSERT(*da == a);
    }));
}

TEST(AssignorProperty, DecodingGarbageNeverCrashes) {
    EXPECT_TRUE(rc::check("decode random and mutated bytes", [] {
        Bytes b = *rc::gen::arbitrary<Bytes>();
        if (*rc::gen::arbitrary<bool>()) {
            Subscription s{{"a", "b"}, Bytes{1}, {{"a", PartitionIndex(1)}}, 3, "r"};
            b = encode_subscription(s);
            const auto at = *rc::gen::inRange<size_t>(0, b.size());
            b[at] = *rc::gen::arbitrary<uint8_t>();
            b.resize(*rc::gen::inRange<size_t>(0, b.size() + 1));
        }
        auto s = decode_subscription(b);
        if (!s.ok()) RC_ASSERT(s.code() == Errc::corrupt_record);
        auto a = decode_assignment(b);
        if (!a.ok()) RC_ASSERT(a.code() == Errc::corrupt_record);
    }));
}

}  // namespace
}  // namespace keel::client
