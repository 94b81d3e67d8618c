#include "runtime/scheduler.h"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cstdio>
#include <algorithm>
#include <exception>

#include "core/base/assert.h"

#if defined(KEEL_ASAN) || defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define KEEL_FIBER_ASAN 1
#endif

namespace keel::fiber {

namespace ctx = boost::context;

enum class FiberState : uint8_t { ready, running, parked, finished };

struct Scheduler::Fiber {
    FiberId id = 0;
    GroupId group = 0;
    std::string name;
    std::function<void()> fn;
    ctx::fiber context;  // the suspended fiber (while not running)
    ctx::fiber caller;   // the scheduler (while running)
    FiberState state = FiberState::ready;
    WakeReason wake = WakeReason::unparked;
    TimerId park_timer = 0;
    bool dying = false;
    bool in_ready_list = false;
    void* fake_stack = nullptr;
    const void* stack_bottom = nullptr;
    size_t stack_size = 0;
};

namespace detail {
struct StackPool {
    StackPool(size_t stack_bytes, size_t max) : inner(stack_bytes), pooled_max(max) {
        free.reserve(max);  // so that giving a stack back never allocates
    }
    ~StackPool() {
        for (ctx::stack_context& sc : free) inner.deallocate(sc);
    }
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    ctx::protected_fixedsize_stack inner;
    size_t pooled_max;
    std::vector<ctx::stack_context> free;
};
}  // namespace detail

namespace {
// Hands out a guarded stack (a pooled one if any) and remembers its bounds (ASan needs
// them at every switch); a finished fiber's stack goes back to the pool.
struct RecordingStack {
    detail::StackPool* pool;
    const void** bottom;
    size_t* size;
    ctx::stack_context allocate() {
        ctx::stack_context sc;
        if (pool->free.empty()) {
            sc = pool->inner.allocate();
        } else {
            sc = pool->free.back();
            pool->free.pop_back();
        }
        *bottom = static_cast<char*>(sc.sp) - sc.size;
        *size = sc.size;
#ifdef KEEL_FIBER_ASAN
        // A fiber killed at a suspension point leaves its frames' scope poison in the
        // shadow of its stack; the next fiber on that stack (pooled, or a new one mapped at
        // the same address) would inherit it (a false stack-use-after-scope in unrelated
        // code). Every stack starts clean.
        __asan_unpoison_memory_region(*bottom, sc.size);
#endif
        return sc;
    }
    void deallocate(ctx::stack_context& sc) noexcept {
        if (pool->free.size() < pool->pooled_max) {
            pool->free.push_back(sc);
        } else {
            pool->inner.deallocate(sc);
        }
    }
};

uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}
const std::string kNoName = "scheduler";

// A timer handle is its slot (high bits) and its sequence number (low bits).
constexpr int kTimerSlotShift = 40;
constexpr TimerId kTimerIdMask = (TimerId{1} << kTimerSlotShift) - 1;
}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : options_(options),
      stacks_(std::make_unique<detail::StackPool>(options.stack_bytes, options.pooled_stacks_max)),
      tie_rng_(options.seed) {
    KEEL_ASSERT_MSG(options_.virtual_time || options_.poller != nullptr,
                    "real-time scheduler needs a Poller");
    groups_.push_back(Group{"sim", true, false, {}, {}, {}});
}

Scheduler::~Scheduler() { kill_all(); }

void Scheduler::kill_all() {
    // Unwind every fiber, newest group first, so destructors run and nothing leaks.
    KEEL_ASSERT(current_ == nullptr);
    for (size_t g = groups_.size(); g-- > 0;) do_kill(static_cast<GroupId>(g));
}

GroupId Scheduler::create_group(std::string name) {
    GroupId g = next_group_++;
    KEEL_ASSERT(g == groups_.size());
    groups_.push_back(Group{std::move(name), true, false, {}, {}, {}});
    return g;
}

bool Scheduler::group_alive(GroupId g) const {
    const Group* grp = find_group(g);
    return grp != nullptr && grp->alive;
}

bool Scheduler::group_paused(GroupId g) const {
    const Group* grp = find_group(g);
    return grp != nullptr && grp->paused;
}

size_t Scheduler::group_fiber_count(GroupId g) const {
    const Group* grp = find_group(g);
    return grp == nullptr ? 0 : grp->fibers.size();
}

Scheduler::Fiber* Scheduler::find(FiberId f) const {
    auto it = fibers_.find(f);
    return it == fibers_.end() ? nullptr : it->second.get();
}

void Scheduler::notify(EventKind k, GroupId g, FiberId f, TimerId t) {
    hash_ = mix64(hash_, (static_cast<uint64_t>(k) << 56) ^ (static_cast<uint64_t>(g) << 40) ^ f);
    hash_ = mix64(hash_, (t << 1) ^ static_cast<uint64_t>(now().ns));
    if (observer_ != nullptr) observer_->on_event(k, g, f, t, now());
}

void Scheduler::mix(uint64_t v) { hash_ = mix64(hash_, v); }

Instant Scheduler::now() const {
    return options_.virtual_time ? virtual_now_ : options_.poller->now();
}

FiberId Scheduler::spawn(GroupId g, std::string name, std::function<void()> fn) {
    Group* grp = find_group(g);
    if (grp == nullptr || !grp->alive) return 0;
    if (current_ != nullptr && current_->dying) return 0;
    auto f = std::make_unique<Fiber>();
    f->id = next_fiber_++;
    f->group = g;
    f->name = std::move(name);
    f->fn = std::move(fn);
    Fiber* raw = f.get();
    RecordingStack stack{stacks_.get(), &raw->stack_bottom, &raw->stack_size};
    raw->context = ctx::fiber(std::allocator_arg, stack, [this, raw](ctx::fiber&& caller) {
#ifdef KEEL_FIBER_ASAN
        __sanitizer_finish_switch_fiber(nullptr, &sched_stack_bottom_, &sched_stack_size_);
#endif
        raw->caller = std::move(caller);
        try {
            raw->fn();
        } catch (const ctx::detail::forced_unwind&) {
#ifdef KEEL_FIBER_ASAN
            __sanitizer_start_switch_fiber(nullptr, sched_stack_bottom_, sched_stack_size_);
#endif
            throw;  // a crash unwinding this fiber: let Boost.Context finish it
        } catch (const std::exception& e) {
            std::fprintf(stderr, "fiber '%s' threw: %s\n", raw->name.c_str(), e.what());
            KEEL_ASSERT_MSG(false, "an exception escaped a fiber");
        }
        raw->state = FiberState::finished;
        raw->fn = nullptr;  // release captures while still on this stack's node
#ifdef KEEL_FIBER_ASAN
        __sanitizer_start_switch_fiber(nullptr, sched_stack_bottom_, sched_stack_size_);
#endif
        return std::move(raw->caller);
    });
    grp->fibers.insert(raw->id);
    fibers_.emplace(raw->id, std::move(f));
    notify(EventKind::spawn, g, raw->id, 0);
    make_ready(raw);
    return raw->id;
}

void Scheduler::make_ready(Fiber* f) {
    if (f->in_ready_list || f->state == FiberState::finished) return;
    f->state = FiberState::ready;
    f->in_ready_list = true;
    Group& g = groups_[f->group];
    if (g.paused) {
        g.pending_ready.push_back(f);
    } else {
        ready_.push_back(f);
    }
}

void Scheduler::resume(Fiber* f) {
    KEEL_ASSERT(current_ == nullptr);
    f->in_ready_list = false;
    f->state = FiberState::running;
    current_ = f;
    events_++;
    notify(EventKind::run, f->group, f->id, 0);
#ifdef KEEL_FIBER_ASAN
    // Stack bounds are only known for a started fiber; ASan tolerates a null bottom.
    __sanitizer_start_switch_fiber(&sched_fake_stack_, f->stack_bottom, f->stack_size);
#endif
    f->context = std::move(f->context).resume();
#ifdef KEEL_FIBER_ASAN
    __sanitizer_finish_switch_fiber(sched_fake_stack_, nullptr, nullptr);
#endif
    current_ = nullptr;
    if (f->state == FiberState::finished) {
        notify(EventKind::finish, f->group, f->id, 0);
        destroy_fiber(f);
    }
}

void Scheduler::suspend_current() {
    Fiber* f = current_;
    KEEL_ASSERT_MSG(f != nullptr, "blocking call outside a fiber");
#ifdef KEEL_FIBER_ASAN
    __sanitizer_start_switch_fiber(&f->fake_stack, sched_stack_bottom_, sched_stack_size_);
    try {
        f->caller = std::move(f->caller).resume();
    } catch (const ctx::detail::forced_unwind&) {
        __sanitizer_finish_switch_fiber(f->fake_stack, &sched_stack_bottom_, &sched_stack_size_);
        throw;
    }
    __sanitizer_finish_switch_fiber(f->fake_stack, &sched_stack_bottom_, &sched_stack_size_);
#else
    f->caller = std::move(f->caller).resume();
#endif
}

FiberId Scheduler::current() const { return current_ == nullptr ? 0 : current_->id; }
GroupId Scheduler::current_group() const { return current_ == nullptr ? 0 : current_->group; }
const std::string& Scheduler::current_name() const {
    return current_ == nullptr ? kNoName : current_->name;
}

void Scheduler::yield() {
    Fiber* f = current_;
    KEEL_ASSERT(f != nullptr);
    if (f->dying) return;
    make_ready(f);
    suspend_current();
}

void Scheduler::sleep_for(Duration d) {
    Instant deadline = now() + d;
    while (now() < deadline) {
        if (park(deadline) == WakeReason::dying) return;
    }
}

WakeReason Scheduler::park(Instant deadline) {
    Fiber* f = current_;
    KEEL_ASSERT_MSG(f != nullptr, "park outside a fiber");
    if (f->dying || !groups_[f->group].alive) return WakeReason::dying;
    f->state = FiberState::parked;
    f->wake = WakeReason::unparked;
    if (deadline != Instant::max()) f->park_timer = add_timer(f->group, deadline, f->id, nullptr);
    suspend_current();
    if (f->park_timer != 0) {
        cancel_timer(f->park_timer);
        f->park_timer = 0;
    }
    return f->dying ? WakeReason::dying : f->wake;
}

void Scheduler::unpark(FiberId id) {
    Fiber* f = find(id);
    if (f == nullptr || f->state != FiberState::parked || f->dying) return;
    if (!groups_[f->group].alive) return;
    f->wake = WakeReason::unparked;
    make_ready(f);
}

void Scheduler::wake_parked(FiberId id) {
    Fiber* p = find(id);
    if (p == nullptr || p->state != FiberState::parked) return;
    p->park_timer = 0;
    p->wake = WakeReason::deadline;
    make_ready(p);
}

TimerId Scheduler::call_at(GroupId g, Instant when, std::function<void()> fn) {
    return add_timer(g, when, 0, std::move(fn));
}

TimerId Scheduler::add_timer(GroupId g, Instant when, FiberId wake, std::function<void()> fn) {
    const Group* grp = find_group(g);
    if (grp == nullptr || !grp->alive) return 0;
    TimerId id = next_timer_++;
    uint64_t tie = options_.virtual_time ? tie_rng_.next_u64() : 0;
    uint32_t slot;
    if (free_timer_slots_.empty()) {
        slot = static_cast<uint32_t>(timer_slots_.size());
        timer_slots_.emplace_back();
    } else {
        slot = free_timer_slots_.back();
        free_timer_slots_.pop_back();
    }
    KEEL_ASSERT(id <= kTimerIdMask && slot < (uint32_t{1} << (64 - kTimerSlotShift)));
    TimerSlot& t = timer_slots_[slot];
    t.id = id;
    t.group = g;
    t.wake = wake;
    t.fn = std::move(fn);
    live_timers_++;
    if (timers_.size() >= 2 * live_timers_ + 64) compact_timers();
    timers_.push(TimerKey{when, tie, id, slot});
    return (static_cast<TimerId>(slot) << kTimerSlotShift) | id;
}

std::function<void()> Scheduler::free_timer(uint32_t slot) {
    TimerSlot& t = timer_slots_[slot];
    std::function<void()> fn = std::move(t.fn);
    t.fn = nullptr;
    t.id = 0;
    t.wake = 0;
    free_timer_slots_.push_back(slot);
    live_timers_--;
    return fn;
}

void Scheduler::cancel_timer(TimerId t) {
    auto slot = static_cast<size_t>(t >> kTimerSlotShift);
    TimerId id = t & kTimerIdMask;
    if (id == 0 || slot >= timer_slots_.size() || timer_slots_[slot].id != id) return;
    free_timer(static_cast<uint32_t>(slot));  // the callback is destroyed here
}

void Scheduler::compact_timers() {
    std::erase_if(timers_.keys, [this](const TimerKey& k) { return !timer_live(k); });
    std::make_heap(timers_.keys.begin(), timers_.keys.end(), std::greater<>{});
}

bool Scheduler::prune_timers() {
    while (!timers_.empty() && !timer_live(timers_.top())) timers_.pop();
    return !timers_.empty();
}

bool Scheduler::fire_next_timer() {
    while (prune_timers()) {
        TimerKey k = timers_.top();
        if (!options_.virtual_time && k.when > now()) return false;
        timers_.pop();
        if (options_.virtual_time && k.when > virtual_now_) {
            fire_watches(k.when);
            virtual_now_ = k.when;
        }
        GroupId g = timer_slots_[k.slot].group;
        Group& grp = groups_[g];
        if (grp.paused) {  // a stalled node's timer waits for resume
            grp.deferred.push_back(k);
            continue;
        }
        FiberId wake = timer_slots_[k.slot].wake;
        std::function<void()> fn = free_timer(k.slot);
        events_++;
        notify(EventKind::timer, g, 0, k.id);
        if (wake != 0) {
            wake_parked(wake);
        } else {
            fn();
        }
        return true;
    }
    return false;
}

bool Scheduler::run_one() {
    process_pending_kills();
    if (!ready_.empty()) {
        size_t i = 0;
        if (options_.virtual_time && ready_.size() > 1) {
            i = static_cast<size_t>(tie_rng_.next_u64() % ready_.size());
        }
        Fiber* f = ready_[i];
        if (options_.virtual_time) {
            ready_[i] = ready_.back();
            ready_.pop_back();
        } else {
            ready_.erase(ready_.begin());  // FIFO in production
        }
        resume(f);
        process_pending_kills();
        return true;
    }
    bool fired = fire_next_timer();
    process_pending_kills();
    return fired;
}

void Scheduler::run_until(Instant t) {
    KEEL_ASSERT(options_.virtual_time);
    while (true) {
        process_pending_kills();
        if (!ready_.empty()) {
            run_one();
            continue;
        }
        // Next live timer due at or before t?
        if (!prune_timers() || timers_.top().when > t) break;
        run_one();
    }
    if (options_.virtual_time) fire_watches(t == Instant::max() ? t : Instant{t.ns + 1});
    if (virtual_now_ < t) virtual_now_ = t;
}

void Scheduler::watch_time(Instant at, std::function<void()> fn) {
    KEEL_ASSERT_MSG(options_.virtual_time, "watch_time is for virtual time");
    watches_.emplace(at, std::move(fn));
}

void Scheduler::fire_watches(Instant before) {
    while (!watches_.empty() && watches_.begin()->first < before) {
        auto node = watches_.extract(watches_.begin());
        if (node.key() > virtual_now_) virtual_now_ = node.key();
        node.mapped()();
    }
}

std::optional<Instant> Scheduler::next_event_time() {
    process_pending_kills();
    if (!ready_.empty()) return now();
    if (!prune_timers()) return std::nullopt;
    return std::max(timers_.top().when, now());
}

void Scheduler::run_while(const std::function<bool()>& pred) {
    while (pred() && run_one()) {
    }
}

void Scheduler::run_forever() {
    KEEL_ASSERT(!options_.virtual_time);
    stopped_ = false;
    while (!stopped_) {
        process_pending_kills();
        if (!ready_.empty()) {
            run_one();
            continue;
        }
        if (fire_next_timer()) continue;
        std::optional<Instant> until;
        if (prune_timers()) until = timers_.top().when;
        options_.poller->wait(until);
    }
}

void Scheduler::pause_group(GroupId g) {
    Group* grp = find_group(g);
    if (grp == nullptr || !grp->alive || grp->paused) return;
    grp->paused = true;
    // Ready fibers of the group wait for resume.
    for (size_t i = 0; i < ready_.size();) {
        if (ready_[i]->group == g) {
            grp->pending_ready.push_back(ready_[i]);
            ready_.erase(ready_.begin() + static_cast<long>(i));
        } else {
            ++i;
        }
    }
}

void Scheduler::resume_group(GroupId g) {
    Group* found = find_group(g);
    if (found == nullptr || !found->paused) return;
    Group& grp = *found;
    grp.paused = false;
    for (Fiber* f : grp.pending_ready) ready_.push_back(f);
    grp.pending_ready.clear();
    // Deferred timers fire now, in the order they fell due.
    for (const TimerKey& k : grp.deferred) {
        if (timer_live(k)) timers_.push(TimerKey{now(), 0, k.id, k.slot});
    }
    grp.deferred.clear();
}

void Scheduler::kill_group(GroupId g) {
    Group* grp = find_group(g);
    if (grp == nullptr || !grp->alive) return;
    KEEL_ASSERT_MSG(g != 0, "the scheduler's own group is never killed");
    grp->alive = false;  // from now on: no spawn, no timers, no unpark
    if (current_ != nullptr) {
        pending_kills_.push_back(g);  // cannot unwind stacks from inside a fiber
    } else {
        do_kill(g);
    }
}

void Scheduler::process_pending_kills() {
    if (current_ != nullptr) return;
    while (!pending_kills_.empty()) {
        GroupId g = pending_kills_.back();
        pending_kills_.pop_back();
        do_kill(g);
    }
}

void Scheduler::do_kill(GroupId g) {
    Group* found = find_group(g);
    if (found == nullptr) return;
    Group& grp = *found;
    grp.alive = false;
    grp.paused = false;
    grp.pending_ready.clear();
    grp.deferred.clear();
    notify(EventKind::kill, g, 0, 0);
    // Drop the group's ready fibers from the run list.
    for (size_t i = 0; i < ready_.size();) {
        if (ready_[i]->group == g) {
            ready_[i] = ready_.back();
            ready_.pop_back();
        } else {
            ++i;
        }
    }
    while (!grp.fibers.empty()) {
        FiberId id = *grp.fibers.rbegin();
        Fiber* f = find(id);
        if (f == nullptr) {
            grp.fibers.erase(id);
            continue;
        }
        f->dying = true;
        if (f->context) {
            Fiber* saved = current_;
            current_ = f;
#ifdef KEEL_FIBER_ASAN
            __sanitizer_start_switch_fiber(&sched_fake_stack_, f->stack_bottom, f->stack_size);
#endif
            {
                ctx::fiber doomed = std::move(f->context);
            }  // destroying a suspended fiber unwinds its stack (forced_unwind)
#ifdef KEEL_FIBER_ASAN
            __sanitizer_finish_switch_fiber(sched_fake_stack_, nullptr, nullptr);
#endif
            current_ = saved;
        }
        destroy_fiber(f);
    }
    // Drop the group's timers (the heap skips ids that are gone).
    for (size_t i = 0; i < timer_slots_.size(); i++) {
        if (timer_slots_[i].id != 0 && timer_slots_[i].group == g) free_timer(static_cast<uint32_t>(i));
    }
    // The dead group's record stays (it is small) so stale ids never alias a live group.
}

void Scheduler::destroy_fiber(Fiber* f) {
    if (Group* grp = find_group(f->group)) grp->fibers.erase(f->id);
    for (size_t i = 0; i < ready_.size(); i++) {
        if (ready_[i] == f) {
            ready_[i] = ready_.back();
            ready_.pop_back();
            break;
        }
    }
    fibers_.erase(f->id);
}

}  // namespace keel::fiber
