// Disk: files and directories under one node's data root. Paths are relative to that
// root, '/'-separated, without "..". Blocking calls from a fiber (the simulator may add
// latency; production does real I/O on the node's thread).
//
// Durability contract (what survives a crash):
// - File contents and size change at once for readers, but become durable only at
//   File::sync(). A crash loses every write since the last sync and may tear the last one
//   at sector granularity (a prefix of its sectors survives, or garbage).
// - A new file, a rename and a removal are durable only after Disk::sync_dir() of each
//   directory involved. A crash may revert an unsynced rename/removal/creation.
// - Bytes read back may differ from bytes written (bit rot); formats carry checksums.
// Failures are values: Errc::disk_full (ENOSPC: the write may have been partly applied;
// the caller restores its own invariant, e.g. truncates back), Errc::io_error (EIO; a
// failed sync means earlier writes may be lost), Errc::not_found, Errc::already_exists.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace keel::env {

enum class OpenMode : uint8_t {
    read_only,   // must exist
    read_write,  // must exist
    create,      // read-write; created empty if missing
    create_new,  // read-write; Errc::already_exists if present
};

class File {
public:
    virtual ~File() = default;  // closes; unsynced writes stay pending (not lost, not durable)

    // Up to n bytes from `offset`; fewer only at end of file; empty past it.
    virtual Result<Bytes> read(uint64_t offset, size_t n) = 0;
    // Writes at `offset`, extending the file if needed (a gap reads as zeros).
    virtual Status write(uint64_t offset, ByteView data) = 0;
    // Writes at the current end; returns the offset written at.
    virtual Result<uint64_t> append(ByteView data) = 0;
    // Makes every earlier write and truncate of this file durable.
    virtual Status sync() = 0;
    // Shrinks or extends (zeros) the file to `size` bytes.
    virtual Status truncate(uint64_t size) = 0;
    virtual Result<uint64_t> size() = 0;
    virtual const std::string& path() const = 0;
};

class Disk {
public:
    virtual ~Disk() = default;

    virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
    // Creates a directory and its missing parents. Durable after sync_dir of each parent.
    virtual Status make_dirs(const std::string& path) = 0;
    // Names (not paths) of the entries in dir, sorted. Errc::not_found if dir is missing.
    virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
    virtual Result<bool> exists(const std::string& path) = 0;
    // Removes a file or an empty directory.
    virtual Status remove(const std::string& path) = 0;
    // Atomically replaces `to` with `from`.
    virtual Status rename(const std::string& from, const std::string& to) = 0;
    // Makes creations, renames and removals inside dir durable ("" is the root).
    virtual Status sync_dir(const std::string& dir) = 0;
};

// "a/b/c.log" -> "a/b"; "c.log" -> "".
std::string parent_dir(const std::string& path);
// join("a", "b") -> "a/b"; join("", "b") -> "b".
std::string join_path(const std::string& a, const std::string& b);

}  // namespace keel::env
