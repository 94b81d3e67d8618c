// Metrics: counters, gauges and fixed-bucket histograms with labels, rendered as the
// Prometheus text exposition format, version 0.0.4 (what `GET /metrics` serves; see
// docs/operations.md, "Metrics").
//
//   metrics::Registry r;
//   r.counter("keel_broker_requests_total", "Requests handled.", {{"api", "Produce"}}).inc();
//   r.histogram("keel_broker_request_seconds", "Time to answer.", metrics::latency_buckets_seconds(),
//               {{"api", "Produce"}}).observe(0.004);
//   std::string text = r.render();
//
// A family is one metric name with its HELP, TYPE and (histograms) bucket bounds; a series
// is one label set of it. Registering the same name again returns the same family; asking
// for a known label set returns the same series (a reference that stays valid until the
// family is cleared or the registry destroyed).
//
// Guarantees: render() is deterministic — families in name order, series of a family in
// the order of their rendered label sets, labels of a series in the order given. Label
// values and HELP text are escaped as the format requires (\\, \", \n).
//
// Misuse is a bug (KEEL_ASSERT): an invalid metric or label name, a label named `le` on a
// histogram, a name registered again with another type, help or bucket bounds, bucket
// bounds not finite and strictly increasing, a counter increased by a negative amount.
//
// Not thread-safe: a node's fibers share one registry (they never run at once).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type : uint8_t { counter, gauge, histogram };

class Counter {
public:
    void inc(double amount = 1);  // amount >= 0
    // A counter mirrored from a running total kept elsewhere (a scrape-time registry).
    void set_total(double total);  // total >= 0
    double value() const { return value_; }

private:
    double value_ = 0;
};

class Gauge {
public:
    void set(double v) { value_ = v; }
    void add(double delta) { value_ += delta; }
    double value() const { return value_; }

private:
    double value_ = 0;
};

class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double v);
    // Cumulative count of observations <= upper_bounds()[i]; i == upper_bounds().size() is +Inf.
    uint64_t cumulative_count(size_t i) const;
    const std::vector<double>& upper_bounds() const { return bounds_; }
    uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is (bounds.back(), +Inf)
    uint64_t count_ = 0;
    double sum_ = 0;
};

// Request latencies in seconds: 0.5 ms to 10 s.
const std::vector<double>& latency_buckets_seconds();

// A sample value as the format writes it: integers without a fraction, +Inf, -Inf, NaN,
// otherwise the shortest decimal that reads back as the same double.
std::string format_value(double v);
// `s` with \\, \" and \n escaped (a label value).
std::string escape_label_value(std::string_view s);

class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const std::vector<double>& upper_bounds,
                         const Labels& labels = {});

    // Forgets every series of the family `name` (no-op if unknown); the family keeps its
    // HELP and TYPE. For gauges recomputed at scrape time whose label sets come and go.
    // References to the family's series become invalid.
    void clear(std::string_view name);

    std::string render() const;

private:
    struct Series;
    struct Family;
    Family& family(std::string_view name, std::string_view help, Type type, const std::vector<double>& bounds);
    Series& series(Family& f, const Labels& labels);

    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace keel::metrics
