#include "core/base/metrics.h"

#include <charconv>
#include <cmath>

#include "core/base/assert.h"

namespace keel::metrics {

namespace {

bool valid_name(std::string_view s, bool colon_allowed) {
    if (s.empty()) return false;
    for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
        bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0)) return false;
    }
    return true;
}

std::string escape_help(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

const char* type_name(Type t) {
    switch (t) {
        case Type::counter: return "counter";
        case Type::gauge: return "gauge";
        case Type::histogram: return "histogram";
    }
    KEEL_UNREACHABLE();
}

// `{a="1",b="2"}`, or "" for no labels.
std::string render_labels(const Labels& labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    for (size_t i = 0; i < labels.size(); i++) {
        if (i > 0) out += ",";
        out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
    }
    return out + "}";
}

// `rendered` (from render_labels) with one more label at the end.
std::string with_label(const std::string& rendered, std::string_view name, const std::string& value) {
    std::string extra = std::string(name) + "=\"" + escape_label_value(value) + "\"";
    if (rendered.empty()) return "{" + extra + "}";
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

void Counter::inc(double amount) {
    KEEL_ASSERT_MSG(amount >= 0, "a counter only goes up");
    value_ += amount;
}

void Counter::set_total(double total) {
    KEEL_ASSERT_MSG(total >= 0, "a counter's total is not negative");
    value_ = total;
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
    KEEL_ASSERT_MSG(!bounds_.empty(), "a histogram needs at least one bucket bound");
    for (size_t i = 0; i < bounds_.size(); i++) {
        KEEL_ASSERT_MSG(std::isfinite(bounds_[i]), "bucket bounds are finite (+Inf is implicit)");
        KEEL_ASSERT_MSG(i == 0 || bounds_[i - 1] < bounds_[i], "bucket bounds strictly increase");
    }
    counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) i++;
    counts_[i]++;
    count_++;
    sum_ += v;
}

uint64_t Histogram::cumulative_count(size_t i) const {
    KEEL_ASSERT(i < counts_.size());
    uint64_t n = 0;
    for (size_t k = 0; k <= i; k++) n += counts_[k];
    return n;
}

const std::vector<double>& latency_buckets_seconds() {
    static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    return kBuckets;
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
        return std::to_string(static_cast<int64_t>(v));
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    KEEL_ASSERT(ec == std::errc{});
    return std::string(buf, end);
}

std::string escape_label_value(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

struct Registry::Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
};

struct Registry::Family {
    std::string help;
    Type type = Type::counter;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // by rendered labels
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type,
                                   const std::vector<double>& bounds) {
    KEEL_ASSERT_MSG(valid_name(name, true), "invalid metric name");
    auto it = families_.find(name);
    if (it == families_.end()) {
        auto f = std::make_unique<Family>();
        f->help = std::string(help);
        f->type = type;
        f->bounds = bounds;
        it = families_.emplace(std::string(name), std::move(f)).first;
    }
    Family& f = *it->second;
    KEEL_ASSERT_MSG(f.type == type && f.help == help && f.bounds == bounds,
                    "a metric name is registered once, with one type, help and bucket set");
    return f;
}

Registry::Series& Registry::series(Family& f, const Labels& labels) {
    for (const auto& [name, value] : labels) {
        KEEL_ASSERT_MSG(valid_name(name, false) && name.rfind("__", 0) != 0, "invalid label name");
        KEEL_ASSERT_MSG(!(f.type == Type::histogram && name == "le"), "`le` is the histogram's own label");
    }
    Series& s = f.series[render_labels(labels)];
    if (s.counter == nullptr && s.gauge == nullptr && s.histogram == nullptr) {
        switch (f.type) {
            case Type::counter: s.counter = std::make_unique<Counter>(); break;
            case Type::gauge: s.gauge = std::make_unique<Gauge>(); break;
            case Type::histogram: s.histogram = std::make_unique<Histogram>(f.bounds); break;
        }
    }
    return s;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    return *series(family(name, help, Type::counter, {}), labels).counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    return *series(family(name, help, Type::gauge, {}), labels).gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const std::vector<double>& upper_bounds,
                               const Labels& labels) {
    return *series(family(name, help, Type::histogram, upper_bounds), labels).histogram;
}

void Registry::clear(std::string_view name) {
    auto it = families_.find(name);
    if (it != families_.end()) it->second->series.clear();
}

std::string Registry::render() const {
    std::string out;
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " " + escape_help(f->help) + "\n";
        out += "# TYPE " + name + " " + type_name(f->type) + "\n";
        for (const auto& [labels, s] : f->series) {
            if (s.counter) out += name + labels + " " + format_value(s.counter->value()) + "\n";
            if (s.gauge) out += name + labels + " " + format_value(s.gauge->value()) + "\n";
            if (!s.histogram) continue;
            const Histogram& h = *s.histogram;
            for (size_t i = 0; i <= h.upper_bounds().size(); i++) {
                std::string le = i < h.upper_bounds().size() ? format_value(h.upper_bounds()[i]) : "+Inf";
                out += name + "_bucket" + with_label(labels, "le", le) + " " +
                       format_value(static_cast<double>(h.cumulative_count(i))) + "\n";
            }
            out += name + "_sum" + labels + " " + format_value(h.sum()) + "\n";
            out += name + "_count" + labels + " " + format_value(static_cast<double>(h.count())) + "\n";
        }
    }
    return out;
}

}  // namespace keel::metrics
