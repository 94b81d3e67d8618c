// LogDriver: a PartitionLog's background work on one fiber — flush.ms flushes,
// retention checks (log.retention.check.interval.ms) and compaction steps (the cleaner).
// Each compaction step is bounded (cleaner_step_bytes) and followed by a yield, so
// appends on other fibers interleave and never wait for a whole pass.
#pragma once

#include <functional>
#include <optional>

#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/executor.h"
#include "core/env/sync.h"
#include "core/log/partition_log.h"

namespace keel::log {

struct LogDriverOptions {
    Duration retention_check_interval = std::chrono::minutes(5);  // log.retention.check.interval.ms
    Duration flush_check_interval = std::chrono::seconds(1);      // log.flush.scheduler.interval.ms
    Duration cleaner_backoff = std::chrono::seconds(15);          // log.cleaner.backoff.ms
    // Retention may delete only below this (the high watermark); nullopt: no bound.
    std::function<std::optional<Offset>()> high_watermark = nullptr;
};

class LogDriver {
public:
    // The log and executor must outlive the driver.
    LogDriver(PartitionLog& log, env::Executor& executor, LogDriverOptions options);
    ~LogDriver();
    LogDriver(const LogDriver&) = delete;
    LogDriver& operator=(const LogDriver&) = delete;

    // Spawns the fiber (once).
    void start();
    // Asks the fiber to finish; it returns at its next wakeup. Does not block.
    void stop();
    bool running() const { return running_; }

    // The last error a background task met (they are retried after a backoff).
    const std::optional<Error>& last_error() const { return last_error_; }
    uint64_t clean_steps() const { return clean_steps_; }

private:
    void run();
    void note(const Status& s);

    PartitionLog& log_;
    env::Executor& executor_;
    LogDriverOptions options_;
    env::Event wake_;
    bool started_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::optional<Error> last_error_;
    uint64_t clean_steps_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace keel::log
