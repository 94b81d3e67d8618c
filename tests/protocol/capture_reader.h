// Reads the real-client request captures under tests/protocol/captures/ (see
// docs/protocol-captures.md): manifest.tsv, one line per captured frame,
//   file  client  client_version  api_key  api_name  api_version  correlation_id  client_id
// (tab-separated; client_id "-" = null), and each file's bytes: a request frame as sent,
// after Kafka's 4-byte size prefix.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/protocol/frame.h"

namespace keel::protocol::testing {

struct CapturedRequest {
    std::string file;  // relative to the captures directory, e.g. "kcat/001-ApiVersions-v3.bin"
    std::string client;
    std::string client_version;
    int16_t api_key = 0;
    std::string api_name;
    int16_t api_version = 0;
    int32_t correlation_id = 0;
    std::optional<std::string> client_id;
    Bytes frame;
};

inline std::optional<int64_t> parse_capture_int(const std::string& s, int64_t lo, int64_t hi) {
    try {
        size_t used = 0;
        long long v = std::stoll(s, &used);
        if (used != s.size() || v < lo || v > hi) return std::nullopt;
        return v;
    } catch (...) {
        return std::nullopt;
    }
}

// One manifest line (without its file's bytes). Errc::invalid_argument naming the problem.
inline Result<CapturedRequest> parse_manifest_line(const std::string& line) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, '\t');) f.push_back(field);
    if (f.size() != 8) return Error{Errc::invalid_argument, "manifest line needs 8 fields: " + line};
    auto key = parse_capture_int(f[3], 0, INT16_MAX);
    auto version = parse_capture_int(f[5], 0, INT16_MAX);
    auto corr = parse_capture_int(f[6], INT32_MIN, INT32_MAX);
    if (!key || !version || !corr) return Error{Errc::invalid_argument, "manifest line has a bad number: " + line};
    if (f[0].rfind(f[1] + "/", 0) != 0) return Error{Errc::invalid_argument, "file not under its client: " + line};
    CapturedRequest c;
    c.file = f[0];
    c.client = f[1];
    c.client_version = f[2];
    c.api_key = static_cast<int16_t>(*key);
    c.api_name = f[4];
    c.api_version = static_cast<int16_t>(*version);
    c.correlation_id = static_cast<int32_t>(*corr);
    if (f[7] != "-") c.client_id = f[7];
    return c;
}

// Every capture the manifest of `dir` lists, with its bytes. Errc::not_found for a missing
// manifest or file, Errc::invalid_argument for a malformed line.
inline Result<std::vector<CapturedRequest>> read_captures(const std::filesystem::path& dir) {
    std::ifstream manifest(dir / "manifest.tsv");
    if (!manifest) return Error{Errc::not_found, (dir / "manifest.tsv").string()};
    std::vector<CapturedRequest> out;
    for (std::string line; std::getline(manifest, line);) {
        if (line.empty()) continue;
        KEEL_TRY_ASSIGN(CapturedRequest c, parse_manifest_line(line));
        std::ifstream in(dir / c.file, std::ios::binary);
        if (!in) return Error{Errc::not_found, (dir / c.file).string()};
        c.frame.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        out.push_back(std::move(c));
    }
    return out;
}

// Decodes the capture's request header with Keel's decoder and checks it against the
// manifest: API key, version, correlation id and client id. Errc::invalid_request naming
// the first disagreement, or the decoder's own error.
inline Status check_capture(const CapturedRequest& c) {
    auto f = decode_request_frame(c.frame);
    if (!f.ok()) return Error{Errc::invalid_request, c.file + ": " + f.error().to_string()};
    const RequestHeader& h = f->header;
    auto mismatch = [&](const std::string& what, const std::string& got, const std::string& want) {
        return Status(Errc::invalid_request, c.file + ": " + what + " decodes as " + got + ", manifest says " + want);
    };
    if (static_cast<int16_t>(h.api_key) != c.api_key) {
        return mismatch("api key", std::to_string(static_cast<int>(h.api_key)), std::to_string(c.api_key));
    }
    if (h.api_version != c.api_version) {
        return mismatch("api version", std::to_string(h.api_version), std::to_string(c.api_version));
    }
    if (h.correlation_id != c.correlation_id) {
        return mismatch("correlation id", std::to_string(h.correlation_id), std::to_string(c.correlation_id));
    }
    if (h.client_id != c.client_id) {
        return mismatch("client id", h.client_id.value_or("(null)"), c.client_id.value_or("(null)"));
    }
    return ok_status();
}

}  // namespace keel::protocol::testing
