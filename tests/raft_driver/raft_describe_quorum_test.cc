// DescribeQuorum against running drivers in the simulator: an operator's node (any client
// id) asks the leader of 3 voters + 1 observer and gets the quorum's replication state;
// a follower answers NOT_LEADER_OR_FOLLOWER naming the leader; a truncated request
// closes only that connection.
#include <gtest/gtest.h>

#include "core/protocol/describe_quorum.h"
#include "core/protocol/frame.h"
#include "core/raft/raft_driver.h"
#include "tests/raft_driver/sim_fixture.h"

namespace keel::raft {
namespace {

using namespace keel::protocol;
using testing::Sim;

Bytes describe_frame(int16_t version, int32_t correlation_id) {
    DescribeQuorumRequest req;
    req.topics.push_back({std::string(metadata_topic_name), {{metadata_partition}}});
    // Kafka's admin client, not a raft peer: the driver answers any client id.
    return encode_request(RequestHeader{ApiKey::describe_quorum, version, correlation_id,
                                        std::string("adminclient-1")},
                          req);
}

struct Answer {
    Result<DescribeQuorumResponse> response = Error{Errc::timeout, "not asked"};
    int32_t correlation_id = 0;
    int64_t asked_at_wall_ms = 0;  // the asking node's wall clock
};

// Sends `frames` to `target` on one connection and decodes each reply as `version`.
void ask(env::Env& env, const std::string& target, const std::vector<std::pair<int16_t, Bytes>>& frames,
         std::vector<Answer>& out) {
    auto conn = env.network().connect(env::Address{target, 9093}, env.now() + 2s);
    if (!conn.ok()) return;
    for (const auto& [version, frame] : frames) {
        Answer a;
        a.asked_at_wall_ms = env.clock().wall_now().ms();
        if (!(*conn)->send(frame).ok()) return;
        auto reply = (*conn)->receive(env.now() + 1s);
        if (!reply.ok()) {
            a.response = reply.error();
        } else {
            a.response = decode_response<DescribeQuorumResponse>(*reply, version, &a.correlation_id);
        }
        out.push_back(std::move(a));
    }
}

// Runs 3 voters and one broker (an observer) until they have committed some entries.
struct Steady {
    Sim s;
    std::string leader;
    RaftStatus leader_status;
    int asked = 0;
    explicit Steady(uint64_t seed) : s(seed, options()) {
        auto& c = *s.cluster;
        bool ok = s.world.run_until([&] { return c.monitor().committed_end() > Offset(30); }, 30s);
        EXPECT_TRUE(ok);
        s.world.run_for(2s);  // the observer has found the leader
        leader = c.leader().value_or("");
        leader_status = *c.status(leader);
    }
    static scenarios::QuorumOptions options() {
        scenarios::QuorumOptions o;
        o.brokers = 1;
        return o;
    }
    std::vector<Answer> ask_node(const std::string& target, std::vector<std::pair<int16_t, Bytes>> frames) {
        std::vector<Answer> out;
        bool done = false;
        s.world.add_node("ops" + std::to_string(++asked) + "-" + target, [&, target](env::Env& env) {
            ask(env, target, frames, out);
            done = true;
        });
        EXPECT_TRUE(s.world.run_until([&] { return done; }, 10s));
        return out;
    }
};

TEST(RaftDriverDescribeQuorum, TheLeaderDescribesItsVotersObserverAndListeners) {
    Steady q(21);
    auto& c = *q.s.cluster;
    ASSERT_FALSE(q.leader.empty());
    std::vector<Answer> answers = q.ask_node(q.leader, {{2, describe_frame(2, 101)}, {0, describe_frame(0, 102)}});
    RaftStatus after = *c.status(q.leader);
    ASSERT_EQ(after.epoch, q.leader_status.epoch) << "the leader did not change meanwhile";
    ASSERT_EQ(answers.size(), 2u) << "both requests answered on one connection";

    const Answer& a = answers[0];
    ASSERT_TRUE(a.response.ok()) << a.response.error().to_string();
    EXPECT_EQ(a.correlation_id, 101);
    const DescribeQuorumResponse& r = *a.response;
    EXPECT_EQ(r.error_code, ErrorCode::none);
    ASSERT_EQ(r.topics.size(), 1u);
    EXPECT_EQ(r.topics[0].topic_name, metadata_topic_name);
    ASSERT_EQ(r.topics[0].partitions.size(), 1u);
    const auto& p = r.topics[0].partitions[0];
    EXPECT_EQ(p.error_code, ErrorCode::none);
    EXPECT_EQ(p.leader_id, c.id_of(q.leader));
    EXPECT_EQ(p.leader_epoch, after.epoch);
    EXPECT_GE(p.high_watermark, q.leader_status.high_watermark);
    EXPECT_LE(p.high_watermark, after.high_watermark);

    ASSERT_EQ(p.current_voters.size(), 3u);
    int holding_committed = 0;
    for (const auto& v : p.current_voters) holding_committed += v.log_end_offset >= p.high_watermark ? 1 : 0;
    EXPECT_GE(holding_committed, 2) << "a majority holds what is committed";
    int64_t leader_now_ms = -1;
    for (const auto& v : p.current_voters) {
        if (v.replica_id == p.leader_id) leader_now_ms = v.last_fetch_timestamp;
    }
    ASSERT_GT(leader_now_ms, 0);
    for (size_t i = 0; i < 3; i++) {
        const auto& v = p.current_voters[i];
        EXPECT_EQ(v.replica_id, NodeId(static_cast<int32_t>(i + 1)));
        EXPECT_TRUE(v.replica_directory_id.is_zero());
        EXPECT_GT(v.log_end_offset, Offset(0));
        EXPECT_LE(v.log_end_offset, after.log_end);
        // Proposals keep coming, so a follower is caught up as of some fetch within a
        // second or so of now (it fetches at least every 500 ms long poll).
        EXPECT_LE(leader_now_ms - v.last_fetch_timestamp, 1000) << v.replica_id.value();
        EXPECT_GE(leader_now_ms, v.last_fetch_timestamp);
        EXPECT_GT(v.last_caught_up_timestamp, 0) << v.replica_id.value();
        EXPECT_LE(v.last_caught_up_timestamp, v.last_fetch_timestamp);
    }
    ASSERT_EQ(p.observers.size(), 1u);
    EXPECT_EQ(p.observers[0].replica_id, c.id_of(c.brokers()[0]));
    EXPECT_GT(p.observers[0].log_end_offset, Offset(0));
    EXPECT_GT(p.observers[0].last_fetch_timestamp, 0);

    ASSERT_EQ(r.nodes.size(), 3u);
    for (size_t i = 0; i < 3; i++) {
        EXPECT_EQ(r.nodes[i].node_id, NodeId(static_cast<int32_t>(i + 1)));
        DescribeQuorumResponse::Listener want{"CONTROLLER", "c" + std::to_string(i + 1), 9093};
        EXPECT_EQ(r.nodes[i].listeners, std::vector<DescribeQuorumResponse::Listener>{want});
    }

    const Answer& v0 = answers[1];
    ASSERT_TRUE(v0.response.ok()) << v0.response.error().to_string();
    EXPECT_EQ(v0.correlation_id, 102);
    const auto& p0 = v0.response->topics.at(0).partitions.at(0);
    EXPECT_EQ(p0.leader_id, p.leader_id);
    EXPECT_EQ(p0.current_voters.size(), 3u);
    EXPECT_EQ(p0.current_voters[0].last_fetch_timestamp, -1) << "v0 has no timestamps";
    EXPECT_TRUE(c.monitor().ok());
}

TEST(RaftDriverDescribeQuorum, AFollowerAnswersNotLeaderOrFollowerNamingTheLeader) {
    Steady q(22);
    auto& c = *q.s.cluster;
    ASSERT_FALSE(q.leader.empty());
    std::string follower = c.controllers()[0] == q.leader ? c.controllers()[1] : c.controllers()[0];
    std::vector<Answer> answers = q.ask_node(follower, {{1, describe_frame(1, 7)}});
    ASSERT_EQ(answers.size(), 1u);
    ASSERT_TRUE(answers[0].response.ok()) << answers[0].response.error().to_string();
    const auto& p = answers[0].response->topics.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, ErrorCode::not_leader_or_follower);
    EXPECT_EQ(p.leader_id, c.id_of(q.leader));
    EXPECT_EQ(p.leader_epoch, c.status(q.leader)->epoch);
    EXPECT_TRUE(p.current_voters.empty());
}

TEST(RaftDriverDescribeQuorum, ATruncatedRequestClosesOnlyItsConnection) {
    Steady q(23);
    auto& c = *q.s.cluster;
    ASSERT_FALSE(q.leader.empty());
    Bytes cut = describe_frame(2, 9);
    cut.resize(cut.size() - 2);
    std::vector<Answer> answers = q.ask_node(q.leader, {{2, cut}});
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].response.code(), Errc::disconnected);
    answers = q.ask_node(q.leader, {{2, describe_frame(2, 10)}});
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_TRUE(answers[0].response.ok()) << "a new connection is served";
    Offset before = c.monitor().committed_end();
    q.s.world.run_for(2s);
    EXPECT_GT(c.monitor().committed_end(), before);
    EXPECT_TRUE(c.monitor().ok());
}

}  // namespace
}  // namespace keel::raft
