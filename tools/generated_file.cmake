# SPDX-License-Identifier: MIT
# generated_file.cmake - what the table generators share: the C++ keywords a generated name must
# avoid, lists packed into lines, and writing a generated file or checking that the committed one is
# what the generator gives now. (What they read from the kernel source is linux_source.cmake.)
#
#   include(${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake)
#   cxx_keywords                                  a list
#   sysfence_pack(<out-var> <indent> <width> <items>...)
#   sysfence_write_or_check(TOOL gen_x FILE <path> TEXT <var> SUMMARY <text> WHAT <text>
#                           SOURCES <text> REGENERATE <text>)
#
# Without -DCHECK=ON it writes TEXT to FILE. With it, it says WHAT ("syscall tables match the
# kernel headers") when FILE holds TEXT, and otherwise stops with the first differing line, the
# SOURCES compared with and how to REGENERATE.

# The C++20 keywords and alternative tokens: a syscall or parameter with one of these names gets a
# trailing `_` (`sys::break_`, C's `new` and `private`).
set(cxx_keywords
  alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
  char32_t class co_await co_return co_yield compl concept const const_cast consteval constexpr
  constinit continue decltype default delete do double dynamic_cast else enum explicit export
  extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
  nullptr operator or or_eq private protected public register reinterpret_cast requires return
  short signed sizeof static static_assert static_cast struct switch template this thread_local
  throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
  xor xor_eq)

# sysfence_pack(<out-var> <indent> <width> <items>...): join items with ", ", wrapping lines at width.
function(sysfence_pack out indent width)
  set(text "")
  set(line "")
  foreach(item IN LISTS ARGN)
    string(LENGTH "${indent}${line}${item}, " len)
    if(NOT line STREQUAL "" AND len GREATER width)
      string(STRIP "${line}" line)
      string(APPEND text "${indent}${line}\n")
      set(line "")
    endif()
    string(APPEND line "${item}, ")
  endforeach()
  if(NOT line STREQUAL "")
    string(REGEX REPLACE ", $" "" line "${line}")
    string(APPEND text "${indent}${line}\n")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(sysfence_write_or_check)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TOOL;FILE;TEXT;SUMMARY;WHAT;SOURCES;REGENERATE" "")
  set(o "${${arg_TEXT}}")
  file(RELATIVE_PATH out_rel "${CMAKE_CURRENT_LIST_DIR}/.." "${arg_FILE}")
  if(NOT CHECK)
    file(WRITE "${arg_FILE}" "${o}")
    message(STATUS "${arg_TOOL}: wrote ${out_rel} (${arg_SUMMARY})")
    return()
  endif()
  if(NOT EXISTS "${arg_FILE}")
    message(FATAL_ERROR "${arg_TOOL}: ${arg_FILE} does not exist; ${arg_REGENERATE}")
  endif()
  file(READ "${arg_FILE}" committed)
  if(committed STREQUAL o)
    message(STATUS "${arg_TOOL}: ${arg_SUMMARY}")
    message("${arg_WHAT}")
    return()
  endif()

  # Find the first differing line for the message. Make both texts safe to split as CMake lists.
  foreach(var committed o)
    string(REPLACE ";" "<semicolon>" ${var} "${${var}}")
    string(REPLACE "[" "<lbracket>" ${var} "${${var}}")
    string(REPLACE "]" "<rbracket>" ${var} "${${var}}")
    string(REPLACE "\\" "<backslash>" ${var} "${${var}}")
    string(REPLACE "\n" ";" ${var} "${${var}}")
  endforeach()
  list(LENGTH committed n_old)
  list(LENGTH o n_new)
  set(line_no 0)
  while(line_no LESS n_old OR line_no LESS n_new)
    set(old_line "<end of file>")
    set(new_line "<end of file>")
    if(line_no LESS n_old)
      list(GET committed ${line_no} old_line)
    endif()
    if(line_no LESS n_new)
      list(GET o ${line_no} new_line)
    endif()
    if(NOT old_line STREQUAL new_line)
      break()
    endif()
    math(EXPR line_no "${line_no} + 1")
  endwhile()
  math(EXPR line_no "${line_no} + 1")
  foreach(var old_line new_line)
    string(REPLACE "<semicolon>" ";" ${var} "${${var}}")
    string(REPLACE "<lbracket>" "[" ${var} "${${var}}")
    string(REPLACE "<rbracket>" "]" ${var} "${${var}}")
    string(REPLACE "<backslash>" "\\" ${var} "${${var}}")
  endforeach()
  message(FATAL_ERROR
    "${arg_TOOL}: ${arg_FILE} does not match ${arg_SOURCES} (${arg_SUMMARY}).\n"
    "First difference at line ${line_no}:\n"
    "  committed: ${old_line}\n"
    "  generated: ${new_line}\n"
    "The file is generated: do not edit it by hand; ${arg_REGENERATE}.")
endfunction()
