# SPDX-License-Identifier: MIT
# linux_source.cmake - what the generators read from a kernel source: finding the source tree or
# tarball (extracting from a tarball only the files a generator reads), the kernel's version, and
# the syscall tables with the ABIs the kernel's makefiles take from them.
#
#   set(sysfence_tool gen_x)                      the prefix of every message
#   include(${CMAKE_CURRENT_LIST_DIR}/linux_source.cmake)
#   sysfence_linux_source(<pattern>...)           sets ksrc, source_name, kernel_version, kernel_release
#                                                 and source_text
#   sysfence_find_table(<arch> <src-arch> <header>)   sets table_<arch>, abis_<arch>, offset_<arch>
#   sysfence_read_table(<arch>)                   sets names_<arch>, max_<arch>, nr_<arch>_<name>,
#                                                 entry_<arch>_<name>
#   sysfence_regenerate_hint(<out-var> <it|them> <why>)   how to regenerate, for sysfence_write_or_check
#
# The source is -DSYSFENCE_LINUX_SOURCE=<dir or .tar.xz>; by default the newest
# /usr/src/linux-source-*.tar.xz (Debian: linux-source-6.12). From a tarball, only the files matching
# the patterns (paths under the source root; libarchive's `*` also matches `/`) are extracted, into
# -DSYSFENCE_EXTRACT_DIR=<dir> (default: $TMPDIR, else /tmp).

string(CONCAT sysfence_linux_source_hint
  "install linux-source-6.12 (`apt-get install linux-source-6.12`, as tools/dev test does) "
  "or pass -DSYSFENCE_LINUX_SOURCE=<kernel source directory or linux-source-*.tar.xz>")

# sysfence_linux_source(<pattern>...): the kernel source, as a directory (ksrc) holding at least the
# files matching the patterns, its name (source_name: linux-source-6.12), VERSION.PATCHLEVEL
# (kernel_version), VERSION.PATCHLEVEL.SUBLEVEL (kernel_release) and what the banners say of it
# (source_text: `linux-source-6.12 (Linux 6.12)`). Also sets SYSFENCE_LINUX_SOURCE when it was not.
function(sysfence_linux_source)
  if(NOT DEFINED SYSFENCE_LINUX_SOURCE)
    file(GLOB candidates /usr/src/linux-source-*.tar.xz)
    if(NOT candidates)
      message(FATAL_ERROR "${sysfence_tool}: no /usr/src/linux-source-*.tar.xz; ${sysfence_linux_source_hint}")
    endif()
    list(SORT candidates COMPARE NATURAL ORDER DESCENDING)
    list(GET candidates 0 SYSFENCE_LINUX_SOURCE)
    set(SYSFENCE_LINUX_SOURCE "${SYSFENCE_LINUX_SOURCE}" PARENT_SCOPE)
  endif()
  if(NOT EXISTS "${SYSFENCE_LINUX_SOURCE}")
    message(FATAL_ERROR "${sysfence_tool}: ${SYSFENCE_LINUX_SOURCE} does not exist; ${sysfence_linux_source_hint}")
  endif()

  if(IS_DIRECTORY "${SYSFENCE_LINUX_SOURCE}")
    get_filename_component(ksrc "${SYSFENCE_LINUX_SOURCE}" ABSOLUTE)
    get_filename_component(source_name "${ksrc}" NAME)
  else()
    # A tarball: extract only the files the generator reads. Debian's linux-source-<v>.tar.xz holds
    # one directory, linux-source-<v>/. Extracting scans the whole archive (about 10 s), so the
    # result is kept in a directory named after the generator, the tarball, its size and time, and
    # the patterns.
    get_filename_component(tarball "${SYSFENCE_LINUX_SOURCE}" ABSOLUTE)
    get_filename_component(source_name "${tarball}" NAME)
    string(REGEX REPLACE "\\.tar(\\.[a-z0-9]+)?$" "" source_name "${source_name}")
    set(patterns "${source_name}/Makefile")
    foreach(p IN LISTS ARGN)
      list(APPEND patterns "${source_name}/${p}")
    endforeach()
    list(REMOVE_DUPLICATES patterns)
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
    set(extracted "${extract_root}/sysfence-${sysfence_tool}-${source_name}-${key}")
    if(NOT IS_DIRECTORY "${extracted}")
      # Extract beside it and rename, so that a run stopped halfway or a concurrent one (the gcc and
      # clang test presets) never sees a partial directory.
      string(RANDOM LENGTH 8 tag)
      set(partial "${extracted}.partial-${tag}")
      message(STATUS "${sysfence_tool}: extracting what it reads from ${tarball} to ${extracted}")
      file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${partial}" PATTERNS ${patterns})
      # rename(2) does not replace a directory that is not empty: if another run got there first,
      # its copy stays. (NO_REPLACE fails on directories.)
      file(RENAME "${partial}" "${extracted}" RESULT renamed)
      if(NOT renamed EQUAL 0)
        file(REMOVE_RECURSE "${partial}")
        if(NOT IS_DIRECTORY "${extracted}")
          message(FATAL_ERROR "${sysfence_tool}: cannot rename ${partial} to ${extracted}: ${renamed}")
        endif()
      endif()
    endif()
    set(ksrc "${extracted}/${source_name}")
    if(NOT EXISTS "${ksrc}/Makefile")
      message(FATAL_ERROR "${sysfence_tool}: ${tarball} has no ${source_name}/Makefile; is it a kernel "
                          "source tarball? Extract it and pass the directory as -DSYSFENCE_LINUX_SOURCE")
    endif()
  endif()

  file(STRINGS "${ksrc}/Makefile" kv REGEX "^(VERSION|PATCHLEVEL|SUBLEVEL) = ")
  if(NOT kv MATCHES "VERSION = ([0-9]+);PATCHLEVEL = ([0-9]+);SUBLEVEL = ([0-9]+)")
    message(FATAL_ERROR "${sysfence_tool}: ${ksrc}/Makefile has no VERSION, PATCHLEVEL and SUBLEVEL")
  endif()
  set(ksrc "${ksrc}" PARENT_SCOPE)
  set(source_name "${source_name}" PARENT_SCOPE)
  # The banners name only VERSION.PATCHLEVEL: a stable update (a new linux-source-6.12 from Debian)
  # neither renumbers syscalls nor changes their prototypes, and should not make the committed
  # headers stale.
  set(kernel_version "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}" PARENT_SCOPE)
  set(kernel_release "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${CMAKE_MATCH_3}" PARENT_SCOPE)
  set(source_text "${source_name} (Linux ${CMAKE_MATCH_1}.${CMAKE_MATCH_2})" PARENT_SCOPE)
endfunction()

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
# build makes <header> from: a uapi header, arch/<src-arch>/include/generated/uapi/asm/<header>
# (unistd_64.h), or on x86 also one of arch/x86/include/generated/asm/ (syscalls_64.h, the table of
# entry points). Sets table_<arch> (relative to the source root), abis_<arch> (a list) and
# offset_<arch> (a macro the header adds to each number, or empty).
function(sysfence_find_table arch src_arch header)
  set(x86_makefile "${ksrc}/arch/${src_arch}/entry/syscalls/Makefile")
  set(generic_makefile "${ksrc}/scripts/Makefile.asm-headers")
  set(arch_makefile "${ksrc}/arch/${src_arch}/kernel/Makefile.syscalls")
  string(REPLACE "." "\\." h "${header}")
  if(EXISTS "${x86_makefile}")
    # x86 has its own rules: `$(uapi)/unistd_64.h: abis := common,64`, `...: $(syscall64) ...`,
    # `syscall64 := $(src)/syscall_64.tbl`, x32's `offset := __X32_SYSCALL_BIT`, and the same for
    # the entry points' `$(out)/syscalls_64.h`.
    set(makefile "${x86_makefile}")
    set(target "^\\$\\((uapi|out)\\)/${h}:[ \t]*")
    sysfence_makefile_words(abis "${makefile}" "${target}abis[ \t]*:=[ \t]*(.*)$")
    sysfence_makefile_words(offset "${makefile}" "${target}offset[ \t]*:=[ \t]*(.*)$")
    sysfence_makefile_words(prereqs "${makefile}" "${target}(\\$\\([a-z0-9_]+\\)[ \t].*)$")
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
      message(FATAL_ERROR "${sysfence_tool}: ${generic_makefile} sets no syscall_abis_${bits}")
    endif()
  else()
    message(FATAL_ERROR "${sysfence_tool}: neither arch/${src_arch}/entry/syscalls/Makefile nor "
                        "arch/${src_arch}/kernel/Makefile.syscalls (Linux 6.11 and later) is in ${ksrc}; "
                        "the ${arch} table cannot be found")
  endif()
  if(NOT abis OR NOT table)
    message(FATAL_ERROR "${sysfence_tool}: ${makefile}: cannot find the table and ABIs of ${header} (${arch})")
  endif()
  if(NOT EXISTS "${ksrc}/${table}")
    message(FATAL_ERROR "${sysfence_tool}: ${ksrc}/${table} (the ${arch} table) does not exist")
  endif()
  list(REMOVE_DUPLICATES abis)
  set(table_${arch} "${table}" PARENT_SCOPE)
  set(abis_${arch} "${abis}" PARENT_SCOPE)
  set(offset_${arch} "${offset}" PARENT_SCOPE)
endfunction()

# sysfence_read_table(<arch>): the lines of table_<arch> whose ABI is in abis_<arch>, as
# scripts/syscallhdr.sh and scripts/syscalltbl.sh read them:
# `<number> <abi> <name> [<entry point> [<compat entry point> [noreturn]]]`. Sets, in the caller's
# scope, names_<arch> (table order), nr_<arch>_<name>, entry_<arch>_<name> (the entry point;
# sys_ni_syscall where the line has none, as syscalltbl.sh writes it) and max_<arch>.
function(sysfence_read_table arch)
  set(file "${ksrc}/${table_${arch}}")
  file(STRINGS "${file}" lines)
  set(names "")
  set(max -1)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*(#|$)")
      continue()
    endif()
    if(NOT line MATCHES "^([0-9]+)[ \t]+([A-Za-z0-9_]+)[ \t]+([A-Za-z0-9_]+)([ \t]+([^ \t]+))?([ \t].*)?$")
      message(FATAL_ERROR "${sysfence_tool}: ${file}: cannot parse `${line}`")
    endif()
    set(nr "${CMAKE_MATCH_1}")
    set(abi "${CMAKE_MATCH_2}")
    set(name "${CMAKE_MATCH_3}")
    set(entry "${CMAKE_MATCH_5}")
    if(NOT entry MATCHES "^([A-Za-z_][A-Za-z0-9_]*)?$")
      message(FATAL_ERROR "${sysfence_tool}: ${file}: cannot parse `${line}` (entry point `${entry}`)")
    endif()
    if(NOT abi IN_LIST abis_${arch})
      continue()
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "${sysfence_tool}: ${file}: ${name} appears twice among the ABIs ${abis_${arch}}")
    endif()
    list(APPEND names "${name}")
    math(EXPR nr "${nr}")  # drop leading zeros
    set(nr_${arch}_${name} ${nr} PARENT_SCOPE)
    if(entry STREQUAL "")
      set(entry sys_ni_syscall)
    endif()
    set(entry_${arch}_${name} ${entry} PARENT_SCOPE)
    if(nr GREATER max)
      set(max ${nr})
    endif()
  endforeach()
  if(NOT names)
    message(FATAL_ERROR "${sysfence_tool}: ${file}: no syscall of the ABIs ${abis_${arch}}")
  endif()
  set(names_${arch} "${names}" PARENT_SCOPE)
  set(max_${arch} ${max} PARENT_SCOPE)
endfunction()

# sysfence_regenerate_hint(<out-var> <pronoun> <why>): "regenerate <pronoun> with `cmake ... -P
# tools/<tool>.cmake` ... and commit <pronoun> (<why>)", naming the source when it is not the default.
function(sysfence_regenerate_hint out pronoun why)
  set(define "")
  if(NOT SYSFENCE_LINUX_SOURCE MATCHES "^/usr/src/linux-source-[^/]*\\.tar\\.xz$")
    set(define "-DSYSFENCE_LINUX_SOURCE=${SYSFENCE_LINUX_SOURCE} ")
  endif()
  set(${out} "regenerate ${pronoun} with `cmake ${define}-P tools/${sysfence_tool}.cmake` from the repository root and commit ${pronoun} (${why})"
      PARENT_SCOPE)
endfunction()
