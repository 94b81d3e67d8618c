#include "scenarios/quorum_probe.h"

#include <algorithm>

namespace keel::scenarios {

namespace {

QuorumStatusProbe& probe_slot() {
    static QuorumStatusProbe probe;
    return probe;
}

}  // namespace

void set_quorum_status_probe(QuorumStatusProbe probe) { probe_slot() = std::move(probe); }

std::string quorum_status_json(sim::World& w, const QuorumProbeSource& source) {
    auto opt = [](const std::optional<NodeId>& n) { return std::to_string(n ? n->value() : -1); };
    std::string out = "{\"t_ns\":" + std::to_string(w.now().ns) + ",\"seed\":" + std::to_string(w.seed()) +
                      ",\"committed_end\":" + std::to_string(source.committed_end()) +
                      ",\"monitor_violations\":" + std::to_string(source.violations()) + ",\"nodes\":[";
    bool first = true;
    for (const std::string& n : source.nodes) {
        out += first ? "" : ",";
        first = false;
        std::optional<raft::RaftStatus> s = source.status(n);
        sim::SimNode& node = w.node(n);
        std::string state = !node.running() ? "down" : node.paused() ? "paused" : s ? "up" : "stopped";
        bool voter = std::find(source.voters.begin(), source.voters.end(), n) != source.voters.end();
        out += "{\"name\":\"" + n + "\",\"id\":" + std::to_string(source.id_of(n).value()) +
               ",\"voter\":" + (voter ? "true" : "false") + ",\"state\":\"" + state + "\"";
        // The nodes this one cannot send to right now (partitions, isolation).
        out += ",\"unreachable\":[";
        bool u1 = true;
        for (const std::string& other : source.nodes) {
            if (other == n || w.network().reachable(n, other)) continue;
            out += (u1 ? "\"" : ",\"") + other + "\"";
            u1 = false;
        }
        out += "]";
        if (s) {
            out += ",\"role\":\"" + std::string(raft::role_name(s->role)) + "\",\"epoch\":" +
                   std::to_string(s->epoch.value()) + ",\"leader\":" + opt(s->leader) + ",\"voted_for\":" +
                   opt(s->voted_for) + ",\"catching_up\":" + (s->catching_up ? "true" : "false") +
                   ",\"log_start\":" + std::to_string(s->log_start.value()) +
                   ",\"log_end\":" + std::to_string(s->log_end.value()) +
                   ",\"high_watermark\":" + std::to_string(s->high_watermark.value()) +
                   ",\"applied\":" + std::to_string(s->applied.value()) +
                   ",\"snapshot_end\":" + std::to_string(s->snapshot ? s->snapshot->end_offset.value() : -1);
            out += ",\"fetch_offsets\":{";
            bool f1 = true;
            for (const auto& [v, off] : s->voter_fetch_offsets) {
                out += (f1 ? "\"" : ",\"") + std::to_string(v.value()) + "\":" + std::to_string(off ? off->value() : -1);
                f1 = false;
            }
            out += "}";
        }
        out += "}";
    }
    return out + "]}";
}

void install_quorum_probe(sim::ScenarioContext& ctx, QuorumProbeSource source) {
    std::string at = ctx.param("viz_at", "");
    if (at.empty() || !probe_slot()) return;
    auto d = sim::parse_duration(at);
    if (!d.ok()) {
        ctx.violation("bad viz_at: " + d.error().message);
        return;
    }
    sim::World& w = ctx.world();
    // A scheduler watch, not a fiber: it reads the cluster between events, so the run is
    // the same run (same events, same hash) with or without the picture.
    w.scheduler().watch_time(Instant{d->count()}, [&w, source = std::move(source)] {
        if (probe_slot() && source.alive()) probe_slot()(quorum_status_json(w, source));
    });
}

}  // namespace keel::scenarios
