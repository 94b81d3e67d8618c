// MemDisk: a plain in-memory env::Disk for the recovery fuzz targets. No crashes, no
// faults, no latency: the hostile part is the file contents the fuzzer writes before
// recovery runs. Files are shared byte buffers, so handles see each other's writes.
// Also: the archive format the recovery targets read their input in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/env/clock.h"
#include "core/env/disk.h"

namespace keel::fuzz {

class MemFile final : public env::File {
public:
    MemFile(std::string path, std::shared_ptr<Bytes> data, bool writable)
        : path_(std::move(path)), data_(std::move(data)), writable_(writable) {}

    Result<Bytes> read(uint64_t offset, size_t n) override {
        if (offset >= data_->size()) return Bytes{};
        size_t take = std::min<uint64_t>(n, data_->size() - offset);
        auto from = data_->begin() + static_cast<std::ptrdiff_t>(offset);
        return Bytes(from, from + static_cast<std::ptrdiff_t>(take));
    }
    Status write(uint64_t offset, ByteView data) override {
        if (!writable_) return Status(Errc::invalid_argument, path_ + " is read-only");
        if (offset + data.size() > data_->size()) data_->resize(offset + data.size());
        std::copy(data.begin(), data.end(), data_->begin() + static_cast<std::ptrdiff_t>(offset));
        return ok_status();
    }
    Result<uint64_t> append(ByteView data) override {
        uint64_t at = data_->size();
        KEEL_TRY(write(at, data));
        return at;
    }
    Status sync() override { return ok_status(); }
    Status truncate(uint64_t size) override {
        if (!writable_) return Status(Errc::invalid_argument, path_ + " is read-only");
        data_->resize(size);
        return ok_status();
    }
    Result<uint64_t> size() override { return static_cast<uint64_t>(data_->size()); }
    const std::string& path() const override { return path_; }

private:
    std::string path_;
    std::shared_ptr<Bytes> data_;
    bool writable_;
};

class MemDisk final : public env::Disk {
public:
    Result<std::unique_ptr<env::File>> open(const std::string& path, env::OpenMode mode) override {
        auto it = files_.find(path);
        if (it == files_.end()) {
            if (mode == env::OpenMode::read_only || mode == env::OpenMode::read_write) {
                return Error{Errc::not_found, path};
            }
            if (!dirs_.count(env::parent_dir(path))) return Error{Errc::not_found, env::parent_dir(path)};
            it = files_.emplace(path, std::make_shared<Bytes>()).first;
        } else if (mode == env::OpenMode::create_new) {
            return Error{Errc::already_exists, path};
        }
        return std::unique_ptr<env::File>(
            new MemFile(path, it->second, mode != env::OpenMode::read_only));
    }
    Status make_dirs(const std::string& path) override {
        for (std::string d = path; !d.empty(); d = env::parent_dir(d)) dirs_.insert(d);
        return ok_status();
    }
    Result<std::vector<std::string>> list(const std::string& dir) override {
        if (!dirs_.count(dir)) return Error{Errc::not_found, dir};
        std::set<std::string> names;
        for (const auto& [p, _] : files_) {
            if (env::parent_dir(p) == dir) names.insert(name_of(p));
        }
        for (const std::string& d : dirs_) {
            if (!d.empty() && env::parent_dir(d) == dir) names.insert(name_of(d));
        }
        return std::vector<std::string>(names.begin(), names.end());
    }
    Result<bool> exists(const std::string& path) override {
        return files_.count(path) > 0 || dirs_.count(path) > 0;
    }
    Status remove(const std::string& path) override {
        if (files_.erase(path) > 0) return ok_status();
        if (!dirs_.count(path)) return Status(Errc::not_found, path);
        auto names = list(path);
        if (names.ok() && !names->empty()) return Status(Errc::invalid_argument, path + " not empty");
        dirs_.erase(path);
        return ok_status();
    }
    Status rename(const std::string& from, const std::string& to) override {
        auto it = files_.find(from);
        if (it == files_.end()) return Status(Errc::not_found, from);
        if (!dirs_.count(env::parent_dir(to))) return Status(Errc::not_found, to);
        auto data = it->second;
        files_.erase(it);
        files_[to] = std::move(data);
        return ok_status();
    }
    Status sync_dir(const std::string& dir) override {
        return dirs_.count(dir) ? ok_status() : Status(Errc::not_found, dir);
    }

    // Test setup: puts a file (creating its directories).
    void put(const std::string& path, Bytes data) {
        (void)make_dirs(env::parent_dir(path));
        files_[path] = std::make_shared<Bytes>(std::move(data));
    }
    const std::map<std::string, std::shared_ptr<Bytes>>& files() const { return files_; }

private:
    static std::string name_of(const std::string& path) {
        size_t slash = path.rfind('/');
        return slash == std::string::npos ? path : path.substr(slash + 1);
    }
    std::map<std::string, std::shared_ptr<Bytes>> files_;
    std::set<std::string> dirs_{""};
};

class FixedClock final : public env::Clock {
public:
    Instant monotonic_now() const override { return Instant{0}; }
    WallTime wall_now() const override { return WallTime{1'700'000'000'000'000'000}; }
};

// The recovery targets' input: a flags byte (the target's knobs), then files as
//   [u8 name length][name][u16 little-endian length][contents]
// A cut record takes what is left. Names are sanitised into one directory level: '/'
// becomes '_', and empty, "." and ".." names are dropped.
struct ArchiveEntry {
    std::string name;
    ByteView contents;
};

inline std::vector<ArchiveEntry> parse_archive(ByteView in) {
    std::vector<ArchiveEntry> out;
    size_t pos = 0;
    while (pos < in.size()) {
        size_t name_len = std::min<size_t>(in[pos], in.size() - pos - 1);
        std::string name(reinterpret_cast<const char*>(in.data() + pos + 1), name_len);
        pos += 1 + name_len;
        size_t len = 0;
        if (pos + 2 <= in.size()) len = in[pos] | (size_t{in[pos + 1]} << 8);
        pos = std::min(pos + 2, in.size());
        len = std::min(len, in.size() - pos);
        std::replace(name.begin(), name.end(), '/', '_');
        if (!name.empty() && name != "." && name != "..") out.push_back({name, in.subspan(pos, len)});
        pos += len;
    }
    return out;
}

inline void append_archive_entry(Bytes& out, const std::string& name, ByteView contents) {
    size_t name_len = std::min<size_t>(name.size(), 0xff);
    size_t len = std::min<size_t>(contents.size(), 0xffff);
    out.push_back(static_cast<uint8_t>(name_len));
    out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(name_len));
    out.push_back(static_cast<uint8_t>(len & 0xff));
    out.push_back(static_cast<uint8_t>(len >> 8));
    out.insert(out.end(), contents.begin(), contents.begin() + static_cast<std::ptrdiff_t>(len));
}

// Every file directly under `dir` as an archive (after `flags`): a seed from a real log.
inline Bytes archive_dir(const MemDisk& disk, const std::string& dir, uint8_t flags) {
    Bytes out{flags};
    for (const auto& [path, data] : disk.files()) {
        if (env::parent_dir(path) != dir) continue;
        append_archive_entry(out, path.substr(dir.empty() ? 0 : dir.size() + 1), *data);
    }
    return out;
}

}  // namespace keel::fuzz
