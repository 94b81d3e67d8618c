// A small, strict argument parser for the keel subcommands: `--name value`, `--name=value`,
// boolean `--flag`, and positionals. Unknown options are errors with a clear message.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace keel::cli {

struct ArgSpec {
    std::set<std::string> value_options;  // take a value: "--seed"
    std::set<std::string> flags;          // booleans: "--help"
    std::set<std::string> repeated;       // value options that may repeat: "--param"
};

class Args {
public:
    // Parses argv[first..]. On error, error() is set and ok() is false.
    Args(int argc, char** argv, int first, const ArgSpec& spec);
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // Typed accessors; set error() on a bad value.
    std::optional<uint64_t> u64(const std::string& name);
    std::optional<std::pair<uint64_t, uint64_t>> range(const std::string& name);  // "A-B" or "A"

private:
    std::string error_;
    std::set<std::string> flags_;
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positionals_;
};

// Prints "keel: <message>" and a hint to stderr; returns the usage exit code (2).
int usage_error(const std::string& command, const std::string& message);

// Monotonic wall time in ns (for reporting speed only; never reaches a simulation).
int64_t wall_now_ns();

// Writes text to a file; false (with a message on stderr) if it cannot.
bool write_file(const std::string& path, const std::string& text);

}  // namespace keel::cli
