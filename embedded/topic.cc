#include "embedded/topic.h"

#include <algorithm>
#include <cstring>

namespace keel::embedded::detail {

Segment::Segment(size_t bytes, size_t record_limit)
    : capacity(bytes), max_records(record_limit), pos(new uint32_t[record_limit + 1]), data(new char[bytes]) {
    pos[0] = 0;
}

bool pin_segment(Segment* s, uint64_t seq) {
    if (s == nullptr) return false;
    // seq_cst on both: pairs with the publisher's retire store then pins load (topic.h).
    s->pins.fetch_add(1, std::memory_order_seq_cst);
    if (s->seq.load(std::memory_order_seq_cst) == seq) return true;
    unpin_segment(s);
    return false;
}

void unpin_segment(Segment* s) {
    // release: our reads of the segment happen before a publisher that sees pins == 0 reuses it.
    s->pins.fetch_sub(1, std::memory_order_release);
}

SegmentPin::SegmentPin(Segment* s, uint64_t seq) : s_(pin_segment(s, seq) ? s : nullptr) {}

SegmentPin::~SegmentPin() {
    if (s_ != nullptr) unpin_segment(s_);
}

void Waiter::wake_if_sleeping() {
    if (sleeping.load(std::memory_order_seq_cst) && sleeping.exchange(false, std::memory_order_seq_cst)) wake();
}

void Waiter::wake() {
    {
        std::lock_guard lock(mu);
        wakes.fetch_add(1, std::memory_order_seq_cst);
    }
    cv.notify_all();
}

namespace {
size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
}  // namespace

Topic::Topic(std::string topic_name, const TopicOptions& topic_options)
    : name(std::move(topic_name)),
      options(topic_options),
      max_records(std::max<size_t>(16, options.segment_bytes / 16)),
      max_live(std::max<size_t>(2, ceil_div(options.retention_bytes, options.segment_bytes) + 1)),
      table_size(max_live + 2),
      table(new std::atomic<Segment*>[table_size]) {
    for (size_t i = 0; i < table_size; i++) table[i].store(nullptr, std::memory_order_relaxed);
    if (!options.preallocate) return;
    for (size_t i = 0; i < max_live + 1; i++) {
        pool_.push_back(std::make_unique<Segment>(options.segment_bytes, max_records));
        std::memset(pool_.back()->data.get(), 0, options.segment_bytes);
        std::memset(pool_.back()->pos.get(), 0, (max_records + 1) * sizeof(uint32_t));
        spare_.push_back(pool_.back().get());
    }
}

Topic::~Topic() = default;

Outcome<uint64_t> Topic::append(std::string_view key, std::string_view value) {
    size_t need = record_size(key.size(), value.size());
    if (need > options.segment_bytes || key.size() > UINT32_MAX || value.size() > UINT32_MAX) {
        return {Status::too_large, 0};
    }
    std::lock_guard lock(mu_);
    if (closed.load(std::memory_order_relaxed)) return {Status::closed, 0};
    Segment* s = live_.empty() ? nullptr : live_.back();
    uint32_t i = s ? s->records : 0;
    if (s == nullptr || s->used + need > s->capacity || i == s->max_records) {
        s = roll();
        i = 0;
    }
    char* at = s->data.get() + s->used;
    uint32_t lens[2] = {static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())};
    std::memcpy(at, lens, kRecordHeader);
    if (!key.empty()) std::memcpy(at + kRecordHeader, key.data(), key.size());
    if (!value.empty()) std::memcpy(at + kRecordHeader + key.size(), value.data(), value.size());
    s->used += need;
    s->pos[i + 1] = static_cast<uint32_t>(s->used);
    s->records = i + 1;
    live_messages_++;
    live_bytes_ += need;
    uint64_t offset = next_offset_++;  // == end, without reading the readers' line
    // seq_cst: pairs with a poller's sleepers++ then end load (no lost wakeup, docs/pubsub.md).
    end.store(offset + 1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) wake_sleepers();
    return {Status::ok, offset};
}

void Topic::wake_sleepers() {
    for (auto& w : waiters_) w->wake_if_sleeping();
}

// Starts a new tail segment at the current end, trimming the oldest segments first.
Segment* Topic::roll() {
    // Sealed before any later offset is committed, so a reader that acquired an end past this
    // segment sees where it stops.
    if (!live_.empty()) live_.back()->sealed.store(live_.back()->records, std::memory_order_release);
    trim_for_roll();
    Segment* s = take_spare();
    uint64_t seq = next_seq_++;
    s->base = next_offset_;
    s->used = 0;
    s->pos[0] = 0;
    s->records = 0;
    s->sealed.store(kUnsealed, std::memory_order_relaxed);
    s->seq.store(seq, std::memory_order_seq_cst);
    table[seq % table_size].store(s, std::memory_order_release);
    live_.push_back(s);
    tail_seq.store(seq, std::memory_order_release);
    if (live_.size() == 1) head_seq.store(seq, std::memory_order_release);
    return s;
}

// Retention at segment granularity: drop the oldest segment while the rest still holds
// retention_messages messages or retention_bytes bytes, and keep room in the table.
void Topic::trim_for_roll() {
    while (!live_.empty()) {
        Segment* old = live_.front();
        uint32_t n = old->records;
        bool by_count = live_messages_ - n >= options.retention_messages;
        bool by_bytes = live_bytes_ - old->used >= options.retention_bytes;
        bool by_room = live_.size() + 1 > max_live;
        if (!by_count && !by_bytes && !by_room) break;
        live_.pop_front();
        live_messages_ -= n;
        live_bytes_ -= old->used;
        start.store(old->base + n, std::memory_order_release);
        head_seq.store(old->seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        old->seq.store(kRetired, std::memory_order_seq_cst);
        spare_.push_back(old);
    }
}

// A retired segment no reader holds, or a new one.
Segment* Topic::take_spare() {
    for (size_t i = 0; i < spare_.size(); i++) {
        Segment* s = spare_[i];
        // seq_cst after the retire store (Dekker with SegmentPin); acquire for the readers' bytes.
        if (s->pins.load(std::memory_order_seq_cst) == 0) {
            spare_.erase(spare_.begin() + static_cast<std::ptrdiff_t>(i));
            return s;
        }
    }
    pool_.push_back(std::make_unique<Segment>(options.segment_bytes, max_records));
    return pool_.back().get();
}

Topic::Location Topic::locate(uint64_t offset, uint64_t end_seen) {
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t head = head_seq.load(std::memory_order_acquire);
        uint64_t tail = tail_seq.load(std::memory_order_acquire);
        for (uint64_t seq = head; seq <= tail; seq++) {
            Segment* s = slot(seq);
            SegmentPin pin(s, seq);
            if (!pin) continue;
            uint64_t base = s->base;
            uint32_t sealed = s->sealed.load(std::memory_order_acquire);
            uint64_t limit = sealed == kUnsealed ? end_seen : base + sealed;
            if (offset < base) return {nullptr, 0, true, base};  // older segments are gone
            if (offset < limit) return {s, seq, false, 0};
        }
    }
    // Only under extreme trimming churn: report the retained start.
    return {nullptr, 0, true, start.load(std::memory_order_acquire)};
}

void Topic::add_waiter(std::shared_ptr<Waiter> w) {
    std::lock_guard lock(mu_);
    waiters_.push_back(std::move(w));
}

void Topic::remove_waiter(const Waiter* w) {
    std::lock_guard lock(mu_);
    std::erase_if(waiters_, [w](const auto& p) { return p.get() == w; });
}

void Topic::close() {
    std::lock_guard lock(mu_);
    closed.store(true, std::memory_order_seq_cst);
    for (auto& w : waiters_) w->wake();
}

TopicInfo Topic::info() {
    std::lock_guard lock(mu_);
    return {start.load(std::memory_order_relaxed), end.load(std::memory_order_relaxed), live_bytes_, live_.size()};
}

}  // namespace keel::embedded::detail
