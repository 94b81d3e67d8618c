# keel_glob_sources(VAR DIR): every .cc below DIR, except *_test.cc and main.cc.
function(keel_glob_sources var dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX ".*_test\\.cc$")
  set(${var} ${srcs} PARENT_SCOPE)
endfunction()

# RapidCheck's parameters under ctest: the seed is pinned so that a red run replays
# exactly (RapidCheck prints "Using configuration: seed=..." and, on a failure, the
# RC_PARAMS="reproduce=..." line to run the test binary with). Override with
# -DKEEL_RC_PARAMS="seed=N" (or "" for a fresh seed per run).
set(KEEL_RC_PARAMS "seed=20261207" CACHE STRING "RC_PARAMS for the property tests under ctest")

# keel_test_binary(NAME DIR LIBS...): one gtest binary per test directory; every
# TEST becomes its own ctest entry (gtest_discover_tests), so failures are named.
function(keel_test_binary name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main keel_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600 ENVIRONMENT "RC_PARAMS=${KEEL_RC_PARAMS}")
endfunction()
