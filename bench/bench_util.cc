#include "bench/bench_util.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "prod/shutdown_signals.h"

namespace keel::bench {

bool write_text_file(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    int saved = errno;
    if (f != nullptr && std::fclose(f) != 0) ok = false;
    if (!ok) std::fprintf(stderr, "keel bench: cannot write %s: %s\n", path.c_str(), std::strerror(saved));
    return ok;
}

double percentile_ms(const std::vector<int64_t>& sorted_ns, double q) {
    if (sorted_ns.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_ns.size())));
    size_t i = std::min(sorted_ns.size() - 1, rank == 0 ? 0 : rank - 1);
    return static_cast<double>(sorted_ns[i]) / 1e6;
}

void watch_shutdown_signals(env::Env& env, prod::ProdNode& node, bool& interrupted) {
    env.executor().spawn("bench-signals", [&env, &node, &interrupted] {
        for (;;) {
            if (prod::ShutdownSignals::take()) {
                interrupted = true;
                node.request_stop();
                return;
            }
            env.executor().sleep_for(ms(100));
        }
    });
}

}  // namespace keel::bench
