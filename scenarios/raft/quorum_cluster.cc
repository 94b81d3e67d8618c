#include "scenarios/raft/quorum_cluster.h"

#include <algorithm>

#include "core/env/sync.h"
#include "scenarios/quorum_probe.h"
#include "sim/trace.h"

namespace keel::scenarios {

namespace {

constexpr uint16_t kControllerPort = 9093;
constexpr int32_t kBrokerIdBase = 100;
const char* const kClusterId = "keel-sim-cluster";

uint64_t mix(uint64_t digest, Offset offset, ByteView record) {
    uint64_t h = raft::payload_hash(record) ^ (static_cast<uint64_t>(offset.value()) * 0x9e3779b97f4a7c15ULL);
    return (digest ^ h) * 0x100000001b3ULL + 0x7f4a7c15ULL;
}

}  // namespace

// ------------------------------------------------------------ recording state machine

void RecordingStateMachine::apply(Offset offset, QuorumEpoch /*epoch*/, ByteView record) {
    count_++;
    digest_ = mix(digest_, offset, record);
    if (ledger_ != nullptr) ledger_->after_apply(offset, count_, digest_);
}

Bytes RecordingStateMachine::take_snapshot(Offset end_offset) {
    ByteWriter w;
    w.u32(0x52534d31);  // 'RSM1'
    w.i64(end_offset.value());
    w.u64(count_);
    w.u64(digest_);
    return w.take();
}

Status RecordingStateMachine::restore_snapshot(Offset end_offset, ByteView data) {
    ByteReader r(data);
    uint32_t magic = r.u32();
    int64_t end = r.i64();
    uint64_t count = r.u64();
    uint64_t digest = r.u64();
    if (!r.ok() || !r.at_end() || magic != 0x52534d31 || end != end_offset.value()) {
        return Status(Errc::corrupt, "recording state machine snapshot does not decode");
    }
    count_ = count;
    digest_ = digest;
    if (ledger_ != nullptr) ledger_->on_restore(end_offset, count, digest);
    return ok_status();
}

void DigestLedger::after_apply(Offset offset, uint64_t count, uint64_t digest) {
    auto [it, inserted] = after_.try_emplace(offset, count, digest);
    if (!inserted && it->second != std::make_pair(count, digest) && violations_.size() < 10) {
        violations_.push_back("state-machine safety: two replays disagree after offset " +
                              std::to_string(offset.value()));
    }
}

void DigestLedger::on_restore(Offset end_offset, uint64_t count, uint64_t digest) {
    // Some node replayed every data entry below a snapshot's end before anyone could
    // snapshot it, so the ledger knows the state there.
    auto it = after_.lower_bound(end_offset);
    std::pair<uint64_t, uint64_t> expected{0, 0};
    if (it != after_.begin()) expected = std::prev(it)->second;
    if (expected != std::make_pair(count, digest) && violations_.size() < 10) {
        violations_.push_back("snapshot at " + std::to_string(end_offset.value()) +
                              " differs from replaying the entries below it (count " + std::to_string(count) +
                              " vs " + std::to_string(expected.first) + ")");
    }
}

// ----------------------------------------------------------------------- configs

raft::RaftConfig default_raft_config() { return raft::RaftConfig{}; }

raft::RaftConfig randomized_raft_config(env::Random& rng, std::string& description) {
    raft::RaftConfig c;
    c.election_timeout = rng.uniform(Duration(ms(300)), Duration(ms(1500)));
    c.fetch_timeout = rng.uniform(Duration(ms(800)), Duration(ms(3000)));
    c.check_quorum_timeout = c.fetch_timeout * 3 / 2;
    c.election_backoff_max = rng.uniform(Duration(ms(100)), c.election_timeout);
    c.fetch_max_wait = rng.uniform(Duration(ms(20)), Duration(ms(500)));
    c.pre_vote = !rng.chance(0.2);
    description = "election_timeout=" + std::to_string(to_ms(c.election_timeout)) +
                  "ms fetch_timeout=" + std::to_string(to_ms(c.fetch_timeout)) +
                  "ms fetch_max_wait=" + std::to_string(to_ms(c.fetch_max_wait)) +
                  "ms backoff_max=" + std::to_string(to_ms(c.election_backoff_max)) +
                  "ms pre_vote=" + (c.pre_vote ? "on" : "off");
    return c;
}

// ----------------------------------------------------------------------- cluster

struct QuorumCluster::Slot {
    std::string name;
    NodeId id{-1};
    bool voter = false;
    bool formatted = false;
    raft::RaftDriver* driver = nullptr;
    uint64_t seq = 0;
};

QuorumCluster::QuorumCluster(sim::ScenarioContext& ctx, QuorumOptions options)
    : ctx_(ctx),
      world_(ctx.world()),
      options_(std::move(options)),
      monitor_([this] { return world_.now(); }, [this] { return world_.scheduler().events(); }),
      restarter_(world_, options_.restart_after_disk_error) {
    options_.config.voters.clear();
    options_.config.cluster_id = kClusterId;
    for (int i = 1; i <= options_.controllers; i++) {
        std::string name = "c" + std::to_string(i);
        controllers_.push_back(name);
        options_.config.voters.push_back(NodeId(i));
        addresses_[NodeId(i)] = env::Address{name, kControllerPort};
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(i), true});
    }
    for (int i = 1; i <= options_.brokers; i++) {
        std::string name = "b" + std::to_string(i);
        brokers_.push_back(name);
        slots_[name] = std::make_unique<Slot>(Slot{name, NodeId(kBrokerIdBase + i), false});
    }
}

std::shared_ptr<QuorumCluster> QuorumCluster::create(sim::ScenarioContext& ctx, QuorumOptions options) {
    auto c = std::make_shared<QuorumCluster>(ctx, std::move(options));
    c->start();
    install_quorum_probe(ctx, c);
    return c;
}

void QuorumCluster::start() {
    std::shared_ptr<QuorumCluster> self = shared_from_this();
    for (const std::string& n : nodes()) {
        world_.add_node(n, [self, n](env::Env& env) { self->node_main(n, env); }, false);
        world_.node(n).disk().faults().latency_min = std::chrono::microseconds(20);
        world_.node(n).disk().faults().latency_max = options_.disk_latency_max;
    }
    // What may excuse a restarted node for missing entries it had synced: its disk was
    // wiped, corrupted, or returned a flipped bit (recovery drops what fails its checksum).
    monitor_.set_disk_damage_probe([this](NodeId id) {
        for (const auto& [name, slot] : slots_) {
            if (slot->id != id) continue;
            const sim::DiskCounters& c = world_.node(name).disk().counters();
            return c.wipes + c.corruptions_injected + c.bit_flips_on_read;
        }
        return uint64_t{0};
    });
    for (const std::string& n : nodes()) world_.start(n);
    world_.spawn("supervisor", [self] { self->restarter_.run_forever(self->nodes()); });
}

QuorumCluster::~QuorumCluster() = default;

std::vector<std::string> QuorumCluster::nodes() const {
    std::vector<std::string> all = controllers_;
    all.insert(all.end(), brokers_.begin(), brokers_.end());
    return all;
}

NodeId QuorumCluster::id_of(const std::string& name) const { return slots_.at(name)->id; }

void QuorumCluster::node_main(const std::string& name, env::Env& env) {
    Slot& s = *slots_.at(name);
    if (!s.formatted) {
        // `keel format` at cluster creation; a disk wiped later is not formatted again.
        s.formatted = raft::format_storage(env.disk(), "", raft::MetaProperties{s.id, kClusterId}).ok();
    }
    RecordingStateMachine sm(&ledger_);
    raft::RaftDriverOptions o;
    o.id = s.id;
    o.config = options_.config;
    if (options_.tweak) options_.tweak(name, o.config);
    o.voter_addresses = addresses_;
    if (s.voter) o.listen = addresses_.at(s.id);
    o.state_machine = &sm;
    o.observer = &monitor_;
    o.snapshot_interval_entries = options_.snapshot_interval_entries;
    o.segment_bytes = options_.segment_bytes;
    o.protect_empty_disk = options_.protect_empty_disk;
    o.bug_forget_vote = options_.bug_forget_vote;
    raft::RaftDriver driver(env, o);
    struct Registration {
        Slot& slot;
        ~Registration() { slot.driver = nullptr; }
    } registration{s};
    s.driver = &driver;
    bool stop_proposer = false;
    env::Event proposer_done(env.executor());
    if (s.voter) {
        env::spawn_joinable(env.executor(), "proposer", proposer_done, [this, &s, &driver, &env, &stop_proposer] {
            while (!stop_proposer) proposer(s, driver, env);
        });
    } else {
        proposer_done.set();
    }
    Status st = driver.run();
    stop_proposer = true;
    proposer_done.wait();
    if (!st.ok()) restarter_.exited(name);
}

// One step of a controller's workload: propose a record if this node leads, else wait.
void QuorumCluster::proposer(Slot& s, raft::RaftDriver& driver, env::Env& env) {
    if (!proposing_ || !driver.running() || driver.status().role != raft::Role::leader) {
        env.executor().sleep_for(options_.propose_interval);
        return;
    }
    std::string record = s.name + "#" + std::to_string(world_.node(s.name).incarnations()) + "/" +
                         std::to_string(s.seq++);
    env::Future<Offset> f = driver.propose(to_bytes(record));
    Result<Offset> r = f.get(env.now() + ms(5000));
    if (r.ok()) {
        proposals_ok_++;
    } else {
        proposals_failed_++;
    }
    env.executor().sleep_for(options_.propose_interval);
}

raft::RaftDriver* QuorumCluster::driver(const std::string& name) {
    auto it = slots_.find(name);
    if (it == slots_.end() || !world_.node(name).running()) return nullptr;
    return it->second->driver;
}

std::optional<raft::RaftStatus> QuorumCluster::status(const std::string& name) {
    raft::RaftDriver* d = driver(name);
    if (d == nullptr || !d->running()) return std::nullopt;
    return d->status();
}

std::optional<std::string> QuorumCluster::leader() {
    std::optional<std::string> best;
    QuorumEpoch best_epoch{-1};
    for (const std::string& c : controllers_) {
        auto s = status(c);
        if (s && !world_.node(c).paused() && s->role == raft::Role::leader && s->epoch > best_epoch) {
            best = c;
            best_epoch = s->epoch;
        }
    }
    return best;
}

sim::RoleResolver QuorumCluster::resolver() {
    return [this](std::string_view role) -> std::optional<std::string> {
        if (role == "@leader") return leader();
        std::vector<std::string> pool;
        if (role == "@follower") {
            auto l = leader();
            for (const auto& c : controllers_) {
                if (c != l && status(c)) pool.push_back(c);
            }
        } else if (role == "@controller") {
            pool = controllers_;
        } else if (role == "@broker") {
            pool = brokers_;
        }
        if (pool.empty()) return std::nullopt;
        return pool[world_.random().uniform(0, pool.size() - 1)];
    };
}

// ------------------------------------------------------------------------ liveness

bool QuorumCluster::caught_up(std::string& why, int64_t slack) {
    auto l = leader();
    if (!l) {
        why = "no leader";
        return false;
    }
    Offset hw = status(*l)->high_watermark;
    for (const std::string& n : nodes()) {
        auto s = status(n);
        if (!s || world_.node(n).paused()) {
            why = n + " is not running";
            return false;
        }
        if (s->applied + slack < hw) {
            why = n + " applied up to " + std::to_string(s->applied.value()) + " of the leader's high watermark " +
                  std::to_string(hw.value());
            return false;
        }
    }
    return true;
}

std::optional<Duration> QuorumCluster::await_quiet_liveness(Duration limit) {
    proposing_ = false;
    Instant start = world_.now();
    const raft::RaftConfig& c = options_.config;
    // A leader within a bounded number of election rounds: the fetch timeout to notice,
    // then up to ten rounds of (timeout + backoff).
    Duration leader_bound = c.fetch_timeout + 10 * (2 * c.election_timeout + c.election_backoff_max);
    struct Progress {
        bool done = false;
        std::string why = "no leader";
    };
    auto progress = std::make_shared<Progress>();
    std::shared_ptr<QuorumCluster> self = shared_from_this();
    world_.spawn("liveness", [self, progress] {
        while (!progress->done) {
            if (self->caught_up(progress->why)) {
                progress->done = true;
            } else {
                self->world_.sleep(ms(100));
            }
        }
    });
    bool has_leader = world_.run_until([&] { return leader().has_value(); }, leader_bound);
    if (!has_leader) {
        progress->done = true;
        ctx_.violation("not live after faults stopped: no leader within " + std::to_string(to_ms(leader_bound)) + " ms");
        return std::nullopt;
    }
    bool live = world_.run_until([&] { return progress->done; }, limit - (world_.now() - start));
    if (!live) {
        progress->done = true;
        ctx_.violation("not live after faults stopped: " + progress->why);
        return std::nullopt;
    }
    return world_.now() - start;
}

bool QuorumCluster::await_commit_after_heal(Duration limit) {
    Offset committed = monitor_.committed_end();
    uint64_t acked = proposals_ok_;
    bool moved = world_.run_until([&] { return monitor_.committed_end() > committed && proposals_ok_ > acked; }, limit);
    if (!moved) {
        ctx_.violation("not live after faults stopped: no commit within " + std::to_string(to_ms(limit)) +
                       " ms of the heal (committed end stayed at " + std::to_string(committed.value()) + ", " +
                       std::to_string(proposals_ok_ - acked) + " proposals acknowledged since)");
    }
    return moved;
}

void QuorumCluster::report() {
    for (const auto& v : monitor_.violations()) ctx_.violation(v.to_string());
    if (monitor_.violation_count() > monitor_.violations().size()) {
        ctx_.note(std::to_string(monitor_.violation_count()) + " monitor violations in all (first " +
                  std::to_string(monitor_.violations().size()) + " listed)");
    }
    for (const auto& v : ledger_.violations()) ctx_.violation(v);
    ctx_.metric("committed_entries", static_cast<double>(monitor_.committed_end().value()));
    ctx_.metric("elections", static_cast<double>(monitor_.elections()));
    ctx_.metric("leader_changes", static_cast<double>(monitor_.leader_changes()));
    ctx_.metric("proposals_committed", static_cast<double>(proposals_ok_));
    ctx_.metric("proposals_failed", static_cast<double>(proposals_failed_));
    ctx_.metric("monitor_events", static_cast<double>(monitor_.events()));
}

// -------------------------------------------------------------------- viz probe

void install_quorum_probe(sim::ScenarioContext& ctx, const std::shared_ptr<QuorumCluster>& cluster) {
    QuorumProbeSource src;
    std::weak_ptr<QuorumCluster> weak = cluster;
    src.alive = [weak] { return !weak.expired(); };
    src.nodes = cluster->nodes();
    src.voters = cluster->controllers();
    src.id_of = [weak](const std::string& n) { return weak.lock()->id_of(n); };
    src.status = [weak](const std::string& n) { return weak.lock()->status(n); };
    src.committed_end = [weak] { return weak.lock()->monitor().committed_end().value(); };
    src.violations = [weak] { return static_cast<uint64_t>(weak.lock()->monitor().violation_count()); };
    install_quorum_probe(ctx, std::move(src));
}

}  // namespace keel::scenarios
