// The local cluster's description (prod/local_cluster.h): planned shapes and ports, each
// node's server.properties, cluster.json round trips and the errors of a bad file.
#include "prod/local_cluster.h"

#include <gtest/gtest.h>

#include <set>

namespace keel::prod {
namespace {

TEST(LocalCluster, ThreeCombinedNodesGetDistinctPortsAndEveryRole) {
    auto c = plan_cluster("/tmp/x", 3, 0, 0, "");
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    ASSERT_EQ(c->nodes.size(), 3u);
    std::set<int32_t> ports;
    for (const ClusterNode& n : c->nodes) {
        EXPECT_TRUE(n.broker && n.controller);
        EXPECT_EQ(n.roles(), "broker,controller");
        EXPECT_EQ(n.dir, "/tmp/x/node-" + std::to_string(n.id));
        for (int32_t p : {n.port, n.controller_port, n.controller_port + 1}) {
            EXPECT_GT(p, 0);
            EXPECT_TRUE(ports.insert(p).second) << "port " << p << " twice";
        }
    }
    EXPECT_EQ(c->brokers().size(), 3u);
    EXPECT_EQ(c->bootstrap().find("127.0.0.1:"), 0u);
}

TEST(LocalCluster, DedicatedControllersAndBrokers) {
    auto c = plan_cluster("/d", 0, 3, 2, "");
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->nodes.size(), 5u);
    EXPECT_EQ(c->nodes[0].roles(), "controller");
    EXPECT_EQ(c->nodes[0].port, 0);
    EXPECT_EQ(c->nodes[4].roles(), "broker");
    EXPECT_EQ(c->nodes[4].controller_port, 0);
    EXPECT_EQ(c->brokers().size(), 2u);
    std::string voters = c->voters();
    EXPECT_NE(voters.find("1@127.0.0.1:"), std::string::npos);
    EXPECT_NE(voters.find("3@127.0.0.1:"), std::string::npos);
    EXPECT_EQ(voters.find("4@"), std::string::npos) << voters;
}

TEST(LocalCluster, ImpossibleShapesAreRefused) {
    EXPECT_EQ(plan_cluster("/d", 0, 0, 0, "").error().code, Errc::invalid_argument);
    EXPECT_EQ(plan_cluster("/d", 3, 1, 1, "").error().code, Errc::invalid_argument);
    EXPECT_EQ(plan_cluster("/d", 0, 3, 0, "").error().code, Errc::invalid_argument);
    EXPECT_EQ(plan_cluster("/d", -1, 0, 0, "").error().code, Errc::invalid_argument);
}

TEST(LocalCluster, PropertiesUseKafkaNamesAndTheDefaults) {
    auto c = plan_cluster("/d", 3, 0, 0, default_cluster_properties(3) + "log.segment.bytes=1048576");
    ASSERT_TRUE(c.ok());
    std::string p = node_properties(*c, c->nodes[1]);
    for (const char* want : {"process.roles=broker,controller\n", "node.id=2\n", "controller.listener.names=CONTROLLER\n",
                             "log.dirs=/d/node-2/data\n", "cluster.id=keel-local\n", "default.replication.factor=3\n",
                             "min.insync.replicas=2\n", "offsets.topic.replication.factor=3\n",
                             "log.segment.bytes=1048576\n"}) {
        EXPECT_NE(p.find(want), std::string::npos) << want << " missing in\n" << p;
    }
    EXPECT_NE(p.find("listeners=PLAINTEXT://127.0.0.1:" + std::to_string(c->nodes[1].port) +
                     ",CONTROLLER://127.0.0.1:" + std::to_string(c->nodes[1].controller_port) + "\n"),
              std::string::npos)
        << p;
    EXPECT_NE(p.find("controller.quorum.voters=" + c->voters() + "\n"), std::string::npos);
    EXPECT_EQ(default_cluster_properties(1).find("replication.factor"), std::string::npos);
}

TEST(LocalCluster, ClusterJsonRoundTrips) {
    auto c = plan_cluster("/tmp/with \"quote\"", 0, 1, 3, "");
    ASSERT_TRUE(c.ok());
    c->nodes[2].pid = 4242;
    auto back = parse_cluster_json(cluster_json(*c));
    ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << cluster_json(*c);
    EXPECT_EQ(back->dir, c->dir);
    EXPECT_EQ(back->cluster_id, c->cluster_id);
    ASSERT_EQ(back->nodes.size(), c->nodes.size());
    for (size_t i = 0; i < c->nodes.size(); i++) {
        EXPECT_EQ(back->nodes[i].id, c->nodes[i].id);
        EXPECT_EQ(back->nodes[i].roles(), c->nodes[i].roles());
        EXPECT_EQ(back->nodes[i].port, c->nodes[i].port);
        EXPECT_EQ(back->nodes[i].controller_port, c->nodes[i].controller_port);
        EXPECT_EQ(back->nodes[i].pid, c->nodes[i].pid);
        EXPECT_EQ(back->nodes[i].dir, c->nodes[i].dir);
    }
    EXPECT_EQ(back->bootstrap(), c->bootstrap());
}

TEST(LocalCluster, BadClusterJsonNamesTheProblem) {
    auto err = [](const std::string& text) {
        auto r = parse_cluster_json(text);
        return r.ok() ? std::string("ok") : r.error().message;
    };
    EXPECT_NE(err("").find("not valid JSON"), std::string::npos);
    EXPECT_NE(err("{\"dir\":\"/d\"").find("not valid JSON"), std::string::npos);
    EXPECT_NE(err("{\"dir\":\"/d\",\"cluster_id\":\"c\"}").find("\"nodes\""), std::string::npos);
    std::string node = R"({"id":1,"roles":"broker,controller","port":1,"controller_port":2,"pid":3,"dir":"/d/node-1"})";
    std::string head = R"({"dir":"/d","cluster_id":"c","nodes":[)";
    EXPECT_EQ(err(head + node + "]}"), "ok");
    EXPECT_NE(err(head + node + "," + node + "]}").find("twice"), std::string::npos);
    std::string no_pid = R"({"id":1,"roles":"broker","port":1,"controller_port":0,"dir":"/d"})";
    EXPECT_NE(err(head + no_pid + "]}").find("nodes[0]: missing \"pid\""), std::string::npos);
    std::string bad_role = R"({"id":1,"roles":"witch","port":1,"controller_port":0,"pid":0,"dir":"/d"})";
    EXPECT_NE(err(head + bad_role + "]}").find("unknown roles"), std::string::npos);
    std::string neg = R"({"id":1,"roles":"broker","port":-5,"controller_port":0,"pid":0,"dir":"/d"})";
    EXPECT_NE(err(head + neg + "]}").find("non-negative integer"), std::string::npos);
    std::string no_port = R"({"id":1,"roles":"broker","port":0,"controller_port":0,"pid":0,"dir":"/d"})";
    EXPECT_NE(err(head + no_port + "]}").find("port"), std::string::npos);
}

TEST(LocalCluster, QuorumStateNamesTheLeaderAndItsEpoch) {
    auto q = parse_quorum_state("{\"leaderEpoch\":7,\"leaderId\":2,\"votedId\":2,\"catchingUp\":false,\"data_version\":0}\ncrc32c=f537bea3\n");
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->epoch, 7);
    EXPECT_EQ(q->leader, 2);
    EXPECT_FALSE(parse_quorum_state("{\"leaderEpoch\":3,\"leaderId\":-1}").has_value());  // no leader known
    EXPECT_FALSE(parse_quorum_state("{\"leaderEpoch\":3}").has_value());
    EXPECT_FALSE(parse_quorum_state("garbage").has_value());
}

}  // namespace
}  // namespace keel::prod
