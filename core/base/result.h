// Expected failures as values. A broken invariant is a bug (KEEL_ASSERT); everything a
// caller must be ready for (not leader, timeout, disk full, corrupt record, ...) is an
// Errc inside a Result. Errc maps to Kafka error codes in exactly one place:
// core/protocol/error_codes.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/base/assert.h"

namespace keel {

enum class Errc : uint16_t {
    // Environment
    timeout = 1,
    disconnected,        // the connection was reset or closed by the peer
    connection_refused,  // nobody listens at that address, or it is unreachable
    address_in_use,
    closed,              // used after close() on this side
    cancelled,
    not_found,
    already_exists,
    io_error,
    disk_full,
    // Data
    corrupt,          // stored bytes fail their checksum or structure (disk)
    corrupt_record,   // a batch from a client/peer fails CRC or structure
    invalid_record,
    message_too_large,
    invalid_argument,
    invalid_request,
    unsupported_version,
    // Log and replication
    offset_out_of_range,
    not_leader,
    fenced_leader_epoch,
    unknown_leader_epoch,
    not_enough_replicas,
    not_enough_replicas_after_append,
    unknown_topic_or_partition,
    topic_already_exists,
    invalid_replication_factor,
    not_controller,
    stale_broker_epoch,
    broker_fenced,
    invalid_partition_epoch,
    ineligible_replica,
    // Controller
    invalid_partitions,             // partition count < 1 or above the limit
    invalid_topic,                  // an illegal topic name
    invalid_replica_assignment,     // a manual assignment that cannot be used
    invalid_config,                 // an unknown or malformed topic config
    unknown_topic_id,
    duplicate_broker_registration,  // another live incarnation holds the broker id
    broker_not_registered,
    inconsistent_cluster_id,
    // Coordinators
    coordinator_load_in_progress,   // not ready yet (e.g. no producer id block): try again
    unknown,
};

// Stable, lower-case name of an Errc (e.g. "disk_full"); used in logs, traces and JSON.
std::string_view errc_name(Errc e);

struct Error {
    Errc code;
    std::string message;  // human context: which file, which offset, which peer

    std::string to_string() const;
};

// Result<T>: a T or an Error. Accessing the wrong alternative is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    Result(Errc code, std::string message = {}) : v_(Error{code, std::move(message)}) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        KEEL_ASSERT_MSG(ok(), error_text());
        return std::get<0>(v_);
    }
    const T& value() const& {
        KEEL_ASSERT_MSG(ok(), error_text());
        return std::get<0>(v_);
    }
    T&& value() && {
        KEEL_ASSERT_MSG(ok(), error_text());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& {
        KEEL_ASSERT(!ok());
        return std::get<1>(v_);
    }
    Error&& error() && {
        KEEL_ASSERT(!ok());
        return std::get<1>(std::move(v_));
    }
    Errc code() const { return error().code; }

private:
    const char* error_text() const { return ok() ? "" : std::get<1>(v_).message.c_str(); }
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : ok_(false), error_(std::move(error)) {}  // NOLINT
    Result(Errc code, std::string message = {}) : ok_(false), error_{code, std::move(message)} {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    void value() const { KEEL_ASSERT_MSG(ok_, error_.message.c_str()); }
    const Error& error() const {
        KEEL_ASSERT(!ok_);
        return error_;
    }
    Errc code() const { return error().code; }

private:
    bool ok_ = true;
    Error error_{Errc::unknown, {}};
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace keel

// Propagate an error: KEEL_TRY(status_expr); or KEEL_TRY_ASSIGN(var, result_expr);
#define KEEL_TRY(expr)                                   \
    do {                                                 \
        auto keel_try_r_ = (expr);                       \
        if (!keel_try_r_.ok()) return keel_try_r_.error(); \
    } while (0)

#define KEEL_CONCAT_INNER_(a, b) a##b
#define KEEL_CONCAT_(a, b) KEEL_CONCAT_INNER_(a, b)
#define KEEL_TRY_ASSIGN(lhs, expr) KEEL_TRY_ASSIGN_IMPL_(KEEL_CONCAT_(keel_r_, __LINE__), lhs, expr)
#define KEEL_TRY_ASSIGN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                        \
    if (!tmp.ok()) return std::move(tmp).error(); \
    lhs = std::move(tmp).value()
