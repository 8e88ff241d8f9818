# SPDX-License-Identifier: MIT
# gen_syscalls.cmake - generate include/sysfence/detail/generated/syscall_ids.hpp (the syscall ids and
# names) and syscalls_<arch>.hpp (each architecture's numbers) from the kernel's own syscall tables.
#
#   cmake -P tools/gen_syscalls.cmake                 regenerate the committed headers
#   cmake -DCHECK=ON -P tools/gen_syscalls.cmake      fail if a committed header differs from a fresh one
#   -DSYSFENCE_LINUX_SOURCE=<dir or .tar.xz>          a kernel source tree, or its tarball (Debian:
#                                                     linux-source-6.12); default: the newest
#                                                     /usr/src/linux-source-*.tar.xz
#   -DSYSFENCE_EXTRACT_DIR=<dir>                      where the few files needed are extracted from the
#                                                     tarball (default: $TMPDIR, else /tmp); an extraction
#                                                     is reused while the tarball is the same
#
# Inputs, all from the kernel source: the tables (arch/x86/entry/syscalls/syscall_64.tbl, syscall_32.tbl,
# scripts/syscall.tbl) and the makefiles that say which table and which ABIs (columns) give each
# architecture's uapi <asm/unistd_*.h> (arch/x86/entry/syscalls/Makefile, scripts/Makefile.asm-headers,
# arch/<arch>/kernel/Makefile.syscalls). Every name and number in the output comes from them.
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake")  # sysfence_pack, sysfence_write_or_check

# The architectures: <sysfence name> <the kernel's arch/ directory> <the uapi header it generates>.
# The table and ABIs that give the header are read from the kernel's makefiles (sysfence_find_table).
# Adding an architecture is one more line here; its output is syscalls_<name>.hpp, defining
# detail::syscall_numbers_<name> and detail::syscall_max_<name>.
set(SYSFENCE_ARCHES
  x86_64  x86   unistd_64.h
  i386    x86   unistd_32.h
  x32     x86   unistd_x32.h
  aarch64 arm64 unistd_64.h
  riscv64 riscv unistd_64.h
)

get_filename_component(repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(out_dir_rel "include/sysfence/detail/generated")
set(out_dir "${repo_root}/${out_dir_rel}")
string(CONCAT install_hint "install linux-source-6.12 (`apt-get install linux-source-6.12`, as tools/dev test does) "
                           "or pass -DSYSFENCE_LINUX_SOURCE=<kernel source directory or linux-source-*.tar.xz>")

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

# --- the kernel source ---------------------------------------------------------------------------
if(NOT DEFINED SYSFENCE_LINUX_SOURCE)
  file(GLOB candidates /usr/src/linux-source-*.tar.xz)
  if(NOT candidates)
    message(FATAL_ERROR "gen_syscalls: no /usr/src/linux-source-*.tar.xz; ${install_hint}")
  endif()
  list(SORT candidates COMPARE NATURAL ORDER DESCENDING)
  list(GET candidates 0 SYSFENCE_LINUX_SOURCE)
endif()
if(NOT EXISTS "${SYSFENCE_LINUX_SOURCE}")
  message(FATAL_ERROR "gen_syscalls: ${SYSFENCE_LINUX_SOURCE} does not exist; ${install_hint}")
endif()

# The source directories each architecture's tables and makefiles are under.
set(src_arches "")
list(LENGTH SYSFENCE_ARCHES n)
math(EXPR bad "${n} % 3")
if(n EQUAL 0 OR bad)
  message(FATAL_ERROR "gen_syscalls: SYSFENCE_ARCHES must be <arch> <kernel arch> <header> triples")
endif()
math(EXPR last "${n} - 1")
foreach(i RANGE 1 ${last} 3)
  list(GET SYSFENCE_ARCHES ${i} src_arch)
  list(APPEND src_arches ${src_arch})
endforeach()
list(REMOVE_DUPLICATES src_arches)

if(IS_DIRECTORY "${SYSFENCE_LINUX_SOURCE}")
  get_filename_component(ksrc "${SYSFENCE_LINUX_SOURCE}" ABSOLUTE)
  get_filename_component(source_name "${ksrc}" NAME)
else()
  # A tarball: extract only the files read below. Debian's linux-source-<v>.tar.xz holds one
  # directory, linux-source-<v>/. Extracting scans the whole archive (about 10 s), so the result
  # is kept in a directory named after the tarball, its size and time, and the patterns.
  get_filename_component(tarball "${SYSFENCE_LINUX_SOURCE}" ABSOLUTE)
  get_filename_component(source_name "${tarball}" NAME)
  string(REGEX REPLACE "\\.tar(\\.[a-z0-9]+)?$" "" source_name "${source_name}")
  set(patterns "${source_name}/Makefile" "${source_name}/scripts/Makefile.asm-headers"
               "${source_name}/scripts/syscall.tbl")
  foreach(src_arch IN LISTS src_arches)
    # Every file under arch/<arch>/ whose path says syscall (libarchive's `*` also matches `/`):
    # the tables and both kinds of makefile, wherever the architecture keeps them, and a few dozen
    # sources. One pattern, as extraction fails on a pattern that matches nothing.
    list(APPEND patterns "${source_name}/arch/${src_arch}/*syscall*")
  endforeach()
  if(DEFINED SYSFENCE_EXTRACT_DIR)
    set(extract_root "${SYSFENCE_EXTRACT_DIR}")
  elseif(DEFINED ENV{TMPDIR} AND IS_DIRECTORY "$ENV{TMPDIR}")
    set(extract_root "$ENV{TMPDIR}")
  else()
    set(extract_root "/tmp")
  endif()
  file(SIZE "${tarball}" size)
  file(TIMESTAMP "${tarball}" mtime "%Y-%m-%dT%H:%M:%S" UTC)
  string(SHA1 key "${tarball}|${size}|${mtime}|${patterns}")
  string(SUBSTRING "${key}" 0 12 key)
  set(extracted "${extract_root}/sysfence-gen_syscalls-${source_name}-${key}")
  if(NOT IS_DIRECTORY "${extracted}")
    # Extract beside it and rename, so that a run stopped halfway or a concurrent one (the gcc and
    # clang test presets) never sees a partial directory.
    string(RANDOM LENGTH 8 tag)
    set(partial "${extracted}.partial-${tag}")
    message(STATUS "gen_syscalls: extracting the syscall tables from ${tarball} to ${extracted}")
    file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${partial}" PATTERNS ${patterns})
    # rename(2) does not replace a directory that is not empty: if another run got there first,
    # its copy stays. (NO_REPLACE fails on directories.)
    file(RENAME "${partial}" "${extracted}" RESULT renamed)
    if(NOT renamed EQUAL 0)
      file(REMOVE_RECURSE "${partial}")
      if(NOT IS_DIRECTORY "${extracted}")
        message(FATAL_ERROR "gen_syscalls: cannot rename ${partial} to ${extracted}: ${renamed}")
      endif()
    endif()
  endif()
  set(ksrc "${extracted}/${source_name}")
  if(NOT EXISTS "${ksrc}/Makefile")
    message(FATAL_ERROR "gen_syscalls: ${tarball} has no ${source_name}/Makefile; is it a kernel source "
                        "tarball? Extract it and pass the directory as -DSYSFENCE_LINUX_SOURCE")
  endif()
endif()

file(STRINGS "${ksrc}/Makefile" kv REGEX "^(VERSION|PATCHLEVEL|SUBLEVEL) = ")
if(NOT kv MATCHES "VERSION = ([0-9]+);PATCHLEVEL = ([0-9]+);SUBLEVEL = ([0-9]+)")
  message(FATAL_ERROR "gen_syscalls: ${ksrc}/Makefile has no VERSION, PATCHLEVEL and SUBLEVEL")
endif()
# The banners name only VERSION.PATCHLEVEL: a stable update (a new linux-source-6.12 from Debian)
# does not renumber syscalls, and should not make the committed headers stale.
set(kernel_version "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
set(kernel_release "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
set(source_text "${source_name} (Linux ${kernel_version})")

# sysfence_makefile_words(<out-var> <file> <regex>): the words after every line of the makefile
# matching `<regex>` (whose last group is the value), in order; commas separate words too.
function(sysfence_makefile_words out file regex)
  set(words "")
  if(EXISTS "${file}")
    file(STRINGS "${file}" lines REGEX "${regex}")
    foreach(line IN LISTS lines)
      string(REGEX MATCH "${regex}" m "${line}")
      string(REGEX REPLACE "[ \t,]+" ";" value "${CMAKE_MATCH_${CMAKE_MATCH_COUNT}}")
      list(APPEND words ${value})
    endforeach()
  endif()
  list(REMOVE_ITEM words "")
  set(${out} "${words}" PARENT_SCOPE)
endfunction()

# sysfence_find_table(<arch> <src-arch> <header>): which table, and which of its ABIs, the kernel's
# build makes arch/<src-arch>/include/generated/uapi/asm/<header> from. Sets table_<arch> (relative
# to the source root), abis_<arch> (a list) and offset_<arch> (a macro the header adds to each
# number, or empty).
function(sysfence_find_table arch src_arch header)
  set(x86_makefile "${ksrc}/arch/${src_arch}/entry/syscalls/Makefile")
  set(generic_makefile "${ksrc}/scripts/Makefile.asm-headers")
  set(arch_makefile "${ksrc}/arch/${src_arch}/kernel/Makefile.syscalls")
  string(REPLACE "." "\\." h "${header}")
  if(EXISTS "${x86_makefile}")
    # x86 has its own rules: `$(uapi)/unistd_64.h: abis := common,64`, `...: $(syscall64) ...`,
    # `syscall64 := $(src)/syscall_64.tbl`, and x32's `offset := __X32_SYSCALL_BIT`.
    set(makefile "${x86_makefile}")
    sysfence_makefile_words(abis "${makefile}" "^\\$\\(uapi\\)/${h}:[ \t]*abis[ \t]*:=[ \t]*(.*)$")
    sysfence_makefile_words(offset "${makefile}" "^\\$\\(uapi\\)/${h}:[ \t]*offset[ \t]*:=[ \t]*(.*)$")
    sysfence_makefile_words(prereqs "${makefile}" "^\\$\\(uapi\\)/${h}:[ \t]*(\\$\\([a-z0-9_]+\\)[ \t].*)$")
    set(table "")
    if(prereqs MATCHES "^\\$\\(([a-z0-9_]+)\\)")
      sysfence_makefile_words(table "${makefile}" "^${CMAKE_MATCH_1}[ \t]*:=[ \t]*\\$\\(src\\)/(.*)$")
      if(table)
        set(table "arch/${src_arch}/entry/syscalls/${table}")
      endif()
    endif()
  elseif(EXISTS "${arch_makefile}" AND header MATCHES "^unistd_([0-9]+)\\.h$")
    # Since Linux 6.11, scripts/Makefile.asm-headers makes unistd_%.h from $(syscalltbl) with
    # $(syscall_abis_%): `syscall_abis_64 += common,64` there, then the architecture's own
    # Makefile.syscalls adds ABIs (`syscall_abis_64 += riscv rlimit memfd_secret`) and may set
    # another table (arm64: `syscalltbl = arch/arm64/tools/syscall_%.tbl`).
    set(bits "${CMAKE_MATCH_1}")
    set(makefile "${arch_makefile}")
    sysfence_makefile_words(generic "${generic_makefile}" "^syscall_abis_${bits}[ \t]*\\+=[ \t]*(.*)$")
    sysfence_makefile_words(own "${arch_makefile}" "^syscall_abis_${bits}[ \t]*\\+=[ \t]*(.*)$")
    set(abis ${generic} ${own})
    set(offset "")
    set(table "")
    foreach(f generic_makefile arch_makefile)  # the architecture's setting wins
      sysfence_makefile_words(t "${${f}}" "^syscalltbl[ \t]*:?=[ \t]*(.*)$")
      if(t)
        string(REPLACE "$(srctree)/" "" table "${t}")
      endif()
    endforeach()
    string(REPLACE "%" "${bits}" table "${table}")
    if(NOT generic)
      message(FATAL_ERROR "gen_syscalls: ${generic_makefile} sets no syscall_abis_${bits}")
    endif()
  else()
    message(FATAL_ERROR "gen_syscalls: neither arch/${src_arch}/entry/syscalls/Makefile nor "
                        "arch/${src_arch}/kernel/Makefile.syscalls (Linux 6.11 and later) is in ${ksrc}; "
                        "the ${arch} table cannot be found")
  endif()
  if(NOT abis OR NOT table)
    message(FATAL_ERROR "gen_syscalls: ${makefile}: cannot find the table and ABIs of ${header} (${arch})")
  endif()
  if(NOT EXISTS "${ksrc}/${table}")
    message(FATAL_ERROR "gen_syscalls: ${ksrc}/${table} (the ${arch} table) does not exist")
  endif()
  list(REMOVE_DUPLICATES abis)
  set(table_${arch} "${table}" PARENT_SCOPE)
  set(abis_${arch} "${abis}" PARENT_SCOPE)
  set(offset_${arch} "${offset}" PARENT_SCOPE)
endfunction()

# sysfence_read_table(<arch>): the lines of table_<arch> whose ABI is in abis_<arch>, as
# scripts/syscallhdr.sh reads them: `<number> <abi> <name> [<entry point> [<compat entry point>]]`.
# Sets, in the caller's scope, names_<arch> (table order), nr_<arch>_<name> and max_<arch>.
function(sysfence_read_table arch)
  set(file "${ksrc}/${table_${arch}}")
  file(STRINGS "${file}" lines)
  set(names "")
  set(max -1)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*(#|$)")
      continue()
    endif()
    if(NOT line MATCHES "^([0-9]+)[ \t]+([A-Za-z0-9_]+)[ \t]+([A-Za-z0-9_]+)([ \t].*)?$")
      message(FATAL_ERROR "gen_syscalls: ${file}: cannot parse `${line}`")
    endif()
    set(nr "${CMAKE_MATCH_1}")
    set(abi "${CMAKE_MATCH_2}")
    set(name "${CMAKE_MATCH_3}")
    if(NOT abi IN_LIST abis_${arch})
      continue()
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "gen_syscalls: ${file}: ${name} appears twice among the ABIs ${abis_${arch}}")
    endif()
    list(APPEND names "${name}")
    math(EXPR nr "${nr}")  # drop leading zeros
    set(nr_${arch}_${name} ${nr} PARENT_SCOPE)
    if(nr GREATER max)
      set(max ${nr})
    endif()
  endforeach()
  if(NOT names)
    message(FATAL_ERROR "gen_syscalls: ${file}: no syscall of the ABIs ${abis_${arch}}")
  endif()
  set(names_${arch} "${names}" PARENT_SCOPE)
  set(max_${arch} ${max} PARENT_SCOPE)
endfunction()

# --- read every architecture ---------------------------------------------------------------------
set(arches "")
set(tables "")
set(all_names "")
foreach(i RANGE 0 ${last} 3)
  math(EXPR j "${i} + 1")
  math(EXPR k "${i} + 2")
  list(GET SYSFENCE_ARCHES ${i} arch)
  list(GET SYSFENCE_ARCHES ${j} src_arch)
  list(GET SYSFENCE_ARCHES ${k} header)
  sysfence_find_table(${arch} ${src_arch} ${header})
  sysfence_read_table(${arch})
  set(header_${arch} "${header}")
  set(src_arch_${arch} "${src_arch}")
  # The table as the banner names it: arm64's is a symbolic link to scripts/syscall.tbl.
  file(REAL_PATH "${ksrc}/${table_${arch}}" real)
  file(REAL_PATH "${ksrc}" real_root)
  file(RELATIVE_PATH real "${real_root}" "${real}")
  if(real STREQUAL table_${arch})
    set(table_text_${arch} "${real}")
  else()
    set(table_text_${arch} "${table_${arch}} (${real})")
  endif()
  list(APPEND arches ${arch})
  list(APPEND tables "${real}")
  list(APPEND all_names ${names_${arch}})
endforeach()
list(REMOVE_DUPLICATES tables)
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

# --- emit syscall_ids.hpp ------------------------------------------------------------------------
list(JOIN tables ", " tables_text)
list(JOIN arches ", " arches_text)
set(o "// GENERATED by tools/gen_syscalls.cmake from ${source_text} ${tables_text} - DO NOT EDIT\n")
string(APPEND o "// SPDX-License-Identifier: MIT\n")
string(APPEND o "// syscall_ids.hpp - every syscall name known on any supported architecture "
                "(${arches_text}), as sys::id.\n")
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
set(text_ids "${o}")

# --- emit syscalls_<arch>.hpp --------------------------------------------------------------------
foreach(arch IN LISTS arches)
  list(JOIN abis_${arch} ", " abis_text)
  list(LENGTH names_${arch} n)
  string(CONCAT o "// GENERATED by tools/gen_syscalls.cmake from ${source_text} ${table_text_${arch}}, "
                  "ABIs ${abis_text} - DO NOT EDIT\n")
  string(APPEND o "// SPDX-License-Identifier: MIT\n")
  string(APPEND o "// syscalls_${arch}.hpp - the syscall numbers of ${arch}: ${n} syscalls, "
                  "numbered up to ${max_${arch}}.\n")
  string(APPEND o "//\n")
  string(APPEND o "// They are the numbers of the kernel's uapi <asm/${header_${arch}}> (arch/${src_arch_${arch}}), "
                  "made from the same table and ABIs.\n")
  if(NOT offset_${arch} STREQUAL "")
    string(APPEND o "// That header adds ${offset_${arch}} to each number, and so does the kernel's "
                    "seccomp_data.nr; these are the table's numbers, without it.\n")
  endif()
  string(APPEND o "#pragma once\n\n")
  string(APPEND o "#include <array>\n#include <cstdint>\n\n")
  string(APPEND o "#include \"sysfence/detail/generated/syscall_ids.hpp\"\n\n")
  string(APPEND o "namespace sysfence::detail {\n")
  string(APPEND o "// The syscall number of each sys::id on ${arch}; -1 where the syscall does not exist there.\n")
  string(APPEND o "inline constexpr std::array<std::int32_t, syscall_count> syscall_numbers_${arch}{{\n")
  set(row "")
  set(k 0)
  foreach(name IN LISTS all_names)
    if(DEFINED nr_${arch}_${name})
      set(v "${nr_${arch}_${name}}")
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
  string(APPEND o "// The highest syscall number on ${arch}.\n")
  string(APPEND o "inline constexpr std::int32_t syscall_max_${arch} = ${max_${arch}};\n")
  string(APPEND o "}  // namespace sysfence::detail\n")
  set(text_${arch} "${o}")
endforeach()

# --- write or check ------------------------------------------------------------------------------
set(summary "${count} syscalls")
foreach(arch IN LISTS arches)
  list(LENGTH names_${arch} n)
  set(summary_${arch} "${arch}: ${n} syscalls, max ${max_${arch}}")
  string(APPEND summary ", ${arch}: ${n} (max ${max_${arch}})")
endforeach()
message(STATUS "gen_syscalls: ${summary}; from ${source_name}, Linux ${kernel_release}")
set(regen "regenerate them with `cmake -P tools/gen_syscalls.cmake` from the repository root")
if(NOT SYSFENCE_LINUX_SOURCE MATCHES "^/usr/src/linux-source-[^/]*\\.tar\\.xz$")
  set(regen "regenerate them with `cmake -DSYSFENCE_LINUX_SOURCE=${SYSFENCE_LINUX_SOURCE} -P tools/gen_syscalls.cmake`")
  string(APPEND regen " from the repository root")
endif()
string(APPEND regen " and commit them (a mismatch usually means a newer linux-source-* was installed)")
if(NOT CHECK)
  file(MAKE_DIRECTORY "${out_dir}")
endif()
set(summary_ids "${count} syscalls")
foreach(part ids ${arches})
  if(part STREQUAL "ids")
    set(file "syscall_ids")
  else()
    set(file "syscalls_${part}")
  endif()
  sysfence_write_or_check(
    TOOL gen_syscalls FILE "${out_dir}/${file}.hpp" TEXT text_${part} SUMMARY "${summary_${part}}"
    WHAT "${out_dir_rel}/${file}.hpp matches the kernel's syscall tables"
    SOURCES "the syscall tables of ${ksrc}"
    REGENERATE "${regen}")
endforeach()
