// A picture of a KRaft quorum at one instant: each node's role, epoch, vote, log (start,
// high watermark, applied, end, snapshot) and who fetches from whom, as Graphviz DOT.
//
// Input: the status JSON the Raft scenarios write (scenarios/quorum_probe.h,
// quorum_status_json), e.g.
//   {"t_ns":12000000000,"seed":7,"committed_end":612,"monitor_violations":0,"nodes":[
//     {"name":"c1","id":1,"voter":true,"state":"up","role":"leader","epoch":5,"leader":1,
//      "voted_for":1,"catching_up":false,"log_start":400,"log_end":612,"high_watermark":610,
//      "applied":610,"snapshot_end":400,"fetch_offsets":{"1":612,"2":610,"3":598}}, ...]}
// A node whose "state" is "down", "paused" or "stopped" carries no Raft fields. Optional
// "unreachable": ["c2", ...] lists the nodes it cannot send to at that instant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keel::viz {

struct QuorumNodeView {
    std::string name;
    int64_t id = -1;
    bool voter = false;
    std::string state;  // up, down, paused, stopped
    std::string role;   // leader, follower, candidate, prospective, unattached ("" if not up)
    int64_t epoch = 0;
    int64_t leader = -1;
    int64_t voted_for = -1;
    bool catching_up = false;
    int64_t log_start = 0, log_end = 0, high_watermark = 0, applied = 0, snapshot_end = -1;
    std::map<int64_t, int64_t> fetch_offsets;  // leader only: voter id → fetch offset
    std::vector<std::string> unreachable;      // nodes it cannot send to (network faults)
};

struct QuorumView {
    int64_t t_ns = 0;
    uint64_t seed = 0;
    int64_t committed_end = 0;
    int64_t monitor_violations = 0;
    std::vector<QuorumNodeView> nodes;
};

// Parses the status JSON; an error message in `error` if it is not one.
QuorumView parse_quorum_status(const std::string& json, std::string& error);
std::string quorum_dot(const QuorumView& view, const std::string& title);

}  // namespace keel::viz
