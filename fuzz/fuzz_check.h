// FUZZ_CHECK: an oracle of a fuzz target. A failure prints what was expected and aborts,
// which libFuzzer reports as a crash and saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/base/bytes.h"

#define FUZZ_CHECK(cond, what)                                                          \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s\n  %s\n  at %s:%d\n", #cond,    \
                         std::string(what).c_str(), __FILE__, __LINE__);                \
            std::abort();                                                               \
        }                                                                               \
    } while (0)

namespace keel::fuzz {

inline ByteView input(const uint8_t* data, size_t size) {
    return size == 0 ? ByteView() : ByteView(data, size);
}

}  // namespace keel::fuzz
