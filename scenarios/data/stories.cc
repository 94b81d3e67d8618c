// The named failure stories of kafka-semantics.md §2 for the data plane, each a scripted
// scenario with a fixed schedule that prints what happened and why (`keel sim run sc-02`).
// They share data-chaos's cluster, workload and checkers; one partition (RF 3, brokers
// b1..b3) keeps the story readable. A story whose configuration is unsafe *expects* its
// anomaly: it fails if the anomaly does not show up, as the learner would be misled.
#include <cstdio>

#include "scenarios/data/data_chaos.h"

namespace keel::scenarios {
namespace {

using namespace std::chrono_literals;

struct StoryRun {
    sim::ScenarioContext& ctx;
    sim::World& w;
    std::shared_ptr<DataCluster> cluster;
    std::shared_ptr<Workload> workload;

    void say(const std::string& line) {
        char t[32];
        std::snprintf(t, sizeof t, "t=%.1fs ", static_cast<double>(w.now().ns) / 1e9);
        ctx.note(t + line);
    }
    // The broker leading orders-0 per the active controller, once it leads it.
    std::string leader() {
        const controller::MetadataImage* img = cluster->active_image();
        const controller::TopicState* t = img != nullptr ? img->topic_by_name("orders") : nullptr;
        if (t == nullptr) return "";
        const controller::PartitionState& p = t->partitions.at(PartitionIndex(0));
        if (!p.has_leader()) return "";
        broker::Partition* r = cluster->replica(p.leader, t->id, 0);
        return r != nullptr && r->role() == broker::ReplicaRole::leader ? cluster->name_of(p.leader) : "";
    }
    std::vector<std::string> followers(const std::string& l) {
        std::vector<std::string> f;
        for (const std::string& b : cluster->brokers()) {
            if (b != l) f.push_back(b);
        }
        return f;
    }
    std::string isr() {
        const controller::MetadataImage* img = cluster->active_image();
        const controller::TopicState* t = img != nullptr ? img->topic_by_name("orders") : nullptr;
        if (t == nullptr) return "?";
        std::string s = "{";
        for (NodeId n : t->partitions.at(PartitionIndex(0)).isr) s += (s.size() > 1 ? "," : "") + cluster->name_of(n);
        return s + "}";
    }
    std::string wait_leader(Duration limit) {
        std::string l;
        w.run_until([&] { return !(l = leader()).empty(); }, limit);
        return l;
    }
};

// Builds the cluster (3 brokers, one partition), starts one producer and one consumer.
StoryRun start_story(sim::ScenarioContext& ctx, DataChaosConfig c) {
    c.brokers = 3;
    StoryRun s{ctx, ctx.world(), DataCluster::create(ctx, data_cluster_options(c)), nullptr};
    ctx.expect(s.w.run_until([&] { return s.cluster->brokers_unfenced(); }, 30s), "brokers registered");
    DataTopic t = data_topic(c);
    t.partitions = 1;
    ctx.expect(s.cluster->create_topics({t}, 30s), "topic created");
    WorkloadOptions wo = data_workload(c);
    wo.partitions = 1;
    wo.producers = 1;
    wo.consumers = 1;
    wo.send_interval = 20ms;
    s.workload = Workload::create(*s.cluster, wo);
    s.workload->start();
    s.w.run_for(3s);
    return s;
}

// Heals, finishes the producers, re-replicates, reads everything, checks. `expect_anomaly`
// names the anomaly an unsafe story must show ("" for a safe one: then none may show).
void finish_story(StoryRun& s, const DataChaosConfig& c, const std::string& expect_anomaly) {
    s.w.heal_all();
    for (const std::string& b : s.cluster->brokers()) {
        if (!s.w.node(b).running()) s.w.start(b);
    }
    s.ctx.expect(s.workload->stop_producers(60s), "the producer finishes");
    bool replicated = s.cluster->await_replicated(60s).has_value();
    bool complete = replicated && s.workload->final_read(60s);
    s.ctx.expect(complete, "the final reader reads the partition to its high watermark");
    if (replicated) s.cluster->check_replicas();
    sim::LogCheckResult r = s.workload->check(complete);
    DataChaosConfig quiet = c;
    report_history(s.ctx, quiet, r, &s.workload->history());
    s.cluster->report();
    s.say("history: " + std::to_string(r.sends_acked) + " sends acknowledged, " + std::to_string(r.ops_info) +
          " indeterminate, " + std::to_string(r.duplicates) + " duplicate values");
    if (expect_anomaly.empty()) {
        s.say(r.valid() ? "checker: no anomaly — every acknowledged record is there, once, in order"
                        : "checker: anomalies (see violations)");
        return;
    }
    // Data loss shows as lost-write (never read) or inconsistent-offsets (read, then its
    // offset reused for another record); "loss" accepts either.
    int64_t n = 0;
    std::string kinds;
    for (const auto& [kind, count] : r.anomaly_counts) {
        kinds += (kinds.empty() ? "" : ", ") + std::to_string(count) + " × " + kind;
        bool wanted = kind == expect_anomaly ||
                      (expect_anomaly == "loss" && (kind == "lost-write" || kind == "inconsistent-offsets"));
        if (wanted) n += count;
    }
    if (expect_anomaly == "duplicate") {
        n = r.duplicates;
        kinds = std::to_string(n) + " × duplicate";
    }
    s.say("checker: " + (kinds.empty() ? std::string("no anomaly") : kinds) + " — " + expect_anomaly +
          " expected in this configuration");
    s.ctx.expect(n > 0, "the story's anomaly (" + expect_anomaly + ") shows up");
}

}  // namespace
}  // namespace keel::scenarios

using keel::scenarios::DataChaosConfig;
using keel::scenarios::StoryRun;
using namespace std::chrono_literals;

KEEL_SCENARIO_SCRIPTED("sc-01", "acks=1: the leader dies before its followers fetched, an acknowledged write is lost") {
    DataChaosConfig c;
    c.acks = 1;
    c.min_isr = 1;
    c.idempotence = false;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    s.say("leader of orders-0 is " + l + ", ISR " + s.isr() + "; the producer uses acks=1");
    for (const std::string& f : s.followers(l)) s.w.pause(f);
    s.say("both followers stall (paused, still in the ISR: lag < replica.lag.time.max.ms); " + l +
          " keeps acknowledging acks=1 writes alone");
    s.w.run_for(1500ms);
    s.w.crash(l);
    s.say(l + " is killed (kill -9) before any follower fetched those writes");
    for (const std::string& f : s.followers(l)) s.w.resume(f);
    std::string nl = s.wait_leader(30s);
    s.say("the controller elects " + nl + " (an ISR member) once " + l + "'s session lapses; ISR " + s.isr());
    s.w.run_for(3s);
    s.w.restart(l);
    s.say(l + " restarts, learns the new epoch and truncates its log to where it agrees with " + nl +
          ": the writes only it had are gone everywhere");
    keel::scenarios::finish_story(s, c, "loss");
}

KEEL_SCENARIO_SCRIPTED("sc-02", "acks=all, RF 3, min ISR 2: losing the leader loses nothing") {
    DataChaosConfig c;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    s.say("leader " + l + ", ISR " + s.isr() + "; acks=all, min.insync.replicas=2, idempotent producer");
    s.w.crash(l);
    keel::Instant down = s.w.now();
    s.say(l + " is killed; its produce requests fail or time out, the producer retries them");
    std::string nl = s.wait_leader(30s);
    s.say("the controller fences " + l + " after its session lapses and elects " + nl + " from the ISR; gap " +
          std::to_string(keel::to_ms(s.w.now() - down)) + " ms");
    ctx.metric("failover_ms", static_cast<double>(keel::to_ms(s.w.now() - down)));
    s.w.run_for(5s);
    s.w.restart(l);
    s.say(l + " restarts, truncates to the divergence point the new leader tells it, catches up, rejoins the ISR");
    keel::scenarios::finish_story(s, c, "");
}

KEEL_SCENARIO_SCRIPTED("sc-03", "acks=all, min ISR 2: a second broker failure refuses writes, loses none") {
    DataChaosConfig c;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    auto f = s.followers(l);
    s.w.crash(f[0]);
    s.say(f[0] + " dies; ISR shrinks to two, writes continue");
    s.w.run_for(8s);
    s.say("ISR now " + s.isr());
    s.w.crash(f[1]);
    s.say(f[1] + " dies too: with one replica left below min.insync.replicas=2, the leader refuses acks=all "
                 "writes (NOT_ENOUGH_REPLICAS); one in flight may end NOT_ENOUGH_REPLICAS_AFTER_APPEND — "
                 "indeterminate, never a definite failure");
    s.w.run_for(8s);
    s.say("ISR now " + s.isr() + "; consumers still read below the high watermark");
    s.w.start(f[0]);
    s.w.start(f[1]);
    s.say("both return, catch up and rejoin; the producer's retries go through");
    keel::scenarios::finish_story(s, c, "");
}

KEEL_SCENARIO_SCRIPTED("sc-04", "acks=all with min ISR 1 is acks=1 in disguise (unclean election shows it)") {
    DataChaosConfig c;
    c.min_isr = 1;
    c.unclean = true;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    auto f = s.followers(l);
    for (const std::string& x : f) s.w.partition(l, x);
    s.say("the links between leader " + l + " and its followers break; after replica.lag.time.max.ms the ISR "
          "shrinks to the leader alone and acks=all means 'the leader has it'");
    s.w.run_for(10s);
    s.say("ISR " + s.isr() + "; " + l + " has acknowledged writes no one else has");
    s.w.crash(l);
    s.w.heal_all();
    s.say(l + " dies for good; unclean.leader.election.enable=true lets an out-of-sync follower lead");
    std::string nl = s.wait_leader(40s);
    s.say(nl + " leads without the acknowledged tail");
    s.w.run_for(3s);
    keel::scenarios::finish_story(s, c, "loss");
}

namespace {

// SC-07: everyone dies; the stale replica returns first.
void sc07(keel::sim::ScenarioContext& ctx, bool unclean) {
    DataChaosConfig c;
    c.unclean = unclean;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    auto f = s.followers(l);
    s.w.crash(f[0]);
    s.say(f[0] + " dies (it will be the stale one); writes continue on " + l + " and " + f[1]);
    s.w.run_for(8s);
    s.w.crash(f[1]);
    s.say(f[1] + " dies; ISR " + s.isr() + ", writes are refused (min ISR 2)");
    s.w.run_for(3s);
    s.w.crash(l);
    s.say(l + " dies: no broker is up");
    s.w.run_for(5s);
    s.w.start(f[0]);
    s.say(f[0] + " — the stale one — returns first");
    s.w.run_for(15s);
    std::string nl = s.leader();
    if (unclean) {
        s.say(nl.empty() ? "no leader yet" : nl + " leads (unclean election): the records it missed are gone");
    } else {
        s.say(nl.empty() ? "orders-0 stays offline: only an ISR member may lead" : nl + " leads");
    }
    s.w.start(f[1]);
    s.w.start(l);
    s.say(f[1] + " and " + l + " return");
    keel::scenarios::finish_story(s, c, unclean ? "loss" : "");
}

}  // namespace

KEEL_SCENARIO_SCRIPTED("sc-07-unclean", "everyone dies, the stale replica returns first and leads (unclean): loss") {
    sc07(ctx, true);
}

KEEL_SCENARIO_SCRIPTED("sc-07-clean", "everyone dies, the stale replica returns first: offline until an ISR member returns") {
    sc07(ctx, false);
}

namespace {

// SC-19: a produce response is lost; the producer retries the batch.
void sc19(keel::sim::ScenarioContext& ctx, bool idempotence) {
    DataChaosConfig c;
    c.idempotence = idempotence;
    StoryRun s = keel::scenarios::start_story(ctx, c);
    std::string l = s.wait_leader(20s);
    s.say(std::string("idempotence ") + (idempotence ? "on" : "off") + "; leader " + l);
    for (int i = 0; i < 4; i++) {
        s.w.partition(l, "p1", false);  // leader -> producer only: requests arrive, responses do not
        s.w.run_for(6s);                // longer than the producer's request timeout (5 s)
        s.w.heal_all();
        s.w.run_for(2s);
    }
    s.say("four times the leader's responses to the producer were dropped after it had appended the batches; "
          "the producer's requests timed out and it retried them");
    keel::scenarios::finish_story(s, c, idempotence ? "" : "duplicate");
}

}  // namespace

KEEL_SCENARIO_SCRIPTED("sc-19", "lost produce responses and retries: duplicates without idempotence") { sc19(ctx, false); }

KEEL_SCENARIO_SCRIPTED("sc-19-idempotent", "lost produce responses and retries: idempotence answers retries with "
                                           "their original offsets") {
    sc19(ctx, true);
}
