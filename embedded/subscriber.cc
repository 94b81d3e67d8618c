// Subscriber: per-topic cursors read without the publishers' lock, and the wait protocol.
#include <algorithm>
#include <cstring>
#include <thread>

#include "embedded/broker_core.h"

namespace keel::embedded {

using detail::Segment;
using detail::Topic;
using Clock = std::chrono::steady_clock;

void Batch::clear() {
    for (auto& h : holds_) {
        if (h.segment != nullptr) detail::unpin_segment(h.segment);
    }
    holds_.clear();
    messages_.clear();
    gaps_.clear();
}

Batch::~Batch() { clear(); }

namespace {

struct Cursor {
    std::shared_ptr<Topic> topic;
    uint64_t next = 0;
    Segment* segment = nullptr;  // the segment holding `next` (validated by a pin on use)
    uint64_t seq = 0;
    bool overrun = false;  // LagPolicy::error: behind retention until reset
};

struct Watch {
    Topic* topic;
    uint64_t next;
};

constexpr int kSpinPauses = 64;   // busy checks before yielding
constexpr int kSpinYields = 64;   // yields before sleeping

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

}  // namespace

struct Subscriber::Impl {
    std::shared_ptr<detail::BrokerCore> core;
    SubscriberOptions options;
    std::shared_ptr<detail::Waiter> waiter = std::make_shared<detail::Waiter>();
    std::atomic<bool> closed{false};
    std::atomic<bool> stop_requested{false};

    mutable std::mutex mu;        // cursors; never held while waiting
    std::vector<Cursor> cursors;  // guarded by mu
    size_t round_robin = 0;       // guarded by mu

    std::mutex control_mu;  // start/stop
    std::atomic<bool> consuming{false};
    std::atomic<bool> polling{false};  // a poll is running (one consumer at a time)
    std::thread thread;

    std::vector<Watch> watches;  // the polling thread's view of its topics, for waiting

    Cursor* cursor(std::string_view topic);
    bool locate(Cursor& c, Batch& out, size_t taken, uint64_t end);
    bool hold(Cursor& c, Batch& out);
    size_t read_cursor(Cursor& c, Batch& out, size_t max);
    size_t read_all(Batch& out, size_t max, bool& overrun);
    bool ready(uint64_t key) const;
    bool spin(uint64_t key) const;
    void sleep(uint64_t key, Clock::time_point deadline);
    Status poll(Batch& out, size_t max, std::chrono::nanoseconds timeout);
    Status poll_once(Batch& out, size_t max, std::chrono::nanoseconds timeout);
    bool ended() const { return closed.load() || core->closed.load(); }
    Status add(std::shared_ptr<Topic> topic);
    void drop_all();
};


Cursor* Subscriber::Impl::cursor(std::string_view topic) {
    for (auto& c : cursors) {
        if (c.topic->name == topic) return &c;
    }
    return nullptr;
}

// Points c at the segment holding c.next. Behind retention: clamp (with a gap) or overrun.
// False when this cursor cannot be read now. A gap is only reported before any message of
// the topic in this batch (else at the next poll), so per topic a batch is: gap, messages.
bool Subscriber::Impl::locate(Cursor& c, Batch& out, size_t taken, uint64_t end) {
    Topic::Location loc = c.topic->locate(c.next, end);
    if (!loc.trimmed) {
        c.segment = loc.segment;
        c.seq = loc.seq;
        return true;
    }
    if (taken > 0) return false;
    if (options.lag_policy == LagPolicy::error) {
        c.overrun = true;
        return false;
    }
    out.gaps_.push_back({c.topic->name, c.next, loc.first});
    out.holds_.push_back({c.topic, nullptr, 0});  // keeps the topic's name alive
    c.next = loc.first;
    return true;
}

// Copies up to `max` committed messages of c's topic into out; returns how many.
size_t Subscriber::Impl::read_cursor(Cursor& c, Batch& out, size_t max) {
    Topic& t = *c.topic;
    size_t taken = 0;
    uint64_t end = t.end.load(std::memory_order_acquire);  // pairs with the publisher's store
    while (!c.overrun && taken < max && c.next < end) {
        if (c.segment == nullptr) {
            if (!locate(c, out, taken, end)) break;
            continue;
        }
        if (!hold(c, out)) {  // retired under us: find next again
            c.segment = nullptr;
            continue;
        }
        Segment& s = *c.segment;
        uint64_t index = c.next - s.base;
        // Unsealed: every committed offset is in this segment (a seal precedes later commits).
        uint32_t sealed = s.sealed.load(std::memory_order_acquire);
        uint64_t limit = sealed == detail::kUnsealed ? end - s.base : sealed;
        if (index >= limit) {  // c.next is the first offset of the next segment
            c.seq++;
            c.segment = t.slot(c.seq);
            continue;
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>({limit - index, max - taken, end - c.next}));
        for (size_t k = 0; k < n; k++) {
            const char* at = s.data.get() + s.pos[index + k];
            uint32_t lens[2];
            std::memcpy(lens, at, detail::kRecordHeader);
            const char* key = at + detail::kRecordHeader;
            out.messages_.push_back({t.name, c.next + k, {key, lens[0]}, {key + lens[0], lens[1]}});
        }
        c.next += n;
        taken += n;
    }
    return taken;
}

// Makes sure out pins c's segment (validated against c.seq); false if it was retired.
bool Subscriber::Impl::hold(Cursor& c, Batch& out) {
    for (auto it = out.holds_.rbegin(); it != out.holds_.rend(); ++it) {
        if (it->segment == c.segment && it->seq == c.seq) return true;
    }
    if (!detail::pin_segment(c.segment, c.seq)) return false;
    out.holds_.push_back({c.topic, c.segment, c.seq});
    return true;
}

size_t Subscriber::Impl::read_all(Batch& out, size_t max, bool& overrun) {
    std::lock_guard lock(mu);
    size_t total = 0, n = cursors.size();
    for (size_t i = 0; i < n && total < max; i++) {
        total += read_cursor(cursors[(round_robin + i) % n], out, max - total);
    }
    round_robin++;
    watches.clear();
    overrun = false;
    for (auto& c : cursors) {
        watches.push_back({c.topic.get(), c.next});
        overrun = overrun || c.overrun;
    }
    return total;
}

// Anything that should end a wait: data, a reset/subscribe (key moved), close, stop.
bool Subscriber::Impl::ready(uint64_t key) const {
    if (closed.load() || core->closed.load() || stop_requested.load()) return true;
    if (waiter->wakes.load(std::memory_order_seq_cst) != key) return true;
    for (const auto& w : watches) {
        if (w.topic->end.load(std::memory_order_seq_cst) > w.next) return true;
    }
    return false;
}

bool Subscriber::Impl::spin(uint64_t key) const {
    for (int i = 0; i < kSpinPauses + kSpinYields; i++) {
        if (ready(key)) return true;
        if (i < kSpinPauses) {
            cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }
    return false;
}

// Blocks until ready or the deadline. No lost wakeup: `sleeping` and `sleepers` are raised
// before the last check of the ends, and a publisher stores its end before it reads
// `sleepers` (all seq_cst), so one of the two sees the other (docs/pubsub.md).
void Subscriber::Impl::sleep(uint64_t key, Clock::time_point deadline) {
    waiter->sleeping.store(true, std::memory_order_seq_cst);
    for (auto& w : watches) w.topic->sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (!ready(key)) {
        std::unique_lock lock(waiter->mu);
        waiter->cv.wait_until(lock, deadline, [&] { return waiter->wakes.load() != key || stop_requested.load(); });
    }
    waiter->sleeping.store(false, std::memory_order_relaxed);
    for (auto& w : watches) w.topic->sleepers.fetch_sub(1, std::memory_order_relaxed);
}

// One consumer at a time: a second thread polling the same subscriber gets busy (its batch
// emptied) instead of racing on the cursors' segment and the waiting state.
Status Subscriber::Impl::poll(Batch& out, size_t max, std::chrono::nanoseconds timeout) {
    if (polling.exchange(true, std::memory_order_acquire)) {
        out.clear();
        return Status::busy;
    }
    Status s = poll_once(out, max, timeout);
    polling.store(false, std::memory_order_release);
    return s;
}

Status Subscriber::Impl::poll_once(Batch& out, size_t max, std::chrono::nanoseconds timeout) {
    out.clear();
    if (max == 0) return Status::invalid_argument;
    auto deadline = Clock::now() + std::min<std::chrono::nanoseconds>(timeout, std::chrono::hours(24 * 365));
    for (;;) {
        if (closed.load() || stop_requested.load()) return Status::closed;
        uint64_t key = waiter->wakes.load(std::memory_order_seq_cst);
        bool overrun = false;
        if (read_all(out, max, overrun) > 0 || !out.gaps().empty()) return Status::ok;
        if (overrun) return Status::overrun;
        if (core->closed.load()) return Status::closed;
        if (Clock::now() >= deadline) return Status::timeout;
        if (spin(key)) continue;
        sleep(key, deadline);
    }
}

Status Subscriber::Impl::add(std::shared_ptr<Topic> topic) {
    {
        std::lock_guard lock(mu);
        if (cursor(topic->name) != nullptr) return Status::ok;
        topic->add_waiter(waiter);
        // Every publish that returns after this load gets an offset >= next.
        uint64_t next = topic->end.load(std::memory_order_seq_cst);
        cursors.push_back({std::move(topic), next});
    }
    waiter->wake();
    return Status::ok;
}

void Subscriber::Impl::drop_all() {
    std::lock_guard lock(mu);
    for (auto& c : cursors) c.topic->remove_waiter(waiter.get());
    cursors.clear();
}

Subscriber::Subscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Subscriber::~Subscriber() {
    stop();
    impl_->drop_all();
}

Status Subscriber::poll(Batch& out, size_t max_messages, std::chrono::nanoseconds timeout) {
    if (impl_->consuming.load()) {  // the callback thread consumes (until stop())
        out.clear();
        return impl_->ended() ? Status::closed : Status::busy;
    }
    return impl_->poll(out, max_messages, timeout);
}

Status Subscriber::reset(std::string_view topic, uint64_t offset) {
    {
        std::lock_guard lock(impl_->mu);
        Cursor* c = impl_->cursor(topic);
        if (c == nullptr) return Status::not_subscribed;
        uint64_t first = c->topic->start.load(std::memory_order_acquire);
        uint64_t end = c->topic->end.load(std::memory_order_acquire);
        bool outside = offset < first || offset > end;
        if (outside && impl_->options.lag_policy == LagPolicy::error) return Status::out_of_range;
        c->next = std::clamp(offset, first, end);
        c->segment = nullptr;
        c->overrun = false;
    }
    impl_->waiter->wake();
    return Status::ok;
}

Status Subscriber::subscribe(std::string_view topic) {
    if (impl_->closed.load()) return Status::closed;
    auto found = impl_->core->find(topic, true);
    if (!found.ok()) return found.status;
    return impl_->add(std::move(found.value));
}

Status Subscriber::unsubscribe(std::string_view topic) {
    {
        std::lock_guard lock(impl_->mu);
        Cursor* c = impl_->cursor(topic);
        if (c == nullptr) return Status::not_subscribed;
        c->topic->remove_waiter(impl_->waiter.get());
        impl_->cursors.erase(impl_->cursors.begin() + (c - impl_->cursors.data()));
    }
    impl_->waiter->wake();
    return Status::ok;
}

Outcome<uint64_t> Subscriber::position(std::string_view topic) const {
    std::lock_guard lock(impl_->mu);
    Cursor* c = impl_->cursor(topic);
    if (c == nullptr) return {Status::not_subscribed, 0};
    return {Status::ok, c->next};
}

Status Subscriber::start(std::function<void(const Message&)> fn, std::function<void(const Gap&)> on_gap) {
    std::lock_guard lock(impl_->control_mu);
    if (!fn) return Status::invalid_argument;
    if (impl_->closed.load()) return Status::closed;
    if (impl_->consuming.exchange(true)) return Status::busy;
    impl_->stop_requested.store(false);
    Impl* impl = impl_.get();
    impl_->thread = std::thread([impl, fn = std::move(fn), on_gap = std::move(on_gap)] {
        Batch batch;
        for (;;) {
            Status s = impl->poll(batch, 1024, std::chrono::milliseconds(100));
            if (s == Status::closed) return;
            if (s == Status::overrun) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            for (const auto& g : batch.gaps()) {
                if (on_gap) on_gap(g);
            }
            for (const auto& m : batch) fn(m);
        }
    });
    return Status::ok;
}

void Subscriber::stop() {
    std::lock_guard lock(impl_->control_mu);
    if (!impl_->consuming.load()) return;
    impl_->stop_requested.store(true);
    impl_->waiter->wake();
    impl_->thread.join();
    impl_->stop_requested.store(false);
    impl_->consuming.store(false);
}

void Subscriber::close() {
    impl_->closed.store(true);
    impl_->waiter->wake();
}

Outcome<std::unique_ptr<Subscriber>> Broker::subscribe(const std::vector<std::string>& topics,
                                                       SubscriberOptions options) {
    if (core_->closed.load()) return {Status::closed, nullptr};
    std::vector<std::shared_ptr<Topic>> found;
    for (const auto& name : topics) {
        auto f = core_->find(name, true);
        if (!f.ok()) return {f.status, nullptr};
        found.push_back(std::move(f.value));
    }
    auto impl = std::make_unique<Subscriber::Impl>();
    impl->core = core_;
    impl->options = options;
    core_->add_waiter(impl->waiter);
    std::unique_ptr<Subscriber> sub(new Subscriber(std::move(impl)));
    for (auto& t : found) (void)sub->impl_->add(std::move(t));
    return {Status::ok, std::move(sub)};
}

}  // namespace keel::embedded
