// What the benchmarks share. bench/ does not depend on cli/: the `keel bench` command
// (cli/cmd_bench.cc) parses the arguments and hands each benchmark its options struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace keel::bench {

// Writes text to a file; false (with a message on stderr) if it cannot.
bool write_text_file(const std::string& path, const std::string& text);

// The nearest-rank q-quantile (0 < q <= 1) of ascending nanosecond figures, in ms; 0 if
// there are none.
double percentile_ms(const std::vector<int64_t>& sorted_ns, double q);

}  // namespace keel::bench
