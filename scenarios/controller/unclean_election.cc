// unclean-election: what unclean.leader.election.enable changes, shown on the metadata.
//
// Two topics, one partition each, replicas [b1, b2, b3] (b1 leads): "clean" with the
// switch off (Kafka's default since 0.11), "unclean" with it on. b1's followers fall
// behind, so b1 shrinks both ISRs to itself (AlterPartition). Then b1 crashes for 30 s.
// Nine seconds later its session lapses and the controller fences it:
//   clean:   no ISR member is left to elect — the partition goes offline (leader -1,
//            ISR [b1], Kafka's last replica standing) until b1 returns and leads again;
//            nothing b1 acknowledged can be lost.
//   unclean: a replica outside the ISR (b2) is elected at once, the ISR becomes [b2] and
//            the leader is marked RECOVERING — available again, but every record only b1
//            had is gone (the data-level loss shows up once replication runs on top).
// When b1 returns it leads "clean" again; in "unclean" it is just an out-of-sync follower.
#include "scenarios/controller/controller_cluster.h"

using keel::NodeId;
using keel::scenarios::ControllerCluster;
using keel::scenarios::ControllerClusterOptions;
using keel::scenarios::TopicSpec;
using namespace std::chrono_literals;

namespace {

const keel::controller::PartitionState* partition0(ControllerCluster& c, const std::string& topic) {
    auto a = c.active_controller();
    const keel::controller::MetadataImage* img = a ? c.image(*a) : nullptr;
    const keel::controller::TopicState* t = img ? img->topic_by_name(topic) : nullptr;
    return t ? &t->partitions.begin()->second : nullptr;
}

std::string state(ControllerCluster& c, const std::string& topic) {
    const auto* p = partition0(c, topic);
    return p ? keel::controller::describe(*p) : "unknown";
}

}  // namespace

KEEL_SCENARIO("unclean-election",
              "unclean.leader.election.enable off vs on: the ISR-only leader crashes; off stays offline "
              "until it returns, on elects an out-of-sync replica at once (RECOVERING)") {
    auto& w = ctx.world();
    ControllerClusterOptions o;
    o.brokers = 3;
    auto cluster = ControllerCluster::create(ctx, o);
    auto schedule = ctx.faults_or({});
    keel::sim::Nemesis nemesis(w, cluster->resolver());
    nemesis.install(schedule);

    ctx.expect(w.run_until([&] { return cluster->brokers_unfenced(); }, 30s), "the brokers start");
    NodeId b1 = cluster->id_of("b1"), b2 = cluster->id_of("b2"), b3 = cluster->id_of("b3");
    std::map<int32_t, std::vector<NodeId>> replicas{{0, {b1, b2, b3}}};
    ctx.expect(cluster->create_topics({{"clean", 1, 3, {}, replicas},
                                       {"unclean", 1, 3, {{"unclean.leader.election.enable", "true"}}, replicas}},
                                      30s),
               "both topics are created");

    // b1's followers fall behind: it shrinks both ISRs to itself.
    cluster->shrink_isr_of("clean");
    cluster->shrink_isr_of("unclean");
    auto isr_is_b1 = [&](const std::string& t) {
        const auto* p = partition0(*cluster, t);
        return p && p->isr == std::vector<NodeId>{b1} && p->leader == b1;
    };
    ctx.expect(w.run_until([&] { return isr_is_b1("clean") && isr_is_b1("unclean"); }, 20s),
               "b1 shrinks both ISRs to itself");
    ctx.note("before the crash: clean " + state(*cluster, "clean") + "; unclean " + state(*cluster, "unclean"));

    keel::Instant crash_at = w.now();
    w.crash("b1");
    auto fenced = [&] {
        auto a = cluster->active_controller();
        const auto* img = a ? cluster->image(*a) : nullptr;
        return img && img->broker(b1) && img->broker(b1)->fenced;
    };
    ctx.expect(w.run_until(fenced, 20s), "the controller fences b1 once its session lapses");
    ctx.metric("fence_ms", static_cast<double>(keel::to_ms(w.now() - crash_at)));
    w.run_for(1s);
    const auto* clean = partition0(*cluster, "clean");
    const auto* unclean = partition0(*cluster, "unclean");
    ctx.note("b1 fenced: clean " + state(*cluster, "clean") + "; unclean " + state(*cluster, "unclean"));
    ctx.expect(clean && !clean->has_leader() && clean->isr == std::vector<NodeId>{b1},
               "switch off: the partition is offline, its ISR still [b1] (last replica standing)");
    ctx.expect(unclean && unclean->has_leader() && unclean->leader != b1 &&
                   unclean->isr == std::vector<NodeId>{unclean->leader} &&
                   unclean->leader_recovery_state == keel::controller::leader_recovering,
               "switch on: an out-of-sync replica leads at once, alone in the ISR, RECOVERING");
    ctx.metric("unclean_leader", unclean && unclean->has_leader() ? unclean->leader.value() : -1);

    w.run_for(30s - (w.now() - crash_at));
    keel::Instant back_at = w.now();
    w.start("b1");
    ctx.expect(w.run_until([&] { const auto* p = partition0(*cluster, "clean"); return p && p->leader == b1; }, 30s),
               "switch off: b1 returns and leads again, cleanly (it was the ISR)");
    ctx.metric("clean_offline_ms", static_cast<double>(keel::to_ms(w.now() - crash_at)));
    ctx.metric("b1_back_to_leader_ms", static_cast<double>(keel::to_ms(w.now() - back_at)));
    unclean = partition0(*cluster, "unclean");
    ctx.expect(unclean && unclean->leader != b1 && !unclean->in_isr(b1),
               "switch on: b1 returns as an out-of-sync follower; the new leader's log is the truth");
    ctx.note("b1 back: clean " + state(*cluster, "clean") + "; unclean " + state(*cluster, "unclean"));
    cluster->report();
}
