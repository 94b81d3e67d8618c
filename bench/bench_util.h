// What the benchmarks share. bench/ does not depend on cli/: the `keel bench` command
// (cli/cmd_bench.cc) parses the arguments and hands each benchmark its options struct.
#pragma once

#include <string>

namespace keel::bench {

// Writes text to a file; false (with a message on stderr) if it cannot.
bool write_text_file(const std::string& path, const std::string& text);

}  // namespace keel::bench
