# SPDX-License-Identifier: MIT
# gen_syscalls.cmake - generate include/sysfence/detail/syscall_table.hpp from the kernel's uapi headers.
#
#   cmake -P tools/gen_syscalls.cmake                 regenerate the committed header
#   cmake -DCHECK=ON -P tools/gen_syscalls.cmake      fail if the committed header differs from a fresh one
#   -DSYSFENCE_UAPI_DIR=<dir>                         the directory holding asm/unistd_*.h
#                                                     (default /usr/include/x86_64-linux-gnu, else /usr/include)
#
# Every name and number in the output comes from the headers; nothing is typed by hand.
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake")  # sysfence_pack, sysfence_write_or_check

# The supported architectures: (sysfence arch name, header relative to SYSFENCE_UAPI_DIR) pairs.
# Adding an architecture is one more pair here (plus, if its header is not a flat list of
# `#define __NR_<name> <number>` lines, preprocessing it in sysfence_read_unistd below).
set(SYSFENCE_ARCHES
  x86_64 asm/unistd_64.h
  i386   asm/unistd_32.h
)

get_filename_component(repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(out_rel "include/sysfence/detail/syscall_table.hpp")
set(out_file "${repo_root}/${out_rel}")

if(NOT DEFINED SYSFENCE_UAPI_DIR)
  set(SYSFENCE_UAPI_DIR /usr/include/x86_64-linux-gnu)
  if(NOT IS_DIRECTORY "${SYSFENCE_UAPI_DIR}/asm" AND IS_DIRECTORY /usr/include/asm)
    set(SYSFENCE_UAPI_DIR /usr/include)
  endif()
endif()

# The C++20 keywords and alternative tokens: a syscall with one of these names gets a trailing `_`.
set(cxx_keywords
  alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
  char32_t class co_await co_return co_yield compl concept const const_cast consteval constexpr
  constinit continue decltype default delete do double dynamic_cast else enum explicit export
  extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
  nullptr operator or or_eq private protected public register reinterpret_cast requires return
  short signed sizeof static static_assert static_cast struct switch template this thread_local
  throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
  xor xor_eq)

# sysfence_read_unistd(<arch> <header> <out-var>): the `#define __NR_...` lines of one header.
# The x86 headers are plain lists; an architecture using asm-generic/unistd.h (aarch64) would
# instead run `${CC} -E -dM` on it here and keep the lines of the preprocessed output.
function(sysfence_read_unistd arch header out)
  if(NOT EXISTS "${header}")
    message(FATAL_ERROR "gen_syscalls: ${header} (the ${arch} syscall header) does not exist; "
                        "install linux-libc-dev or pass -DSYSFENCE_UAPI_DIR=<dir containing asm/>")
  endif()
  file(STRINGS "${header}" lines REGEX "^[ \t]*#[ \t]*define[ \t]+__NR_")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

# sysfence_parse_unistd(<arch> <header>): parse one header into name -> number. Sets, in the
# caller's scope, sysfence_names_<arch> (the names, header order), sysfence_nr_<arch>_<name>
# (each number) and sysfence_max_<arch> (the highest number).
function(sysfence_parse_unistd arch header)
  sysfence_read_unistd(${arch} "${header}" lines)
  set(names "")
  set(max -1)
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[ \t]*#[ \t]*define[ \t]+__NR_([A-Za-z0-9_]+)[ \t]+([^ \t].*)$")
      message(FATAL_ERROR "gen_syscalls: ${header}: cannot parse `${line}`")
    endif()
    set(name "${CMAKE_MATCH_1}")
    string(STRIP "${CMAKE_MATCH_2}" value)
    if(NOT value MATCHES "^[0-9]+$")
      message(FATAL_ERROR "gen_syscalls: ${header}: __NR_${name} is `${value}`, not a number; "
                          "this header needs preprocessing (see sysfence_read_unistd)")
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "gen_syscalls: ${header}: __NR_${name} is defined twice")
    endif()
    list(APPEND names "${name}")
    math(EXPR value "${value}")  # drop leading zeros
    set(sysfence_nr_${arch}_${name} ${value} PARENT_SCOPE)
    if(value GREATER max)
      set(max ${value})
    endif()
  endforeach()
  list(LENGTH names n)
  if(n EQUAL 0)
    message(FATAL_ERROR "gen_syscalls: ${header}: no `#define __NR_<name> <number>` lines")
  endif()
  set(sysfence_names_${arch} "${names}" PARENT_SCOPE)
  set(sysfence_max_${arch} ${max} PARENT_SCOPE)
endfunction()

# --- read every architecture ---------------------------------------------------------------------
set(arches "")
set(sources "")
set(all_names "")
list(LENGTH SYSFENCE_ARCHES n)
math(EXPR odd "${n} % 2")
if(n EQUAL 0 OR odd)
  message(FATAL_ERROR "gen_syscalls: SYSFENCE_ARCHES must be <arch> <header> pairs, is `${SYSFENCE_ARCHES}`")
endif()
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET SYSFENCE_ARCHES ${i} arch)
  list(GET SYSFENCE_ARCHES ${j} header)
  sysfence_parse_unistd(${arch} "${SYSFENCE_UAPI_DIR}/${header}")
  list(APPEND arches ${arch})
  list(APPEND sources "${header} (${arch})")
  list(APPEND all_names ${sysfence_names_${arch}})
endforeach()
list(REMOVE_DUPLICATES all_names)
list(SORT all_names COMPARE STRING ORDER ASCENDING)  # byte order
list(LENGTH all_names count)

# The C++ identifier of each name.
set(idents "")
foreach(name IN LISTS all_names)
  if(name IN_LIST cxx_keywords)
    set(ident "${name}_")
  else()
    set(ident "${name}")
  endif()
  if(NOT ident MATCHES "^[A-Za-z_][A-Za-z0-9_]*$" OR ident MATCHES "__|^_[A-Z]")
    message(FATAL_ERROR "gen_syscalls: syscall `${name}` has no usable C++ identifier")
  endif()
  if(ident IN_LIST idents)
    message(FATAL_ERROR "gen_syscalls: the identifier `${ident}` would name two syscalls")
  endif()
  list(APPEND idents "${ident}")
endforeach()

# --- emit ----------------------------------------------------------------------------------------
list(JOIN sources ", " sources_text)
set(o "// GENERATED by tools/gen_syscalls.cmake from ${sources_text} - DO NOT EDIT\n")
string(APPEND o "// SPDX-License-Identifier: MIT\n")
string(APPEND o "// syscall_table.hpp - every syscall name known on any supported architecture, and its number on each.\n")
string(APPEND o "#pragma once\n\n")
string(APPEND o "#include <array>\n#include <cstddef>\n#include <cstdint>\n#include <string_view>\n\n")

string(APPEND o "namespace sysfence::sys {\n")
string(APPEND o "// `id` names a syscall independently of the architecture; "
                "the union of all architectures' syscalls, sorted by name.\n")
string(APPEND o "enum class id : std::uint16_t {\n")
foreach(ident IN LISTS idents)
  string(APPEND o "  ${ident},\n")
endforeach()
string(APPEND o "};\n}  // namespace sysfence::sys\n\n")

string(APPEND o "namespace sysfence::detail {\n")
string(APPEND o "inline constexpr std::size_t syscall_count = ${count};\n")
string(APPEND o "// The kernel's name of each syscall, indexed by sys::id.\n")
string(APPEND o "inline constexpr std::array<std::string_view, syscall_count> syscall_names{{\n")
set(quoted "")
foreach(name IN LISTS all_names)
  list(APPEND quoted "\"${name}\"")
endforeach()
sysfence_pack(text "    " 100 ${quoted})
string(APPEND o "${text}}};\n")

foreach(arch IN LISTS arches)
  string(APPEND o "// The syscall number of each sys::id on ${arch}; -1 where the syscall does not exist there.\n")
  string(APPEND o "inline constexpr std::array<std::int32_t, syscall_count> syscall_numbers_${arch}{{\n")
  set(row "")
  set(k 0)
  foreach(name IN LISTS all_names)
    if(DEFINED sysfence_nr_${arch}_${name})
      set(v "${sysfence_nr_${arch}_${name}}")
    else()
      set(v "-1")
    endif()
    string(LENGTH "${v}" len)
    math(EXPR pad "4 - ${len}")
    string(REPEAT " " ${pad} sp)
    string(APPEND row "${sp}${v},")
    math(EXPR k "${k} + 1")
    math(EXPR col "${k} % 8")
    if(col EQUAL 0 OR k EQUAL count)
      if(k EQUAL count)
        string(REGEX REPLACE ",$" "" row "${row}")
      endif()
      math(EXPR first "(${k} - 1) / 8 * 8")
      string(APPEND o "   ${row}  // [${first}]\n")
      set(row "")
    endif()
  endforeach()
  string(APPEND o "}};\n")
endforeach()
foreach(arch IN LISTS arches)
  string(APPEND o "// The highest syscall number on ${arch}.\n")
  string(APPEND o "inline constexpr std::int32_t syscall_max_${arch} = ${sysfence_max_${arch}};\n")
endforeach()
string(APPEND o "}  // namespace sysfence::detail\n\n")

string(APPEND o "// The syscall constants, sysfence::sys::<name>; `syscall<I>` is defined in sysfence/syscall.hpp, "
                "which includes this file after defining it.\n")
set(width 0)
foreach(name ident IN ZIP_LISTS all_names idents)
  string(LENGTH "  X(${ident}, ${name})" len)
  if(len GREATER width)
    set(width ${len})
  endif()
endforeach()
set(entries "#define SYSFENCE_SYSCALL_CONSTANTS(X)")
foreach(name ident IN ZIP_LISTS all_names idents)
  list(APPEND entries "  X(${ident}, ${name})")
endforeach()
list(LENGTH entries n_entries)
set(k 0)
foreach(entry IN LISTS entries)
  math(EXPR k "${k} + 1")
  if(k EQUAL n_entries)
    string(APPEND o "${entry}\n")
  else()
    string(LENGTH "${entry}" len)
    math(EXPR pad "${width} + 1 - ${len}")
    string(REPEAT " " ${pad} sp)
    string(APPEND o "${entry}${sp}\\\n")
  endif()
endforeach()

# --- write or check ------------------------------------------------------------------------------
set(summary "${count} syscalls")
foreach(arch IN LISTS arches)
  list(LENGTH sysfence_names_${arch} n)
  string(APPEND summary ", ${arch}: ${n} (max ${sysfence_max_${arch}})")
endforeach()
set(regen "regenerate it with `cmake -P tools/gen_syscalls.cmake` from the repository root")
if(NOT SYSFENCE_UAPI_DIR STREQUAL "/usr/include/x86_64-linux-gnu")
  set(regen "regenerate it with `cmake -DSYSFENCE_UAPI_DIR=${SYSFENCE_UAPI_DIR} -P tools/gen_syscalls.cmake`")
  string(APPEND regen " from the repository root")
endif()
string(APPEND regen " and commit it (a mismatch usually means the kernel headers were upgraded)")
sysfence_write_or_check(
  TOOL gen_syscalls FILE "${out_file}" TEXT o SUMMARY "${summary}"
  WHAT "syscall tables match the kernel headers"
  SOURCES "the kernel headers in ${SYSFENCE_UAPI_DIR}"
  REGENERATE "${regen}")
