# `keel bench log` (included by bench/CMakeLists.txt; the integrator links it into `keel`).
add_library(keel_bench_log STATIC ${CMAKE_CURRENT_LIST_DIR}/log_bench.cc)
target_include_directories(keel_bench_log PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(keel_bench_log PUBLIC keel_log keel_compression keel_prod keel_cli_support
                      PRIVATE keel_warnings)
