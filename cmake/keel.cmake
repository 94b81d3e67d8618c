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

# How ctest runs a gtest binary. By default in shards: ctest entry NAME/I-of-N runs the
# binary once with GTEST_TOTAL_SHARDS=N, GTEST_SHARD_INDEX=I (gtest splits the cases), so
# a binary's start-up (a second for the big sanitized ones) is paid N times, not once per
# case; a failing shard's output names the failed cases ([  FAILED  ] Suite.Case), and
# `NAME --gtest_filter=Suite.Case` reruns one. -DKEEL_CTEST_PER_CASE=ON gives every case
# its own ctest entry instead (gtest_discover_tests), for `ctest -R Case` while developing.
# The shard count of NAME is KEEL_SHARDS_<NAME> (default 2); KEEL_COST_<NAME> (seconds of
# one shard, roughly) lets ctest start the long shards first on a fresh build.
option(KEEL_CTEST_PER_CASE "one ctest entry per gtest case instead of per shard" OFF)
function(keel_add_gtest name timeout)
  set(env "RC_PARAMS=${KEEL_RC_PARAMS}")
  if(KEEL_CTEST_PER_CASE)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${timeout} ENVIRONMENT "${env}")
    return()
  endif()
  set(shards 2)
  if(DEFINED KEEL_SHARDS_${name})
    set(shards ${KEEL_SHARDS_${name}})
  endif()
  math(EXPR last "${shards} - 1")
  foreach(i RANGE ${last})
    set(test "${name}/${i}-of-${shards}")
    add_test(NAME ${test} COMMAND $<TARGET_FILE:${name}> --gtest_brief=1)
    set_tests_properties(${test} PROPERTIES TIMEOUT ${timeout}
                         ENVIRONMENT "${env};GTEST_TOTAL_SHARDS=${shards};GTEST_SHARD_INDEX=${i}")
    if(DEFINED KEEL_COST_${name})
      set_tests_properties(${test} PROPERTIES COST ${KEEL_COST_${name}})
    endif()
  endforeach()
endfunction()

# The sanitized test build (make test) compiles the test sources themselves at -O0: they
# are GoogleTest and RapidCheck templates that take a third longer at -O1, while the work
# they drive (codecs, logs, the simulator, scenarios) lives in the libraries, which keep the
# build type's optimization. -DKEEL_TEST_O0=OFF compiles them like the libraries.
option(KEEL_TEST_O0 "compile test sources at -O0 in sanitized builds" ON)
#
# KEEL_UNITY_TESTS (OFF by default; `make test` turns it on): each test binary's sources
# compile in unity batches of 6. A test file spends half its compile time in the headers it
# shares with its neighbours (GoogleTest, RapidCheck, the scenario and cluster headers), so
# a clean build of the suite is minutes shorter; an edit recompiles its whole batch, which
# is why development builds keep it off. Files listed in KEEL_UNITY_SKIP (file-local
# helpers whose names clash with a neighbour's) compile alone.
option(KEEL_UNITY_TESTS "compile each test binary's sources in unity batches" OFF)
function(keel_test_compile_options name)
  if(KEEL_SANITIZE AND KEEL_TEST_O0)
    target_compile_options(${name} PRIVATE -O0)
  endif()
  if(KEEL_UNITY_TESTS)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH UNITY_BUILD_BATCH_SIZE 6)
    get_target_property(srcs ${name} SOURCES)
    foreach(src ${srcs})
      get_filename_component(base ${src} NAME)
      if(base IN_LIST KEEL_UNITY_SKIP)
        set_source_files_properties(${src} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
      endif()
    endforeach()
  endif()
endfunction()

# keel_test_binary(NAME DIR LIBS...): one gtest binary per test directory, run by ctest
# as keel_add_gtest says.
function(keel_test_binary name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main keel_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  keel_test_compile_options(${name})
  keel_add_gtest(${name} 600)
endfunction()

# keel_unity_generated(TARGET): TARGET's generated protocol codecs (core/protocol/generated/,
# ~80 small files over the same headers) compile in unity batches of 8; its other sources
# compile one by one. Parsing the shared headers once per batch instead of once per file
# cuts their compile time by about two thirds (24 s -> 9 s of CPU for 8 files, sanitized).
# The generated files are made to be concatenated: no file-local helpers.
option(KEEL_UNITY_GENERATED "compile the generated protocol codecs in unity batches" ON)
function(keel_unity_generated target)
  if(NOT KEEL_UNITY_GENERATED)
    return()
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH UNITY_BUILD_BATCH_SIZE 8)
  get_target_property(srcs ${target} SOURCES)
  foreach(src ${srcs})
    if(NOT src MATCHES "/protocol/generated/[^/]+\\.cc$")
      set_source_files_properties(${src} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endforeach()
endfunction()
