# keel_glob_sources(VAR DIR): every .cc below DIR, except *_test.cc and main.cc.
function(keel_glob_sources var dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX ".*_test\\.cc$")
  set(${var} ${srcs} PARENT_SCOPE)
endfunction()

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
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()
