// Private helpers shared by the partition_log*.cc files.
#pragma once

#include <string>
#include <string_view>

#include "core/log/partition_log.h"

namespace keel::log {
namespace internal {

inline bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace internal

// Holds the log's fiber mutex (if it has one) for a mutating call. held() is false only
// when the node is dying; the call must then return at once.
class PartitionLog::Guard {
public:
    explicit Guard(PartitionLog& log) : m_(log.mutex_ ? &*log.mutex_ : nullptr) {
        held_ = m_ == nullptr || m_->lock();
    }
    ~Guard() {
        if (m_ != nullptr && held_) m_->unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    bool held() const { return held_; }

private:
    env::Mutex* m_;
    bool held_ = false;
};

// Where a compaction pass is (see partition_log_clean.cc).
struct PartitionLog::CleanerState {
    CleanerProgress::Phase phase = CleanerProgress::Phase::idle;
    uint64_t layout_version = 0;
    int64_t now_ms = 0;  // fixed for a pass: one horizon decision per pass
    OffsetMap map;
    Offset map_end{0};   // exclusive, a segment base offset
    Offset scan_base{0};  // map building cursor: segment and position
    uint64_t scan_position = 0;
    std::vector<Offset> to_clean;
    size_t clean_index = 0;
    std::shared_ptr<Segment> source;
    std::unique_ptr<Segment> cleaned;
    uint64_t source_position = 0;
    std::optional<int64_t> earliest_horizon_ms;       // of tombstones kept in this pass
    std::optional<int64_t> next_horizon_ms;           // from the last finished pass
    bool pass_done_since_open = false;
};

#define KEEL_LOG_LOCK(guard)                                                  \
    Guard guard(*this);                                                       \
    if (!guard.held()) return Error{Errc::cancelled, "node is stopping"};    \
    KEEL_TRY(check_online())

}  // namespace keel::log
