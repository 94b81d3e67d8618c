// Space-time diagrams say what each Raft message was: the driver writes a `raft.frame`
// event after each frame it sends, and `keel viz spacetime` labels the frame's arrow.
#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "visualize/spacetime.h"

namespace keel::raft {
namespace {

TEST(FrameLabels, EveryRaftFrameOfARunIsLabelledWithItsKindAndFields) {
    sim::RunOptions o;
    o.seed = 3;
    o.trace_in_memory = true;
    o.params["fault_seconds"] = "6";
    sim::RunResult r = sim::run_scenario("quorum-chaos", o);
    viz::TraceFile f;
    size_t sends = 0;
    for (const auto& line : r.trace_lines) {
        viz::TraceEvent e;
        if (!viz::parse_trace_line(line, e)) continue;
        sends += e.kind == "net.send" ? 1 : 0;
        f.events.push_back(std::move(e));
    }
    std::map<std::string, std::string> labels = viz::message_labels(f);
    std::map<std::string, int> kinds;
    for (const auto& [msg, label] : labels) kinds[label.substr(0, label.find(' '))]++;
    // Every frame in this scenario is a Raft frame (no DescribeQuorum is asked).
    EXPECT_EQ(labels.size(), sends);
    EXPECT_GT(kinds["Fetch"], 100);
    EXPECT_GT(kinds["FetchResp"], 100);
    EXPECT_GT(kinds["Vote"] + kinds["PreVote"], 0);
    EXPECT_GT(kinds["BeginEpoch"], 0);
    bool fetch_with_fields = false;
    for (const auto& [msg, label] : labels) fetch_with_fields |= label.rfind("Fetch off=", 0) == 0;
    EXPECT_TRUE(fetch_with_fields);
}

}  // namespace
}  // namespace keel::raft
