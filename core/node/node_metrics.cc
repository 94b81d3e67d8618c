#include "core/node/node_metrics.h"

#include <algorithm>

#include "core/broker/partition.h"

namespace keel::node {

namespace {

void collect_replicas(broker::ReplicaManager& replicas, NodeId self, metrics::Registry& out) {
    double hosted = 0, led = 0, under_replicated = 0, under_min_isr = 0;
    for (const auto& [tp, p] : replicas.partitions()) {
        hosted++;
        if (p->role() != broker::ReplicaRole::leader || p->leader() != self) continue;
        led++;
        if (p->isr().size() < p->replicas().size()) under_replicated++;
        if (static_cast<int32_t>(p->isr().size()) < replicas.min_insync_replicas(tp.topic)) under_min_isr++;
    }
    out.gauge("keel_broker_partitions", "Partition replicas hosted on this broker.").set(hosted);
    out.gauge("keel_broker_leader_partitions", "Partitions this broker leads.").set(led);
    out.gauge("keel_broker_under_replicated_partitions",
              "Partitions this broker leads whose ISR is smaller than their replica set.")
        .set(under_replicated);
    out.gauge("keel_broker_under_min_isr_partitions",
              "Partitions this broker leads whose ISR is smaller than min.insync.replicas.")
        .set(under_min_isr);
    const broker::ReplicaStats& stats = replicas.stats();
    out.counter("keel_broker_isr_shrinks_total",
                "ISR shrinks of partitions this broker leads (its AlterPartition, or the controller fencing a broker).")
        .set_total(static_cast<double>(stats.leader_isr_shrinks));
    out.counter("keel_broker_isr_expands_total", "ISR expansions of partitions this broker leads.")
        .set_total(static_cast<double>(stats.leader_isr_expands));
}

void collect_quorum(const raft::RaftDriver& driver, bool controller, const controller::MetadataImage* image,
                    metrics::Registry& out) {
    raft::RaftStatus st = driver.status();
    out.gauge("keel_raft_current_leader", "The metadata quorum's leader as this node knows it; -1 for none.")
        .set(st.leader ? st.leader->value() : -1);
    out.gauge("keel_raft_current_epoch", "The metadata quorum's epoch as this node knows it.")
        .set(static_cast<double>(st.epoch.value()));
    out.gauge("keel_raft_high_watermark", "The metadata log's high watermark on this node.")
        .set(static_cast<double>(st.high_watermark.value()));
    out.gauge("keel_raft_log_end_offset", "The metadata log's end offset on this node.")
        .set(static_cast<double>(st.log_end.value()));
    out.gauge("keel_raft_state", "This node's Raft role (1 for the current one).",
              {{"state", std::string(raft::role_name(st.role))}})
        .set(1);
    bool active = controller && st.role == raft::Role::leader;
    out.gauge("keel_controller_active", "1 if this node is the active controller (the quorum's leader).")
        .set(active ? 1 : 0);
    double offline = 0;
    if (active && image != nullptr) offline = static_cast<double>(image->leaderless_partitions().size());
    out.gauge("keel_controller_offline_partitions",
              "Partitions without a leader, on the active controller (0 on every other node, as in Kafka).")
        .set(offline);
}

void collect_groups(const group::GroupCoordinator& groups, broker::ReplicaManager* replicas,
                    metrics::Registry& out) {
    std::vector<group::GroupCoordinator::HostedGroup> hosted = groups.hosted_groups();
    out.gauge("keel_group_coordinator_groups", "Consumer groups this broker coordinates.")
        .set(static_cast<double>(hosted.size()));
    for (const auto& g : hosted) {
        int64_t lag = 0;
        for (const auto& [tp, committed] : g.committed) {
            const broker::Partition* p = replicas != nullptr ? replicas->partition({tp.first, tp.second}) : nullptr;
            if (p == nullptr || committed < 0) continue;
            lag += std::max<int64_t>(0, p->high_watermark().value() - committed);
        }
        out.gauge("keel_consumer_group_lag",
                  "Sum over the group's committed partitions with a replica here of high watermark - committed "
                  "offset.",
                  {{"group", g.group_id}})
            .set(static_cast<double>(lag));
    }
}

}  // namespace

void collect_node_metrics(const NodeParts& parts, const NodeConfig& config, metrics::Registry& out) {
    if (parts.replicas != nullptr) collect_replicas(*parts.replicas, config.id, out);
    if (parts.driver != nullptr) collect_quorum(*parts.driver, config.controller, parts.image, out);
    if (parts.groups != nullptr) collect_groups(*parts.groups, parts.replicas, out);
}

std::string render_node_metrics(const NodeParts& parts, const NodeConfig& config, const metrics::Registry& live) {
    metrics::Registry scraped;
    collect_node_metrics(parts, config, scraped);
    return live.render() + scraped.render();
}

}  // namespace keel::node
