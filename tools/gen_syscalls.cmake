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
set(sysfence_tool gen_syscalls)
include("${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake")  # sysfence_pack, sysfence_write_or_check, cxx_keywords
include("${CMAKE_CURRENT_LIST_DIR}/linux_source.cmake")    # sysfence_linux_source, sysfence_find_table, sysfence_read_table

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

# --- the kernel source ---------------------------------------------------------------------------
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

# From a tarball, only the files read below: the generic makefile and table, and every file under
# arch/<arch>/ whose path says syscall (libarchive's `*` also matches `/`): the tables and both kinds
# of makefile, wherever the architecture keeps them, and a few dozen sources. One pattern an
# architecture, as extraction fails on a pattern that matches nothing.
set(patterns "scripts/Makefile.asm-headers" "scripts/syscall.tbl")
foreach(src_arch IN LISTS src_arches)
  list(APPEND patterns "arch/${src_arch}/*syscall*")
endforeach()
sysfence_linux_source(${patterns})

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
sysfence_regenerate_hint(regen them "a mismatch usually means a newer linux-source-* was installed")
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
