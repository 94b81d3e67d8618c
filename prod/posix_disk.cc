#include "prod/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace keel::prod {

Errc disk_errc(int err) {
    switch (err) {
        case ENOSPC:
        case EDQUOT: return Errc::disk_full;
        case ENOENT: return Errc::not_found;
        case EEXIST: return Errc::already_exists;
        default: return Errc::io_error;
    }
}

Error disk_error(int err, std::string_view op, std::string_view path) {
    std::string msg(op);
    msg += ' ';
    msg += path.empty() ? std::string_view("<root>") : path;
    msg += ": ";
    msg += std::strerror(err);
    return Error{disk_errc(err), std::move(msg)};
}

namespace {

// Opens a file or directory, retrying on EINTR. Returns -1 with errno set on failure.
int open_retry(const std::string& host, int flags, mode_t mode = 0) {
    while (true) {
        int fd = ::open(host.c_str(), flags | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EINTR) return fd;
    }
}

int fsync_retry(int fd) {
    while (true) {
        if (::fsync(fd) == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

class PosixFile final : public env::File {
public:
    PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~PosixFile() override { ::close(fd_); }  // never retried: Linux frees the fd regardless
    PosixFile(const PosixFile&) = delete;
    PosixFile& operator=(const PosixFile&) = delete;

    Result<Bytes> read(uint64_t offset, size_t n) override {
        Bytes out(n);
        size_t done = 0;
        while (done < n) {
            ssize_t r = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return disk_error(errno, "read", path_);
            if (r == 0) break;  // end of file
            done += static_cast<size_t>(r);
        }
        out.resize(done);
        return out;
    }

    Status write(uint64_t offset, ByteView data) override {
        size_t done = 0;
        while (done < data.size()) {
            ssize_t r = ::pwrite(fd_, data.data() + done, data.size() - done,
                                 static_cast<off_t>(offset + done));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return disk_error(errno, "write", path_);
            // pwrite returning 0 for a nonzero count means no progress is possible.
            if (r == 0) return disk_error(ENOSPC, "write", path_);
            done += static_cast<size_t>(r);
        }
        return {};
    }

    Result<uint64_t> append(ByteView data) override {
        // Not O_APPEND: on Linux it makes pwrite ignore its offset. The node's thread is
        // the only writer, so the size read here is where the bytes land.
        KEEL_TRY_ASSIGN(uint64_t end, size());
        KEEL_TRY(write(end, data));
        return end;
    }

    Status sync() override {
        if (fsync_retry(fd_) != 0) return disk_error(errno, "fsync", path_);
        return {};
    }

    Status truncate(uint64_t new_size) override {
        while (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) {
            if (errno != EINTR) return disk_error(errno, "truncate", path_);
        }
        return {};
    }

    Result<uint64_t> size() override {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) return disk_error(errno, "stat", path_);
        return static_cast<uint64_t>(st.st_size);
    }

    const std::string& path() const override { return path_; }

private:
    int fd_;
    std::string path_;
};

int open_flags(env::OpenMode mode) {
    switch (mode) {
        case env::OpenMode::read_only: return O_RDONLY;
        case env::OpenMode::read_write: return O_RDWR;
        case env::OpenMode::create: return O_RDWR | O_CREAT;
        case env::OpenMode::create_new: return O_RDWR | O_CREAT | O_EXCL;
    }
    KEEL_UNREACHABLE();
}

// Ok if host names an existing directory; otherwise the error for `path`.
Status require_dir(const std::string& host, const std::string& path) {
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) return disk_error(errno, "stat", path);
    if (!S_ISDIR(st.st_mode)) return disk_error(ENOTDIR, "mkdir", path);
    return {};
}

// mkdir that accepts an existing directory (not an existing file).
Status mkdir_one(const std::string& host, const std::string& path) {
    if (::mkdir(host.c_str(), 0755) == 0) return {};
    if (errno == EEXIST) return require_dir(host, path);
    return disk_error(errno, "mkdir", path);
}

}  // namespace

PosixDisk::PosixDisk(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::unique_ptr<PosixDisk>> PosixDisk::open_root(const std::string& root) {
    if (root.empty()) return Error{Errc::invalid_argument, "empty data directory"};
    // Create each prefix of the host path ("/", "/a", "/a/b", ...).
    for (size_t pos = root.find('/', 1); ; pos = root.find('/', pos + 1)) {
        std::string prefix = root.substr(0, pos);
        KEEL_TRY(mkdir_one(prefix, prefix));
        if (pos == std::string::npos) break;
    }
    return std::make_unique<PosixDisk>(root);
}

Status PosixDisk::check_path(const std::string& path, bool allow_root) {
    if (path.empty()) {
        if (allow_root) return {};
        return Error{Errc::invalid_argument, "empty path"};
    }
    if (path.front() == '/') return Error{Errc::invalid_argument, "absolute path: " + path};
    if (path.find('\0') != std::string::npos) {
        return Error{Errc::invalid_argument, "path contains a NUL byte"};
    }
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = std::min(path.find('/', start), path.size());
        std::string_view part(path.data() + start, slash - start);
        if (part.empty() || part == "." || part == "..") {
            return Error{Errc::invalid_argument, "path leaves or escapes its root: " + path};
        }
        start = slash + 1;
    }
    return {};
}

std::string PosixDisk::host_path(const std::string& path) const {
    return path.empty() ? root_ : env::join_path(root_, path);
}

Result<std::unique_ptr<env::File>> PosixDisk::open(const std::string& path, env::OpenMode mode) {
    KEEL_TRY(check_path(path, false));
    int fd = open_retry(host_path(path), open_flags(mode), 0644);
    if (fd < 0) return disk_error(errno, "open", path);
    // open(2) succeeds on a directory for read_only; a directory is not a File.
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
        ::close(fd);
        return disk_error(err, "open", path);
    }
    return std::unique_ptr<env::File>(std::make_unique<PosixFile>(fd, path));
}

Status PosixDisk::make_dirs(const std::string& path) {
    KEEL_TRY(check_path(path, true));
    for (size_t pos = path.find('/'); ; pos = path.find('/', pos + 1)) {
        std::string prefix = path.substr(0, pos);
        if (!prefix.empty()) KEEL_TRY(mkdir_one(host_path(prefix), prefix));
        if (pos == std::string::npos) break;
    }
    return {};
}

Result<std::vector<std::string>> PosixDisk::list(const std::string& dir) {
    KEEL_TRY(check_path(dir, true));
    int fd = open_retry(host_path(dir), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return disk_error(errno, "list", dir);
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
        int err = errno;
        ::close(fd);
        return disk_error(err, "list", dir);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    ::closedir(d);  // also closes fd
    if (err != 0) return disk_error(err, "list", dir);
    std::sort(names.begin(), names.end());
    return names;
}

Result<bool> PosixDisk::exists(const std::string& path) {
    KEEL_TRY(check_path(path, true));
    struct stat st {};
    if (::lstat(host_path(path).c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return disk_error(errno, "stat", path);
}

Status PosixDisk::remove(const std::string& path) {
    KEEL_TRY(check_path(path, false));
    std::string host = host_path(path);
    if (::unlink(host.c_str()) == 0) return {};
    // Linux says EISDIR for a directory (POSIX allows EPERM).
    if (errno != EISDIR && errno != EPERM) return disk_error(errno, "remove", path);
    if (::rmdir(host.c_str()) == 0) return {};
    return disk_error(errno, "remove", path);
}

Status PosixDisk::rename(const std::string& from, const std::string& to) {
    KEEL_TRY(check_path(from, false));
    KEEL_TRY(check_path(to, false));
    if (::rename(host_path(from).c_str(), host_path(to).c_str()) == 0) return {};
    return disk_error(errno, "rename", from + " -> " + to);
}

Status PosixDisk::sync_dir(const std::string& dir) {
    KEEL_TRY(check_path(dir, true));
    int fd = open_retry(host_path(dir), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return disk_error(errno, "sync_dir", dir);
    int rc = fsync_retry(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return disk_error(err, "sync_dir", dir);
    return {};
}

}  // namespace keel::prod
