#include "bench/bench_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace keel::bench {

bool write_text_file(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    int saved = errno;
    if (f != nullptr && std::fclose(f) != 0) ok = false;
    if (!ok) std::fprintf(stderr, "keel bench: cannot write %s: %s\n", path.c_str(), std::strerror(saved));
    return ok;
}

}  // namespace keel::bench
