#include "cli/json_lite.h"

#include <cstdlib>

namespace keel::cli {

namespace {

class Parser {
public:
    explicit Parser(const std::string& t) : t_(t) {}

    std::optional<JsonValue> document(std::string& error) {
        JsonValue v;
        if (!value(v, 0)) {
            error = why_ + " at offset " + std::to_string(i_);
            return std::nullopt;
        }
        ws();
        if (i_ != t_.size()) {
            error = "trailing text at offset " + std::to_string(i_);
            return std::nullopt;
        }
        return v;
    }

private:
    void ws() {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) i_++;
    }
    bool fail(const char* why) {
        why_ = why;
        return false;
    }
    bool literal(const char* word) {
        std::string w(word);
        if (t_.compare(i_, w.size(), w) != 0) return fail("bad literal");
        i_ += w.size();
        return true;
    }

    bool value(JsonValue& v, int depth) {
        if (depth > 64) return fail("nested too deeply");
        ws();
        if (i_ >= t_.size()) return fail("unexpected end");
        char c = t_[i_];
        if (c == '{') return object(v, depth);
        if (c == '[') return array(v, depth);
        if (c == '"') {
            v.type = JsonValue::Type::string;
            return string(v.text);
        }
        if (c == 't' || c == 'f') {
            v.type = JsonValue::Type::boolean;
            v.boolean = c == 't';
            return literal(c == 't' ? "true" : "false");
        }
        if (c == 'n') return literal("null");
        return number(v);
    }

    bool number(JsonValue& v) {
        size_t start = i_;
        while (i_ < t_.size() && std::string_view("+-0123456789.eE").find(t_[i_]) != std::string_view::npos) i_++;
        if (i_ == start) return fail("unexpected character");
        v.type = JsonValue::Type::number;
        v.text = t_.substr(start, i_ - start);
        char* end = nullptr;
        std::strtod(v.text.c_str(), &end);
        if (end != v.text.c_str() + v.text.size()) return fail("bad number");
        return true;
    }

    bool string(std::string& out) {
        i_++;  // the opening quote
        while (i_ < t_.size() && t_[i_] != '"') {
            char c = t_[i_++];
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= t_.size()) return fail("unterminated escape");
            char e = t_[i_++];
            if (e == 'u') {
                if (i_ + 4 > t_.size()) return fail("bad \\u escape");
                unsigned long cp = std::strtoul(t_.substr(i_, 4).c_str(), nullptr, 16);
                i_ += 4;
                if (cp >= 0x80) return fail("\\u escape beyond ASCII");
                out += static_cast<char>(cp);
                continue;
            }
            const std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
            size_t k = from.find(e);
            if (k == std::string_view::npos) return fail("bad escape");
            out += to[k];
        }
        if (i_ >= t_.size()) return fail("unterminated string");
        i_++;
        return true;
    }

    bool array(JsonValue& v, int depth) {
        v.type = JsonValue::Type::array;
        i_++;
        ws();
        if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
        while (true) {
            v.items.emplace_back();
            if (!value(v.items.back(), depth + 1)) return false;
            ws();
            if (i_ < t_.size() && t_[i_] == ',') {
                i_++;
                continue;
            }
            if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
            return fail("expected , or ]");
        }
    }

    bool object(JsonValue& v, int depth) {
        v.type = JsonValue::Type::object;
        i_++;
        ws();
        if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
        while (true) {
            ws();
            if (i_ >= t_.size() || t_[i_] != '"') return fail("expected a key");
            std::string key;
            if (!string(key)) return false;
            ws();
            if (i_ >= t_.size() || t_[i_] != ':') return fail("expected :");
            i_++;
            v.members.emplace_back(std::move(key), JsonValue{});
            if (!value(v.members.back().second, depth + 1)) return false;
            ws();
            if (i_ < t_.size() && t_[i_] == ',') {
                i_++;
                continue;
            }
            if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
            return fail("expected , or }");
        }
    }

    const std::string& t_;
    size_t i_ = 0;
    std::string why_;
};

}  // namespace

const JsonValue* JsonValue::get(const std::string& key) const {
    if (type != Type::object) return nullptr;
    for (const auto& [k, v] : members) {
        if (k == key) return &v;
    }
    return nullptr;
}

double JsonValue::number() const { return type == Type::number ? std::strtod(text.c_str(), nullptr) : 0.0; }

uint64_t JsonValue::u64() const {
    if (type != Type::number || text.empty() || text[0] == '-') return 0;
    return std::strtoull(text.c_str(), nullptr, 10);
}

std::optional<JsonValue> parse_json(const std::string& text, std::string& error) {
    return Parser(text).document(error);
}

}  // namespace keel::cli
