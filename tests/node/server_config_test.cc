// server.properties → NodeConfig: the embedded defaults, Kafka's names and precedence, and
// every refusal naming the property.
#include "core/node/server_config.h"

#include <gtest/gtest.h>

namespace keel::node {
namespace {

Result<ServerConfig> from_text(std::string_view text) {
    KEEL_TRY_ASSIGN(auto props, parse_properties(text));
    return server_config_from(props);
}

// The error message of a config that must be refused.
std::string refusal(std::string_view text) {
    auto c = from_text(text);
    EXPECT_FALSE(c.ok()) << text;
    return c.ok() ? "" : c.error().message;
}

TEST(ServerConfig, NoPropertiesIsTheEmbeddedSingleNode) {
    auto c = server_config_from({});
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(c->node.broker);
    EXPECT_TRUE(c->node.controller);
    EXPECT_EQ(c->node.id, NodeId(1));
    EXPECT_EQ(c->node.broker_listen, (env::Address{"localhost", 9092}));
    EXPECT_EQ(c->node.raft_listen, (env::Address{"localhost", 9093}));
    EXPECT_EQ(c->node.controller_listen, (env::Address{"localhost", 9094}));
    EXPECT_EQ(c->node.controller_addresses.at(NodeId(1)), (env::Address{"localhost", 9094}));
    EXPECT_EQ(c->node.advertised_host, "localhost");
    EXPECT_EQ(c->node.advertised_port, 9092);
    EXPECT_EQ(c->log_dir, "keel-data");
    EXPECT_FALSE(c->cluster_id.has_value());
    EXPECT_TRUE(c->node.broker_config.auto_create_topics_enable);
    EXPECT_TRUE(c->node.broker_config.delete_topic_enable);
    EXPECT_EQ(c->node.broker_config.log_defaults.retention_ms, 168LL * 3600 * 1000);
}

TEST(ServerConfig, MetricsPortIsOffUnlessGivenAndListensOnTheClientListenersHost) {
    EXPECT_FALSE(server_config_from({})->metrics_listen.has_value());
    EXPECT_FALSE(from_text("metrics.port=0")->metrics_listen.has_value());
    auto c = from_text("metrics.port=9404\nlisteners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n"
                       "controller.quorum.voters=1@127.0.0.1:9093");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->metrics_listen, (env::Address{"127.0.0.1", 9404}));
}

TEST(ServerConfig, RefusesAMetricsPortOutsideTheRangeByName) {
    EXPECT_NE(refusal("metrics.port=65536").find("metrics.port=65536"), std::string::npos);
    EXPECT_NE(refusal("metrics.port=-1").find("metrics.port"), std::string::npos);
    EXPECT_NE(refusal("metrics.port=http").find("expected an integer in [0, 65535]"), std::string::npos);
}

TEST(ServerConfig, ReadsAThreeNodeKafkaFile) {
    auto c = from_text(R"(# a Kafka KRaft file
process.roles=broker,controller
node.id=2
controller.quorum.voters=1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093
listeners=PLAINTEXT://:29092,CONTROLLER://127.0.0.1:29093
advertised.listeners=PLAINTEXT://kafka-2.example:29092
controller.listener.names=CONTROLLER
log.dirs=/var/lib/keel/2
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
log.retention.hours=1
log.retention.ms=5000
log.segment.bytes=1048576
message.max.bytes: 2000000
auto.create.topics.enable = false
delete.topic.enable=false
)");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->node.id, NodeId(2));
    EXPECT_EQ(c->node.voter_raft_addresses.size(), 3u);
    EXPECT_EQ(c->node.controller_addresses.at(NodeId(3)), (env::Address{"127.0.0.1", 39094}));
    EXPECT_EQ(c->node.broker_listen, (env::Address{"", 29092}));
    EXPECT_EQ(c->node.advertised_host, "kafka-2.example");
    EXPECT_EQ(c->log_dir, "/var/lib/keel/2");
    EXPECT_EQ(c->node.controller_config.default_num_partitions, 3);
    EXPECT_EQ(c->node.controller_config.default_replication_factor, 3);
    EXPECT_EQ(c->node.broker_config.min_insync_replicas, 2);
    EXPECT_EQ(c->node.broker_config.log_defaults.retention_ms, 5000);  // ms wins over hours
    EXPECT_EQ(c->node.broker_config.log_defaults.segment_bytes, 1048576);
    EXPECT_EQ(c->node.broker_config.message_max_bytes, 2000000);
    EXPECT_FALSE(c->node.broker_config.auto_create_topics_enable);
    EXPECT_FALSE(c->node.broker_config.delete_topic_enable);
}

TEST(ServerConfig, AnUnknownPropertyIsRefusedByName) {
    EXPECT_NE(refusal("log.dirs=/x\nsocket.send.buffer.byts=1\n").find("socket.send.buffer.byts"),
              std::string::npos);
}

TEST(ServerConfig, AnInvalidValueIsRefusedByName) {
    EXPECT_NE(refusal("num.partitions=zero").find("num.partitions"), std::string::npos);
    EXPECT_NE(refusal("num.partitions=0").find("num.partitions"), std::string::npos);
    EXPECT_NE(refusal("process.roles=broker,zookeeper").find("process.roles"), std::string::npos);
    EXPECT_NE(refusal("auto.create.topics.enable=yes").find("auto.create.topics.enable"),
              std::string::npos);
    EXPECT_NE(refusal("delete.topic.enable=1").find("delete.topic.enable"), std::string::npos);
    EXPECT_NE(refusal("controller.quorum.voters=1@localhost").find("controller.quorum.voters"),
              std::string::npos);
    EXPECT_NE(refusal("log.dirs=/a,/b").find("log.dirs"), std::string::npos);
    EXPECT_NE(refusal("log.cleanup.policy=shred").find("log.cleanup.policy"), std::string::npos);
    EXPECT_NE(refusal("unclean.leader.election.enable=true").find("unclean.leader.election.enable"),
              std::string::npos);
    EXPECT_NE(
        refusal("listener.security.protocol.map=PLAINTEXT:SSL,CONTROLLER:PLAINTEXT").find("SSL"),
        std::string::npos);
}

// log.segment.delete.delay.ms: when a deleted topic's -delete directories are removed.
TEST(ServerConfig, SegmentDeleteDelay) {
    auto d = server_config_from({});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->node.broker_config.file_delete_delay, ms(60'000));  // Kafka's default
    auto zero = server_config_from({{"log.segment.delete.delay.ms", "0"}});
    ASSERT_TRUE(zero.ok()) << zero.error().message;
    EXPECT_EQ(zero->node.broker_config.file_delete_delay, ms(0));
    auto hour = server_config_from({{"log.segment.delete.delay.ms", "3600000"}});
    ASSERT_TRUE(hour.ok());
    EXPECT_EQ(hour->node.broker_config.file_delete_delay, ms(3'600'000));
    EXPECT_NE(refusal("log.segment.delete.delay.ms=-1").find("log.segment.delete.delay.ms"), std::string::npos);
}

TEST(ServerConfig, AControllerMustBeAVoterOnItsOwnPort) {
    EXPECT_NE(refusal("node.id=4").find("not a voter"), std::string::npos);
    EXPECT_NE(refusal("controller.quorum.voters=1@localhost:7000").find("differs"),
              std::string::npos);
    // A broker-only node needs no CONTROLLER listener of its own.
    auto c = from_text("process.roles=broker\nnode.id=4\nlisteners=PLAINTEXT://localhost:9192\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_FALSE(c->node.controller);
    EXPECT_EQ(c->node.controller_addresses.at(NodeId(1)), (env::Address{"localhost", 9094}));
}

TEST(ServerConfig, PropertiesSyntaxErrorsNameTheLine) {
    auto p = parse_properties("a=1\njust words\n");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("line 2"), std::string::npos);
    EXPECT_FALSE(parse_properties("a=1\na=2\n").ok());
    auto cont = parse_properties(
        "listeners=PLAINTEXT://localhost:9092,\\\n    CONTROLLER://localhost:9093\n");
    ASSERT_TRUE(cont.ok());
    EXPECT_EQ(cont->at("listeners"), "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093");
}

TEST(ServerConfig, EveryListedPropertyIsAccepted) {
    for (const ServerProperty& p : server_properties()) {
        if (p.default_value.empty()) continue;
        auto c = server_config_from({{std::string(p.name), std::string(p.default_value)}});
        EXPECT_TRUE(c.ok()) << p.name << ": " << (c.ok() ? "" : c.error().message);
    }
}

}  // namespace
}  // namespace keel::node
