// Links keel::core with nothing but the standard library: the proof that core/ needs no
// simulator, no Boost and no OS adapter.
#include <cstdio>

#include "core/base/result.h"
#include "core/env/random.h"

int main() {
    keel::env::SeededRandom r(42);
    keel::Result<int> v(7);
    std::printf("keel::core links alone (draw %llu, value %d)\n",
                static_cast<unsigned long long>(r.next_u64() % 1000), *v);
    return v.ok() ? 0 : 1;
}
