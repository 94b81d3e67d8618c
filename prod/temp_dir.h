// TempDir: a fresh directory under /tmp (mkdtemp), removed with everything inside it when
// the object is destroyed. For tests and benchmarks of the production world.
#pragma once

#include <string>

namespace keel::prod {

class TempDir {
public:
    // Creates /tmp/<prefix>XXXXXX. Aborts (KEEL_ASSERT) if /tmp is unusable.
    explicit TempDir(const std::string& prefix = "keel-");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Removes a file or a directory tree; true if nothing is left at `path`.
bool remove_tree(const std::string& path);

}  // namespace keel::prod
