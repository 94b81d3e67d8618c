#include "prod/epoll_poller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "prod/real_clock.h"

namespace keel::prod {

namespace {
constexpr EpollPoller::Token kWakeToken = 0;
constexpr int kEventsMax = 64;  // per epoll_wait; more stay queued for the next call

// Milliseconds epoll_wait may sleep so as not to wake before `until` passes (rounded up).
int timeout_ms(std::optional<Instant> until, Instant now) {
    if (!until) return -1;
    if (*until <= now) return 0;
    int64_t ns = (*until - now).count();
    int64_t ms = (ns + 999'999) / 1'000'000;
    return ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms);
}
}  // namespace

EpollPoller::EpollPoller() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    KEEL_ASSERT_MSG(epoll_fd_ >= 0, "epoll_create1 failed");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    KEEL_ASSERT_MSG(wake_fd_ >= 0, "eventfd failed");
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeToken;
    int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    KEEL_ASSERT_MSG(rc == 0, "epoll_ctl(eventfd) failed");
}

EpollPoller::~EpollPoller() {
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

Result<EpollPoller::Token> EpollPoller::add(int fd, uint32_t events, Callback callback) {
    Token token = next_token_++;
    struct epoll_event ev {};
    ev.events = events | EPOLLET;
    ev.data.u64 = token;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return Error{Errc::io_error, "epoll_ctl add fd " + std::to_string(fd) + ": " +
                                         std::strerror(errno)};
    }
    callbacks_.emplace(token, std::move(callback));
    return token;
}

void EpollPoller::remove(int fd, Token token) {
    if (callbacks_.erase(token) == 0) return;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // fails only if fd is already closed
}

void EpollPoller::wake() {
    uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake is already pending, which is enough.
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void EpollPoller::drain_wake() {
    uint64_t count = 0;
    while (::read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
}

Instant EpollPoller::now() const { return RealClock::monotonic(); }

void EpollPoller::wait(std::optional<Instant> until) {
    std::array<struct epoll_event, kEventsMax> events{};
    int n = ::epoll_wait(epoll_fd_, events.data(), kEventsMax, timeout_ms(until, now()));
    if (n < 0) {
        KEEL_ASSERT_MSG(errno == EINTR, "epoll_wait failed");
        return;  // a signal: the scheduler loop calls again
    }
    bool woken = false;
    for (int i = 0; i < n; i++) {
        Token token = events[static_cast<size_t>(i)].data.u64;
        if (token == kWakeToken) {
            woken = true;
            continue;
        }
        // Looked up per event: an earlier callback of this batch may have removed it.
        auto it = callbacks_.find(token);
        if (it != callbacks_.end()) it->second(events[static_cast<size_t>(i)].events);
    }
    if (woken) {
        drain_wake();
        if (wake_handler_) wake_handler_();
    }
}

}  // namespace keel::prod
