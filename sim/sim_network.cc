#include "sim/sim_network.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/base/assert.h"
#include "core/env/sync.h"
#include "sim/exp_draw.h"

namespace keel::sim {
namespace detail {

using env::TimerId;
using env::WakeReason;

using Link = std::pair<std::string, std::string>;  // from → to

enum class ResetCause : uint8_t { local, partition, fault, crash };

struct InFlight {
    Bytes frame;
    Instant deliver_at{0};
    uint64_t msg = 0;   // network-wide frame number (for traces)
    bool fin = false;   // the sender closed: after this the receiver sees disconnected
    bool held = false;  // counted in frames_held_by_partition already
};

// One direction of a connection: frames from side d to side 1 - d.
struct Direction {
    explicit Direction(env::Executor& ex) : readers(ex), writers(ex) {}
    std::deque<InFlight> in_flight;  // sent, not yet delivered; deliver_at non-decreasing
    std::deque<Bytes> inbox;         // delivered, not yet received
    Instant last_delivery{0};
    TimerId pump_timer = 0;          // pending delivery of the head frame
    bool held = false;               // the head came due while the link was blocked
    uint64_t hold_epoch = 0;
    bool fin_delivered = false;
    env::WaitQueue readers;  // fibers of the receiving side
    env::WaitQueue writers;  // fibers of the sending side blocked by flow control
    size_t queued() const { return in_flight.size() + inbox.size(); }
};

// The state both sides of one connection share.
struct Pipe {
    Pipe(uint64_t pipe_id, env::Executor& ex) : id(pipe_id), dir{Direction(ex), Direction(ex)} {}
    uint64_t id;
    std::array<env::Address, 2> addr;  // local address of each side
    std::array<fiber::GroupId, 2> group{0, 0};
    std::array<Direction, 2> dir;  // dir[d] carries frames from side d to side 1 - d
    std::array<bool, 2> closed{false, false};
    bool reset = false;
    uint64_t deliveries = 0;
    const std::string& host(int side) const { return addr[side].host; }
};

struct ListenerState {
    ListenerState(env::Address a, fiber::GroupId g, env::Executor& ex)
        : addr(std::move(a)), group(g), acceptors(ex) {}
    env::Address addr;
    fiber::GroupId group;
    std::deque<std::shared_ptr<Pipe>> backlog;  // connected, not yet accepted
    env::WaitQueue acceptors;
    bool closed = false;
};

struct HostState {
    std::map<uint16_t, std::shared_ptr<ListenerState>> listeners;
    uint16_t next_port = kEphemeralFirst;
    static constexpr uint16_t kEphemeralFirst = 49152;
};

struct Clog {
    Duration extra{0};
    Instant until{0};
    uint64_t cause = 0;
};

struct NetCore : std::enable_shared_from_this<NetCore> {
    NetCore(fiber::Scheduler& sched, env::Random& random, NetworkOptions o)
        : s(sched), rng(random), options(o), sim_ex(sched, 0), connect_waiters(sim_ex) {}

    fiber::Scheduler& s;
    env::Random& rng;
    NetworkOptions options;
    NetworkCounters counters;
    fiber::GroupExecutor sim_ex;    // group 0: waits and timers of the network itself
    env::WaitQueue connect_waiters;  // connects waiting for a heal
    bool alive = true;               // false once the SimNetwork is gone
    std::map<std::string, HostState> hosts;
    std::map<Link, std::set<uint64_t>> blocked;  // link -> the causes blocking it (never empty)
    std::map<Link, Clog> clogs;
    std::map<uint64_t, uint64_t> effect_by_cause;  // frames held/delayed, connects blocked
    std::map<uint64_t, std::weak_ptr<Pipe>> pipes;  // every connection, by creation order
    uint64_t next_pipe_id = 1;
    uint64_t next_msg = 1;
    SimNetwork::Observer observer;
    size_t prune_at = 64;  // forget dead connections when `pipes` grows past this

    // Links and latency.
    bool link_open(const std::string& from, const std::string& to) const {
        return from == to || blocked.count({from, to}) == 0;
    }
    // Credits one unit of effect to every cause blocking from→to.
    void credit_block(const std::string& from, const std::string& to) {
        auto it = blocked.find({from, to});
        if (it == blocked.end()) return;
        for (uint64_t c : it->second) effect_by_cause[c]++;
    }
    void block(const std::string& from, const std::string& to, uint64_t cause) {
        if (from != to) blocked[{from, to}].insert(cause);
    }
    void unblock(const Link& l, uint64_t cause) {
        auto it = blocked.find(l);
        if (it == blocked.end()) return;
        it->second.erase(cause);
        if (it->second.empty()) blocked.erase(it);
    }
    HostState& host_state(const std::string& h) { return hosts[h]; }
    Duration draw_latency();
    Duration clog_extra(const std::string& from, const std::string& to);

    // Frames.
    void enqueue(const std::shared_ptr<Pipe>& p, int d, InFlight f);
    void arm(const std::shared_ptr<Pipe>& p, int d);
    void pump(const std::shared_ptr<Pipe>& p, int d);
    void deliver(Pipe& p, int d, InFlight f);
    void hold(const std::shared_ptr<Pipe>& p, int d);
    void release(const std::shared_ptr<Pipe>& p, int d);
    void on_heal();

    // Connection life.
    std::vector<std::shared_ptr<Pipe>> live_pipes();
    bool reset_pipe(Pipe& p, ResetCause cause);
    void close_side(const std::shared_ptr<Pipe>& pipe, int side);
    Status send(const std::shared_ptr<Pipe>& p, int side, Bytes frame);
    Result<Bytes> receive(Pipe& p, int side, Instant deadline);

    // Listeners and connects.
    uint16_t ephemeral_port(HostState& h);
    void close_listener(ListenerState& l, ResetCause cause);
    void prune_dead_listeners(HostState& h);
    std::shared_ptr<ListenerState> find_listener(const env::Address& addr);
    Status await_handshake(const std::string& a, const std::string& b, Instant give_up);
    Result<std::shared_ptr<Pipe>> open_pipe(const std::string& a, fiber::GroupId group,
                                            const env::Address& to);
};

namespace {

uint64_t name_hash(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t frame_hash(const Bytes& b) {
    uint64_t h = 0x84222325cbf29ce4ULL;
    for (uint8_t c : b) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// Parks the current fiber until `until`; false if the node is dying.
bool sleep_until(fiber::Scheduler& s, Instant until) {
    while (s.now() < until) {
        if (s.park(until) == WakeReason::dying) return false;
    }
    return true;
}

}  // namespace

Duration NetCore::draw_latency() {
    Duration lo = options.latency_min;
    Duration hi = options.latency_max;
    if (hi <= lo) return lo;
    Duration span = hi - lo;
    return lo + std::min(exponential(rng, span / 4), span);
}

Duration NetCore::clog_extra(const std::string& from, const std::string& to) {
    auto it = clogs.find({from, to});
    if (it == clogs.end()) return Duration(0);
    if (s.now() >= it->second.until) {
        clogs.erase(it);
        return Duration(0);
    }
    return it->second.extra;
}

void NetCore::enqueue(const std::shared_ptr<Pipe>& p, int d, InFlight f) {
    Direction& dir = p->dir[d];
    Duration extra = clog_extra(p->host(d), p->host(1 - d));
    if (extra > Duration(0) && !f.fin) {
        counters.frames_delayed_by_clog++;
        effect_by_cause[clogs.at({p->host(d), p->host(1 - d)}).cause]++;
    }
    f.deliver_at = std::max(s.now() + draw_latency() + extra, dir.last_delivery);
    dir.last_delivery = f.deliver_at;
    if (dir.held && !f.fin) {
        f.held = true;
        counters.frames_held_by_partition++;
        credit_block(p->host(d), p->host(1 - d));
    }
    dir.in_flight.push_back(std::move(f));
    arm(p, d);
}

// Keeps one timer per direction, at the head frame's delivery time.
void NetCore::arm(const std::shared_ptr<Pipe>& p, int d) {
    Direction& dir = p->dir[d];
    if (dir.pump_timer != 0 || dir.held || dir.in_flight.empty() || p->reset) return;
    std::weak_ptr<NetCore> wc = weak_from_this();
    std::weak_ptr<Pipe> wp = p;
    dir.pump_timer = s.call_at(0, dir.in_flight.front().deliver_at, [wc, wp, d] {
        auto core = wc.lock();
        auto pipe = wp.lock();
        if (!core || !pipe || !core->alive) return;
        pipe->dir[d].pump_timer = 0;
        core->pump(pipe, d);
    });
}

void NetCore::pump(const std::shared_ptr<Pipe>& p, int d) {
    Direction& dir = p->dir[d];
    while (!p->reset && !dir.in_flight.empty() && dir.in_flight.front().deliver_at <= s.now()) {
        if (!link_open(p->host(d), p->host(1 - d))) {
            hold(p, d);
            return;
        }
        InFlight f = std::move(dir.in_flight.front());
        dir.in_flight.pop_front();
        deliver(*p, d, std::move(f));
    }
    arm(p, d);
}

void NetCore::deliver(Pipe& p, int d, InFlight f) {
    Direction& dir = p.dir[d];
    int to = 1 - d;
    s.mix((p.id << 20) ^ (static_cast<uint64_t>(d) << 19) ^ (f.fin ? 1u : 0u));
    s.mix(++p.deliveries ^ (static_cast<uint64_t>(f.frame.size()) << 32));
    s.mix(frame_hash(f.frame));  // the content, so a same-size nondeterministic payload shows
    if (f.fin) {
        dir.fin_delivered = true;
        dir.readers.notify_all();
        p.dir[to].writers.notify_all();  // the receiver's own sends now fail
        return;
    }
    if (p.closed[to]) {  // nobody reads this side any more: the frame is discarded
        dir.writers.notify_all();
        return;
    }
    counters.frames_delivered++;
    counters.bytes_delivered += f.frame.size();
    if (observer) observer("net.deliver", p.host(d), p.host(to), f.msg, f.frame.size());
    dir.inbox.push_back(std::move(f.frame));
    dir.readers.notify_all();
}

void NetCore::hold(const std::shared_ptr<Pipe>& p, int d) {
    Direction& dir = p->dir[d];
    dir.held = true;
    uint64_t epoch = ++dir.hold_epoch;
    for (InFlight& f : dir.in_flight) {
        if (f.held || f.fin) continue;
        f.held = true;
        counters.frames_held_by_partition++;
        credit_block(p->host(d), p->host(1 - d));
    }
    std::weak_ptr<NetCore> wc = weak_from_this();
    std::weak_ptr<Pipe> wp = p;
    s.call_at(0, s.now() + options.stall_reset_timeout, [wc, wp, d, epoch] {
        auto core = wc.lock();
        auto pipe = wp.lock();
        if (!core || !pipe || !core->alive) return;
        const Direction& stalled = pipe->dir[d];
        if (!stalled.held || stalled.hold_epoch != epoch) return;
        core->reset_pipe(*pipe, ResetCause::partition);
    });
}

// The link healed: held frames leave again, in order, each with a fresh latency.
void NetCore::release(const std::shared_ptr<Pipe>& p, int d) {
    Direction& dir = p->dir[d];
    dir.held = false;
    Instant t = s.now();
    Duration extra = clog_extra(p->host(d), p->host(1 - d));
    for (InFlight& f : dir.in_flight) {
        t = std::max(s.now() + draw_latency() + extra, t);
        f.deliver_at = t;
    }
    if (!dir.in_flight.empty()) dir.last_delivery = t;
    arm(p, d);
}

void NetCore::on_heal() {
    for (const auto& p : live_pipes()) {
        for (int d = 0; d < 2; d++) {
            if (p->reset || !p->dir[d].held) continue;
            if (link_open(p->host(d), p->host(1 - d))) release(p, d);
        }
    }
    connect_waiters.notify_all();
}

std::vector<std::shared_ptr<Pipe>> NetCore::live_pipes() {
    std::vector<std::shared_ptr<Pipe>> out;
    for (auto it = pipes.begin(); it != pipes.end();) {
        if (auto p = it->second.lock()) {
            out.push_back(std::move(p));
            ++it;
        } else {
            it = pipes.erase(it);
        }
    }
    return out;
}

bool NetCore::reset_pipe(Pipe& p, ResetCause cause) {
    if (p.reset) return false;
    p.reset = true;
    for (Direction& dir : p.dir) {
        if (dir.pump_timer != 0) s.cancel_timer(dir.pump_timer);
        dir.pump_timer = 0;
        if (cause == ResetCause::crash) {
            auto is_data = [](const InFlight& f) { return !f.fin; };
            counters.frames_dropped_by_crash += static_cast<uint64_t>(
                std::count_if(dir.in_flight.begin(), dir.in_flight.end(), is_data));
        }
        dir.in_flight.clear();
        dir.held = false;
        dir.readers.notify_all();
        dir.writers.notify_all();
    }
    if (cause == ResetCause::partition) counters.connections_reset_by_partition++;
    if (cause == ResetCause::fault) counters.connections_reset_by_fault++;
    if (cause == ResetCause::crash) counters.connections_reset_by_crash++;
    s.mix(0x7e5e700000000000ULL ^ (p.id << 4) ^ static_cast<uint64_t>(cause));
    return true;
}

void NetCore::close_side(const std::shared_ptr<Pipe>& pipe, int side) {
    Pipe& p = *pipe;
    if (p.closed[side]) return;
    // A side destroyed while its node's fibers unwind is a crash, not an orderly close.
    if (!s.group_alive(p.group[side])) reset_pipe(p, ResetCause::crash);
    p.closed[side] = true;
    Direction& in = p.dir[1 - side];
    in.inbox.clear();
    in.readers.notify_all();
    in.writers.notify_all();
    p.dir[side].writers.notify_all();
    if (!p.reset) enqueue(pipe, side, InFlight{.frame = {}, .deliver_at = {}, .fin = true});
}

Status NetCore::send(const std::shared_ptr<Pipe>& p, int side, Bytes frame) {
    Direction& out = p->dir[side];
    while (true) {
        if (p->closed[side]) return Status(Errc::closed, "connection closed locally");
        if (p->reset) return Status(Errc::disconnected, "connection reset");
        if (p->dir[1 - side].fin_delivered) return Status(Errc::disconnected, "closed by peer");
        if (frame.size() > options.frame_bytes_max) {
            counters.frames_rejected_too_large++;
            reset_pipe(*p, ResetCause::local);
            return Status(Errc::message_too_large, "frame of " + std::to_string(frame.size()) +
                                                       " bytes exceeds the maximum");
        }
        if (out.queued() < options.send_queue_frames_max) break;
        if (out.writers.wait(Instant::max()) == WakeReason::dying)
            return Status(Errc::cancelled, "node is stopping");
    }
    counters.frames_sent++;
    uint64_t msg = next_msg++;
    if (observer) observer("net.send", p->host(side), p->host(1 - side), msg, frame.size());
    enqueue(p, side, InFlight{.frame = std::move(frame), .deliver_at = {}, .msg = msg, .fin = false});
    return {};
}

Result<Bytes> NetCore::receive(Pipe& p, int side, Instant deadline) {
    Direction& in = p.dir[1 - side];
    while (true) {
        if (p.closed[side]) return Result<Bytes>(Errc::closed, "connection closed locally");
        if (!in.inbox.empty()) {
            Bytes b = std::move(in.inbox.front());
            in.inbox.pop_front();
            in.writers.notify_all();
            return b;
        }
        if (p.reset) return Result<Bytes>(Errc::disconnected, "connection reset");
        if (in.fin_delivered) return Result<Bytes>(Errc::disconnected, "closed by peer");
        WakeReason r = in.readers.wait(deadline);
        if (r == WakeReason::dying) return Result<Bytes>(Errc::cancelled, "node is stopping");
        bool changed = !in.inbox.empty() || p.reset || in.fin_delivered || p.closed[side];
        if (r == WakeReason::deadline && !changed)
            return Result<Bytes>(Errc::timeout, "no frame before the deadline");
    }
}

uint16_t NetCore::ephemeral_port(HostState& h) {
    for (int tries = 0; tries < 65536 - HostState::kEphemeralFirst; tries++) {
        uint16_t port = h.next_port;
        h.next_port = port == 65535 ? HostState::kEphemeralFirst : static_cast<uint16_t>(port + 1);
        if (h.listeners.count(port) == 0) return port;
    }
    return 0;
}

void NetCore::close_listener(ListenerState& l, ResetCause cause) {
    if (l.closed) return;
    l.closed = true;
    auto hit = hosts.find(l.addr.host);
    if (hit != hosts.end()) {
        auto lit = hit->second.listeners.find(l.addr.port);
        if (lit != hit->second.listeners.end() && lit->second.get() == &l) {
            hit->second.listeners.erase(lit);
        }
    }
    // Connections nobody accepted: the client sees them reset.
    for (const auto& p : l.backlog) reset_pipe(*p, cause);
    l.backlog.clear();
    l.acceptors.notify_all();
}

void NetCore::prune_dead_listeners(HostState& h) {
    std::vector<std::shared_ptr<ListenerState>> dead;
    for (const auto& [port, l] : h.listeners) {
        if (!s.group_alive(l->group)) dead.push_back(l);
    }
    for (const auto& l : dead) close_listener(*l, ResetCause::crash);
}

std::shared_ptr<ListenerState> NetCore::find_listener(const env::Address& addr) {
    auto hit = hosts.find(addr.host);
    if (hit == hosts.end()) return nullptr;
    prune_dead_listeners(hit->second);
    auto lit = hit->second.listeners.find(addr.port);
    return lit == hit->second.listeners.end() ? nullptr : lit->second;
}

// A TCP handshake: waits until both directions are open, then one round trip.
Status NetCore::await_handshake(const std::string& a, const std::string& b, Instant give_up) {
    while (true) {
        if (!link_open(a, b) || !link_open(b, a)) {
            if (!link_open(a, b)) credit_block(a, b);
            if (!link_open(b, a)) credit_block(b, a);
            if (s.now() >= give_up) {
                counters.connects_timed_out++;
                return Status(Errc::timeout, "no route to " + b);
            }
            if (connect_waiters.wait(give_up) == WakeReason::dying)
                return Status(Errc::cancelled, "node is stopping");
            continue;
        }
        Duration rtt = draw_latency() + clog_extra(a, b) + draw_latency() + clog_extra(b, a);
        Instant back = s.now() + rtt;
        if (!sleep_until(s, std::min(back, give_up)))
            return Status(Errc::cancelled, "node is stopping");
        if (back > give_up) {
            counters.connects_timed_out++;
            return Status(Errc::timeout, "handshake with " + b + " timed out");
        }
        if (link_open(a, b) && link_open(b, a)) return {};
    }
}

Result<std::shared_ptr<Pipe>> NetCore::open_pipe(const std::string& a, fiber::GroupId group,
                                                 const env::Address& to) {
    auto l = find_listener(to);
    if (!l || l->backlog.size() >= options.accept_backlog_max) {
        counters.connects_refused++;
        s.mix(0xc0ffee0000000000ULL ^ name_hash(to.to_string()));
        return Result<std::shared_ptr<Pipe>>(Errc::connection_refused,
                                             "nobody listens at " + to.to_string());
    }
    auto p = std::make_shared<Pipe>(next_pipe_id++, sim_ex);
    p->addr[0] = env::Address{a, ephemeral_port(host_state(a))};
    p->addr[1] = l->addr;
    p->group = {group, l->group};
    if (pipes.size() >= prune_at) prune_at = 2 * live_pipes().size() + 64;
    pipes[p->id] = p;
    l->backlog.push_back(p);
    l->acceptors.notify_all();
    counters.connections_opened++;
    s.mix(0x0be7000000000000ULL ^ (p->id << 16) ^ name_hash(p->addr[0].to_string()));
    return p;
}

}  // namespace detail

namespace {

using detail::NetCore;
using env::WakeReason;
using detail::Pipe;

Status stopped() { return Status(Errc::cancelled, "the simulated network is gone"); }

class SimConnection final : public env::Connection {
public:
    SimConnection(std::shared_ptr<NetCore> core, std::shared_ptr<Pipe> pipe, int side)
        : core_(std::move(core)), pipe_(std::move(pipe)), side_(side) {}
    ~SimConnection() override { close(); }

    Status send(Bytes frame) override {
        if (!core_->alive) return stopped();
        return core_->send(pipe_, side_, std::move(frame));
    }
    Result<Bytes> receive(Instant deadline) override {
        if (!core_->alive) return stopped().error();
        return core_->receive(*pipe_, side_, deadline);
    }
    void close() override {
        if (core_->alive) {
            core_->close_side(pipe_, side_);
        } else {
            pipe_->closed[side_] = true;
        }
    }
    const env::Address& peer() const override { return pipe_->addr[1 - side_]; }

private:
    std::shared_ptr<NetCore> core_;
    std::shared_ptr<Pipe> pipe_;
    int side_;
};

class SimListener final : public env::Listener {
public:
    SimListener(std::shared_ptr<NetCore> core, std::shared_ptr<detail::ListenerState> state)
        : core_(std::move(core)), state_(std::move(state)) {}
    ~SimListener() override { close(); }

    Result<std::unique_ptr<env::Connection>> accept(Instant deadline) override;
    void close() override {
        if (core_->alive) {
            core_->close_listener(*state_, detail::ResetCause::local);
        } else {
            state_->closed = true;
        }
    }
    const env::Address& address() const override { return state_->addr; }

private:
    std::shared_ptr<NetCore> core_;
    std::shared_ptr<detail::ListenerState> state_;
};

Result<std::unique_ptr<env::Connection>> SimListener::accept(Instant deadline) {
    using R = Result<std::unique_ptr<env::Connection>>;
    detail::ListenerState& l = *state_;
    while (true) {
        if (!core_->alive) return stopped().error();
        if (l.closed) return R(Errc::closed, "listener closed");
        if (!l.backlog.empty()) {
            std::shared_ptr<Pipe> p = std::move(l.backlog.front());
            l.backlog.pop_front();
            return std::unique_ptr<env::Connection>(std::make_unique<SimConnection>(core_, p, 1));
        }
        WakeReason r = l.acceptors.wait(deadline);
        if (r == WakeReason::dying) return R(Errc::cancelled, "node is stopping");
        if (r == WakeReason::deadline && l.backlog.empty() && !l.closed)
            return R(Errc::timeout, "no connection before the deadline");
    }
}

class SimNodeNetwork final : public env::Network {
public:
    SimNodeNetwork(std::shared_ptr<NetCore> core, std::string host, fiber::GroupId group)
        : core_(std::move(core)), host_(std::move(host)), group_(group) {}

    Result<std::unique_ptr<env::Listener>> listen(const env::Address& addr) override;
    Result<std::unique_ptr<env::Connection>> connect(const env::Address& addr,
                                                     Instant deadline) override;

private:
    std::shared_ptr<NetCore> core_;
    std::string host_;
    fiber::GroupId group_;
};

Result<std::unique_ptr<env::Listener>> SimNodeNetwork::listen(const env::Address& addr) {
    using R = Result<std::unique_ptr<env::Listener>>;
    if (!core_->alive) return stopped().error();
    if (!addr.host.empty() && addr.host != host_)
        return R(Errc::invalid_argument, "node " + host_ + " cannot listen on " + addr.to_string());
    detail::HostState& h = core_->host_state(host_);
    core_->prune_dead_listeners(h);
    uint16_t port = addr.port != 0 ? addr.port : core_->ephemeral_port(h);
    if (port == 0 || h.listeners.count(port) != 0)
        return R(Errc::address_in_use, host_ + ":" + std::to_string(addr.port) + " is in use");
    auto state = std::make_shared<detail::ListenerState>(env::Address{host_, port}, group_,
                                                         core_->sim_ex);
    h.listeners[port] = state;
    return std::unique_ptr<env::Listener>(std::make_unique<SimListener>(core_, std::move(state)));
}

Result<std::unique_ptr<env::Connection>> SimNodeNetwork::connect(const env::Address& addr,
                                                                 Instant deadline) {
    if (!core_->alive) return stopped().error();
    Instant give_up = std::min(deadline, core_->s.now() + core_->options.connect_timeout);
    Status st = core_->await_handshake(host_, addr.host, give_up);
    if (!st.ok()) return st.error();
    auto p = core_->open_pipe(host_, group_, addr);
    if (!p.ok()) return std::move(p).error();
    return std::unique_ptr<env::Connection>(
        std::make_unique<SimConnection>(core_, std::move(p).value(), 0));
}

}  // namespace

SimNetwork::SimNetwork(fiber::Scheduler& s, env::Random& rng, NetworkOptions options)
    : core_(std::make_shared<NetCore>(s, rng, options)) {}

SimNetwork::~SimNetwork() { core_->alive = false; }

std::unique_ptr<env::Network> SimNetwork::attach(const std::string& host, env::Executor& ex) {
    auto* gex = dynamic_cast<fiber::GroupExecutor*>(&ex);
    KEEL_ASSERT_MSG(gex != nullptr, "SimNetwork::attach needs a fiber::GroupExecutor");
    KEEL_ASSERT_MSG(!host.empty(), "a simulated host needs a name");
    core_->host_state(host);
    return std::make_unique<SimNodeNetwork>(core_, host, gex->group());
}

void SimNetwork::node_crashed(const std::string& host) {
    NetCore& c = *core_;
    for (const auto& p : c.live_pipes()) {
        if (p->host(0) != host && p->host(1) != host) continue;
        if (p->closed[0] && p->closed[1]) continue;
        c.reset_pipe(*p, detail::ResetCause::crash);
    }
    detail::HostState& h = c.host_state(host);
    std::vector<std::shared_ptr<detail::ListenerState>> listeners;
    for (const auto& [port, l] : h.listeners) listeners.push_back(l);
    for (const auto& l : listeners) c.close_listener(*l, detail::ResetCause::crash);
    c.s.mix(0xc4a5400000000000ULL ^ detail::name_hash(host));
}

void SimNetwork::partition(const std::string& a, const std::string& b, bool both_ways, uint64_t cause) {
    core_->host_state(a);
    core_->host_state(b);
    if (a == b) return;
    core_->block(a, b, cause);
    if (both_ways) core_->block(b, a, cause);
    core_->s.mix(0x9a47000000000000ULL ^ detail::name_hash(a) ^ (detail::name_hash(b) << 1) ^
                 (both_ways ? 1u : 0u));
}

void SimNetwork::isolate(const std::string& host, uint64_t cause) {
    std::vector<std::string> others;
    for (const auto& [name, h] : core_->hosts) {
        if (name != host) others.push_back(name);
    }
    for (const auto& other : others) partition(host, other, true, cause);
}

size_t SimNetwork::heal_cause(uint64_t cause) {
    std::vector<detail::Link> links;
    for (const auto& [link, causes] : core_->blocked) {
        if (causes.count(cause) != 0) links.push_back(link);
    }
    for (const auto& l : links) core_->unblock(l, cause);
    core_->s.mix(0x4ea1c00000000000ULL ^ cause);
    core_->on_heal();
    return links.size();
}

size_t SimNetwork::blocked_links() const { return core_->blocked.size(); }

uint64_t SimNetwork::effect_of(uint64_t cause) const {
    auto it = core_->effect_by_cause.find(cause);
    return it == core_->effect_by_cause.end() ? 0 : it->second;
}

void SimNetwork::heal(const std::string& a, const std::string& b) {
    core_->blocked.erase({a, b});
    core_->blocked.erase({b, a});
    core_->s.mix(0x4ea1000000000000ULL ^ detail::name_hash(a) ^ detail::name_hash(b));
    core_->on_heal();
}

void SimNetwork::heal_all() {
    core_->blocked.clear();
    core_->s.mix(0x4ea1a11000000000ULL);
    core_->on_heal();
}

void SimNetwork::clog(const std::string& a, const std::string& b, Duration extra_latency,
                      Duration duration, uint64_t cause) {
    core_->host_state(a);
    core_->host_state(b);
    core_->clogs[{a, b}] = detail::Clog{extra_latency, core_->s.now() + duration, cause};
    core_->s.mix(0xc1060000000000ULL ^ detail::name_hash(a) ^ (detail::name_hash(b) << 1));
}

size_t SimNetwork::reset_connections(const std::string& a, const std::string& b) {
    size_t n = 0;
    for (const auto& p : core_->live_pipes()) {
        bool match = (p->host(0) == a && p->host(1) == b) || (p->host(0) == b && p->host(1) == a);
        if (!match || (p->closed[0] && p->closed[1])) continue;
        if (core_->reset_pipe(*p, detail::ResetCause::fault)) n++;
    }
    return n;
}

bool SimNetwork::reachable(const std::string& from, const std::string& to) const {
    return core_->link_open(from, to);
}

NetworkOptions& SimNetwork::options() { return core_->options; }

const NetworkCounters& SimNetwork::counters() const { return core_->counters; }

void SimNetwork::set_observer(Observer observer) { core_->observer = std::move(observer); }

}  // namespace keel::sim
