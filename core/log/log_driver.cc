#include "core/log/log_driver.h"

#include <algorithm>

namespace keel::log {

LogDriver::LogDriver(PartitionLog& log, env::Executor& executor, LogDriverOptions options)
    : log_(log), executor_(executor), options_(std::move(options)), wake_(executor) {}

LogDriver::~LogDriver() {
    *alive_ = false;
    KEEL_ASSERT_MSG(!running_, "LogDriver destroyed while its fiber runs: stop() and let it finish");
}

void LogDriver::start() {
    KEEL_ASSERT(!started_);
    started_ = true;
    running_ = executor_.spawn("log-driver", [this, alive = alive_] {
        if (!*alive) return;
        run();
    }) != 0;
}

void LogDriver::stop() {
    stopping_ = true;
    wake_.set();
}

void LogDriver::note(const Status& s) {
    if (!s.ok()) last_error_ = s.error();
}

void LogDriver::run() {
    struct Done {
        bool& running;
        ~Done() { running = false; }
    } done{running_};
    Instant next_flush = executor_.now() + options_.flush_check_interval;
    Instant next_retention = executor_.now() + options_.retention_check_interval;
    Instant next_clean = executor_.now();
    while (!stopping_) {
        Instant now = executor_.now();
        if (now >= next_flush) {
            note(log_.maybe_flush());
            next_flush = now + options_.flush_check_interval;
        }
        if (now >= next_retention) {
            auto hw = options_.high_watermark ? options_.high_watermark() : std::nullopt;
            auto r = log_.apply_retention(hw);
            if (!r.ok()) note(r.error());
            next_retention = now + options_.retention_check_interval;
        }
        if (log_.config().cleanup_compact && now >= next_clean) {
            auto step = log_.clean_step();
            clean_steps_++;
            if (step.ok() && step->did_work) {
                executor_.yield();  // let appends run between bounded steps
                continue;
            }
            if (!step.ok()) note(step.error());
            next_clean = now + options_.cleaner_backoff;
        }
        Instant wake_at = std::min(next_flush, next_retention);
        if (log_.config().cleanup_compact) wake_at = std::min(wake_at, next_clean);
        bool woken = wake_.wait(wake_at);
        if (!woken && executor_.now() < wake_at) break;  // the node is dying
    }
}

}  // namespace keel::log
