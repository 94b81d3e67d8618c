// DescribeQuorum from the pure node: the leader's view of its voters and observers
// (RaftNode::quorum_progress), KIP-836's LastCaughtUpTimestamp rule fetch by fetch, and
// the answers describe_quorum() builds from it (errors, wall-clock times, Nodes).
#include <gtest/gtest.h>

#include "core/raft/raft_describe.h"
#include "core/raft/raft_node.h"
#include "tests/raft/raft_harness.h"

namespace keel::raft {
namespace {

using namespace keel::protocol;
using testing::Cluster;
using testing::ClusterOptions;

constexpr NodeId n1{1}, n2{2}, n3{3}, o4{4};

// n1 wins the first election: everyone else's election timeout is an hour.
ClusterOptions n1_leads(int voters, int observers) {
    ClusterOptions o;
    o.voters = voters;
    o.observers = observers;
    o.seed = 11;
    o.tweak = [](NodeId id, RaftConfig& c) {
        if (id != n1) c.election_timeout = ms(3'600'000);
    };
    return o;
}

void await_leader_n1(Cluster& c) {
    for (int i = 0; i < 100 && c.leader() != n1; i++) c.run_for(ms(100));
    ASSERT_EQ(c.leader(), n1) << c.dump();
}

// A fetch as follower `from` would send it: answered at once (no long poll).
Message fetch_from(NodeId from, QuorumEpoch epoch, Offset offset, QuorumEpoch last_fetched_epoch) {
    FetchRequest req;
    req.replica_id = from;
    req.max_wait_ms = 0;
    FetchRequest::FetchPartition p;
    p.partition = metadata_partition;
    p.current_leader_epoch = epoch.value();
    p.fetch_offset = offset;
    p.last_fetched_epoch = last_fetched_epoch.value();
    p.partition_max_bytes = 1 << 20;
    req.topics.push_back({"", metadata_topic_id, {p}});
    return Message{from, n1, 500, req};
}

const ReplicaProgress& voter(const QuorumProgress& q, NodeId id) {
    for (const auto& r : q.voters) {
        if (r.id == id) return r;
    }
    throw std::runtime_error("no voter " + std::to_string(id.value()));
}

DescribeQuorumRequest metadata_request() {
    DescribeQuorumRequest req;
    req.topics.push_back({std::string(metadata_topic_name), {{metadata_partition}}});
    return req;
}

TEST(RaftDescribeQuorum, TheLeaderSeesEveryVoterAndTheObserverAtItsLogEnd) {
    Cluster c(n1_leads(3, 1));
    await_leader_n1(c);
    for (int i = 0; i < 4; i++) ASSERT_TRUE(c.propose(n1, "e" + std::to_string(i)).ok());
    c.run_for(ms(1500));  // the observer finds the leader and everyone catches up
    Offset end = c.raft(n1).log().end();
    ASSERT_EQ(c.raft(o4).log().end(), end);

    std::optional<QuorumProgress> q = c.raft(n1).quorum_progress(c.now());
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->leader_id, n1);
    EXPECT_EQ(q->epoch, c.raft(n1).epoch());
    EXPECT_EQ(q->high_watermark, c.raft(n1).high_watermark());
    ASSERT_EQ(q->voters.size(), 3u);
    for (size_t i = 0; i < 3; i++) {
        const ReplicaProgress& r = q->voters[i];
        EXPECT_EQ(r.id, NodeId(static_cast<int32_t>(i + 1))) << "by ascending id";
        EXPECT_EQ(r.log_end_offset, end);
        ASSERT_TRUE(r.last_fetch && r.last_caught_up);
        EXPECT_LE(c.now() - *r.last_fetch, ms(600)) << "followers fetch at least every long poll";
        EXPECT_EQ(r.last_caught_up, r.last_fetch) << "every fetch reached the log end";
    }
    EXPECT_EQ(voter(*q, n1).last_fetch, c.now()) << "the leader reports itself as of now";
    ASSERT_EQ(q->observers.size(), 1u);
    EXPECT_EQ(q->observers[0].id, o4);
    EXPECT_EQ(q->observers[0].log_end_offset, end);
    ASSERT_TRUE(q->observers[0].last_fetch.has_value());

    for (NodeId other : {n2, n3, o4}) {
        EXPECT_FALSE(c.raft(other).quorum_progress(c.now()).has_value()) << "only the leader knows";
    }
}

TEST(RaftDescribeQuorum, AnObserverSilentForTheSessionTimeoutIsNoLongerListed) {
    Cluster c(n1_leads(3, 1));
    await_leader_n1(c);
    c.run_for(ms(1500));
    auto q = c.raft(n1).quorum_progress(c.now());
    ASSERT_EQ(q->observers.size(), 1u);
    Instant last = *q->observers[0].last_fetch;
    Duration timeout = c.raft(n1).config().observer_session_timeout;
    EXPECT_EQ(c.raft(n1).quorum_progress(last + timeout - ms(1))->observers.size(), 1u);
    EXPECT_TRUE(c.raft(n1).quorum_progress(last + timeout)->observers.empty());
    EXPECT_EQ(c.raft(n1).quorum_progress(last + timeout)->voters.size(), 3u) << "voters always are";
}

TEST(RaftDescribeQuorum, AVoterThatNeverFetchedIsUnknown) {
    Cluster c(n1_leads(3, 0));
    c.isolate(n3);
    await_leader_n1(c);
    c.run_for(ms(500));
    auto q = c.raft(n1).quorum_progress(c.now());
    ASSERT_TRUE(q.has_value());
    const ReplicaProgress& r = voter(*q, n3);
    EXPECT_FALSE(r.log_end_offset.has_value());
    EXPECT_FALSE(r.last_fetch.has_value());
    EXPECT_FALSE(r.last_caught_up.has_value());
}

// KIP-836, as Kafka's LeaderState.updateFollowerState: a fetch at the leader's log end is
// caught up now; a fetch that reaches the log end the leader had at the previous fetch was
// caught up as of that previous fetch; anything less leaves the time alone.
TEST(RaftDescribeQuorum, LastCaughtUpFollowsKafkasRuleFetchByFetch) {
    Cluster c(n1_leads(3, 0));
    await_leader_n1(c);
    ASSERT_TRUE(c.propose(n1, "a").ok());
    c.run_for(ms(500));
    c.isolate(n2);  // from here on, n2's fetches are the ones the test injects
    c.run_for(ms(100));
    QuorumEpoch e = c.raft(n1).epoch();
    ASSERT_EQ(c.raft(n1).log().last_epoch(), e);
    auto fetch = [&](Offset at) {
        c.inject(fetch_from(n2, e, at, e));
        return voter(*c.raft(n1).quorum_progress(c.now()), n2);
    };
    Offset end = c.raft(n1).log().end();

    Instant t_a = c.now();
    ReplicaProgress r = fetch(end);
    EXPECT_EQ(r.log_end_offset, end);
    EXPECT_EQ(r.last_fetch, t_a);
    EXPECT_EQ(r.last_caught_up, t_a) << "at the log end: caught up now";

    ASSERT_TRUE(c.propose(n1, "b").ok());
    c.run_for(ms(100));
    Instant t_b = c.now();
    r = fetch(end);
    EXPECT_EQ(r.last_fetch, t_b);
    EXPECT_EQ(r.last_caught_up, t_a) << "behind; it had what the leader had at t_a";

    ASSERT_TRUE(c.propose(n1, "c").ok());
    c.run_for(ms(100));
    Instant t_c = c.now();
    r = fetch(end + 1);
    EXPECT_EQ(r.log_end_offset, end + 1);
    EXPECT_EQ(r.last_caught_up, t_b) << "it now holds the leader's log end as of t_b";

    c.run_for(ms(100));
    r = fetch(end + 1);
    EXPECT_EQ(r.last_caught_up, t_b) << "no progress since t_c: still as of t_b";
    EXPECT_GT(*r.last_fetch, t_c);

    c.run_for(ms(100));
    Instant t_e = c.now();
    r = fetch(end + 2);
    EXPECT_EQ(r.last_caught_up, t_e) << "at the log end again";
}

TEST(RaftDescribeQuorum, TheLeaderAnswersWithWallClockTimesAndItsVotersNodes) {
    Cluster c(n1_leads(3, 1));
    await_leader_n1(c);
    c.run_for(ms(1500));
    auto q = *c.raft(n1).quorum_progress(c.now());
    WallTime wall{1'700'000'000'000LL * 1'000'000};  // the leader's wall clock, now
    std::vector<DescribeQuorumResponse::Node> nodes = {{n1, {{"CONTROLLER", "c1", 9093}}}};

    DescribeQuorumResponse v2 = describe_quorum(c.raft(n1), metadata_request(), 2, c.now(), wall, nodes);
    EXPECT_EQ(v2.error_code, ErrorCode::none);
    ASSERT_EQ(v2.topics.size(), 1u);
    EXPECT_EQ(v2.topics[0].topic_name, metadata_topic_name);
    ASSERT_EQ(v2.topics[0].partitions.size(), 1u);
    const auto& p = v2.topics[0].partitions[0];
    EXPECT_EQ(p.error_code, ErrorCode::none);
    EXPECT_FALSE(p.error_message.has_value());
    EXPECT_EQ(p.leader_id, n1);
    EXPECT_EQ(p.leader_epoch, q.epoch);
    EXPECT_EQ(p.high_watermark, c.raft(n1).high_watermark());
    ASSERT_EQ(p.current_voters.size(), 3u);
    EXPECT_EQ(p.current_voters[0].last_fetch_timestamp, 1'700'000'000'000) << "the leader: now";
    EXPECT_EQ(p.current_voters[0].last_caught_up_timestamp, 1'700'000'000'000);
    Duration ago = c.now() - *voter(q, n2).last_fetch;
    EXPECT_EQ(p.current_voters[1].last_fetch_timestamp, 1'700'000'000'000 - to_ms(ago));
    EXPECT_EQ(p.current_voters[1].log_end_offset, c.raft(n1).log().end());
    ASSERT_EQ(p.observers.size(), 1u);
    EXPECT_EQ(p.observers[0].replica_id, o4);
    EXPECT_EQ(v2.nodes, nodes);

    DescribeQuorumResponse v1 = describe_quorum(c.raft(n1), metadata_request(), 1, c.now(), wall, nodes);
    EXPECT_TRUE(v1.nodes.empty()) << "Nodes exist from v2 only";
}

TEST(RaftDescribeQuorum, AFollowerAnswersNotLeaderWithTheLeaderItKnows) {
    Cluster c(n1_leads(3, 0));
    await_leader_n1(c);
    c.run_for(ms(300));
    auto resp = describe_quorum(c.raft(n2), metadata_request(), 2, c.now(), WallTime{}, {});
    ASSERT_EQ(resp.topics.size(), 1u);
    const auto& p = resp.topics[0].partitions[0];
    EXPECT_EQ(p.error_code, ErrorCode::not_leader_or_follower);
    EXPECT_EQ(p.leader_id, n1);
    EXPECT_EQ(p.leader_epoch, c.raft(n1).epoch());
    EXPECT_EQ(p.error_message, "node 2 is not the quorum leader; the leader is node 1 (epoch " +
                                   std::to_string(c.raft(n1).epoch().value()) + ")");
    EXPECT_TRUE(p.current_voters.empty());
    EXPECT_TRUE(resp.nodes.empty());
}

TEST(RaftDescribeQuorum, AnythingButExactlyTheMetadataPartitionIsAnUnknownPartition) {
    Cluster c(n1_leads(3, 0));
    await_leader_n1(c);
    DescribeQuorumRequest wrong_partition;
    wrong_partition.topics.push_back({std::string(metadata_topic_name), {{1}}});
    DescribeQuorumRequest two = metadata_request();
    two.topics.push_back({"orders", {{0}, {3}}});
    DescribeQuorumRequest none;
    for (const auto& req : {wrong_partition, two}) {
        auto resp = describe_quorum(c.raft(n1), req, 2, c.now(), WallTime{}, {});
        ASSERT_EQ(resp.topics.size(), req.topics.size());
        for (size_t t = 0; t < req.topics.size(); t++) {
            EXPECT_EQ(resp.topics[t].topic_name, req.topics[t].topic_name);
            ASSERT_EQ(resp.topics[t].partitions.size(), req.topics[t].partitions.size());
            for (size_t i = 0; i < req.topics[t].partitions.size(); i++) {
                const auto& p = resp.topics[t].partitions[i];
                EXPECT_EQ(p.partition_index, req.topics[t].partitions[i].partition_index);
                EXPECT_EQ(p.error_code, ErrorCode::unknown_topic_or_partition);
            }
        }
    }
    EXPECT_TRUE(describe_quorum(c.raft(n1), none, 2, c.now(), WallTime{}, {}).topics.empty());
}

}  // namespace
}  // namespace keel::raft
