#include "core/log/checkpoint.h"

#include <limits>
#include <vector>

namespace keel::log {

Status write_file_atomically(env::Disk& disk, const std::string& path, ByteView contents) {
    std::string tmp = path + kTmpSuffix;
    {
        KEEL_TRY_ASSIGN(auto f, disk.open(tmp, env::OpenMode::create));
        KEEL_TRY(f->truncate(0));
        KEEL_TRY(f->write(0, contents));
        KEEL_TRY(f->sync());
    }
    KEEL_TRY(disk.rename(tmp, path));
    return disk.sync_dir(env::parent_dir(path));
}

Result<std::optional<Bytes>> read_whole_file(env::Disk& disk, const std::string& path) {
    auto f = disk.open(path, env::OpenMode::read_only);
    if (!f.ok()) {
        if (f.code() == Errc::not_found) return std::optional<Bytes>();
        return f.error();
    }
    KEEL_TRY_ASSIGN(uint64_t size, (*f)->size());
    KEEL_TRY_ASSIGN(Bytes b, (*f)->read(0, size));
    return std::optional<Bytes>(std::move(b));
}

Result<std::optional<Bytes>> read_whole_file_twice(env::Disk& disk, const std::string& path, int attempts) {
    KEEL_TRY_ASSIGN(std::optional<Bytes> last, read_whole_file(disk, path));
    for (int i = 1; i < attempts; i++) {
        KEEL_TRY_ASSIGN(std::optional<Bytes> again, read_whole_file(disk, path));
        if (again == last) return again;
        last = std::move(again);
    }
    return last;
}

std::optional<int64_t> parse_int64(std::string_view text) {
    bool negative = !text.empty() && text[0] == '-';
    if (negative) text.remove_prefix(1);
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

std::string encode_offset_checkpoint(const std::string& topic, int32_t partition, Offset offset) {
    return "0\n1\n" + topic + " " + std::to_string(partition) + " " +
           std::to_string(offset.value()) + "\n";
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        size_t p = s.find(sep, start);
        if (p == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, p - start));
        start = p + 1;
    }
}

}  // namespace

Result<Offset> decode_offset_checkpoint(std::string_view text, const std::string& topic,
                                        int32_t partition) {
    auto lines = split(text, '\n');
    // "0", "1", entry, "" (after the final newline)
    if (lines.size() != 4 || lines[0] != "0" || lines[1] != "1" || !lines[3].empty()) {
        return Error{Errc::corrupt, "offset checkpoint is not version 0 with one entry"};
    }
    auto fields = split(lines[2], ' ');
    auto part = fields.size() == 3 ? parse_int64(fields[1]) : std::nullopt;
    auto offset = fields.size() == 3 ? parse_int64(fields[2]) : std::nullopt;
    if (!part || !offset || fields[0] != topic || *part != partition || *offset < 0) {
        return Error{Errc::corrupt, "offset checkpoint entry '" + std::string(lines[2]) +
                                        "' is not for " + topic + "-" + std::to_string(partition)};
    }
    return Offset(*offset);
}

}  // namespace keel::log
