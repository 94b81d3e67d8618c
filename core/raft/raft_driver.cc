// RaftDriver: start (recovery, disk-loss policy), the raft loop, stop, the public API.
// The Ready is handled in raft_driver_ready.cc, the network in raft_driver_net.cc.
#include "core/raft/raft_driver.h"

#include <algorithm>

#include "core/log/checkpoint.h"
#include "core/raft/raft_driver_internal.h"

namespace keel::raft {

namespace {

// The loop never sleeps for less than this, even if a timer is overdue (no busy loop).
constexpr Duration kTickResolution = ms(1);
constexpr std::string_view kClientIdPrefix = "raft-";

}  // namespace

std::string raft_client_id(NodeId id) { return std::string(kClientIdPrefix) + std::to_string(id.value()); }

std::optional<NodeId> parse_raft_client_id(const std::optional<std::string>& client_id) {
    if (!client_id || !client_id->starts_with(kClientIdPrefix)) return std::nullopt;
    auto v = log::parse_int64(std::string_view(*client_id).substr(kClientIdPrefix.size()));
    if (!v || *v < 0 || *v > INT32_MAX) return std::nullopt;
    return NodeId(static_cast<int32_t>(*v));
}

RaftDriver::RaftDriver(env::Env& env, RaftDriverOptions options)
    : env_(env),
      options_(std::move(options)),
      client_id_(raft_client_id(options_.id)),
      helpers_done_(env.executor()),
      stop_event_(env.executor()) {
    KEEL_ASSERT(options_.state_machine != nullptr);
    status_.id = options_.id;
    status_.voters = options_.config.voters;
    std::sort(status_.voters.begin(), status_.voters.end());
    status_.voter = std::binary_search(status_.voters.begin(), status_.voters.end(), options_.id);
}

RaftDriver::~RaftDriver() {
    // Normally run() has stopped everything. When the node crashes, its fibers are
    // unwound before this runs; only closing (never waiting) is left to do.
    stopping_ = true;
    if (listener_) listener_->close();
    for (auto& [id, in] : inbound_) in->conn->close();
    for (auto& [id, p] : peers_) {
        if (p->conn) p->conn->close();
    }
}

Status RaftDriver::run() {
    KEEL_ASSERT_MSG(!inbox_, "RaftDriver::run is called once");
    inbox_ = std::make_unique<env::Channel<Input>>(env_.executor(), std::max<size_t>(options_.inbox_max, 1));
    Status st = start();
    if (st.ok()) st = raft_loop();
    shutdown(st.ok() ? std::string("stopped") : st.error().to_string());
    return st;
}

void RaftDriver::stop() {
    stopping_ = true;
    stop_event_.set();
    if (inbox_) inbox_->close();
}

env::Future<Offset> RaftDriver::propose(Bytes record) {
    env::Promise<Offset> p(env_.executor());
    env::Future<Offset> f = p.future();
    if (stopping_ || !inbox_ || !status_.running) {
        p.set(Error{Errc::closed, "the raft driver is not running"});
    } else if (inbox_->size() >= inbox_->capacity()) {
        p.set(Error{Errc::not_enough_replicas, "the raft loop is busy; retry later"});
    } else {
        Input in;
        in.kind = Input::Kind::propose;
        in.record = std::move(record);
        in.promise.emplace(std::move(p));
        (void)inbox_->try_send(std::move(in));  // room was checked; fibers do not interleave here
    }
    return f;
}

void RaftDriver::resign() {
    if (stopping_ || !inbox_) return;
    Input in;
    in.kind = Input::Kind::resign;
    (void)inbox_->try_send(std::move(in));
}

// -------------------------------------------------------------------------- start

// Buggify knobs (FoundationDB style): for a whole run, limits pushed to small but legal
// values, so that every path that splits work is taken — many fetches for a tail, many
// snapshot chunks, short apply batches, many small log segments.
void RaftDriver::buggify_knobs() {
    RaftConfig& c = options_.config;
    if (KEEL_BUGGIFY_KNOB(env_, "raft.knob.small_fetch_bytes")) c.fetch_bytes_max = std::min<size_t>(c.fetch_bytes_max, 200);
    if (KEEL_BUGGIFY_KNOB(env_, "raft.knob.small_snapshot_chunks")) {
        c.snapshot_chunk_bytes_max = std::min<size_t>(c.snapshot_chunk_bytes_max, 48);
    }
    if (KEEL_BUGGIFY_KNOB(env_, "raft.knob.small_apply_batch")) c.apply_entries_max = std::min<size_t>(c.apply_entries_max, 3);
    if (KEEL_BUGGIFY_KNOB(env_, "raft.knob.small_segments")) {
        options_.segment_bytes = std::min<int64_t>(options_.segment_bytes, 2048);
    }
}

Status RaftDriver::start() {
    RaftStorageOptions so;
    so.disk = &env_.disk();
    so.clock = &env_.clock();
    so.executor = &env_.executor();
    so.tracer = &env_.tracer();
    so.buggify = &env_.buggify();
    so.root = options_.data_root;
    buggify_knobs();
    so.segment_bytes = options_.segment_bytes;
    KEEL_TRY_ASSIGN(storage_, RaftStorage::open(so));
    EmptyDisk empty_disk = EmptyDisk::bootstrap;
    RecoveryInfo info;
    KEEL_TRY_ASSIGN(Restored restored, recover(empty_disk, info));
    std::optional<Snapshot> snapshot = restored.snapshot;
    if (snapshot) {
        KEEL_TRY(options_.state_machine->restore_snapshot(snapshot->id.end_offset, snapshot->data));
        last_snapshot_end_ = snapshot->id.end_offset;
    }
    persisted_qs_ = restored.quorum_state;
    std::vector<ObservedEntry> observed;
    for (const LogEntry& e : restored.log) {
        observed.push_back({e.offset, e.epoch, payload_hash(e.payload), e.kind != EntryKind::data});
    }
    KEEL_TRY_ASSIGN(RaftNode node, RaftNode::create(options_.id, options_.config, std::move(restored), empty_disk,
                                                    env_.random().next_u64(), env_.now()));
    node_.emplace(std::move(node));
    if (options_.observer != nullptr) {
        options_.observer->on_recovered(options_.id, last_snapshot_end_,
                                        snapshot ? snapshot->id.epoch : QuorumEpoch(0), observed);
    }
    start_network();
    KEEL_TRY(process_ready());  // the first Ready persists the initial quorum state
    if (!info.formatted) {
        // Only now that a quorum state is durable: a crash before this must not look like
        // a freshly formatted node (which may bootstrap).
        KEEL_TRY(format_storage(env_.disk(), options_.data_root,
                                MetaProperties{options_.id, options_.config.cluster_id.value_or("")}));
    }
    status_.running = true;
    update_status();
    return ok_status();
}

// Reads the disk back and decides what an empty or damaged one means (see the header).
Result<Restored> RaftDriver::recover(EmptyDisk& empty_disk, RecoveryInfo& info) {
    KEEL_TRY_ASSIGN(Restored r, storage_->recover(info));
    auto log_line = [&](env::Level level, const std::string& m) {
        env_.tracer().log(level, "raft node " + std::to_string(options_.id.value()) + ": " + m);
    };
    for (const auto& n : info.notes) log_line(env::Level::warn, n);
    auto meta = read_meta_properties(env_.disk(), options_.data_root);
    if (meta.ok() && *meta && (*meta)->node_id != options_.id) {
        return Error{Errc::corrupt, "this disk was formatted for node " + std::to_string((*meta)->node_id.value())};
    }
    if (r.quorum_state) {
        if (options_.bug_forget_vote) r.quorum_state->voted_for.reset();  // planted bug (tests only)
        return r;
    }
    bool has_state = !r.log.empty() || r.snapshot.has_value();
    if (info.quorum_state_corrupt || (info.formatted && has_state)) {
        // The vote this node may have granted is unknown: rejoin as after a disk loss,
        // without voting until caught up, at the latest epoch its log proves.
        log_line(env::Level::error, "quorum-state is missing or corrupt; rejoining without a vote until caught up");
        QuorumState qs;
        qs.epoch = r.log.empty() ? (r.snapshot ? r.snapshot->id.epoch : QuorumEpoch(0)) : r.log.back().epoch;
        qs.catching_up = options_.protect_empty_disk;
        r.quorum_state = qs;
        return r;
    }
    if (info.formatted) {
        empty_disk = EmptyDisk::bootstrap;
    } else {
        empty_disk = options_.protect_empty_disk ? EmptyDisk::rejoin : EmptyDisk::bootstrap;
        log_line(env::Level::warn, std::string("no meta.properties: the disk was lost; ") +
                                       (options_.protect_empty_disk ? "rejoining (catching up before voting)"
                                                                    : "bootstrapping anyway (unprotected)"));
    }
    return r;
}

// --------------------------------------------------------------------------- loop

Status RaftDriver::raft_loop() {
    while (!stopping_) {
        Instant wake = std::max(node_->next_deadline(), env_.now() + kTickResolution);
        auto in = inbox_->receive(wake);
        node_->tick(env_.now());
        KEEL_TRY(process_ready());
        if (in.ok()) {
            KEEL_TRY(handle_input(std::move(*in)));
        } else if (in.code() != Errc::timeout) {
            break;  // stopped, or the node is going down
        }
    }
    return ok_status();
}

void RaftDriver::spawn_helper(std::string name, std::function<void()> fn) {
    helpers_++;
    env::FiberId f = env_.executor().spawn(std::move(name), [this, fn = std::move(fn)] {
        struct Done {
            RaftDriver* d;
            ~Done() {
                d->helpers_--;
                d->helpers_done_.notify_all();
            }
        } done{this};
        fn();
    });
    if (f == 0) helpers_--;  // the node is dying: it never runs
}

void RaftDriver::shutdown(const std::string& why) {
    stopping_ = true;
    stop_event_.set();
    status_.running = false;
    status_.failure = why;
    if (why != "stopped") {
        env_.tracer().log(env::Level::error, "raft node " + std::to_string(options_.id.value()) +
                                                 ": stopped serving: " + why);
    }
    fail_pending(Errc::closed, "the raft driver stopped: " + why);
    if (inbox_) inbox_->close();
    close_network();
    while (helpers_ > 0) {
        if (helpers_done_.wait(Instant::max()) == env::WakeReason::dying) return;
    }
}

}  // namespace keel::raft
