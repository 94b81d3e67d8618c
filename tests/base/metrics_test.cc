#include "core/base/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace keel::metrics {
namespace {

TEST(MetricsRegistry, RendersCountersAndGaugesInNameThenLabelOrder) {
    Registry r;
    r.gauge("keel_b_gauge", "A gauge.").set(-2.5);
    r.counter("keel_a_total", "Requests handled.", {{"api", "Produce"}}).inc(3);
    r.counter("keel_a_total", "Requests handled.", {{"api", "Fetch"}}).inc();
    r.counter("keel_a_total", "Requests handled.", {{"api", "Produce"}}).inc(2);
    EXPECT_EQ(r.render(),
              "# HELP keel_a_total Requests handled.\n"
              "# TYPE keel_a_total counter\n"
              "keel_a_total{api=\"Fetch\"} 1\n"
              "keel_a_total{api=\"Produce\"} 5\n"
              "# HELP keel_b_gauge A gauge.\n"
              "# TYPE keel_b_gauge gauge\n"
              "keel_b_gauge -2.5\n");
}

TEST(MetricsRegistry, RendersHistogramBucketsCumulativelyWithSumAndCount) {
    Registry r;
    Histogram& h = r.histogram("keel_latency_seconds", "Latency.", {0.25, 1, 4}, {{"api", "Fetch"}});
    h.observe(0.125);
    h.observe(0.25);  // a bound is inclusive (le)
    h.observe(2);
    h.observe(8);
    EXPECT_EQ(r.render(),
              "# HELP keel_latency_seconds Latency.\n"
              "# TYPE keel_latency_seconds histogram\n"
              "keel_latency_seconds_bucket{api=\"Fetch\",le=\"0.25\"} 2\n"
              "keel_latency_seconds_bucket{api=\"Fetch\",le=\"1\"} 2\n"
              "keel_latency_seconds_bucket{api=\"Fetch\",le=\"4\"} 3\n"
              "keel_latency_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 4\n"
              "keel_latency_seconds_sum{api=\"Fetch\"} 10.375\n"
              "keel_latency_seconds_count{api=\"Fetch\"} 4\n");
}

TEST(MetricsRegistry, UnlabelledHistogramGetsOnlyTheLeLabel) {
    Registry r;
    r.histogram("h_seconds", "H.", {1}).observe(2);
    EXPECT_EQ(r.render(),
              "# HELP h_seconds H.\n"
              "# TYPE h_seconds histogram\n"
              "h_seconds_bucket{le=\"1\"} 0\n"
              "h_seconds_bucket{le=\"+Inf\"} 1\n"
              "h_seconds_sum 2\n"
              "h_seconds_count 1\n");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelpText) {
    Registry r;
    r.gauge("keel_group_lag", "Lag per group \\ with\nnewline.", {{"group", "a\"b\\c\nd"}}).set(4);
    EXPECT_EQ(r.render(),
              "# HELP keel_group_lag Lag per group \\\\ with\\nnewline.\n"
              "# TYPE keel_group_lag gauge\n"
              "keel_group_lag{group=\"a\\\"b\\\\c\\nd\"} 4\n");
}

TEST(MetricsRegistry, ClearDropsTheSeriesButKeepsTheFamilyHeader) {
    Registry r;
    r.gauge("keel_consumer_group_lag", "Lag.", {{"group", "gone"}}).set(9);
    r.clear("keel_consumer_group_lag");
    r.gauge("keel_consumer_group_lag", "Lag.", {{"group", "here"}}).set(1);
    EXPECT_EQ(r.render(),
              "# HELP keel_consumer_group_lag Lag.\n"
              "# TYPE keel_consumer_group_lag gauge\n"
              "keel_consumer_group_lag{group=\"here\"} 1\n");
    r.clear("no_such_family");  // harmless
}

TEST(MetricsRegistry, SameNameAndLabelsGiveTheSameSeries) {
    Registry r;
    Counter& a = r.counter("c_total", "C.", {{"x", "1"}});
    Counter& b = r.counter("c_total", "C.", {{"x", "1"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &r.counter("c_total", "C.", {{"x", "2"}}));
}

TEST(MetricsRegistry, MirroredCounterTakesTheTotal) {
    Registry r;
    Counter& c = r.counter("m_total", "M.");
    c.set_total(5);
    c.inc();
    EXPECT_EQ(c.value(), 6);
}

TEST(MetricsFormat, WritesIntegersPlainlyAndFractionsShortest) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(0.0005), "0.0005");
    EXPECT_EQ(format_value(2.5), "2.5");
    EXPECT_EQ(format_value(1e300), "1e+300");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsRegistryDeathTest, RefusesInvalidNamesAndTypeClashes) {
    Registry r;
    EXPECT_DEATH(r.counter("1bad", "x"), "invalid metric name");
    EXPECT_DEATH(r.counter("ok_total", "x", {{"bad-label", "v"}}), "invalid label name");
    EXPECT_DEATH(r.histogram("h", "x", {1}, {{"le", "v"}}), "histogram's own label");
    r.counter("dup", "x");
    EXPECT_DEATH(r.gauge("dup", "x"), "registered once");
    EXPECT_DEATH(r.histogram("h2", "x", {1, 1}), "strictly increase");
    EXPECT_DEATH(r.counter("c_total", "x").inc(-1), "only goes up");
    EXPECT_DEATH(r.counter("m_total", "x").set_total(-2), "not negative");
}

}  // namespace
}  // namespace keel::metrics
