// The fiber scheduler both worlds run on: Boost.Context fibers, a ready list, and a
// timer queue ordered by (time, tie-break, sequence).
//
// - Virtual time (the simulator): one scheduler for every node of a cluster; when no
//   fiber is ready, time jumps to the next timer. Which ready fiber runs next and how
//   timers at the same instant are ordered are decided by the seed. Every decision is
//   folded into a 64-bit running hash (the trace hash).
// - Real time (production): one scheduler per node thread; when no fiber is ready it
//   asks its Poller to wait for I/O until the next timer is due.
//
// Fibers belong to a group (one node incarnation). kill_group() is a crash: the group's
// timers are dropped, and each fiber, newest first, is unwound at its suspension point
// by Boost.Context's forced_unwind (destructors run; nothing leaks). pause_group() is a
// GC-like stall: its fibers and timers wait until resume_group().
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/types.h"
#include "core/env/executor.h"
#include "core/env/random.h"

namespace keel::fiber {

using env::FiberId;
using env::TimerId;
using env::WakeReason;
using GroupId = uint32_t;  // 0 is the scheduler's own group (sim machinery, never killed)

// What kind of scheduling decision an event was (for traces and the hash).
enum class EventKind : uint8_t { run = 1, timer = 2, spawn = 3, finish = 4, kill = 5 };

// Sees every scheduling decision; the simulator's trace implements it.
class SchedulerObserver {
public:
    virtual ~SchedulerObserver() = default;
    virtual void on_event(EventKind kind, GroupId group, FiberId fiber, TimerId timer,
                          Instant at) = 0;
};

// Production's I/O waiting. wait() returns when I/O is ready (it may unpark fibers or
// schedule timers) or `until` passes; nullopt means no timer is pending.
class Poller {
public:
    virtual ~Poller() = default;
    virtual Instant now() const = 0;
    virtual void wait(std::optional<Instant> until) = 0;
};

struct SchedulerOptions {
    bool virtual_time = true;
    uint64_t seed = 0;                    // tie-breaks (virtual time only)
    size_t stack_bytes = 256 * 1024;      // per fiber, with a guard page
    Poller* poller = nullptr;             // required for real time
    // Stacks of finished fibers kept for reuse (mapping, guarding and first-touching a
    // fresh stack costs system calls and page faults at every spawn).
    size_t pooled_stacks_max = 256;
};

namespace detail {
struct StackPool;  // guarded stacks of finished fibers, reused by spawn (scheduler.cc)
}

class Scheduler {
public:
    explicit Scheduler(SchedulerOptions options);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Groups (node incarnations).
    GroupId create_group(std::string name);
    void kill_group(GroupId g);  // crash: see above. Deferred to between events if called from a fiber.
    // Unwinds every fiber of every group, newest group first (teardown; call outside fibers).
    void kill_all();
    void pause_group(GroupId g);
    void resume_group(GroupId g);
    bool group_alive(GroupId g) const;
    bool group_paused(GroupId g) const;
    size_t group_fiber_count(GroupId g) const;

    // Fibers.
    FiberId spawn(GroupId g, std::string name, std::function<void()> fn);
    FiberId current() const;
    GroupId current_group() const;
    const std::string& current_name() const;
    void yield();
    void sleep_for(Duration d);
    WakeReason park(Instant deadline);
    void unpark(FiberId f);

    // Timers: fn runs outside fibers at `when` (or later, if the group is paused). The
    // returned handle (never 0; 0 if the group is dead) is for cancel_timer only: it names
    // the timer's slot as well as its sequence number, which is what traces and the hash
    // see. Cancelling a timer that already ran or was dropped does nothing.
    TimerId call_at(GroupId g, Instant when, std::function<void()> fn);
    void cancel_timer(TimerId t);

    Instant now() const;

    // The run loop. run_one() runs one event (a fiber slice or a timer) and returns false
    // when nothing is left. run_until(t) runs every event due at or before t, then (virtual
    // time) sets the clock to t. run_while(pred) runs while pred() and events remain.
    bool run_one();
    void run_until(Instant t);
    void run_while(const std::function<bool()>& pred);
    // When the next event would run: now() if a fiber is ready, else the earliest live
    // timer; nullopt if nothing is pending.
    std::optional<Instant> next_event_time();
    // Real time only: runs until stop() is called (from any fiber or timer of this thread).
    void run_forever();
    void stop() { stopped_ = true; }

    // Virtual time only: calls `fn` once, when every event due at or before `at` has run
    // and before anything later does (the clock reads `at` during the call). A watch is
    // an observer: it is not an event, is not hashed, and must only read state (no
    // spawn, sleep, timer, draw or fault), so a watched run is the same run.
    void watch_time(Instant at, std::function<void()> fn);

    // Folds a value into the running hash (the simulator adds deliveries, draws, faults).
    void mix(uint64_t v);
    uint64_t hash() const { return hash_; }
    uint64_t events() const { return events_; }
    void set_observer(SchedulerObserver* o) { observer_ = o; }
    size_t live_fibers() const { return fibers_.size(); }
    size_t pending_timers() const { return live_timers_; }

private:
    struct Fiber;
    // Timers are ordered by (when, tie, id); ids are unique, so the order is total.
    struct TimerKey {
        Instant when;
        uint64_t tie;
        TimerId id;     // sequence number (traced and hashed)
        uint32_t slot;  // where its callback is; stale once the slot holds another id
        bool operator>(const TimerKey& o) const {
            if (when != o.when) return when > o.when;
            if (tie != o.tie) return tie > o.tie;
            return id > o.id;
        }
    };
    // A binary min-heap of timer keys (the order std::priority_queue would give) that can
    // also drop cancelled entries in bulk: most timers are park deadlines cancelled by an
    // earlier unpark, and without compaction they outnumber the live ones ten to one.
    struct TimerHeap {
        std::vector<TimerKey> keys;
        bool empty() const { return keys.empty(); }
        size_t size() const { return keys.size(); }
        const TimerKey& top() const { return keys.front(); }
        void push(const TimerKey& k) {
            keys.push_back(k);
            std::push_heap(keys.begin(), keys.end(), std::greater<>{});
        }
        void pop() {
            std::pop_heap(keys.begin(), keys.end(), std::greater<>{});
            keys.pop_back();
        }
    };
    struct Group {
        std::string name;
        bool alive = true;
        bool paused = false;
        std::set<FiberId> fibers;           // ordered: newest (largest id) unwinds first
        std::vector<Fiber*> pending_ready;  // became ready while paused
        std::vector<TimerKey> deferred;     // timers that fell due while paused
    };
    // A pending timer's callback: either wakes the parked fiber `wake` (park's deadline)
    // or calls fn. id 0 marks a free slot.
    struct TimerSlot {
        TimerId id = 0;
        GroupId group = 0;
        FiberId wake = 0;
        std::function<void()> fn;
    };

    void resume(Fiber* f);
    void suspend_current();
    void make_ready(Fiber* f);
    void destroy_fiber(Fiber* f);
    void do_kill(GroupId g);
    void process_pending_kills();
    bool fire_next_timer();
    TimerId add_timer(GroupId g, Instant when, FiberId wake, std::function<void()> fn);
    bool timer_live(const TimerKey& k) const { return timer_slots_[k.slot].id == k.id; }
    // Drops cancelled timers from the top of the heap; false if none is left.
    bool prune_timers();
    void compact_timers();  // drops every cancelled entry from the heap
    std::function<void()> free_timer(uint32_t slot);  // returns the callback, to destroy last
    void wake_parked(FiberId id);  // a park deadline passed
    Group* find_group(GroupId g) { return g < groups_.size() ? &groups_[g] : nullptr; }
    const Group* find_group(GroupId g) const { return g < groups_.size() ? &groups_[g] : nullptr; }
    void fire_watches(Instant before);  // every watch whose time is before `before`
    void notify(EventKind k, GroupId g, FiberId f, TimerId t);
    Fiber* find(FiberId f) const;

    SchedulerOptions options_;
    // Declared before fibers_: a fiber's stack goes back to the pool when it is destroyed.
    std::unique_ptr<detail::StackPool> stacks_;
    env::SeededRandom tie_rng_;
    Instant virtual_now_{0};
    std::multimap<Instant, std::function<void()>> watches_;
    std::unordered_map<FiberId, std::unique_ptr<Fiber>> fibers_;  // lookup only; never iterated
    std::deque<Group> groups_;  // indexed by GroupId (ids are dense; a dead group's record stays)
    std::vector<Fiber*> ready_;
    TimerHeap timers_;
    std::vector<TimerSlot> timer_slots_;
    std::vector<uint32_t> free_timer_slots_;
    size_t live_timers_ = 0;
    std::vector<GroupId> pending_kills_;
    Fiber* current_ = nullptr;
    FiberId next_fiber_ = 1;
    TimerId next_timer_ = 1;
    GroupId next_group_ = 1;
    uint64_t hash_ = 0xcbf29ce484222325ULL;
    uint64_t events_ = 0;
    bool stopped_ = false;
    SchedulerObserver* observer_ = nullptr;
    void* sched_fake_stack_ = nullptr;
    const void* sched_stack_bottom_ = nullptr;
    size_t sched_stack_size_ = 0;
};

// env::Executor for one group of a scheduler.
class GroupExecutor final : public env::Executor {
public:
    GroupExecutor(Scheduler& s, GroupId g) : s_(s), g_(g) {}
    FiberId spawn(std::string name, std::function<void()> fn) override {
        return s_.spawn(g_, std::move(name), std::move(fn));
    }
    FiberId current() const override { return s_.current(); }
    Instant now() const override { return s_.now(); }
    void yield() override { s_.yield(); }
    void sleep_for(Duration d) override { s_.sleep_for(d); }
    WakeReason park(Instant deadline) override { return s_.park(deadline); }
    void unpark(FiberId f) override { s_.unpark(f); }
    TimerId call_after(Duration d, std::function<void()> fn) override {
        return s_.call_at(g_, s_.now() + d, std::move(fn));
    }
    void cancel_timer(TimerId t) override { s_.cancel_timer(t); }
    GroupId group() const { return g_; }
    Scheduler& scheduler() { return s_; }

private:
    Scheduler& s_;
    GroupId g_;
};

}  // namespace keel::fiber
