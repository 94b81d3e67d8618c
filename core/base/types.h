// Strong types for identities, positions and time. Kafka's words, one meaning each:
// an Offset is a position in a partition log; a LeaderEpoch is a partition leadership
// generation; a Raft quorum epoch (KRaft's "term") is QuorumEpoch, never a LeaderEpoch.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace keel {

template <typename Tag, typename Rep>
class StrongInt {
public:
    using rep = Rep;
    constexpr StrongInt() = default;
    constexpr explicit StrongInt(Rep v) : v_(v) {}
    constexpr Rep value() const { return v_; }
    constexpr auto operator<=>(const StrongInt&) const = default;

    constexpr StrongInt& operator++() {
        ++v_;
        return *this;
    }
    constexpr StrongInt operator+(Rep d) const { return StrongInt(static_cast<Rep>(v_ + d)); }
    constexpr StrongInt operator-(Rep d) const { return StrongInt(static_cast<Rep>(v_ - d)); }
    constexpr Rep operator-(StrongInt o) const { return static_cast<Rep>(v_ - o.v_); }
    constexpr StrongInt& operator+=(Rep d) {
        v_ = static_cast<Rep>(v_ + d);
        return *this;
    }
    friend std::ostream& operator<<(std::ostream& os, StrongInt s) { return os << s.v_; }

private:
    Rep v_{};
};

using Offset = StrongInt<struct OffsetTag, int64_t>;
using LeaderEpoch = StrongInt<struct LeaderEpochTag, int32_t>;
using QuorumEpoch = StrongInt<struct QuorumEpochTag, int32_t>;
using PartitionEpoch = StrongInt<struct PartitionEpochTag, int32_t>;
using NodeId = StrongInt<struct NodeIdTag, int32_t>;  // broker.id / node.id
using PartitionIndex = StrongInt<struct PartitionIndexTag, int32_t>;
using BrokerEpoch = StrongInt<struct BrokerEpochTag, int64_t>;

// Durations are std::chrono (the type only; clocks come from core/env/clock.h).
using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;  // NOLINT(google-global-names-in-headers)

// A point on a node's monotonic clock: nanoseconds since an arbitrary origin.
struct Instant {
    int64_t ns = 0;
    constexpr auto operator<=>(const Instant&) const = default;
    constexpr Instant operator+(Duration d) const { return Instant{ns + d.count()}; }
    constexpr Instant operator-(Duration d) const { return Instant{ns - d.count()}; }
    constexpr Duration operator-(Instant o) const { return Duration(ns - o.ns); }
    static constexpr Instant max() { return Instant{INT64_MAX}; }
};

// Wall-clock time: nanoseconds since the Unix epoch. Can jump (NTP, simulated skew).
struct WallTime {
    int64_t ns = 0;
    constexpr auto operator<=>(const WallTime&) const = default;
    constexpr int64_t ms() const { return ns / 1'000'000; }
    constexpr WallTime operator+(Duration d) const { return WallTime{ns + d.count()}; }
};

constexpr int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
constexpr Duration ms(int64_t v) { return std::chrono::milliseconds(v); }

}  // namespace keel

template <typename Tag, typename Rep>
struct std::hash<keel::StrongInt<Tag, Rep>> {
    size_t operator()(keel::StrongInt<Tag, Rep> v) const noexcept { return std::hash<Rep>{}(v.value()); }
};
