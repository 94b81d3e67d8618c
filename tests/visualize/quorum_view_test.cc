// visualize/quorum.h: the status JSON parses into a view, bad JSON is an error (never a
// crash), and the DOT shows roles, votes, fetches and the log bar.
#include <gtest/gtest.h>

#include "visualize/quorum.h"

namespace keel::viz {
namespace {

const char* kStatus = R"({"t_ns":12000000000,"seed":7,"committed_end":610,"monitor_violations":0,"nodes":[
 {"name":"c1","id":1,"voter":true,"state":"up","role":"leader","epoch":5,"leader":1,"voted_for":1,
  "catching_up":false,"log_start":400,"log_end":612,"high_watermark":610,"applied":610,"snapshot_end":400,
  "fetch_offsets":{"1":612,"2":610,"3":598}},
 {"name":"c2","id":2,"voter":true,"state":"up","role":"follower","epoch":5,"leader":1,"voted_for":1,
  "catching_up":false,"log_start":400,"log_end":610,"high_watermark":610,"applied":610,"snapshot_end":400,
  "fetch_offsets":{}},
 {"name":"c3","id":3,"voter":true,"state":"down","unreachable":["c1","c2"]},
 {"name":"c4","id":4,"voter":true,"state":"up","role":"follower","epoch":5,"leader":1,"voted_for":1,
  "log_start":400,"log_end":600,"high_watermark":600,"applied":600,"unreachable":["c1"]},
 {"name":"b1","id":101,"voter":false,"state":"paused"}]})";

TEST(QuorumView, ParsesEveryNodeAndItsRaftFields) {
    std::string error;
    QuorumView v = parse_quorum_status(kStatus, error);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_EQ(v.t_ns, 12'000'000'000);
    EXPECT_EQ(v.seed, 7u);
    EXPECT_EQ(v.committed_end, 610);
    ASSERT_EQ(v.nodes.size(), 5u);
    EXPECT_EQ(v.nodes[0].role, "leader");
    EXPECT_EQ(v.nodes[0].epoch, 5);
    EXPECT_EQ(v.nodes[0].high_watermark, 610);
    EXPECT_EQ(v.nodes[0].fetch_offsets.at(3), 598);
    EXPECT_EQ(v.nodes[1].voted_for, 1);
    EXPECT_EQ(v.nodes[2].state, "down");
    EXPECT_TRUE(v.nodes[2].role.empty());
    EXPECT_EQ(v.nodes[2].unreachable, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_FALSE(v.nodes[4].voter);
}

TEST(QuorumView, DrawsRolesVotesFetchesAndState) {
    std::string error;
    QuorumView v = parse_quorum_status(kStatus, error);
    ASSERT_TRUE(error.empty()) << error;
    std::string dot = quorum_dot(v, "test");
    EXPECT_NE(dot.find("digraph"), std::string::npos);
    EXPECT_NE(dot.find("controllers (voters)"), std::string::npos);
    EXPECT_NE(dot.find("brokers (observers)"), std::string::npos);
    EXPECT_NE(dot.find("leader"), std::string::npos);
    EXPECT_NE(dot.find("vote e5"), std::string::npos) << dot;
    EXPECT_NE(dot.find("fetch"), std::string::npos);
    EXPECT_NE(dot.find("down"), std::string::npos);
    EXPECT_NE(dot.find("paused"), std::string::npos);
    EXPECT_NE(dot.find("hw 610"), std::string::npos) << dot;
    // c4 cannot send to its leader: its fetch is drawn blocked, and its label says so.
    EXPECT_NE(dot.find("\"c4\" -> \"c1\" [label=\"fetch (blocked)\""), std::string::npos) << dot;
    EXPECT_NE(dot.find("\"c2\" -> \"c1\" [label=\"fetch\"]"), std::string::npos) << dot;
    EXPECT_NE(dot.find("cannot send to: c1"), std::string::npos) << dot;
}

TEST(QuorumView, BadJsonIsAnErrorNotACrash) {
    for (const char* bad : {"", "{", "[]", "{\"nodes\":3}", "{\"nodes\":[{\"name\":", "not json at all",
                            "{\"t_ns\":\"x\",\"nodes\":[]}", "{\"nodes\":[3]}",
                            "{\"nodes\":[{\"id\":1,\"state\":\"up\"}]}",
                            "{\"nodes\":[{\"name\":\"a\\\"];evil\",\"id\":1,\"state\":\"up\"}]}",
                            "{\"nodes\":[{\"name\":\"c1\",\"state\":\"up\"}]}",
                            "{\"nodes\":[{\"name\":\"c1\",\"id\":1,\"state\":\"sleeping\"}]}",
                            "{\"nodes\":[{\"name\":\"c1\",\"id\":1,\"state\":\"up\",\"unreachable\":[\"<b>\"]}]}"}) {
        std::string error;
        (void)parse_quorum_status(bad, error);
        EXPECT_FALSE(error.empty()) << "accepted: " << bad;
    }
    // Cut the good status at every length: never a crash.
    std::string good = kStatus;
    for (size_t n = 0; n < good.size(); n += 7) {
        std::string error;
        (void)parse_quorum_status(good.substr(0, n), error);
    }
}

}  // namespace
}  // namespace keel::viz
