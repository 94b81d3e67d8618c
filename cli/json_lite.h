// A small strict JSON reader for the files keel itself writes (sweep results, for
// `keel sim merge`): objects, arrays, strings (with \" \\ \/ \b \f \n \r \t \uXXXX below
// 0x80), numbers (kept as text too, so 64-bit seeds survive), true, false, null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keel::cli {

struct JsonValue {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool boolean = false;
    std::string text;  // a string's value, or a number as written
    std::vector<JsonValue> items;
    std::vector<std::pair<std::string, JsonValue>> members;

    const JsonValue* get(const std::string& key) const;  // nullptr if absent or not an object
    double number() const;                               // 0 unless a number
    uint64_t u64() const;                                // 0 unless a non-negative integer
};

// Parses the whole text; on error returns nullopt and sets `error` (with the offset).
std::optional<JsonValue> parse_json(const std::string& text, std::string& error);

}  // namespace keel::cli
