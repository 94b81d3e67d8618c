#include <gtest/gtest.h>

#include "visualize/spacetime.h"

namespace keel::viz {
namespace {

TraceFile sample() {
    TraceFile f;
    for (const char* line : {
             R"({"ev":1,"t_ns":0,"node":"a","fiber":"main","kind":"node.start","incarnation":1,"h":"0"})",
             R"({"ev":2,"t_ns":10,"node":"a","fiber":"main","kind":"net.send","msg":7,"to":"b","bytes":17,"h":"0"})",
             R"({"ev":3,"t_ns":20,"node":"b","fiber":"scheduler","kind":"net.deliver","msg":7,"from":"a","bytes":17,"h":"0"})",
             R"({"ev":4,"t_ns":30,"node":"b","fiber":"scheduler","kind":"node.crash","incarnation":1,"h":"0"})",
             R"({"ev":5,"t_ns":40,"node":"b","fiber":"raft","kind":"raft.leader","detail":{"epoch":3},"h":"0"})",
             R"(not json)",
         }) {
        TraceEvent e;
        if (parse_trace_line(line, e)) {
            f.events.push_back(e);
        } else {
            f.malformed_lines++;
        }
    }
    return f;
}

TEST(TraceReader, ReadsMembersAndKeepsNestedDetailRaw) {
    TraceFile f = sample();
    ASSERT_EQ(f.events.size(), 5u);
    EXPECT_EQ(f.malformed_lines, 1u);
    EXPECT_EQ(f.events[1].kind, "net.send");
    EXPECT_EQ(f.events[1].fields.at("msg"), "7");
    EXPECT_EQ(f.events[4].fields.at("detail"), R"({"epoch":3})");
}

TEST(Spacetime, DrawsAnArrowFromSendToDeliveryAndFaultsInRed) {
    SpacetimeStats stats;
    std::string dot = spacetime_dot(sample(), SpacetimeOptions{}, stats);
    EXPECT_EQ(stats.events_drawn, 5u);
    EXPECT_EQ(stats.messages_drawn, 1u);
    EXPECT_EQ(stats.faults_drawn, 2u);
    EXPECT_NE(dot.find("color=red"), std::string::npos);
    EXPECT_NE(dot.find("\"h_a\""), std::string::npos);
    EXPECT_NE(dot.find("\"h_b\""), std::string::npos);
    EXPECT_NE(dot.find("17B"), std::string::npos);
}

TEST(Spacetime, WindowAndColumnFiltersApply) {
    SpacetimeStats stats;
    SpacetimeOptions o;
    o.from_ns = 15;
    o.nodes = {"b"};
    spacetime_dot(sample(), o, stats);
    EXPECT_EQ(stats.events_drawn, 3u);
    EXPECT_EQ(stats.messages_drawn, 0u) << "the send is outside the window";
    o.max_events = 1;
    spacetime_dot(sample(), o, stats);
    EXPECT_TRUE(stats.truncated);
}

// A raft.frame event labels the frame its node's fiber sent just before (and no other).
TEST(Spacetime, LabelsAMessageWithWhatItsSenderSaidItCarried) {
    TraceFile f;
    for (const char* line : {
             R"({"ev":1,"t_ns":0,"node":"a","fiber":"raft-peer-2","kind":"net.send","msg":7,"to":"b","bytes":84,"h":"0"})",
             R"({"ev":2,"t_ns":0,"node":"a","fiber":"raft-peer-2","kind":"raft.frame","detail":{"label":"Fetch off=518 e=1 last=1"},"h":"0"})",
             R"({"ev":3,"t_ns":5,"node":"a","fiber":"other","kind":"net.send","msg":8,"to":"b","bytes":9,"h":"0"})",
             R"({"ev":4,"t_ns":6,"node":"a","fiber":"raft-peer-2","kind":"raft.frame","detail":{"label":"stray"},"h":"0"})",
             R"({"ev":5,"t_ns":20,"node":"b","fiber":"scheduler","kind":"net.deliver","msg":7,"from":"a","bytes":84,"h":"0"})",
             R"({"ev":6,"t_ns":25,"node":"b","fiber":"scheduler","kind":"net.deliver","msg":8,"from":"a","bytes":9,"h":"0"})",
         }) {
        TraceEvent e;
        ASSERT_TRUE(parse_trace_line(line, e)) << line;
        f.events.push_back(e);
    }
    auto labels = message_labels(f);
    ASSERT_EQ(labels.size(), 1u);
    EXPECT_EQ(labels.at("7"), "Fetch off=518 e=1 last=1");
    SpacetimeStats stats;
    std::string dot = spacetime_dot(f, SpacetimeOptions{}, stats);
    EXPECT_EQ(stats.messages_drawn, 2u);
    EXPECT_EQ(stats.events_drawn, 4u) << "raft.frame events are labels, not boxes";
    EXPECT_NE(dot.find("label=\"Fetch off=518 e=1 last=1 (84B)\""), std::string::npos) << dot;
    EXPECT_NE(dot.find("label=\"(9B)\""), std::string::npos) << dot;
    EXPECT_EQ(dot.find("stray"), std::string::npos);
}

}  // namespace
}  // namespace keel::viz
