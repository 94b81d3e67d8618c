// The KRaft metadata quorum and its controller, unchanged, in production: real sockets
// (loopback), real files (a temporary directory) and the real clock, one ProdNode (one OS
// thread) per node — the wiring of scenarios/raft/quorum_cluster.cc and
// scenarios/controller/controller_cluster.cc without the simulator.
//
// Threads: every node's state lives on its own thread. The test thread reads only atomics
// (a Probe) that the node's fibers publish, and data a finished node wrote before its
// thread was joined. Waits poll with a generous limit; nothing depends on how long a step
// takes, only on it happening before the limit (a busy 2-core CI machine under ASan).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base/bytes.h"
#include "core/controller/broker_lifecycle.h"
#include "core/controller/controller_service.h"
#include "core/controller/metadata_image.h"
#include "core/env/sync.h"
#include "core/raft/raft_driver.h"
#include "core/raft/raft_storage.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"
#include "tests/prod/loopback_util.h"

namespace keel {
namespace {

constexpr auto kWaitLimit = std::chrono::seconds(60);  // only a broken cluster waits this long
const char* const kClusterId = "keel-prod-test-cluster";
constexpr int32_t kBrokerIdBase = 100;
constexpr size_t kBrokersMax = 2;

using loopback::free_port;

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit = kWaitLimit) {
    return loopback::wait_until(done, limit);
}

// ------------------------------------------------------------------------- probes

// What one node incarnation publishes for the test thread. Written only on the node's
// thread (its fibers), read by the test thread.
struct Probe {
    std::atomic<bool> serving{false};  // the driver's run() is serving
    std::atomic<bool> exited{false};   // run() returned (stop or a fatal error)
    std::atomic<bool> failed{false};   // run() or the controller service returned an error
    std::atomic<int> role{-1};         // raft::Role
    std::atomic<int32_t> epoch{-1};
    std::atomic<int32_t> leader{-1};
    std::atomic<int64_t> high_watermark{-1};
    std::atomic<int64_t> applied{-1};
    std::atomic<int64_t> log_end{-1};
    // The recording state machine (Raft test).
    std::atomic<uint64_t> applied_count{0};  // data entries in the state
    std::atomic<uint64_t> digest{0};         // chained over (offset, record)
    std::atomic<bool> snapshot_restored{false};
    // The metadata image (controller test): each broker's registration as this node sees it.
    std::array<std::atomic<int64_t>, kBrokersMax> broker_epoch{};  // -1: not registered
    std::array<std::atomic<int>, kBrokersMax>
        broker_state{};  // 0 absent, 1 fenced, 2 active, 3 shutting down
    std::atomic<int64_t> image_end{0};
    std::atomic<uint64_t> image_hash{0};
    // The controller service.
    std::atomic<int32_t> active_epoch{-1};  // the Raft epoch this controller last became active in
    std::atomic<uint64_t> session_fences{0};
    // The broker lifecycle (the broker's own view).
    std::atomic<int64_t> lifecycle_epoch{-1};
    std::atomic<bool> lifecycle_fenced{true};

    Probe() {
        for (auto& e : broker_epoch) e = -1;
        for (auto& s : broker_state) s = 0;
    }

    bool is_leader() const { return serving && role == static_cast<int>(raft::Role::leader); }
};

void publish(const raft::RaftStatus& s, Probe& p) {
    p.role = static_cast<int>(s.role);
    p.epoch = s.epoch.value();
    p.leader = s.leader ? s.leader->value() : -1;
    p.high_watermark = s.high_watermark.value();
    p.applied = s.applied.value();
    p.log_end = s.log_end.value();
    p.serving = s.running;
}

uint64_t fnv1a(uint64_t h, ByteView bytes) {
    for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
    return h;
}

// The Raft test's state machine: counts the data entries applied and chains a digest over
// them; snapshots hold both (as scenarios/raft's RecordingStateMachine does).
class RecordingMachine final : public raft::StateMachine {
public:
    explicit RecordingMachine(Probe& probe) : probe_(probe) {}

    void apply(Offset offset, QuorumEpoch /*epoch*/, ByteView record) override {
        ByteWriter w;
        w.i64(offset.value());
        Bytes at = w.take();
        digest_ = fnv1a(fnv1a(digest_ ^ 0xcbf29ce484222325ULL, at), record);
        count_++;
        publish_state();
    }

    Bytes take_snapshot(Offset end_offset) override {
        ByteWriter w;
        w.u32(kMagic);
        w.i64(end_offset.value());
        w.u64(count_);
        w.u64(digest_);
        return w.take();
    }

    Status restore_snapshot(Offset end_offset, ByteView data) override {
        auto decoded = decode(data);
        if (!decoded || decoded->end != end_offset.value()) {
            return Status(Errc::corrupt, "recording machine snapshot does not decode");
        }
        count_ = decoded->count;
        digest_ = decoded->digest;
        probe_.snapshot_restored = true;
        publish_state();
        return ok_status();
    }

    struct Decoded {
        int64_t end = 0;
        uint64_t count = 0;
        uint64_t digest = 0;
    };
    static std::optional<Decoded> decode(ByteView data) {
        ByteReader r(data);
        uint32_t magic = r.u32();
        Decoded d{r.i64(), r.u64(), r.u64()};
        if (!r.ok() || !r.at_end() || magic != kMagic) return std::nullopt;
        return d;
    }

private:
    static constexpr uint32_t kMagic = 0x50524d31;  // 'PRM1'

    void publish_state() {
        probe_.digest = digest_;  // before the count: a reader that sees the count sees its digest
        probe_.applied_count = count_;
    }

    Probe& probe_;
    uint64_t count_ = 0;
    uint64_t digest_ = 0;
};

// The brokers' registrations in a metadata image, as atomics.
void publish_image(const controller::MetadataImage& image, Probe& p) {
    for (size_t i = 0; i < kBrokersMax; i++) {
        const controller::BrokerRegistration* r =
            image.broker(NodeId(kBrokerIdBase + 1 + static_cast<int32_t>(i)));
        p.broker_epoch[i] = r == nullptr ? -1 : r->epoch.value();
        p.broker_state[i] = r == nullptr ? 0 : r->active() ? 2 : r->fenced ? 1 : 3;
    }
    p.image_hash = std::hash<std::string>{}(image.describe());
    p.image_end = image.end_offset().value();
}

// Runs `fn` on a new fiber of the node; `done` is set when it ends (also when unwound).
// Publishes the driver's status every 10 ms until `stopping`.
void report_status(env::Env& env, raft::RaftDriver& driver, Probe& probe, const bool& stopping,
                   const std::function<void()>& extra = {}) {
    while (!stopping) {
        publish(driver.status(), probe);
        if (extra) extra();
        env.executor().sleep_for(10ms);
    }
}

// `keel format` on a node's first start only: a restart keeps its directory as it is.
void format_once(env::Env& env, NodeId id, bool format, Probe& probe) {
    if (format &&
        !raft::format_storage(env.disk(), "", raft::MetaProperties{id, kClusterId}).ok()) {
        probe.failed = true;
    }
}

raft::RaftConfig raft_config(const std::map<NodeId, env::Address>& voters) {
    raft::RaftConfig c;
    for (const auto& [id, addr] : voters) c.voters.push_back(id);
    c.cluster_id = kClusterId;
    c.election_timeout = 500ms;
    c.fetch_timeout = 1000ms;
    c.check_quorum_timeout = 1500ms;
    c.election_backoff_max = 500ms;
    return c;
}

raft::RaftDriverOptions driver_options(NodeId id, const std::map<NodeId, env::Address>& voters,
                                       raft::StateMachine& sm) {
    raft::RaftDriverOptions o;
    o.id = id;
    o.config = raft_config(voters);
    o.voter_addresses = voters;
    if (voters.count(id) != 0) o.listen = voters.at(id);
    o.state_machine = &sm;
    o.snapshot_interval_entries = 16;  // snapshot files, and segments deleted below them
    o.segment_bytes = 4096;
    return o;
}

prod::ProdNodeOptions node_options() {
    prod::ProdNodeOptions o;
    o.log.min_level = env::Level::info;  // node start and stop, and anything going wrong
    return o;
}

// ------------------------------------------------------------------- Raft voters

// Proposals the test asks for: whichever node leads proposes until `ok` reaches `wanted`.
struct Workload {
    std::atomic<uint64_t> wanted{0};
    std::atomic<uint64_t> ok{0};
    std::atomic<uint64_t> failed{0};  // outcome unknown: may still commit
    std::atomic<uint64_t> seq{0};     // record names, unique across nodes and incarnations
};

void propose_while_leading(env::Env& env, raft::RaftDriver& driver, Workload& work) {
    raft::RaftStatus s = driver.status();
    if (!s.running || s.role != raft::Role::leader || work.ok >= work.wanted) {
        env.executor().sleep_for(10ms);
        return;
    }
    std::string record = env.node_name() + "/" + std::to_string(work.seq++);
    Result<Offset> r = driver.propose(to_bytes(record)).get(env.now() + 10s);
    if (r.ok()) {
        work.ok++;
    } else {
        work.failed++;
        env.executor().sleep_for(10ms);
    }
}

void raft_voter_main(env::Env& env, NodeId id, const std::map<NodeId, env::Address>& voters,
                     bool format, Probe& probe, Workload& work) {
    format_once(env, id, format, probe);
    RecordingMachine sm(probe);
    raft::RaftDriver driver(env, driver_options(id, voters, sm));
    bool stopping = false;
    env::Event reporter_done(env.executor()), proposer_done(env.executor());
    env::spawn_joinable(env.executor(), "probe", reporter_done,
                    [&] { report_status(env, driver, probe, stopping); });
    env::spawn_joinable(env.executor(), "proposer", proposer_done, [&] {
        while (!stopping) propose_while_leading(env, driver, work);
    });
    Status st = driver.run();
    if (!st.ok()) probe.failed = true;
    probe.serving = false;
    probe.exited = true;
    stopping = true;
    reporter_done.wait();
    proposer_done.wait();
}

// One node of the test: its directory, its current incarnation and that incarnation's probe.
struct Slot {
    std::string name;
    NodeId id{-1};
    std::string dir;
    std::unique_ptr<Probe> probe;
    std::unique_ptr<prod::ProdNode> node;

    // Starts a new incarnation on the slot's directory (after stop(), if it ran before).
    ::testing::AssertionResult start(const std::function<void(env::Env&, Probe&)>& main) {
        probe = std::make_unique<Probe>();
        node = std::make_unique<prod::ProdNode>(name, dir, node_options());
        Probe* p = probe.get();
        Status st = node->start([main, p](env::Env& e) { main(e, *p); });
        if (!st.ok()) {
            return ::testing::AssertionFailure()
                   << name << " did not start: " << st.error().message;
        }
        return ::testing::AssertionSuccess();
    }
    void stop() {
        if (node) node->stop();
    }
    bool up() const { return node && node->running() && probe && !probe->exited; }
};

// The running node leading the highest epoch (above `after`), if any.
std::optional<size_t> leader_of(const std::vector<Slot>& slots, int32_t after = -1) {
    std::optional<size_t> best;
    int32_t best_epoch = after;
    for (size_t i = 0; i < slots.size(); i++) {
        const Slot& s = slots[i];
        if (!s.up() || !s.probe->is_leader()) continue;
        int32_t e = s.probe->epoch;
        if (e > best_epoch) {
            best = i;
            best_epoch = e;
        }
    }
    return best;
}

// Every listed node has applied at least `count` data entries, and all the same ones.
bool applied_alike(const std::vector<Slot*>& slots, uint64_t count) {
    if (slots.empty()) return false;
    uint64_t c0 = slots[0]->probe->applied_count;
    uint64_t d0 = slots[0]->probe->digest;
    for (Slot* s : slots) {
        if (!s->up()) return false;
        uint64_t c = s->probe->applied_count;
        if (c < count || c != c0 || s->probe->digest != d0) return false;
    }
    return true;
}

std::string describe(const std::vector<Slot>& slots) {
    std::string out;
    for (const Slot& s : slots) {
        out += s.name + ": ";
        if (!s.up()) {
            out += "down\n";
            continue;
        }
        const Probe& p = *s.probe;
        out += "role " + std::string(raft::role_name(static_cast<raft::Role>(p.role.load()))) +
               " epoch " + std::to_string(p.epoch) + " leader " + std::to_string(p.leader) +
               " log_end " + std::to_string(p.log_end) + " hw " + std::to_string(p.high_watermark) +
               " applied " + std::to_string(p.applied) + " data entries " +
               std::to_string(p.applied_count) + "\n";
    }
    return out;
}

// What a stopped node's directory holds, read back by RaftStorage on a short-lived node.
struct DiskView {
    std::string error;
    bool quorum_state = false;
    int32_t epoch = -1;
    std::optional<int64_t> snapshot_end;
    uint64_t data_entries = 0;  // in the snapshot plus in the log after it
};

DiskView read_back(const std::string& dir) {
    DiskView v;
    prod::ProdNodeOptions o = node_options();
    o.stop_when_main_returns = true;
    prod::ProdNode reader("reader", dir, o);
    Status started = reader.start([&v](env::Env& env) {
        raft::RaftStorageOptions so;
        so.disk = &env.disk();
        so.clock = &env.clock();
        so.executor = &env.executor();
        so.tracer = &env.tracer();
        auto storage = raft::RaftStorage::open(so);
        if (!storage.ok()) {
            v.error = "open: " + storage.error().message;
            return;
        }
        raft::RecoveryInfo info;
        auto restored = (*storage)->recover(info);
        if (!restored.ok()) {
            v.error = "recover: " + restored.error().message;
            return;
        }
        v.quorum_state = restored->quorum_state.has_value();
        if (restored->quorum_state) v.epoch = restored->quorum_state->epoch.value();
        if (restored->snapshot) {
            v.snapshot_end = restored->snapshot->id.end_offset.value();
            auto d = RecordingMachine::decode(restored->snapshot->data);
            if (!d) {
                v.error = "the snapshot does not decode";
                return;
            }
            v.data_entries = d->count;
        }
        for (const raft::LogEntry& e : restored->log) {
            if (e.kind == raft::EntryKind::data) v.data_entries++;
        }
    });
    if (!started.ok()) {
        v.error = "reader did not start: " + started.error().message;
        return v;
    }
    if (!wait_until([&] { return !reader.running(); })) v.error = "reader did not finish";
    reader.stop();  // joins the thread: what it wrote into v is visible from here on
    return v;
}

// The workload commits `more` further entries and every node of `group` applies them alike.
void commit_and_apply(Workload& work, const std::vector<Slot>& slots,
                      const std::vector<Slot*>& group, uint64_t more) {
    work.wanted = work.ok + more;
    uint64_t wanted = work.wanted;
    ASSERT_TRUE(wait_until([&] { return work.ok >= wanted; })) << "not committed\n"
                                                               << describe(slots);
    ASSERT_TRUE(wait_until([&] { return applied_alike(group, wanted); })) << "not applied alike\n"
                                                                          << describe(slots);
}

// A stopped leader's directory holds its vote epoch, a snapshot and every entry it
// acknowledged (real files, read back by RaftStorage).
void expect_durable_leader_state(const std::string& dir, int32_t epoch, uint64_t entries) {
    DiskView disk = read_back(dir);
    ASSERT_EQ(disk.error, "");
    EXPECT_TRUE(disk.quorum_state);
    EXPECT_GE(disk.epoch, epoch);
    EXPECT_TRUE(disk.snapshot_end.has_value()) << "no snapshot file after " << entries << " entries";
    EXPECT_GE(disk.data_entries, entries);
}

TEST(RaftOnLoopback, ThreeControllersElectALeaderCommitAndSurviveALeaderRestart) {
    prod::TempDir dir("keel-raft-");
    std::map<NodeId, env::Address> voters;
    Workload work;  // outlives the nodes (declared before them)
    std::vector<Slot> slots;
    for (int i = 1; i <= 3; i++) {
        voters[NodeId(i)] = env::Address{"127.0.0.1", free_port()};
        std::string name = "c" + std::to_string(i);
        slots.push_back(Slot{name, NodeId(i), dir.path() + "/" + name, nullptr, nullptr});
    }
    auto main_for = [&](NodeId id, bool format) {
        return [&voters, &work, id, format](env::Env& e, Probe& p) {
            raft_voter_main(e, id, voters, format, p, work);
        };
    };
    for (Slot& s : slots) ASSERT_TRUE(s.start(main_for(s.id, true)));
    std::vector<Slot*> all = {&slots[0], &slots[1], &slots[2]};

    // Phase 1: a leader is elected and 40 entries commit and apply everywhere.
    ASSERT_TRUE(wait_until([&] { return leader_of(slots).has_value(); })) << "no leader\n"
                                                                          << describe(slots);
    constexpr uint64_t kBatch = 40;
    ASSERT_NO_FATAL_FAILURE(commit_and_apply(work, slots, all, kBatch));

    // Phase 2: the leader stops (its fibers unwind, its files stay); the other two elect a
    // leader of a later epoch, which commits 40 more.
    std::optional<size_t> first = leader_of(slots);
    ASSERT_TRUE(first.has_value()) << describe(slots);
    Slot& old = slots[*first];
    int32_t old_epoch = old.probe->epoch;
    old.stop();
    std::vector<Slot*> rest;
    for (Slot& s : slots) {
        if (&s != &old) rest.push_back(&s);
    }
    ASSERT_TRUE(wait_until([&] { return leader_of(slots, old_epoch).has_value(); }))
        << "no new leader after epoch " << old_epoch << "\n"
        << describe(slots);
    ASSERT_NO_FATAL_FAILURE(commit_and_apply(work, slots, rest, kBatch));
    uint64_t wanted = work.wanted;
    ASSERT_NO_FATAL_FAILURE(expect_durable_leader_state(old.dir, old_epoch, kBatch));

    // Phase 3: the old leader restarts on its directory, recovers and catches up; then all
    // three commit 10 more.
    ASSERT_TRUE(old.start(main_for(old.id, false)));
    ASSERT_TRUE(wait_until([&] { return applied_alike(all, wanted); }))
        << "the restarted node did not catch up\n"
        << describe(slots);
    EXPECT_GE(old.probe->epoch.load(), old_epoch);
    EXPECT_TRUE(old.probe->snapshot_restored) << "the restart did not load a snapshot";
    ASSERT_NO_FATAL_FAILURE(commit_and_apply(work, slots, all, 10));

    for (Slot& s : slots) EXPECT_FALSE(s.probe->failed) << s.name << " stopped on an error";
    for (Slot& s : slots) s.stop();
}

// ------------------------------------------------------------ controllers and brokers

// Where everyone listens: Raft on the controllers, the controller service next to it.
struct ControllerAddresses {
    std::map<NodeId, env::Address> raft;
    std::map<NodeId, env::Address> service;
};

controller::ControllerConfig controller_config() {
    controller::ControllerConfig c;
    c.cluster_id = kClusterId;
    c.session_timeout = 3s;  // a silent broker is fenced within seconds
    c.heartbeat_interval = 500ms;
    return c;
}

void controller_main(env::Env& env, NodeId id, const ControllerAddresses& at, bool format,
                     Probe& probe) {
    format_once(env, id, format, probe);
    controller::MetadataImage image;
    image.set_observer(
        [&probe](const controller::MetadataImage& img, bool) { publish_image(img, probe); });
    raft::RaftDriver driver(env, driver_options(id, at.raft, image));
    controller::ControllerServiceOptions so;
    so.config = controller_config();
    so.listen = at.service.at(id);
    controller::ControllerServiceHooks hooks;
    hooks.on_activated = [&probe](QuorumEpoch epoch, Instant) {
        probe.active_epoch = epoch.value();
    };
    hooks.on_session_fence = [&probe](NodeId, Instant, Instant) { probe.session_fences++; };
    controller::ControllerService service(env, driver, image, so, hooks);
    bool stopping = false;
    env::Event service_done(env.executor()), reporter_done(env.executor());
    env::spawn_joinable(env.executor(), "controller-service", service_done, [&] {
        if (!service.run().ok()) probe.failed = true;
    });
    env::spawn_joinable(env.executor(), "probe", reporter_done,
                    [&] { report_status(env, driver, probe, stopping); });
    Status st = driver.run();
    if (!st.ok()) probe.failed = true;
    probe.serving = false;
    probe.exited = true;
    stopping = true;
    service.stop();
    service_done.wait();
    reporter_done.wait();
}

void broker_main(env::Env& env, NodeId id, const ControllerAddresses& at, uint16_t port,
                 bool format, Probe& probe) {
    format_once(env, id, format, probe);
    controller::MetadataImage image;
    image.set_observer(
        [&probe](const controller::MetadataImage& img, bool) { publish_image(img, probe); });
    raft::RaftDriver driver(env, driver_options(id, at.raft, image));  // an observer: not a voter
    controller::BrokerLifecycleOptions lo;
    lo.broker_id = id;
    lo.cluster_id = kClusterId;
    lo.listeners = {controller::BrokerEndpoint{"PLAINTEXT", "127.0.0.1", port, 0}};
    lo.controllers = at.service;
    lo.heartbeat_interval = controller_config().heartbeat_interval;
    controller::BrokerLifecycle lifecycle(env, image, lo,
                                          [&driver] { return driver.status().leader; });
    bool stopping = false;
    env::Event lifecycle_done(env.executor()), reporter_done(env.executor());
    env::spawn_joinable(env.executor(), "broker-lifecycle", lifecycle_done, [&] { lifecycle.run(); });
    env::spawn_joinable(env.executor(), "probe", reporter_done, [&] {
        report_status(env, driver, probe, stopping, [&] {
            probe.lifecycle_epoch = lifecycle.epoch() ? lifecycle.epoch()->value() : -1;
            probe.lifecycle_fenced = lifecycle.fenced();
        });
    });
    Status st = driver.run();
    if (!st.ok()) probe.failed = true;
    probe.serving = false;
    probe.exited = true;
    stopping = true;
    lifecycle.stop();
    lifecycle_done.wait();
    reporter_done.wait();
}

// The controller that leads its Raft epoch and has become active in it, if any.
std::optional<size_t> active_controller(const std::vector<Slot>& controllers) {
    std::optional<size_t> l = leader_of(controllers);
    if (!l || controllers[*l].probe->active_epoch != controllers[*l].probe->epoch)
        return std::nullopt;
    return l;
}

// Broker `b` (0-based) as the active controller's image has it: 0 absent, 1 fenced, 2 active.
int broker_state(const std::vector<Slot>& controllers, size_t b, int64_t* epoch = nullptr) {
    std::optional<size_t> a = active_controller(controllers);
    if (!a) return -1;
    const Probe& p = *controllers[*a].probe;
    if (epoch != nullptr) *epoch = p.broker_epoch[b];
    return p.broker_state[b];
}

std::string describe_brokers(const std::vector<Slot>& controllers,
                             const std::vector<Slot>& brokers) {
    std::string out = describe(controllers) + describe(brokers);
    for (const Slot& c : controllers) {
        if (!c.up()) continue;
        out += c.name + " image (end " + std::to_string(c.probe->image_end) + ", active in epoch " +
               std::to_string(c.probe->active_epoch) + ", fences " +
               std::to_string(c.probe->session_fences) + "):";
        for (size_t b = 0; b < kBrokersMax; b++) {
            out += " b" + std::to_string(b + 1) + " state " +
                   std::to_string(c.probe->broker_state[b]) + " epoch " +
                   std::to_string(c.probe->broker_epoch[b]);
        }
        out += "\n";
    }
    for (const Slot& b : brokers) {
        if (b.up()) {
            out += b.name + " lifecycle: epoch " + std::to_string(b.probe->lifecycle_epoch) +
                   (b.probe->lifecycle_fenced ? " fenced\n" : " unfenced\n");
        }
    }
    return out;
}

// Every running node's image (brokers' included) is the active controller's.
bool images_converged(const std::vector<Slot>& controllers, const std::vector<Slot>& brokers) {
    std::optional<size_t> a = active_controller(controllers);
    if (!a) return false;
    uint64_t h = controllers[*a].probe->image_hash;
    int64_t end = controllers[*a].probe->image_end;
    for (const std::vector<Slot>* group : {&controllers, &brokers}) {
        for (const Slot& s : *group) {
            if (!s.up() || s.probe->image_end != end || s.probe->image_hash != h) return false;
        }
    }
    return true;
}

TEST(ControllerOnLoopback, BrokersRegisterHeartbeatAndAreFencedWhenSilent) {
    prod::TempDir dir("keel-controller-");
    ControllerAddresses at;
    std::array<uint16_t, kBrokersMax> broker_ports{};
    std::vector<Slot> controllers, brokers;
    for (int i = 1; i <= 3; i++) {
        at.raft[NodeId(i)] = env::Address{"127.0.0.1", free_port()};
        at.service[NodeId(i)] = env::Address{"127.0.0.1", free_port()};
        std::string name = "c" + std::to_string(i);
        controllers.push_back(Slot{name, NodeId(i), dir.path() + "/" + name, nullptr, nullptr});
    }
    for (size_t i = 0; i < kBrokersMax; i++) {
        broker_ports[i] = free_port();
        std::string name = "b" + std::to_string(i + 1);
        brokers.push_back(Slot{name, NodeId(kBrokerIdBase + 1 + static_cast<int32_t>(i)),
                               dir.path() + "/" + name, nullptr, nullptr});
    }
    for (Slot& c : controllers) {
        ASSERT_TRUE(c.start(
            [&at, id = c.id](env::Env& e, Probe& p) { controller_main(e, id, at, true, p); }));
    }
    auto broker_for = [&at, &broker_ports](NodeId id, size_t index, bool format) {
        return [&at, &broker_ports, id, index, format](env::Env& e, Probe& p) {
            broker_main(e, id, at, broker_ports[index], format, p);
        };
    };
    for (size_t i = 0; i < brokers.size(); i++)
        ASSERT_TRUE(brokers[i].start(broker_for(brokers[i].id, i, true)));

    // Both brokers register and are unfenced (they heartbeat and have caught up).
    auto unfenced = [&](size_t b) {
        return broker_state(controllers, b) == 2 && !brokers[b].probe->lifecycle_fenced;
    };
    ASSERT_TRUE(wait_until([&] { return unfenced(0) && unfenced(1); }))
        << "not both unfenced\n"
        << describe_brokers(controllers, brokers);

    // b2 stops: its heartbeats stop and the active controller fences it once its session lapses.
    int64_t old_epoch = -1;
    ASSERT_TRUE(wait_until([&] { return broker_state(controllers, 1, &old_epoch) == 2; }))
        << describe_brokers(controllers, brokers);
    brokers[1].stop();
    ASSERT_TRUE(wait_until([&] { return broker_state(controllers, 1) == 1; }))
        << "the silent broker was not fenced\n"
        << describe_brokers(controllers, brokers);
    uint64_t fences = 0;
    for (const Slot& c : controllers) fences += c.up() ? c.probe->session_fences.load() : 0;
    EXPECT_GE(fences, 1u);

    // b2 restarts on its directory: a new registration (a later broker epoch), unfenced again.
    ASSERT_TRUE(brokers[1].start(broker_for(brokers[1].id, 1, false)));
    int64_t new_epoch = -1;
    ASSERT_TRUE(wait_until([&] {
        return unfenced(1) && broker_state(controllers, 1, &new_epoch) == 2;
    })) << "the restarted broker was not unfenced\n"
        << describe_brokers(controllers, brokers);
    EXPECT_GT(new_epoch, old_epoch);

    // Every node's image converges to the active controller's (brokers' images included).
    ASSERT_TRUE(wait_until([&] { return images_converged(controllers, brokers); }))
        << "images differ\n"
        << describe_brokers(controllers, brokers);

    for (const std::vector<Slot>* group : {&controllers, &brokers}) {
        for (const Slot& s : *group)
            EXPECT_FALSE(s.probe->failed) << s.name << " stopped on an error";
    }
    for (Slot& b : brokers) b.stop();
    for (Slot& c : controllers) c.stop();
}

}  // namespace
}  // namespace keel
