# SPDX-License-Identifier: MIT
# compile_fail.cmake - runs one compile-fail test: a snippet and its working twin.
#
#   cmake -DCOMPILER=g++ -DSOURCE=case.cpp -DINCLUDES="a;b" -P compile_fail.cmake
#
# The twin (SOURCE as is) must compile. With -DSYSFENCE_COMPILE_FAIL it must not, and the first
# error block (everything before the second "error:" line) must contain every `// expect: TEXT`
# line of SOURCE, and it must be the only error.
foreach(var COMPILER SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_fail.cmake: ${var} is not set")
  endif()
endforeach()

set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -fno-diagnostics-color)
foreach(dir IN LISTS INCLUDES)
  list(APPEND flags -I${dir})
endforeach()

execute_process(COMMAND ${COMPILER} ${flags} ${SOURCE}
                RESULT_VARIABLE good_rc OUTPUT_VARIABLE good_out ERROR_VARIABLE good_out)
if(NOT good_rc EQUAL 0)
  message(FATAL_ERROR "the working twin of ${SOURCE} does not compile with ${COMPILER}:\n${good_out}")
endif()

execute_process(COMMAND ${COMPILER} ${flags} -DSYSFENCE_COMPILE_FAIL ${SOURCE}
                RESULT_VARIABLE bad_rc OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_out)
if(bad_rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled with ${COMPILER} but must not")
endif()

# CMake lists split on ';': keep the compiler's semicolons out of list operations.
string(REPLACE ";" "<semicolon>" bad_out "${bad_out}")
# The first error block: up to the line of the second error.
string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${bad_out}")
list(LENGTH errors error_count)
set(block "${bad_out}")
if(error_count GREATER 1)
  list(GET errors 1 second)
  string(FIND "${bad_out}" "${second}" at)
  string(SUBSTRING "${bad_out}" 0 ${at} block)
endif()

file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
if(NOT expectations)
  message(FATAL_ERROR "${SOURCE} has no `// expect:` line")
endif()
foreach(line IN LISTS expectations)
  string(REGEX REPLACE "^// expect: " "" text "${line}")
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(FIND "${block}" "${text}" found)
  if(found EQUAL -1)
    string(REPLACE "<semicolon>" ";" block "${block}")
    message(FATAL_ERROR "${COMPILER}: the first error block for ${SOURCE} lacks \"${text}\":\n${block}")
  endif()
endforeach()
# One mistake, one error: the compiler reports nothing after the first error block (no second
# static_assert restating it, no cascade such as "enable() takes a rule set" after a malformed
# rule).
if(error_count GREATER 1)
  list(GET errors 1 second)
  string(REPLACE "<semicolon>" ";" second "${second}")
  message(FATAL_ERROR "${COMPILER}: ${SOURCE} gives ${error_count} errors, not one; the second:\n${second}")
endif()
list(LENGTH expectations n)
message(STATUS "${COMPILER}: ${SOURCE} fails as expected (${n} expected texts found)")
