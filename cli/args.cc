#include "cli/args.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace keel::cli {

Args::Args(int argc, char** argv, int first, const ArgSpec& spec) {
    for (int i = first; i < argc; i++) {
        std::string a = argv[i];
        if (a.size() < 2 || a.rfind("--", 0) != 0) {
            positionals_.push_back(a);
            continue;
        }
        std::string name = a;
        std::optional<std::string> inline_value;
        if (size_t eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            inline_value = a.substr(eq + 1);
        }
        if (spec.flags.count(name) != 0) {
            if (inline_value) {
                error_ = "option " + name + " takes no value";
                return;
            }
            flags_.insert(name);
        } else if (spec.value_options.count(name) != 0 || spec.repeated.count(name) != 0) {
            std::string v;
            if (inline_value) {
                v = *inline_value;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                error_ = "option " + name + " needs a value";
                return;
            }
            if (spec.repeated.count(name) == 0 && values_.count(name) != 0) {
                error_ = "option " + name + " given twice";
                return;
            }
            values_[name].push_back(v);
        } else {
            error_ = "unknown option " + name;
            return;
        }
    }
}

std::optional<std::string> Args::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::values(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

namespace {
std::optional<uint64_t> parse_u64(const std::string& s) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}
}  // namespace

std::optional<uint64_t> Args::u64(const std::string& name) {
    auto v = value(name);
    if (!v) return std::nullopt;
    auto n = parse_u64(*v);
    if (!n) error_ = "option " + name + " needs a non-negative integer, got '" + *v + "'";
    return n;
}

std::optional<std::pair<uint64_t, uint64_t>> Args::range(const std::string& name) {
    auto v = value(name);
    if (!v) return std::nullopt;
    size_t dash = v->find('-');
    auto lo = parse_u64(v->substr(0, dash));
    auto hi = dash == std::string::npos ? lo : parse_u64(v->substr(dash + 1));
    if (!lo || !hi || *lo > *hi) {
        error_ = "option " + name + " needs a range A-B with A <= B, got '" + *v + "'";
        return std::nullopt;
    }
    return std::make_pair(*lo, *hi);
}

int usage_error(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "keel %s: %s\n(try 'keel %s --help')\n", command.c_str(), message.c_str(),
                 command.c_str());
    return 2;
}

int64_t wall_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::fprintf(stderr, "keel: cannot write %s\n", path.c_str());
        return false;
    }
    out << text;
    return static_cast<bool>(out);
}

}  // namespace keel::cli
