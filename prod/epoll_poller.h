// EpollPoller: the fiber::Poller of a production node. The node's thread calls wait()
// when no fiber is ready; it blocks in epoll_wait until I/O is ready, another thread calls
// wake(), or the next timer is due, and runs the callbacks of ready fds on that same
// thread (outside any fiber). A callback must not block and must not add or remove
// registrations (it typically unparks the fibers waiting on its fd).
//
// Registration is edge-triggered (EPOLLET): a callback says "something changed", so the
// waiting side must retry its read/write until EAGAIN before it parks again. Every
// registration has its own token, so a callback never runs for an fd that was removed
// earlier in the same batch of events, even if the fd number was reused.
//
// Thread-safety: wake() may be called from any thread (and is async-signal-safe);
// everything else only from the node's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "core/base/result.h"
#include "runtime/scheduler.h"

namespace keel::prod {

class EpollPoller final : public fiber::Poller {
public:
    // Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
    using Callback = std::function<void(uint32_t events)>;
    using Token = uint64_t;

    EpollPoller();  // asserts that epoll and eventfd are available
    ~EpollPoller() override;
    EpollPoller(const EpollPoller&) = delete;
    EpollPoller& operator=(const EpollPoller&) = delete;

    // Watches fd for `events` (edge-triggered is added); the fd must stay open until
    // remove(). Errors: io_error (e.g. the fd is already registered, or is a regular file).
    Result<Token> add(int fd, uint32_t events, Callback callback);
    // Stops watching; the callback never runs again. Idempotent; call before closing fd.
    void remove(int fd, Token token);

    // Wakes a blocked (or the next) wait() from any thread; the wake handler then runs on
    // the node's thread inside wait().
    void wake();
    void set_wake_handler(std::function<void()> handler) { wake_handler_ = std::move(handler); }

    Instant now() const override;
    void wait(std::optional<Instant> until) override;

    size_t registrations() const { return callbacks_.size(); }

private:
    void drain_wake();

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    Token next_token_ = 1;  // 0 is the wake eventfd
    std::map<Token, Callback> callbacks_;
    std::function<void()> wake_handler_;
};

}  // namespace keel::prod
