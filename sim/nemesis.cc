#include "sim/nemesis.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <cstdio>

#include "sim/world.h"

namespace keel::sim {

namespace {

struct KindName {
    FaultKind kind;
    std::string_view name;
};
constexpr KindName kKinds[] = {
    {FaultKind::crash, "crash"},         {FaultKind::restart, "restart"},
    {FaultKind::pause, "pause"},         {FaultKind::partition, "partition"},
    {FaultKind::oneway, "oneway"},       {FaultKind::isolate, "isolate"},
    {FaultKind::heal, "heal"},           {FaultKind::clog, "clog"},
    {FaultKind::reset, "reset"},         {FaultKind::clockjump, "clockjump"},
    {FaultKind::wipe, "wipe"},           {FaultKind::disk_torn, "disk-torn"},
    {FaultKind::disk_bitflip, "disk-bitflip"}, {FaultKind::disk_full, "disk-full"},
    {FaultKind::disk_slow, "disk-slow"}, {FaultKind::disk_eio, "disk-eio"},
    {FaultKind::disk_fsyncfail, "disk-fsync-fail"}, {FaultKind::disk_corrupt, "disk-corrupt"},
    {FaultKind::powerloss, "powerloss"},
};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    for (auto w : split(s, ' ')) {
        w = trim(w);
        if (!w.empty()) out.push_back(w);
    }
    return out;
}

std::vector<std::string> names(std::string_view list) {
    std::vector<std::string> out;
    for (auto n : split(list, ',')) {
        n = trim(n);
        if (!n.empty()) out.emplace_back(n);
    }
    return out;
}

std::string join(const std::vector<std::string>& v, char sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); i++) {
        if (i > 0) out += sep;
        out += v[i];
    }
    return out;
}

Result<double> parse_probability(std::string_view s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 1) {
        return Result<double>(Errc::invalid_argument,
                              "probability must be a number in [0, 1], got '" + std::string(s) + "'");
    }
    return v;
}

Status bad(std::string_view op, std::string_view why) {
    return Status(Errc::invalid_argument, "fault '" + std::string(op) + "': " + std::string(why));
}

// Parses the words after "<at> <kind>"; `rest` excludes a trailing "for D".
Status parse_args(FaultOp& op, std::string_view text, const std::vector<std::string_view>& rest) {
    auto need = [&](size_t n) { return rest.size() == n; };
    switch (op.kind) {
        case FaultKind::crash:
        case FaultKind::restart:
        case FaultKind::pause:
        case FaultKind::isolate:
        case FaultKind::wipe:
        case FaultKind::disk_full:
        case FaultKind::disk_corrupt:
            if (!need(1)) return bad(text, "expects one target");
            op.a = names(rest[0]);
            return {};
        case FaultKind::heal:
            if (!need(0)) return bad(text, "takes no arguments");
            return {};
        case FaultKind::partition: {
            if (!need(1)) return bad(text, "expects SIDE|SIDE");
            auto sides = split(rest[0], '|');
            if (sides.size() != 2) return bad(text, "expects SIDE|SIDE");
            op.a = names(sides[0]);
            op.b = names(sides[1]);
            return {};
        }
        case FaultKind::oneway:
        case FaultKind::clog: {
            if (!need(op.kind == FaultKind::clog ? 2 : 1)) return bad(text, "expects FROM>TO");
            auto ends = split(rest[0], '>');
            if (ends.size() != 2) return bad(text, "expects FROM>TO");
            op.a = names(ends[0]);
            op.b = names(ends[1]);
            if (op.kind == FaultKind::clog) {
                KEEL_TRY_ASSIGN(op.amount, parse_duration(rest[1]));
            }
            return {};
        }
        case FaultKind::reset: {
            if (!need(1)) return bad(text, "expects A-B");
            auto ends = split(rest[0], '-');
            if (ends.size() != 2) return bad(text, "expects A-B");
            op.a = names(ends[0]);
            op.b = names(ends[1]);
            return {};
        }
        case FaultKind::clockjump:
        case FaultKind::disk_slow:
        case FaultKind::powerloss: {
            if (!need(2)) return bad(text, "expects TARGET DURATION");
            op.a = names(rest[0]);
            std::string_view d = rest[1];
            bool negative = !d.empty() && d.front() == '-';
            if (negative || (!d.empty() && d.front() == '+')) d.remove_prefix(1);
            KEEL_TRY_ASSIGN(Duration v, parse_duration(d));
            op.amount = negative ? -v : v;
            return {};
        }
        case FaultKind::disk_torn:
        case FaultKind::disk_bitflip:
        case FaultKind::disk_eio:
        case FaultKind::disk_fsyncfail: {
            if (!need(2)) return bad(text, "expects TARGET PROBABILITY");
            op.a = names(rest[0]);
            KEEL_TRY_ASSIGN(op.probability, parse_probability(rest[1]));
            return {};
        }
    }
    return bad(text, "unknown kind");
}

Result<FaultOp> parse_op(std::string_view text) {
    auto w = words(text);
    if (w.size() < 2) return Result<FaultOp>(bad(text, "expects '<at> <kind> ...'").error());
    FaultOp op;
    KEEL_TRY_ASSIGN(op.at, parse_duration(w[0]));
    bool found = false;
    for (const auto& k : kKinds) {
        if (k.name == w[1]) {
            op.kind = k.kind;
            found = true;
        }
    }
    if (!found) return Result<FaultOp>(bad(text, "unknown fault kind '" + std::string(w[1]) + "'").error());
    std::vector<std::string_view> rest(w.begin() + 2, w.end());
    if (rest.size() >= 2 && rest[rest.size() - 2] == "for") {
        KEEL_TRY_ASSIGN(op.duration, parse_duration(rest.back()));
        rest.resize(rest.size() - 2);
    }
    KEEL_TRY(parse_args(op, text, rest));
    for (const auto& t : op.a) {
        if (t.empty()) return Result<FaultOp>(bad(text, "empty target").error());
    }
    return op;
}

std::string format_op(const FaultOp& op) {
    std::string s = format_duration(op.at) + " " + std::string(fault_kind_name(op.kind));
    char prob[32];
    std::snprintf(prob, sizeof prob, "%g", op.probability);
    switch (op.kind) {
        case FaultKind::heal: break;
        case FaultKind::partition: s += " " + join(op.a, ',') + "|" + join(op.b, ','); break;
        case FaultKind::oneway: s += " " + join(op.a, ',') + ">" + join(op.b, ','); break;
        case FaultKind::clog:
            s += " " + join(op.a, ',') + ">" + join(op.b, ',') + " " + format_duration(op.amount);
            break;
        case FaultKind::reset: s += " " + join(op.a, ',') + "-" + join(op.b, ','); break;
        case FaultKind::clockjump:
        case FaultKind::disk_slow:
        case FaultKind::powerloss:
            s += " " + join(op.a, ',') + " " + (op.amount.count() < 0 ? "-" : "") +
                 format_duration(op.amount.count() < 0 ? -op.amount : op.amount);
            break;
        case FaultKind::disk_torn:
        case FaultKind::disk_bitflip:
        case FaultKind::disk_eio:
        case FaultKind::disk_fsyncfail: s += " " + join(op.a, ',') + " " + prob; break;
        default: s += " " + join(op.a, ','); break;
    }
    if (op.duration.count() > 0) s += " for " + format_duration(op.duration);
    return s;
}

}  // namespace

std::string_view fault_kind_name(FaultKind k) {
    for (const auto& e : kKinds) {
        if (e.kind == k) return e.name;
    }
    return "unknown";
}

Result<Duration> parse_duration(std::string_view s) {
    s = trim(s);
    if (s.empty()) return Result<Duration>(Errc::invalid_argument, "empty duration");
    Duration total{0};
    std::string_view rest = s;
    while (!rest.empty()) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
        if (ec != std::errc() || v < 0) {
            return Result<Duration>(Errc::invalid_argument, "bad duration '" + std::string(s) + "' (try 500ms, 2s, 1m)");
        }
        rest.remove_prefix(static_cast<size_t>(p - rest.data()));
        size_t unit_len = 0;
        while (unit_len < rest.size() && rest[unit_len] >= 'a' && rest[unit_len] <= 'z') unit_len++;
        std::string_view unit = rest.substr(0, unit_len);
        rest.remove_prefix(unit_len);
        if (unit == "ns") total += Duration(v);
        else if (unit == "us") total += std::chrono::microseconds(v);
        else if (unit == "ms") total += std::chrono::milliseconds(v);
        else if (unit == "s") total += std::chrono::seconds(v);
        else if (unit == "m") total += std::chrono::minutes(v);
        else if (unit == "h") total += std::chrono::hours(v);
        else return Result<Duration>(Errc::invalid_argument, "bad duration unit in '" + std::string(s) + "' (ns, us, ms, s, m, h)");
    }
    return total;
}

std::string format_duration(Duration d) {
    int64_t ns = d.count();
    if (ns == 0) return "0s";
    if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
    if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
    return std::to_string(ns) + "ns";
}

std::string FaultSchedule::to_string() const {
    std::string s;
    for (size_t i = 0; i < ops.size(); i++) {
        if (i > 0) s += "; ";
        s += format_op(ops[i]);
    }
    return s;
}

Result<FaultSchedule> FaultSchedule::parse(std::string_view spec) {
    FaultSchedule out;
    for (auto part : split(spec, ';')) {
        if (trim(part).empty()) continue;
        KEEL_TRY_ASSIGN(FaultOp op, parse_op(trim(part)));
        out.ops.push_back(std::move(op));
    }
    std::stable_sort(out.ops.begin(), out.ops.end(),
                     [](const FaultOp& x, const FaultOp& y) { return x.at < y.at; });
    return out;
}

Duration FaultSchedule::end() const {
    Duration e{0};
    for (const auto& op : ops) e = std::max(e, op.at + op.duration);
    return e;
}

}  // namespace keel::sim

