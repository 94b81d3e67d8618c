// PosixDisk: env::Disk on real POSIX files under one root directory.
//
// Paths in the contract are relative to the root, '/'-separated; an absolute path, a ".."
// or "." component, an empty component ("a//b") or a NUL byte is refused with
// Errc::invalid_argument before any system call. "" names the root itself (for list,
// exists and sync_dir).
//
// Durability is the kernel's: File::sync() is fsync(2) on the file, Disk::sync_dir() is
// fsync(2) on the directory's fd (what makes a creation, rename or removal durable).
// Calls block the calling thread (the node's reactor thread): fine for a log's sequential
// appends; long fsyncs stall that node's other fibers for their duration.
//
// Errors carry the operation, the path and strerror, e.g.
// "write topic-0/00000000000000000000.log: No space left on device". Mapping:
// ENOSPC/EDQUOT -> Errc::disk_full, ENOENT -> not_found, EEXIST -> already_exists,
// everything else (EIO, EISDIR, ENOTEMPTY, EACCES, ...) -> io_error. EINTR is retried and
// partial reads/writes are continued; a write that stops on ENOSPC after some bytes
// returns disk_full (the contract allows a partly applied write).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/env/disk.h"

namespace keel::prod {

// The Errc for an errno from a file-system call (see the mapping above).
Errc disk_errc(int err);
// An Error for a failed file-system call: code from disk_errc, message
// "<op> <path>: <strerror(err)>".
Error disk_error(int err, std::string_view op, std::string_view path);

class PosixDisk final : public env::Disk {
public:
    // Uses `root` (absolute, or relative to the process's working directory) as is; it
    // should exist. Nothing is checked here: calls fail with not_found if it does not.
    explicit PosixDisk(std::string root);

    // Creates `root` and its missing parents if needed, then returns a disk rooted there.
    // Errors: as for make_dirs; io_error if root exists but is not a directory.
    static Result<std::unique_ptr<PosixDisk>> open_root(const std::string& root);

    Result<std::unique_ptr<env::File>> open(const std::string& path, env::OpenMode mode) override;
    Status make_dirs(const std::string& path) override;
    Result<std::vector<std::string>> list(const std::string& dir) override;
    Result<bool> exists(const std::string& path) override;
    Status remove(const std::string& path) override;
    Status rename(const std::string& from, const std::string& to) override;
    Status sync_dir(const std::string& dir) override;

    const std::string& root() const { return root_; }

    // Invalid_argument unless `path` is a clean relative path (see above). `allow_root`
    // accepts "" as the root itself.
    static Status check_path(const std::string& path, bool allow_root);

private:
    // The host path of a checked relative path.
    std::string host_path(const std::string& path) const;

    std::string root_;
};

}  // namespace keel::prod
