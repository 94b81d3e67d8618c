#include "scenarios/groups/group_workload.h"

#include <algorithm>

namespace keel::scenarios {

namespace {

sim::PartitionName name_of(const client::TopicPartitionName& tp) { return {tp.topic, tp.partition.value()}; }

std::vector<sim::PartitionName> names_of(const std::vector<client::TopicPartitionName>& tps) {
    std::vector<sim::PartitionName> out;
    for (const auto& tp : tps) out.push_back(name_of(tp));
    return out;
}

std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : std::string(); }

}  // namespace

struct GroupWorkload::Member {
    std::string name;
    const GroupSpec* group = nullptr;
    bool done = false;
    client::Consumer* consumer = nullptr;  // while a life runs
    // The next offset after the last record processed, per partition this member owns:
    // what it commits. Forgotten when a partition is revoked or lost, so a partition that
    // comes back is never committed at what this member read in an older generation.
    std::map<client::TopicPartitionName, Offset> next;
    bool uncommitted = false;  // the last commit_sync did not succeed
};

// Records what the rebalance callbacks say, with the member's generation at that moment.
class GroupWorkload::Listener final : public client::RebalanceListener {
public:
    Listener(GroupWorkload& w, Member& m, env::Env& env) : w_(w), m_(m), env_(env) {}
    void on_partitions_revoked(const std::vector<client::TopicPartitionName>& partitions) override {
        for (const auto& tp : partitions) m_.next.erase(tp);
        if (partitions.empty() || m_.consumer == nullptr) return;
        w_.history_.revoked(m_.name, m_.group->name, m_.consumer->group_metadata().generation_id,
                            names_of(partitions), env_.now());
    }
    void on_partitions_assigned(const std::vector<client::TopicPartitionName>&) override {
        if (m_.consumer == nullptr) return;
        client::GroupMetadata g = m_.consumer->group_metadata();
        w_.history_.assignment(m_.name, m_.group->name, g.generation_id, g.member_id,
                               names_of(m_.consumer->assignment()), env_.now(), g.group_instance_id);
    }
    void on_partitions_lost(const std::vector<client::TopicPartitionName>& partitions) override {
        for (const auto& tp : partitions) m_.next.erase(tp);
        if (partitions.empty() || m_.consumer == nullptr) return;
        w_.history_.lost(m_.name, m_.group->name, m_.consumer->group_metadata().generation_id,
                         names_of(partitions), env_.now());
    }

private:
    GroupWorkload& w_;
    Member& m_;
    env::Env& env_;
};

std::shared_ptr<GroupWorkload> GroupWorkload::create(DataCluster& cluster, GroupWorkloadOptions options) {
    return std::make_shared<GroupWorkload>(cluster, std::move(options));
}

GroupWorkload::GroupWorkload(DataCluster& cluster, GroupWorkloadOptions options)
    : cluster_(cluster), world_(cluster.world()), options_(std::move(options)) {
    options_.consumer.bootstrap = cluster.bootstrap();
    for (const GroupSpec& g : options_.groups) {
        for (int i = 1; i <= g.members; i++) {
            auto m = std::make_unique<Member>();
            m->name = g.name + "-m" + std::to_string(i);
            m->group = &g;
            members_.push_back(std::move(m));
        }
    }
}

std::vector<std::string> GroupWorkload::member_names() const {
    std::vector<std::string> out;
    for (const auto& m : members_) out.push_back(m->name);
    return out;
}

void GroupWorkload::start(Duration churn_until) {
    std::shared_ptr<GroupWorkload> self = shared_from_this();
    std::map<std::string, int> seen;
    for (auto& m : members_) {
        Member* mp = m.get();
        int index = ++seen[m->group->name];
        bool late = index > m->group->members - m->group->late;
        if (late) m->done = true;  // until a story starts it
        world_.add_node(m->name, [self, mp](env::Env& env) { self->member_main(*mp, env); }, !late);
    }
    if (options_.churn) world_.spawn("group-churn", [self, churn_until] { self->churn(churn_until); });
}

void GroupWorkload::member_main(Member& m, env::Env& env) {
    m.done = false;
    struct Done {  // also when a crash unwinds the node
        Member& m;
        ~Done() { m.done = true; }
    } done{m};
    while (!stopping_) {
        bool forever = draining_ || options_.life_max == Duration(0);
        Duration life = forever ? Duration(std::chrono::hours(24))
                                : env.random().uniform(options_.life_min, options_.life_max);
        live_once(m, env, env.now() + life);
        if (stopping_) break;
        env.executor().sleep_for(env.random().uniform(ms(200), ms(3'000)));
    }
}

// One life: a fresh Consumer that subscribes, polls, processes, commits; a graceful close at
// `end` (or when the workload stops). A crash of the node unwinds it from inside poll.
void GroupWorkload::live_once(Member& m, env::Env& env, Instant end) {
    client::ConsumerConfig cfg = options_.consumer;
    cfg.client_id = m.name;
    cfg.group_id = m.group->name;
    cfg.partition_assignment_strategy = m.group->strategy;
    cfg.group_protocol = m.group->protocol;
    cfg.enable_auto_commit = m.group->commit == GroupSpec::Commit::auto_commit;
    if (m.group->static_members) cfg.group_instance_id = m.name;
    Listener listener(*this, m, env);  // outlives the consumer, whose close() may call it
    client::Consumer c(env, cfg);
    m.consumer = &c;
    struct Clear {
        Member& m;
        ~Clear() { m.consumer = nullptr; }
    } clear{m};
    stats_.lives++;
    if (!c.subscribe({options_.topic}, &listener).ok()) return;
    m.next.clear();
    m.uncommitted = false;
    uint64_t polls = 0;
    uint64_t idle_polls = 0;
    while (!stopping_ && (draining_ || env.now() < end)) {
        auto r = c.poll(ms(500));
        stats_.polls++;
        if (m.group->protocol == "consumer" && c.group_metadata().generation_id >= 0) {  // KIP-848's epochs
            history_.member_epoch(m.name, m.group->name, c.group_metadata().member_id,
                                  c.group_metadata().generation_id, -1, env.now());
        }
        if (!r.ok()) {
            stats_.poll_errors++;
            env.executor().sleep_for(ms(100));
            continue;
        }
        process(m, c, *r, env);
        // After records, and again after a commit that did not land (a refusal during a
        // rebalance, a timeout): what was processed must be committed even if nothing new comes.
        if (m.group->commit == GroupSpec::Commit::sync && (!r->empty() || m.uncommitted)) commit(m, c, env);
        if (m.group->commit == GroupSpec::Commit::auto_commit && ++polls % 10 == 0) read_committed(m, c, env);
        // Draining, an idle member reads what its group committed now and then: a commit whose
        // answer was lost (indeterminate) may have landed, and only a read shows that it did.
        if (draining_ && r->empty() && ++idle_polls % 4 == 0) read_committed(m, c, env);
    }
    if (m.group->commit == GroupSpec::Commit::sync) commit(m, c, env);
    c.close();
}

void GroupWorkload::process(Member& m, client::Consumer& c, const std::vector<client::ConsumerRecord>& records,
                            env::Env& env) {
    int32_t generation = c.group_metadata().generation_id;
    for (const client::ConsumerRecord& r : records) {
        history_.processed(m.name, m.group->name, generation, {r.topic, r.partition.value()}, r.offset.value(),
                           text(r.value), env.now());
        m.next[{r.topic, r.partition}] = r.offset + 1;
        stats_.processed++;
    }
}

// commit_sync of the next offsets of what was processed, for the partitions still assigned.
void GroupWorkload::commit(Member& m, client::Consumer& c, env::Env& env) {
    client::OffsetMap offsets;
    std::map<sim::PartitionName, int64_t> recorded;
    for (const client::TopicPartitionName& tp : c.assignment()) {
        auto it = m.next.find(tp);
        if (it == m.next.end()) continue;
        offsets[tp] = it->second;
        recorded[name_of(tp)] = it->second.value();
    }
    if (offsets.empty()) {
        m.uncommitted = false;
        return;
    }
    sim::GroupOpId id =
        history_.invoke_commit(m.name, m.group->name, c.group_metadata().generation_id, recorded, env.now());
    Status st = c.commit_sync(offsets, ms(10'000));
    m.uncommitted = !st.ok();
    if (st.ok()) {
        history_.ok_commit(id, env.now());
        stats_.commits_ok++;
        for (const auto& [p, o] : recorded) {
            int64_t& best = committed_[m.group->name][p.partition];
            best = std::max(best, o);
        }
        return;
    }
    stats_.commits_failed++;
    // A timeout or a lost connection may still have committed; the coordinator's refusals
    // (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS) did not.
    bool definite = st.error().code != Errc::timeout && st.error().code != Errc::disconnected &&
                    st.error().code != Errc::closed;
    if (definite) {
        history_.fail(id, st.error().to_string(), env.now());
    } else {
        history_.info(id, st.error().to_string(), env.now());
    }
}

void GroupWorkload::read_committed(Member& m, client::Consumer& c, env::Env& env) {
    std::vector<client::TopicPartitionName> all;
    for (int32_t p = 0; p < options_.partitions; p++) all.push_back({options_.topic, PartitionIndex(p)});
    sim::GroupOpId id = history_.invoke_fetch(m.name, m.group->name, env.now());
    auto r = c.committed(all, ms(10'000));
    if (!r.ok()) {
        history_.fail(id, r.error().to_string(), env.now());
        return;
    }
    std::map<sim::PartitionName, int64_t> got;
    for (const auto& tp : all) {
        auto it = r->find(tp);
        int64_t o = it == r->end() ? -1 : it->second.value();
        got[name_of(tp)] = o;
        int64_t& best = committed_[m.group->name][tp.partition.value()];
        best = std::max(best, o);
    }
    history_.ok_fetch(id, std::move(got), env.now());
}

// Crashes (kill -9, restarted 0.2-5 s later) and long pauses of random members.
void GroupWorkload::churn(Duration until) {
    env::Random& rnd = world_.random();
    while (world_.now().ns < until.count()) {
        world_.sleep(rnd.uniform(options_.churn_gap / 2, options_.churn_gap * 3 / 2));
        if (stopping_ || draining_ || members_.empty()) return;
        Member& m = *members_[rnd.uniform(0, members_.size() - 1)];
        if (!world_.node(m.name).running() || world_.node(m.name).paused()) continue;
        if (rnd.chance(0.5)) {
            stats_.crashes++;
            world_.crash(m.name);
            world_.sleep(rnd.uniform(ms(200), ms(5'000)));
            world_.start(m.name);
        } else {
            stats_.pauses++;
            world_.pause(m.name);
            world_.sleep(rnd.uniform(options_.pause_min, options_.pause_max));
            world_.resume(m.name);
        }
    }
}

std::map<std::pair<std::string, int32_t>, int64_t> GroupWorkload::high_watermarks() {
    std::map<std::pair<std::string, int32_t>, int64_t> out;
    const controller::MetadataImage* img = cluster_.active_image();
    const controller::TopicState* t = img != nullptr ? img->topic_by_name(options_.topic) : nullptr;
    if (t == nullptr) return out;
    for (const auto& [index, p] : t->partitions) {
        broker::Partition* leader = cluster_.replica(p.leader, t->id, index.value());
        out[{options_.topic, index.value()}] = leader != nullptr ? leader->high_watermark().value() : -1;
    }
    return out;
}

bool GroupWorkload::drain(Duration limit, std::string& missing) {
    draining_ = true;
    auto hw = high_watermarks();
    auto behind = [&] {
        missing.clear();
        for (const GroupSpec& g : options_.groups) {
            for (const auto& [tp, target] : hw) {
                int64_t at = committed_[g.name].count(tp.second) ? committed_[g.name][tp.second] : -1;
                if (target > 0 && at < target) {
                    missing += g.name + " " + tp.first + "-" + std::to_string(tp.second) + " at " +
                               std::to_string(at) + " of " + std::to_string(target) + "; ";
                }
            }
        }
        return !missing.empty();
    };
    return !hw.empty() && world_.run_until([&] { return !behind(); }, limit);
}

bool GroupWorkload::all_done() const {
    return std::all_of(members_.begin(), members_.end(), [](const auto& m) { return m->done; });
}

bool GroupWorkload::stop(Duration limit) {
    stopping_ = true;
    return world_.run_until([&] { return all_done(); }, limit);
}

std::pair<int32_t, std::vector<sim::PartitionName>> GroupWorkload::assignment_of(const std::string& member) const {
    const auto& events = history_.events();
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        if (it->process != member) continue;
        if (it->kind == sim::GroupEventKind::assignment) return {it->generation, it->partitions};
        if (it->kind == sim::GroupEventKind::lost) return {-1, {}};
    }
    return {-1, {}};
}

int32_t GroupWorkload::generation_of(const std::string& group) const {
    int32_t g = -1;
    for (const sim::GroupEvent& e : history_.events()) {
        if (e.group == group && e.kind == sim::GroupEventKind::assignment) g = std::max(g, e.generation);
    }
    return g;
}

void apply_group_bug_param(sim::ScenarioContext& ctx, group::GroupCoordinatorConfig& config) {
    std::string bug = ctx.param("group_bug", "none");
    if (bug == "commit-without-fencing") {
        config.bugs.commit_without_fencing = true;
    } else if (bug != "none") {
        ctx.violation("unknown --param group_bug=" + bug + " (none, commit-without-fencing)");
    }
}

}  // namespace keel::scenarios
