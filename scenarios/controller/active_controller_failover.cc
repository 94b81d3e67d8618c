// active-controller-failover: controller-failover one layer up. `controller-failover`
// measures the Raft quorum alone (crash → the new leader's first commit); here the whole
// controller runs (ControllerService on each controller, four brokers heartbeating, an
// admin client) and the active controller is killed at a seeded moment, with Kafka's
// default timers. Measured from the crash, in simulated time:
//   activation_ms   a new controller is active: it leads and has applied its whole log,
//                   so it can decide (no reload: a KRaft standby already holds the image)
//   create_topic_ms a CreateTopics the admin sends at the moment of the crash is answered
//                   (it retries NOT_CONTROLLER and broken connections, as clients do)
// and no broker may be fenced by the failover: the new controller gives every broker a
// fresh session (as Kafka does), so a failover shorter than the session never fences.
// ZooKeeper mode for comparison (kafka-semantics.md): the dead controller was noticed
// after the ZooKeeper session timeout (6 s, 18 s since 2.5), then its successor reloaded
// every topic and partition from ZooKeeper before it could act.
#include "scenarios/controller/controller_cluster.h"

using keel::scenarios::ControllerCluster;
using keel::scenarios::ControllerClusterOptions;
using namespace std::chrono_literals;

KEEL_SCENARIO("active-controller-failover",
              "kill -9 the active controller (3 controllers, 4 brokers, 40 partitions); activation_ms and "
              "create_topic_ms from the crash; no broker fenced by the failover") {
    auto& w = ctx.world();
    ControllerClusterOptions o;
    auto cluster = ControllerCluster::create(ctx, o);
    auto schedule = ctx.faults_or({});
    keel::sim::Nemesis nemesis(w, cluster->resolver());
    nemesis.install(schedule);

    bool up = w.run_until([&] { return cluster->brokers_unfenced(); }, 30s);
    ctx.expect(up, "the brokers start");
    bool created = up && cluster->create_topics({{"orders", 24, 3, {}, {}}, {"events", 16, 2, {}, {}}}, 30s);
    ctx.expect(created, "the topics are created");
    if (!created) {
        cluster->report();
        return;
    }
    w.run_for(w.random().uniform(keel::Duration(1s), keel::Duration(6s)));
    auto old = cluster->active_controller();
    ctx.expect(old.has_value(), "an active controller to kill");
    if (!old) {
        cluster->report();
        return;
    }
    size_t fences_before = cluster->checker().fence_latencies().size();
    keel::Instant crashed_at = w.now();
    w.crash(*old);
    ctx.note("killed " + *old + " at " + std::to_string(crashed_at.ns / 1'000'000) + " ms");

    // The admin asks at once; the request can only succeed on the new active controller.
    cluster->queue_topics({{"after-failover", 4, 3, {}, {}}});
    bool activated = w.run_until(
        [&] {
            auto a = cluster->active_controller();
            return a && *a != *old;
        },
        60s);
    ctx.expect(activated, "a new controller is active within 60 s of the crash");
    if (activated) {
        ctx.metric("activation_ms", static_cast<double>((w.now() - crashed_at).count()) / 1e6);
        ctx.note("new active controller: " + *cluster->active_controller());
    }
    bool answered = w.run_until([&] { return cluster->topic_done("after-failover"); }, 60s);
    ctx.expect(answered, "a CreateTopics sent at the crash is answered within 60 s");
    if (answered) ctx.metric("create_topic_ms", static_cast<double>((w.now() - crashed_at).count()) / 1e6);
    w.run_for(5s);  // heartbeats settle on the new controller
    ctx.expect(cluster->checker().fence_latencies().size() == fences_before,
               "no broker is fenced by the failover (every broker keeps a session)");
    ctx.expect(cluster->brokers_unfenced(), "every broker is unfenced on the new controller");

    w.start(*old);
    auto converged = cluster->await_converged(60s);
    if (converged) ctx.metric("rejoin_ms", static_cast<double>(keel::to_ms(*converged)));
    cluster->report();
}
