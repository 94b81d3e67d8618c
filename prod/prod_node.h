// ProdNode: one production node = one OS thread running a real-time fiber::Scheduler (the
// same scheduler the simulator uses) over an EpollPoller, plus the env::Env that node's
// code receives (ProdEnv): RealClock, the scheduler's executor, TcpNetwork, PosixDisk at
// the data directory, OsRandom, NoBuggify and a LogTracer.
//
//   ProdNode node("b1", "/var/lib/keel/b1");
//   KEEL_TRY(node.start([](env::Env& env) { run_broker(env); }));
//   ...
//   node.stop();  // every fiber is unwound (destructors run), the thread is joined
//
// main runs on the node's first fiber. The node keeps running after main returns (its
// fibers keep serving) unless options.stop_when_main_returns. stop() unwinds every fiber
// of the node at its suspension point, exactly like a crash in the simulator; a fiber that
// never blocks cannot be stopped (cooperative scheduling).
//
// The loop runs at most events_per_poll fiber slices or timers between two looks at the
// poller, so I/O and stop requests are seen even while fibers keep yielding.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/base/result.h"
#include "core/env/env.h"
#include "prod/epoll_poller.h"
#include "prod/log_tracer.h"
#include "prod/tcp_network.h"

namespace keel::prod {

class PosixDisk;

struct ProdNodeOptions {
    LogOptions log{};
    TcpOptions tcp{};
    std::optional<uint64_t> seed{};  // env.random()'s seed; default: from the OS (and logged)
    size_t stack_bytes = 256 * 1024;
    int events_per_poll = 64;
    bool stop_when_main_returns = false;
};

class ProdNode {
public:
    using Main = std::function<void(env::Env&)>;

    ProdNode(std::string name, std::string data_dir, ProdNodeOptions options = {});
    ~ProdNode();  // stop()
    ProdNode(const ProdNode&) = delete;
    ProdNode& operator=(const ProdNode&) = delete;

    // Creates the data directory if needed and starts the node's thread, which runs main on
    // a fiber. Errors (the thread is then not started): the data directory cannot be
    // created. A node starts at most once (a restart is a new ProdNode on the same dir).
    Status start(Main main);

    // Runs the node in the calling thread until request_stop(), then unwinds its fibers
    // and returns. For `keel server` (request_stop from a signal handler is safe).
    Status run_blocking(Main main);

    // Asks the node to stop, from any thread, from the node's own fibers, or from a signal
    // handler (async-signal-safe: an atomic store and an eventfd write). Returns at once.
    void request_stop();

    // request_stop(), then waits until every fiber is unwound and the thread has exited.
    // Idempotent; callable from several threads at once. Must not be called from the node's
    // own thread (use request_stop()).
    void stop();

    // True from start() until the node's loop has finished unwinding.
    bool running() const { return running_.load(std::memory_order_acquire); }

    const std::string& name() const { return name_; }
    const std::string& data_dir() const { return data_dir_; }
    // The node's poller, for world-side listeners its fibers run besides env::Network
    // (the HTTP metrics listener); use only from the node's own thread.
    EpollPoller& poller() { return poller_; }
    // The random seed in use (valid once the node runs; 0 before).
    uint64_t seed() const { return seed_.load(std::memory_order_acquire); }

private:
    Status open_disk();
    void run(const Main& main);
    void run_until_stopped(const Main& main);

    std::string name_;
    std::string data_dir_;
    ProdNodeOptions options_;
    EpollPoller poller_;  // outlives the scheduler (made in run) and anything registered
    std::unique_ptr<PosixDisk> disk_;
    std::mutex join_mu_;  // one joiner at a time
    std::thread thread_;
    std::atomic<bool> started_{false};
    std::atomic<bool> running_{false};
    std::atomic<bool> stop_requested_{false};
    std::atomic<uint64_t> seed_{0};
};

}  // namespace keel::prod
