# `keel dump-log` (included by cli/CMakeLists.txt; the integrator links it into `keel`).
add_library(keel_cli_dump_log STATIC ${CMAKE_CURRENT_LIST_DIR}/dump_log.cc)
target_include_directories(keel_cli_dump_log PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(keel_cli_dump_log PUBLIC keel_log keel_compression keel_cli_support
                      PRIVATE keel_warnings)
