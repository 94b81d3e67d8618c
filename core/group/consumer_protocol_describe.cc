// ConsumerGroupDescribe (KIP-848): each group's epochs, assignor, state and members with
// their current and target assignments (topic ids and names).
#include "core/group/coordinator_impl.h"

namespace keel::group {

using protocol::ConsumerGroupDescribeRequest;
using protocol::ConsumerGroupDescribeResponse;
using Described = ConsumerGroupDescribeResponse::DescribedGroup;

namespace {

// Kafka's ConsumerGroupState names.
std::string cg_state_name(const ConsumerGroupState& cg) {
    if (cg.members.empty()) return "Empty";
    if (cg.assignment_epoch < cg.group_epoch) return "Assigning";
    for (const auto& [id, m] : cg.members) {
        if (m.epoch != cg.assignment_epoch || m.state != CgMemberState::stable) return "Reconciling";
    }
    return "Stable";
}

std::string chosen_assignor(const ConsumerGroupState& cg) {
    std::map<std::string, int> votes;
    for (const auto& [id, m] : cg.members) votes[m.assignor.empty() ? "uniform" : m.assignor]++;
    std::string chosen = "uniform";
    int best = 0;
    for (const auto& [name, n] : votes) {
        if (n > best) {
            best = n;
            chosen = name;
        }
    }
    return chosen;
}

ConsumerGroupDescribeResponse::Assignment to_assignment(const PartitionSet& s, const TopicSource& topics) {
    ConsumerGroupDescribeResponse::Assignment a;
    for (const auto& [t, ps] : s) {
        ConsumerGroupDescribeResponse::TopicPartitions tp;
        tp.topic_name = t;
        auto info = topics.by_name ? topics.by_name(t) : std::nullopt;
        if (info) tp.topic_id = info->id;
        for (int32_t p : ps) tp.partitions.push_back(PartitionIndex(p));
        a.topic_partitions.push_back(std::move(tp));
    }
    return a;
}

Described describe_one(const Group& g, const TopicSource& topics) {
    const ConsumerGroupState& cg = *g.cg;
    Described d;
    d.group_id = g.id;
    d.group_state = cg_state_name(cg);
    d.group_epoch = cg.group_epoch;
    d.assignment_epoch = cg.assignment_epoch;
    d.assignor_name = chosen_assignor(cg);
    for (const auto& [id, m] : cg.members) {
        ConsumerGroupDescribeResponse::Member dm;
        dm.member_id = id;
        dm.instance_id = m.instance_id;
        dm.rack_id = m.rack_id;
        dm.member_epoch = m.epoch;
        dm.client_id = m.client_id;
        dm.client_host = m.client_host;
        dm.subscribed_topic_names = m.topics;
        dm.assignment = to_assignment(m.assigned, topics);
        auto t = cg.target.find(id);
        if (t != cg.target.end()) dm.target_assignment = to_assignment(t->second, topics);
        d.members.push_back(std::move(dm));
    }
    return d;
}

}  // namespace

ConsumerGroupDescribeResponse GroupCoordinator::consumer_group_describe(const ConsumerGroupDescribeRequest& req,
                                                                        int16_t /*version*/) {
    Impl& s = *impl_;
    ConsumerGroupDescribeResponse r;
    for (const auto& id : req.group_ids) {
        Described d;
        d.group_id = id;
        d.error_code = s.partition_status(id);
        if (d.error_code == ErrorCode::none) {
            Group* g = s.find(id);
            if (g && g->cg) {
                d = describe_one(*g, s.topic_source);
            } else {
                d.error_code = ErrorCode::group_id_not_found;
                d.error_message = g ? "group " + id + " is not a consumer group" : "group " + id + " not found";
            }
        }
        r.groups.push_back(std::move(d));
    }
    return r;
}

}  // namespace keel::group
