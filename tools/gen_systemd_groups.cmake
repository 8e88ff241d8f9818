# SPDX-License-Identifier: MIT
# gen_systemd_groups.cmake - generate systemd's SystemCallFilter= groups (@system-service,
# @file-system, ...) from systemd's own list, `systemd-analyze syscall-filter`:
#   include/sysfence/detail/generated/systemd_groups.hpp   each group as a rule set (nested groups
#                                                           expanded) and the table the run-time
#                                                           parser reads
#   docs/systemd-groups.md                                  the membership table
#
#   cmake -P tools/gen_systemd_groups.cmake               regenerate both files
#   cmake -DCHECK=ON -P tools/gen_systemd_groups.cmake    fail if a committed file differs from a fresh one
#
# Inputs (nothing about a group is typed by hand):
#   systemd-analyze syscall-filter                   systemd's groups, their descriptions and direct
#                                                    entries (names and @groups), as the installed systemd
#                                                    builds them (Debian 12: systemd 252)
#   systemd-analyze --version                        the version named in the files (major number only:
#                                                    Debian's stable updates do not change the groups)
#   include/sysfence/detail/generated/syscall_ids.hpp  sysfence's syscall names (tools/gen_syscalls.cmake):
#                                                    a name systemd lists that no ABI sysfence serves has
#                                                    (arm_fadvise64_64, s390_runtime_instr) is left out
#                                                    of the rule set and named in the docs
#
# One thing differs from systemd, on purpose: a group with ioctl allows it for every request but
# TIOCSTI and TIOCLINUX, which type into a terminal (detail/terminal_ioctl.hpp, as system_io's
# allow_ioctl); the docs say so.
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake")  # sysfence_pack, sysfence_write_or_check, cxx_keywords

get_filename_component(repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(header_rel "include/sysfence/detail/generated/systemd_groups.hpp")
set(docs_rel "docs/systemd-groups.md")
set(ids_file "${repo_root}/include/sysfence/detail/generated/syscall_ids.hpp")
set(regen "run `cmake -P tools/gen_systemd_groups.cmake` from the repository root and commit the result")

# --- systemd's list --------------------------------------------------------------------------------
find_program(analyze systemd-analyze)
if(NOT analyze)
  message(FATAL_ERROR "gen_systemd_groups: systemd-analyze not found; it is in Debian's systemd package "
                      "(Debian 12: systemd 252)")
endif()
execute_process(COMMAND "${analyze}" --version OUTPUT_VARIABLE version_text RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT version_text MATCHES "^systemd ([0-9]+)")
  message(FATAL_ERROR "gen_systemd_groups: `systemd-analyze --version` failed or printed no version")
endif()
set(systemd_version "${CMAKE_MATCH_1}")
# The kernel's own list (the "unlisted" calls) needs /proc/kallsyms and is not read: only the groups.
execute_process(COMMAND "${analyze}" --no-pager syscall-filter OUTPUT_VARIABLE listing
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gen_systemd_groups: `systemd-analyze syscall-filter` failed (${rc})")
endif()

# A group is "@name", then an indented "# description", then indented entries, then a blank line.
# Lines starting with "#" at the left margin (the ungrouped and unlisted calls) end the groups.
string(REPLACE ";" "<semicolon>" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(groups "")
set(group "")
set(line_no 0)
foreach(line IN LISTS lines)
  math(EXPR line_no "${line_no} + 1")
  if(line MATCHES "^@([a-z0-9-]+)$")
    set(group "${CMAKE_MATCH_1}")
    list(APPEND groups "${group}")
    set("description_${group}" "")
    set("direct_${group}" "")
  elseif(line MATCHES "^    # (.*)$" AND NOT group STREQUAL "")
    set("description_${group}" "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^    (@?[A-Za-z0-9_]+|@[a-z0-9-]+)$" AND NOT group STREQUAL "")
    list(APPEND "direct_${group}" "${CMAKE_MATCH_1}")
  elseif(line STREQUAL "" OR line MATCHES "^#")
    set(group "")
  elseif(NOT group STREQUAL "" OR NOT line MATCHES "^#   ")
    message(FATAL_ERROR "gen_systemd_groups: line ${line_no} of `systemd-analyze syscall-filter` is not "
                        "a group, a description or an entry: \"${line}\"")
  endif()
endforeach()
list(LENGTH groups n_groups)
if(n_groups LESS 20 OR NOT "system-service" IN_LIST groups OR NOT "default" IN_LIST groups)
  message(FATAL_ERROR "gen_systemd_groups: found ${n_groups} groups (${groups}); expected @default, "
                      "@system-service and the others: has the output's layout changed?")
endif()

# --- sysfence's names ----------------------------------------------------------------------------
file(STRINGS "${ids_file}" id_lines REGEX "^  [A-Za-z0-9_]+,$")
set(known_ids "")
foreach(line IN LISTS id_lines)
  string(REGEX REPLACE "^  ([A-Za-z0-9_]+),$" "\\1" id "${line}")
  list(APPEND known_ids "${id}")
endforeach()

# sysfence_id(<out> <name>): the sys::id enumerator of a syscall name, or "" if sysfence lacks it.
function(sysfence_id out name)
  set(id "${name}")
  if(name IN_LIST cxx_keywords)
    set(id "${name}_")
  endif()
  if(id IN_LIST known_ids)
    set(${out} "${id}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# expand_group(<out> <group>): the group's syscall names, nested groups expanded, sorted, unique.
function(expand_group out group)
  if(NOT "${group}" IN_LIST groups)
    message(FATAL_ERROR "gen_systemd_groups: a group includes @${group}, which the listing does not define")
  endif()
  set(names "")
  foreach(entry IN LISTS "direct_${group}")
    if(entry MATCHES "^@(.*)$")
      expand_group(sub "${CMAKE_MATCH_1}")
      list(APPEND names ${sub})
    else()
      list(APPEND names "${entry}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES names)
  list(SORT names)
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

# The C++ name of a group: "-" becomes "_", and a keyword gets a trailing "_" (systemd::default_).
function(group_identifier out group)
  string(REPLACE "-" "_" id "${group}")
  if(id IN_LIST cxx_keywords)
    set(id "${id}_")
  endif()
  set(${out} "${id}" PARENT_SCOPE)
endfunction()

# --- the header and the docs ------------------------------------------------------------------------
set(banner_source "`systemd-analyze syscall-filter` (systemd ${systemd_version})")
set(h "// GENERATED by tools/gen_systemd_groups.cmake from ${banner_source} and include/sysfence/detail/generated/syscall_ids.hpp - DO NOT EDIT\n")
string(APPEND h "// SPDX-License-Identifier: MIT\n")
string(APPEND h "// systemd_groups.hpp - systemd's SystemCallFilter= groups as rule sets, nested groups expanded, and\n")
string(APPEND h "// the table the run-time parser reads (sysfence/systemd.hpp). A name systemd lists that no ABI\n")
string(APPEND h "// sysfence serves has is left out (docs/systemd-groups.md names them). Unlike systemd's, a group\n")
string(APPEND h "// with ioctl refuses its TIOCSTI and TIOCLINUX requests (detail/terminal_ioctl.hpp).\n")
string(APPEND h "#pragma once\n\n#include <array>\n#include <span>\n#include <string_view>\n\n")
string(APPEND h "#include \"sysfence/detail/generated/syscall_ids.hpp\"\n#include \"sysfence/detail/terminal_ioctl.hpp\"\n")
string(APPEND h "#include \"sysfence/rule_set.hpp\"\n\n")
string(APPEND h "namespace sysfence::systemd {\n\n")
string(APPEND h "// `systemd_version` is the systemd whose groups these are.\n")
string(APPEND h "inline constexpr int systemd_version = ${systemd_version};\n")

set(d "<!-- GENERATED by tools/gen_systemd_groups.cmake from ${banner_source} - DO NOT EDIT -->\n")
string(APPEND d "# systemd's system call groups\n\n")
string(APPEND d "The `SystemCallFilter=` groups of **systemd ${systemd_version}** (Debian 12), as "
                "`systemd-analyze syscall-filter` prints them, generated by `tools/gen_systemd_groups.cmake`; the "
                "`systemd_groups_are_current` test regenerates this page and the header and fails on a difference.\n\n"
                "Each group is a rule set, `sysfence::systemd::<name>` (`-` becomes `_`; `@default` is "
                "`systemd::default_`), that allows its syscalls whatever their arguments, nested groups "
                "expanded; on an ABI without one of them that syscall is left out. **One difference from "
                "systemd:** where a group allows `ioctl` (@system-service, @known) it allows every request but "
                "`TIOCSTI` and `TIOCLINUX`, which type into a terminal, so a service could run commands in the "
                "shell that started it (CVE-2017-5226); systemd allows them (its groups are names only), as "
                "does a kernel with `dev.tty.legacy_tiocsti = 1`. The same holds for `ioctl` named alone in "
                "an allow list. A deny list (`~...`) is systemd's: what it does not name runs. The run-time parser "
                "`sysfence::systemd_filter(\"@system-service ~@mount\")` and `sysfence run --systemd` read the "
                "same table (README, \"systemd groups\").\n\n"
                "*Entries* are the group's own entries as systemd lists them (a nested group counts as one); "
                "*syscalls* is the number of syscall names after expanding nested groups, and how many of them "
                "exist on an ABI sysfence serves (x86_64, i386, x32, aarch64, riscv64). The names left out "
                "are those of other architectures (arm, s390, powerpc, mips, sparc...), or of calls no "
                "kernel implements.\n\n")
string(APPEND d "| group | description | entries | syscalls (in sysfence) |\n|---|---|---|---|\n")
set(d_details "")
set(table_rows "")
foreach(group IN LISTS groups)
  group_identifier(ident "${group}")
  expand_group(names "${group}")
  set(ids "")
  set(left_out "")
  foreach(name IN LISTS names)
    sysfence_id(id "${name}")
    if(id STREQUAL "")
      list(APPEND left_out "${name}")
    else()
      list(APPEND ids "sys::id::${id}")
    endif()
  endforeach()
  list(LENGTH names n_names)
  list(LENGTH ids n_ids)
  # ioctl: a conditional rule, not a simple one (see the top of this file).
  set(guarded_ioctl false)
  if("sys::id::ioctl" IN_LIST ids)
    set(guarded_ioctl true)
    list(REMOVE_ITEM ids "sys::id::ioctl")
  endif()
  list(LENGTH ids n_simple)
  list(LENGTH "direct_${group}" n_direct)
  set(includes "")
  set(direct_names "")
  foreach(entry IN LISTS "direct_${group}")
    if(entry MATCHES "^@")
      list(APPEND includes "${entry}")
    else()
      list(APPEND direct_names "${entry}")
    endif()
  endforeach()
  set(description "${description_${group}}")
  string(REPLACE "\"" "\\\"" description_cxx "${description}")

  string(APPEND h "\n// @${group}: ${description}.")
  if(includes)
    list(JOIN includes " " includes_text)
    string(APPEND h " Includes ${includes_text}.")
  endif()
  string(APPEND h "\nstruct ${ident} : rule_set_base {\n")
  string(APPEND h "  static constexpr std::string_view name = \"@${group}\";\n")
  string(APPEND h "  static constexpr bool portable = true;  // a syscall the target lacks is left out\n")
  sysfence_pack(packed "      " 100 ${ids})
  string(APPEND h "  static constexpr std::array<sys::id, ${n_simple}> simple_rules = {\n${packed}  };\n")
  if(guarded_ioctl)
    string(APPEND h "  // ioctl, but not TIOCSTI or TIOCLINUX (systemd allows every request).\n")
    string(APPEND h "  static constexpr std::array<rule, 1> conditional_rules = {detail::ioctl_without_terminal_injection};\n")
  endif()
  string(APPEND h "};\n")

  # The run-time table: the group's direct entries as systemd lists them (names, @groups).
  list(JOIN "direct_${group}" " " direct_text)
  string(APPEND table_rows "    {\"@${group}\", \"${description_cxx}\", ${ident}::simple_rules, ${guarded_ioctl},\n")
  sysfence_pack(packed_direct "     " 100 "\"${direct_text}\"")
  string(STRIP "${packed_direct}" packed_direct)
  string(APPEND table_rows "     ${packed_direct}},\n")

  string(APPEND d "| [@${group}](#${group}) | ${description} | ${n_direct} | ${n_names} (${n_ids}) |\n")
  string(APPEND d_details "\n### @${group}\n\n${description}.\n\n")
  if(includes)
    list(JOIN includes ", " includes_text)
    string(APPEND d_details "Includes ${includes_text}.\n\n")
  endif()
  list(JOIN direct_names " " direct_names_text)
  string(APPEND d_details "Entries: ${direct_names_text}\n")
  if(guarded_ioctl)
    string(APPEND d_details "\nioctl: every request but TIOCSTI and TIOCLINUX (systemd: every request).\n")
  endif()
  if(left_out)
    list(JOIN left_out " " left_out_text)
    string(APPEND d_details "\nNot on any ABI sysfence serves (left out): ${left_out_text}\n")
  endif()
endforeach()

string(APPEND h "\n// `group_info` is a group as the run-time parser reads it: its name, systemd's description, its\n")
string(APPEND h "// syscalls allowed whatever their arguments (nested groups expanded), whether it also allows\n")
string(APPEND h "// ioctl (every request but TIOCSTI and TIOCLINUX), and its own entries as systemd lists them.\n")
string(APPEND h "struct group_info {\n  std::string_view name;\n  std::string_view description;\n")
string(APPEND h "  std::span<const sys::id> syscalls;\n  bool ioctl;\n  std::string_view entries;\n};\n\n")
string(APPEND h "// `groups` is every group, in systemd's order.\n")
string(APPEND h "inline constexpr std::array<group_info, ${n_groups}> groups = {{\n${table_rows}}};\n\n")
string(APPEND h "}  // namespace sysfence::systemd\n")
string(APPEND d "${d_details}")

sysfence_write_or_check(
  TOOL gen_systemd_groups FILE "${repo_root}/${header_rel}" TEXT h
  SUMMARY "${n_groups} groups of systemd ${systemd_version}"
  WHAT "systemd groups header matches systemd-analyze"
  SOURCES "`systemd-analyze syscall-filter` of systemd ${systemd_version}"
  REGENERATE "${regen}")
sysfence_write_or_check(
  TOOL gen_systemd_groups FILE "${repo_root}/${docs_rel}" TEXT d
  SUMMARY "${n_groups} groups of systemd ${systemd_version}"
  WHAT "systemd groups table matches systemd-analyze"
  SOURCES "`systemd-analyze syscall-filter` of systemd ${systemd_version}"
  REGENERATE "${regen}")
