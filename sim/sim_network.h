// SimNetwork: env::Network for a whole simulated cluster living in one fiber::Scheduler,
// in virtual time, with the faults a distributed-log simulator needs.
//
// Model (see docs/simulator.md):
// - A connection is a pair of sides sharing one state. Each direction keeps the frames in
//   flight in send order with delivery times
//       deliver_at = max(now + latency + clog extra, previous deliver_at in that direction)
//   so order holds. A delivery is a scheduler timer of group 0 (the network is the
//   kernel: it keeps working while a node is paused) that appends the frame to the
//   receiver's inbox, wakes the receiving fiber and folds the delivery into the trace hash.
// - Flow control: frames in flight plus frames delivered but not yet received are at most
//   send_queue_frames_max per direction; send blocks the fiber while that is full.
// - Partition (directional links between host names): a frame that comes due while its
//   link is blocked waits, with every later frame of that direction, in order (held).
//   Healing releases them with fresh latency. A direction held longer than
//   stall_reset_timeout resets the connection on both sides. A connect needs both
//   directions (a TCP handshake): across a blocked link it waits for a heal until
//   min(deadline, now + connect_timeout), then fails with Errc::timeout.
// - Clog: a directed link gets extra latency for frames sent during the clog.
// - Reset (reset_connections, a crash, an oversized frame, a stall): frames in flight in
//   both directions are lost; each side first drains what was already delivered to it,
//   then sees Errc::disconnected.
// - Crash (node_crashed, or a side destroyed while its fiber group is dead): every
//   connection of the node resets, its in-flight frames are dropped, its listeners go.
//   Either order of node_crashed and Scheduler::kill_group gives the same result.
// - All randomness (latency) comes from the env::Random given; every container whose
//   order can reach behaviour is ordered by name or by a sequential id.
//
// Lifetime: Connections, Listeners and Networks may outlive the SimNetwork (e.g. fibers
// unwound by ~Scheduler after the network is gone); they then do nothing and never block.
// Destructors never block. Call node_crashed() when the node crashes, before it restarts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <string>

#include "core/base/types.h"
#include "core/env/executor.h"
#include "core/env/network.h"
#include "core/env/random.h"
#include "runtime/scheduler.h"

namespace keel::sim {

struct NetworkOptions {
    // Per-frame latency: latency_min plus an exponential tail (mean a quarter of the span)
    // capped at latency_max.
    Duration latency_min = std::chrono::microseconds(200);
    Duration latency_max = std::chrono::milliseconds(2);
    // Unreachable peer: connect fails with Errc::timeout at min(deadline, now + this).
    Duration connect_timeout = std::chrono::seconds(3);
    // A direction held by a partition this long resets the connection on both sides.
    Duration stall_reset_timeout = std::chrono::seconds(10);
    // Per direction: frames in flight plus delivered-but-unread; send blocks when full.
    size_t send_queue_frames_max = 4096;
    // Connections handed to a listener but not yet accepted; beyond it connect is refused.
    size_t accept_backlog_max = 128;
    // A larger frame fails send with Errc::message_too_large and resets the connection.
    size_t frame_bytes_max = env::frame_size_max_default;
};

struct NetworkCounters {
    uint64_t frames_sent = 0;
    uint64_t frames_delivered = 0;  // into the receiver's inbox
    uint64_t bytes_delivered = 0;
    uint64_t frames_held_by_partition = 0;  // each frame counted once, however long held
    uint64_t frames_delayed_by_clog = 0;
    uint64_t frames_dropped_by_crash = 0;  // in flight (either direction) when a node crashed
    uint64_t frames_rejected_too_large = 0;
    uint64_t connections_opened = 0;
    uint64_t connections_reset_by_partition = 0;
    uint64_t connections_reset_by_fault = 0;  // reset_connections()
    uint64_t connections_reset_by_crash = 0;
    uint64_t connects_refused = 0;
    uint64_t connects_timed_out = 0;
};

namespace detail {
struct NetCore;
}

class SimNetwork {
public:
    SimNetwork(fiber::Scheduler& s, env::Random& rng, NetworkOptions options = {});
    ~SimNetwork();
    SimNetwork(const SimNetwork&) = delete;
    SimNetwork& operator=(const SimNetwork&) = delete;

    // The Network of one node incarnation: its host name (e.g. "c1") and the executor of
    // that incarnation, which must be a fiber::GroupExecutor. Listening addresses use
    // this host. The executor is used only while the returned object lives.
    std::unique_ptr<env::Network> attach(const std::string& host, env::Executor& ex);

    // The node crashed: every connection it had resets (peers see Errc::disconnected
    // after the frames already delivered to them), its in-flight frames are dropped
    // (counted), its listeners disappear.
    void node_crashed(const std::string& host);

    // Faults. Links are directional: partition(a, b, false) blocks a→b only (one-way).
    // Blocking takes effect on frames as they come due; healing releases held frames.
    // `cause` tags the block (a nemesis operation; 0 = untagged): a link stays blocked
    // while any cause blocks it, and every frame held or connect stalled on it is credited
    // to each of its causes (effect_of).
    void partition(const std::string& a, const std::string& b, bool both_ways = true,
                   uint64_t cause = 0);
    // Partitions `host` both ways from every host this network knows (attached or named
    // in a fault so far).
    void isolate(const std::string& host, uint64_t cause = 0);
    // Unblocks a→b and b→a, whatever blocked them.
    void heal(const std::string& a, const std::string& b);
    // Removes only `cause`'s blocks (other faults on the same links stay); returns how
    // many directed links it had blocked.
    size_t heal_cause(uint64_t cause);
    void heal_all();
    // a→b frames sent during the next `duration` take `extra_latency` longer (one-way);
    // each frame delayed is credited to `cause`.
    void clog(const std::string& a, const std::string& b, Duration extra_latency,
              Duration duration, uint64_t cause = 0);
    // Frames held and connects stalled by a partition of this cause, or frames delayed by
    // a clog of this cause.
    uint64_t effect_of(uint64_t cause) const;
    // Directed links blocked right now.
    size_t blocked_links() const;
    // A TCP reset of every a↔b connection (either side may be a); returns how many.
    size_t reset_connections(const std::string& a, const std::string& b);

    // False while from→to is blocked. A host always reaches itself.
    bool reachable(const std::string& from, const std::string& to) const;
    // Changes apply to what happens next (latency draws, new holds, new sends).
    NetworkOptions& options();
    const NetworkCounters& counters() const;

    // Sees every data frame sent and delivered (the World turns these into trace lines):
    // kind is "net.send" or "net.deliver"; msg numbers frames across the whole network, so
    // a send and its delivery share it.
    using Observer = std::function<void(std::string_view kind, const std::string& from,
                                        const std::string& to, uint64_t msg, size_t bytes)>;
    void set_observer(Observer observer);

private:
    std::shared_ptr<detail::NetCore> core_;
};

}  // namespace keel::sim
