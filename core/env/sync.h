// Fiber-blocking primitives built only on Executor::park/unpark, so they behave the same
// in the simulator and in production: WaitQueue, Event, Promise/Future<T> with timeout,
// bounded Channel<T>, and a fiber Mutex.
//
// All of them are single-thread objects: use them only among fibers (and timer
// callbacks) of one node. Every queue has a capacity (TigerBeetle's rule: a limit on
// every queue).
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/base/assert.h"
#include "core/base/result.h"
#include "core/env/executor.h"

namespace keel::env {

// A FIFO list of parked fibers. The waiter removes itself when it wakes for any reason,
// so no stale unpark ever reaches a fiber that moved on to wait for something else.
class WaitQueue {
public:
    explicit WaitQueue(Executor& ex) : ex_(&ex) {}

    // Parks the current fiber until notified or the deadline.
    WakeReason wait(Instant deadline) {
        FiberId self = ex_->current();
        KEEL_ASSERT_MSG(self != 0, "WaitQueue::wait outside a fiber");
        waiters_.push_back(self);
        WakeReason r = ex_->park(deadline);
        auto it = std::find(waiters_.begin(), waiters_.end(), self);
        if (it != waiters_.end()) waiters_.erase(it);
        return r;
    }
    void notify_one() {
        if (waiters_.empty()) return;
        FiberId f = waiters_.front();
        waiters_.pop_front();
        ex_->unpark(f);
    }
    void notify_all() {
        std::deque<FiberId> w;
        w.swap(waiters_);
        for (FiberId f : w) ex_->unpark(f);
    }
    bool empty() const { return waiters_.empty(); }
    Executor& executor() const { return *ex_; }

private:
    Executor* ex_;
    std::deque<FiberId> waiters_;
};

// A manual-reset event.
class Event {
public:
    explicit Event(Executor& ex) : q_(ex) {}
    void set() {
        set_ = true;
        q_.notify_all();
    }
    void reset() { set_ = false; }
    bool is_set() const { return set_; }
    // True once set; false if the deadline passed (or the node is dying) first.
    bool wait(Instant deadline = Instant::max()) {
        while (!set_) {
            if (q_.wait(deadline) != WakeReason::unparked && !set_) return false;
        }
        return true;
    }
    bool wait_for(Duration d) { return wait(q_.executor().now() + d); }

private:
    WaitQueue q_;
    bool set_ = false;
};

// Spawns `fn` on a new fiber and sets `done` when that fiber ends (it returns, or a crash
// unwinds it), or at once if the executor will not run it (the node is dying). Waiting
// on `done` joins the fiber; `done` must outlive it.
inline void spawn_joinable(Executor& ex, std::string name, Event& done, std::function<void()> fn) {
    FiberId f = ex.spawn(std::move(name), [&done, fn = std::move(fn)] {
        struct Done {
            Event& e;
            ~Done() { e.set(); }
        } d{done};
        fn();
    });
    if (f == 0) done.set();
}

template <typename T>
class Future;

namespace detail {
template <typename T>
struct SharedState {
    explicit SharedState(Executor& ex) : waiters(ex) {}
    std::optional<Result<T>> value;
    WaitQueue waiters;
};
}  // namespace detail

// Promise<T>: the producing side. Destroying an unfulfilled promise completes the future
// with Errc::cancelled ("broken promise"), so no waiter hangs forever.
template <typename T>
class Promise {
public:
    explicit Promise(Executor& ex) : s_(std::make_shared<detail::SharedState<T>>(ex)) {}
    Promise(Promise&&) noexcept = default;
    Promise& operator=(Promise&& o) noexcept {
        if (this != &o) {
            break_if_unset();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    Promise(const Promise&) = delete;
    Promise& operator=(const Promise&) = delete;
    ~Promise() { break_if_unset(); }

    Future<T> future() const { return Future<T>(s_); }
    bool fulfilled() const { return s_ && s_->value.has_value(); }

    // Completes the future. Setting twice is a bug.
    void set(Result<T> v) {
        KEEL_ASSERT(s_ && !s_->value.has_value());
        s_->value.emplace(std::move(v));
        s_->waiters.notify_all();
    }

private:
    void break_if_unset() {
        if (s_ && !s_->value.has_value()) set(Result<T>(Errc::cancelled, "broken promise"));
    }
    std::shared_ptr<detail::SharedState<T>> s_;
};

template <typename T>
class Future {
public:
    Future() = default;
    bool valid() const { return s_ != nullptr; }
    bool ready() const { return s_ && s_->value.has_value(); }

    // Waits for the value; Errc::timeout if the deadline passes first, Errc::cancelled if
    // the node is dying. The value stays in the future (get again returns a copy).
    Result<T> get(Instant deadline = Instant::max()) {
        KEEL_ASSERT(s_);
        while (!s_->value.has_value()) {
            WakeReason r = s_->waiters.wait(deadline);
            if (s_->value.has_value()) break;
            if (r == WakeReason::deadline) return Result<T>(Errc::timeout, "future timed out");
            if (r == WakeReason::dying) return Result<T>(Errc::cancelled, "node is stopping");
        }
        return *s_->value;
    }
    Result<T> get_for(Duration d) { return get(s_->waiters.executor().now() + d); }

private:
    friend class Promise<T>;
    explicit Future(std::shared_ptr<detail::SharedState<T>> s) : s_(std::move(s)) {}
    std::shared_ptr<detail::SharedState<T>> s_;
};

// A bounded multi-producer multi-consumer queue between fibers of one node.
template <typename T>
class Channel {
public:
    Channel(Executor& ex, size_t capacity) : readers_(ex), writers_(ex), capacity_(capacity) {
        KEEL_ASSERT(capacity > 0);
    }

    // Blocks while full. Errc::closed after close(); Errc::timeout at the deadline.
    Status send(T v, Instant deadline = Instant::max()) {
        while (!closed_ && items_.size() >= capacity_) {
            WakeReason r = writers_.wait(deadline);
            if (r == WakeReason::dying) return Status(Errc::cancelled, "node is stopping");
            if (r == WakeReason::deadline && items_.size() >= capacity_ && !closed_)
                return Status(Errc::timeout, "channel full");
        }
        if (closed_) return Status(Errc::closed, "channel closed");
        items_.push_back(std::move(v));
        readers_.notify_one();
        return {};
    }
    // Never blocks: Errc::timeout if full (nothing queued), Errc::closed if closed.
    Status try_send(T v) {
        if (closed_) return Status(Errc::closed, "channel closed");
        if (items_.size() >= capacity_) return Status(Errc::timeout, "channel full");
        items_.push_back(std::move(v));
        readers_.notify_one();
        return {};
    }
    // Blocks while empty. After close(), drains what is queued, then Errc::closed.
    Result<T> receive(Instant deadline = Instant::max()) {
        while (items_.empty() && !closed_) {
            WakeReason r = readers_.wait(deadline);
            if (!items_.empty()) break;
            if (r == WakeReason::dying) return Result<T>(Errc::cancelled, "node is stopping");
            if (r == WakeReason::deadline) return Result<T>(Errc::timeout, "channel empty");
        }
        if (items_.empty()) return Result<T>(Errc::closed, "channel closed");
        T v = std::move(items_.front());
        items_.pop_front();
        writers_.notify_one();
        return v;
    }
    std::optional<T> try_receive() {
        if (items_.empty()) return std::nullopt;
        T v = std::move(items_.front());
        items_.pop_front();
        writers_.notify_one();
        return v;
    }
    void close() {
        closed_ = true;
        readers_.notify_all();
        writers_.notify_all();
    }
    bool closed() const { return closed_; }
    size_t size() const { return items_.size(); }
    size_t capacity() const { return capacity_; }

private:
    WaitQueue readers_;
    WaitQueue writers_;
    std::deque<T> items_;
    size_t capacity_;
    bool closed_ = false;
};

// A fiber mutex (for serializing a multi-step operation that blocks, e.g. disk I/O).
class Mutex {
public:
    explicit Mutex(Executor& ex) : q_(ex) {}
    // False only if the node is dying (the lock is then not held).
    [[nodiscard]] bool lock() {
        while (locked_) {
            if (q_.wait(Instant::max()) == WakeReason::dying && locked_) return false;
        }
        locked_ = true;
        return true;
    }
    void unlock() {
        KEEL_ASSERT(locked_);
        locked_ = false;
        q_.notify_one();
    }

private:
    WaitQueue q_;
    bool locked_ = false;
};

class LockGuard {
public:
    explicit LockGuard(Mutex& m) : m_(m), held_(m_.lock()) {}
    ~LockGuard() {
        if (held_) m_.unlock();
    }
    bool held() const { return held_; }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Mutex& m_;
    bool held_;
};

}  // namespace keel::env
