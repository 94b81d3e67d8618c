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

}  // namespace
}  // namespace keel::viz
