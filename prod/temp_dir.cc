#include "prod/temp_dir.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "core/base/assert.h"

namespace keel::prod {

TempDir::TempDir(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    KEEL_ASSERT_MSG(made != nullptr, "mkdtemp under /tmp failed");
    path_ = buf.data();
}

TempDir::~TempDir() {
    if (!remove_tree(path_)) std::fprintf(stderr, "TempDir: could not remove %s\n", path_.c_str());
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
    return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}
}  // namespace

bool remove_tree(const std::string& path) {
    // FTW_DEPTH: children before their directory; FTW_PHYS: never follow symlinks out.
    ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    struct stat st {};
    return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

}  // namespace keel::prod
