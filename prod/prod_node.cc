#include "prod/prod_node.h"

#include "core/env/buggify.h"
#include "prod/os_random.h"
#include "prod/posix_disk.h"
#include "prod/real_clock.h"
#include "runtime/scheduler.h"

namespace keel::prod {

namespace {

// The env::Env of a production node: everything a node's code may touch, on real things.
class ProdEnv final : public env::Env {
public:
    ProdEnv(std::string name, fiber::Scheduler& scheduler, fiber::GroupId group,
            EpollPoller& poller, PosixDisk& disk, uint64_t seed, const ProdNodeOptions& o)
        : name_(std::move(name)),
          executor_(scheduler, group),
          tracer_(name_, o.log),
          network_(executor_, poller, tracer_, o.tcp),
          disk_(disk),
          random_(seed) {}

    env::Clock& clock() override { return clock_; }
    env::Executor& executor() override { return executor_; }
    env::Network& network() override { return network_; }
    env::Disk& disk() override { return disk_; }
    env::Random& random() override { return random_; }
    env::Buggify& buggify() override { return buggify_; }
    env::Tracer& tracer() override { return tracer_; }
    const std::string& node_name() const override { return name_; }

private:
    std::string name_;
    RealClock clock_;
    fiber::GroupExecutor executor_;
    LogTracer tracer_;
    TcpNetwork network_;
    PosixDisk& disk_;
    OsRandom random_;
    env::NoBuggify buggify_;
};

}  // namespace

ProdNode::ProdNode(std::string name, std::string data_dir, ProdNodeOptions options)
    : name_(std::move(name)), data_dir_(std::move(data_dir)), options_(std::move(options)) {
    KEEL_ASSERT(options_.events_per_poll > 0);
}

ProdNode::~ProdNode() { stop(); }

Status ProdNode::open_disk() {
    KEEL_ASSERT_MSG(!started_.exchange(true), "a ProdNode starts at most once");
    auto disk = PosixDisk::open_root(data_dir_);
    if (!disk.ok()) {
        return Error{disk.code(), "node " + name_ + ": data directory: " + disk.error().message};
    }
    disk_ = std::move(*disk);
    return {};
}

Status ProdNode::start(Main main) {
    KEEL_TRY(open_disk());
    running_.store(true, std::memory_order_release);
    thread_ = std::thread([this, main = std::move(main)] { run(main); });
    return {};
}

Status ProdNode::run_blocking(Main main) {
    KEEL_TRY(open_disk());
    running_.store(true, std::memory_order_release);
    run(main);
    return {};
}

void ProdNode::request_stop() {
    stop_requested_.store(true, std::memory_order_release);
    poller_.wake();
}

void ProdNode::stop() {
    request_stop();
    std::lock_guard lock(join_mu_);
    if (!thread_.joinable()) return;
    KEEL_ASSERT_MSG(thread_.get_id() != std::this_thread::get_id(),
                    "ProdNode::stop from the node's own thread; use request_stop");
    thread_.join();
}

void ProdNode::run(const Main& main) {
    run_until_stopped(main);  // the scheduler and env are gone when it returns
    running_.store(false, std::memory_order_release);
}

void ProdNode::run_until_stopped(const Main& main) {
    uint64_t seed = options_.seed ? *options_.seed : OsRandom::os_seed();
    seed_.store(seed, std::memory_order_release);
    fiber::Scheduler scheduler(fiber::SchedulerOptions{
        .virtual_time = false, .seed = 0, .stack_bytes = options_.stack_bytes, .poller = &poller_});
    fiber::GroupId group = scheduler.create_group(name_);
    ProdEnv env(name_, scheduler, group, poller_, *disk_, seed, options_);
    env.tracer().log(env::Level::info, "node started: data_dir=" + data_dir_ +
                                           " seed=" + std::to_string(seed));
    // request_stop's eventfd write only interrupts epoll_wait; the loop reads the flag.
    bool stop_after_main = options_.stop_when_main_returns;
    env.executor().spawn("main", [this, &env, &main, stop_after_main] {
        main(env);
        if (stop_after_main) request_stop();
    });
    while (!stop_requested_.load(std::memory_order_acquire)) {
        int ran = 0;
        while (ran < options_.events_per_poll && scheduler.run_one()) ran++;
        std::optional<Instant> until = scheduler.next_event_time();  // now() if still busy
        poller_.wait(until);
    }
    size_t fibers = scheduler.group_fiber_count(group);
    scheduler.kill_group(group);  // outside any fiber: unwinds every fiber now, newest first
    env.tracer().log(env::Level::info,
                     "node stopped: " + std::to_string(fibers) + " fibers unwound");
}

}  // namespace keel::prod
