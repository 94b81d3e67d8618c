// Internals of embedded/pubsub.h: one topic's log. Not part of the public API.
//
// A topic is a chain of segments: fixed-size byte arenas holding records back to back plus
// an index of where each record starts. Publishers append under Topic::mu_ (a spin lock) and
// then publish the committed end (`end`) with a store that readers acquire-load; readers
// never take mu_.
// A segment that falls out of retention is retired (seq = kRetired) and later reused; a
// reader pins a segment (pins++) and then checks its seq, and a publisher reuses a retired
// segment only when it sees pins == 0 after retiring it. Both sides use sequentially
// consistent operations, so either the reader sees the retirement or the publisher sees the
// pin (the Dekker pattern): a validated reader's bytes are never overwritten under it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "embedded/pubsub.h"

namespace keel::embedded::detail {

inline constexpr uint64_t kRetired = ~uint64_t{0};
inline constexpr size_t kRecordHeader = 8;  // u32 key length, u32 value length
inline constexpr size_t kMinSegmentBytes = 1024;

// Bytes a record takes in a segment (8-byte aligned).
inline size_t record_size(size_t key_bytes, size_t value_bytes) {
    return (kRecordHeader + key_bytes + value_bytes + 7) & ~size_t{7};
}

inline constexpr uint32_t kUnsealed = UINT32_MAX;

// In steady state a reader reads `end` (once per poll), `sealed` (once per segment), `pos`
// (one line per 16 records) and the data: a publish writes no other line a reader reads.
struct Segment {
    Segment(size_t bytes, size_t max_records);
    alignas(64) std::atomic<uint64_t> seq{kRetired};  // its number in the topic, or kRetired
    std::atomic<uint32_t> pins{0};                    // readers inside it
    std::atomic<uint32_t> sealed{kUnsealed};          // record count once full (release)
    uint64_t base = 0;                                // first offset; written before seq
    const size_t capacity, max_records;
    std::unique_ptr<uint32_t[]> pos;  // record i starts at data[pos[i]]
    std::unique_ptr<char[]> data;
    alignas(64) size_t used = 0;  // bytes written (publishers only)
    uint32_t records = 0;         // records written (publishers only)
};

// Pins s and checks that its seq is still `seq`; false (and unpinned) if not. While pinned,
// no publisher rewrites the segment.
bool pin_segment(Segment* s, uint64_t seq);
void unpin_segment(Segment* s);

// A reader's scoped hold on a segment (pin_segment .. unpin_segment).
class SegmentPin {
public:
    SegmentPin(Segment* s, uint64_t seq);
    ~SegmentPin();
    SegmentPin(const SegmentPin&) = delete;
    SegmentPin& operator=(const SegmentPin&) = delete;
    explicit operator bool() const { return s_ != nullptr; }

private:
    Segment* s_;
};

// One subscriber's wakeup channel. `sleeping` says a poller may block; publishers that find
// it set clear it and bump `wakes` under mu (so exactly one syscall per sleep).
struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<uint64_t> wakes{0};  // changed under mu (for cv), read without it
    std::atomic<bool> sleeping{false};
    void wake_if_sleeping();
    void wake();
};

// The publishers' lock: held for a copy of one message, so a test-and-test-and-set lock
// (one atomic exchange to take, a plain release store to give back) costs less than a
// std::mutex (a locked instruction on each side). Spinners pause, then yield, so a holder
// preempted on a busy machine gets the core back.
class SpinLock {
public:
    void lock() {
        for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ) {
            while (locked_.load(std::memory_order_relaxed)) {
                if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
#endif
                } else {
                    std::this_thread::yield();
                }
            }
        }
    }
    void unlock() { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

struct Topic {
    Topic(std::string topic_name, const TopicOptions& topic_options);
    ~Topic();
    const std::string name;
    const TopicOptions options;
    const size_t max_records, max_live, table_size;

    alignas(64) std::atomic<uint64_t> end{0};  // committed end: offsets < end are readable
    alignas(64) std::atomic<int> sleepers{0};  // pollers of this topic that may block
    std::atomic<uint64_t> start{0};            // oldest retained offset
    std::atomic<uint64_t> head_seq{0}, tail_seq{0};  // live segments are [head_seq, tail_seq]
    std::atomic<bool> closed{false};
    std::unique_ptr<std::atomic<Segment*>[]> table;  // segment s at table[s % table_size]

    Outcome<uint64_t> append(std::string_view key, std::string_view value);
    void add_waiter(std::shared_ptr<Waiter> w);
    void remove_waiter(const Waiter* w);
    void close();
    TopicInfo info();

    // Reader side (no lock). Where `offset` (< end) lives: found (segment and seq) or
    // trimmed (then `first` is the oldest retained offset).
    struct Location {
        Segment* segment = nullptr;
        uint64_t seq = 0;
        bool trimmed = false;
        uint64_t first = 0;
    };
    // Requires offset < end, where `end` was acquire-loaded from `this->end`.
    Location locate(uint64_t offset, uint64_t end);
    Segment* slot(uint64_t seq) const { return table[seq % table_size].load(std::memory_order_acquire); }

private:
    alignas(64) SpinLock mu_;  // publishers; guards everything below
    std::vector<std::unique_ptr<Segment>> pool_;
    std::vector<Segment*> spare_;
    std::deque<Segment*> live_;
    uint64_t next_seq_ = 0;
    uint64_t next_offset_ = 0;  // the next offset to assign (== end, kept beside the lock)
    uint64_t live_messages_ = 0;
    size_t live_bytes_ = 0;
    std::vector<std::shared_ptr<Waiter>> waiters_;

    Segment* roll();
    void trim_for_roll();
    Segment* take_spare();
    void wake_sleepers();
};

}  // namespace keel::embedded::detail
