// TcpNetwork: env::Network on non-blocking TCP sockets driven by a node's EpollPoller.
//
// Wire format: each frame is a 4-byte big-endian length followed by that many payload
// bytes (Kafka's framing); send() adds the prefix and receive() strips it.
//
// Blocking: a fiber that would block (EAGAIN, connect in progress) parks on the socket's
// wait queue; the poller's callback unparks it when the fd changes, and the fiber retries.
// Deadlines are park deadlines. Everything runs on the node's thread; objects from one
// TcpNetwork must be used only by fibers of that node and must not outlive it. A
// Connection or Listener must outlive every fiber blocked in it: close() wakes them (they
// return Errc::closed), but they still touch the object when they next run, so share
// ownership (std::shared_ptr) with fibers that may still be blocked.
//
// Failures (see core/env/network.h for the contract):
// - peer closed or reset (EOF, ECONNRESET, EPIPE, TCP_USER_TIMEOUT) -> Errc::disconnected,
//   after every complete frame already received has been delivered;
// - an incoming length prefix that is negative or above frame_size_max: the connection is
//   closed, a warning naming the peer and the length is logged, and receive() returns
//   Errc::message_too_large (afterwards Errc::closed);
// - a frame to send above frame_size_max -> Errc::message_too_large, nothing sent;
// - connect: ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT -> connection_refused; the
//   deadline passing first -> timeout.
// Every socket has TCP_NODELAY, SO_KEEPALIVE and TCP_USER_TIMEOUT (a silent peer resets
// the connection after user_timeout instead of stalling a sender forever).
//
// Host names are resolved with getaddrinfo, which blocks the node's thread; IP literals
// resolve without I/O. "" and "0.0.0.0" listen on every IPv4 interface.
//
// Network faults (a test facility, off unless TcpOptions::faults is set): NetFaults
// below cuts or slows the connections this node opens to given peer addresses, the way
// the simulator's network partitions and slows its links. `keel server --net-faults FILE`
// (prod/net_fault_control.h) drives it for `keel nemesis`; production servers never set it.
#pragma once

#include <map>
#include <memory>
#include <set>

#include "core/env/executor.h"
#include "core/env/network.h"
#include "core/env/tracer.h"
#include "prod/epoll_poller.h"

namespace keel::prod {

// What NetFaults does to the connections a node opens (connect()), by the peer address
// exactly as connect() was given it ("127.0.0.1:4003" and "localhost:4003" differ).
struct NetFaultRules {
    std::set<env::Address> cut;              // connect() refused, open connections closed
    std::map<env::Address, Duration> slow;   // each send waits this long first
    bool empty() const { return cut.empty() && slow.empty(); }
    auto operator<=>(const NetFaultRules&) const = default;
};

// What the filter did, since the node started. They prove that a fault bit.
struct NetFaultCounters {
    uint64_t connects_refused = 0;    // connect() to a cut peer (or one cut while connecting)
    uint64_t connections_closed = 0;  // open connections closed by a cut
    uint64_t sends_delayed = 0;       // frames that waited for a slow peer
    auto operator<=>(const NetFaultCounters&) const = default;
};

// The fault filter of one TcpNetwork. Only connections this node initiates are filtered
// (inbound ones carry no peer identity worth trusting): a symmetric partition of A and B
// is made by cutting B's addresses on A and A's on B, since each side's requests travel
// on connections it opened. A cut peer's connect() fails with Errc::connection_refused
// without touching the network; an open connection to a peer that becomes cut is shut
// down (both directions), so its fibers see Errc::disconnected (after the frames already
// received) and the peer sees the connection closed. A slow peer's send() sleeps on the
// calling fiber (the executor's sleep, never the thread) until its delay has passed since
// it was called, then sends: a latency, not a bandwidth limit (concurrent sends wait
// side by side; each fiber's frames keep their order). Everything runs on the node's thread; a NetFaults outlives the
// network and every connection it filters.
class NetFaults {
public:
    NetFaults() = default;
    NetFaults(const NetFaults&) = delete;
    NetFaults& operator=(const NetFaults&) = delete;

    // Replaces the rules; closes every open connection to a peer the new rules cut.
    void set_rules(NetFaultRules rules);
    const NetFaultRules& rules() const { return rules_; }
    const NetFaultCounters& counters() const { return counters_; }

    // For TcpNetwork's connections.
    class Link {
    public:
        virtual const env::Address& peer() const = 0;
        virtual bool cut_by_fault() = 0;  // shut down (Errc::disconnected); false if it was already

    protected:
        ~Link() = default;
    };
    bool is_cut(const env::Address& peer) const { return rules_.cut.count(peer) > 0; }
    Duration delay_for(const env::Address& peer) const;
    void attach(Link* link) { links_.insert(link); }
    void detach(Link* link) { links_.erase(link); }
    void count_refused() { counters_.connects_refused++; }
    void count_delayed() { counters_.sends_delayed++; }

private:
    NetFaultRules rules_;
    NetFaultCounters counters_;
    std::set<Link*> links_;  // the open connections this node initiated
};

struct TcpOptions {
    size_t frame_size_max = env::frame_size_max_default;
    int listen_backlog = 512;
    Duration user_timeout = 30s;  // unacknowledged data this long resets the connection
    Duration keepalive_idle = 10s;
    NetFaults* faults = nullptr;  // a test facility (see NetFaults); nullptr: none, no cost
};

class TcpNetwork final : public env::Network {
public:
    TcpNetwork(env::Executor& executor, EpollPoller& poller, env::Tracer& tracer,
               TcpOptions options = {});
    ~TcpNetwork() override;

    Result<std::unique_ptr<env::Listener>> listen(const env::Address& addr) override;
    Result<std::unique_ptr<env::Connection>> connect(const env::Address& addr,
                                                     Instant deadline) override;

    // Shared with the connections and listeners this network creates.
    struct Context {
        env::Executor& executor;
        EpollPoller& poller;
        env::Tracer& tracer;
        TcpOptions options;
    };

private:
    Context context_;
};

}  // namespace keel::prod
