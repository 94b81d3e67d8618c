#!/usr/bin/env bash
# Fails when core/ reaches the world directly instead of through core/env/ (DESIGN.md):
# clocks, threads, mutexes, <random>, sockets, file streams, getenv, or sim/ and prod/.
set -u
dir=${1:?usage: core_bans.sh CORE_DIR}
pattern='std::chrono::(system_clock|steady_clock|high_resolution_clock)|std::(thread|jthread|mutex|shared_mutex|condition_variable|random_device|async)\b|#include *<(random|thread|mutex|fstream|future|condition_variable|shared_mutex)>|#include *<(sys/socket\.h|netinet/|arpa/|unistd\.h|fcntl\.h|sys/stat\.h)|[^_a-zA-Z]getenv *\(|[^_a-zA-Z:]s?rand *\(|[^_a-zA-Z]time *\( *(NULL|nullptr|0) *\)|[^_a-zA-Z]fopen *\(|#include *"(sim|prod)/'
hits=$(grep -rnE --include='*.h' --include='*.cc' "$pattern" "$dir" || true)
if [ -n "$hits" ]; then
    echo "core/ must talk to the world only through core/env/. Offending lines:"
    echo "$hits"
    exit 1
fi
echo "core/ is free of clocks, threads, randomness, sockets, files and sim/prod includes"
