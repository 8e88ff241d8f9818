# SPDX-License-Identifier: MIT
# gen_signatures.cmake - generate include/sysfence/detail/syscall_signatures.hpp: each syscall's
# parameters and how many bits of each the kernel reads on x86_64, from the kernel's source.
#
#   cmake -P tools/gen_signatures.cmake               regenerate the committed header
#   cmake -DCHECK=ON -P tools/gen_signatures.cmake    fail if the committed header differs from a fresh one
#   -DSYSFENCE_LINUX_SOURCE=<dir or .tar.xz>          a kernel source tree, or its tarball (Debian:
#                                                     linux-source-6.12); default: the newest
#                                                     /usr/src/linux-source-*.tar.xz, as for gen_syscalls.cmake
#   -DSYSFENCE_EXTRACT_DIR=<dir>                      where the few files read are extracted from the tarball
#                                                     (default: $TMPDIR, else /tmp), reused while it is the same
#
# Inputs, all from the kernel source (nothing about a syscall is typed by hand):
#   arch/x86/entry/syscalls/syscall_64.tbl            each x86_64 number's entry point (sys_newfstat), read
#                                                     with the ABIs arch/x86/entry/syscalls/Makefile gives
#                                                     asm/syscalls_64.h (common, 64), as scripts/syscalltbl.sh does
#   include/linux/syscalls.h                          the entry points' prototypes
#   include/linux/compat.h                            the prototypes of x32's own entry points (compat_sys_*),
#                                                     read from arch/x86/entry/syscalls/syscall_64.tbl with the
#                                                     ABIs the Makefile gives asm/syscalls_x32.h (common, x32)
#   net/socket.c, fs/aio.c, fs/select.c,              the parameter names of syscalls whose syscalls.h prototype
#   kernel/signal.c                                   leaves them unnamed (sys_socket(int, int, int)), from their
#                                                     SYSCALL_DEFINE (one per name in these files): kafel's names
#   arch/x86/Kconfig, arch/Kconfig                    whether x86_64 selects the CONFIG_ symbols (CLONE_BACKWARDS...)
#                                                     that choose between two prototypes of one entry point
#   include/sysfence/detail/generated/syscall_ids.hpp     sysfence's syscall ids (tools/gen_syscalls.cmake)
#   include/sysfence/detail/generated/syscalls_x86_64.hpp their x86_64 numbers (tools/gen_syscalls.cmake)
# Hand-written here: the size of each C type on x86_64 (types_64, types_32, types_16), the two x86_64
# entry points syscalls.h does not declare (SYSFENCE_ARCH_ENTRIES), and which of arch/x86/Kconfig's
# word-size options x86_64 has (SYSFENCE_X86_64_OPTIONS_ON/_OFF). See tools/README.md.
cmake_minimum_required(VERSION 3.25)
set(sysfence_tool gen_signatures)
include("${CMAKE_CURRENT_LIST_DIR}/generated_file.cmake")  # sysfence_pack, sysfence_write_or_check, cxx_keywords
include("${CMAKE_CURRENT_LIST_DIR}/linux_source.cmake")    # sysfence_linux_source, sysfence_find_table, sysfence_read_table

# x86_64 entry points defined in arch/x86 without a prototype in linux/syscalls.h: <entry> <stand-in>.
#  sys_mmap: arch/x86/kernel/sys_x86_64.c, SYSCALL_DEFINE6(mmap, unsigned long addr, ..., unsigned
#            long fd, unsigned long off) calls ksys_mmap_pgoff(addr, len, prot, flags, fd, off >> PAGE_SHIFT):
#            the same six unsigned longs (the sixth is a byte offset, not pages).
#  sys_rt_sigreturn: arch/x86/kernel/signal_64.c, SYSCALL_DEFINE0(rt_sigreturn): no parameter.
set(SYSFENCE_ARCH_ENTRIES
  sys_mmap         ksys_mmap_pgoff
  sys_rt_sigreturn void
)

# The options of arch/x86/Kconfig that choose the word size, as x86_64 sets them: `config 64BIT`
# (default y unless ARCH=i386), `config X86_64` (def_bool y, depends on 64BIT), `config X86_32`
# (depends on !64BIT), and `config X86`, on for both. Only a `select` made by one of these decides
# a CONFIG_ symbol here (sysfence_x86_64_selects).
set(SYSFENCE_X86_64_OPTIONS_ON X86 64BIT X86_64)
set(SYSFENCE_X86_64_OPTIONS_OFF X86_32)

get_filename_component(repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(out_rel "include/sysfence/detail/syscall_signatures.hpp")
set(out_file "${repo_root}/${out_rel}")
set(ids_file "${repo_root}/include/sysfence/detail/generated/syscall_ids.hpp")
set(numbers_file "${repo_root}/include/sysfence/detail/generated/syscalls_x86_64.hpp")

# --- the kernel source ---------------------------------------------------------------------------
set(entries_header syscalls_64.h)  # arch/x86/include/generated/asm/syscalls_64.h, made by the kernel's build
set(syscalls_h_rel "include/linux/syscalls.h")
set(compat_h_rel "include/linux/compat.h")
set(x86_kconfig_rel "arch/x86/Kconfig")
set(arch_kconfig_rel "arch/Kconfig")
set(define_sources_rel net/socket.c fs/aio.c fs/select.c kernel/signal.c)
sysfence_linux_source("arch/x86/entry/syscalls/Makefile" "arch/x86/entry/syscalls/syscall_64.tbl"
                      "${syscalls_h_rel}" "${compat_h_rel}" "${x86_kconfig_rel}" "${arch_kconfig_rel}"
                      ${define_sources_rel})
set(syscalls_h "${ksrc}/${syscalls_h_rel}")
set(compat_h "${ksrc}/${compat_h_rel}")
set(x86_kconfig "${ksrc}/${x86_kconfig_rel}")
set(arch_kconfig "${ksrc}/${arch_kconfig_rel}")
foreach(f syscalls_h compat_h x86_kconfig arch_kconfig ids_file numbers_file)
  if(NOT EXISTS "${${f}}")
    message(FATAL_ERROR "gen_signatures: ${${f}} does not exist; ${sysfence_linux_source_hint}")
  endif()
endforeach()

# --- sysfence's syscalls: ids (identifier, name) and x86_64 numbers, from the committed tables ------
file(READ "${ids_file}" table)
string(REGEX MATCHALL "\n  X\\([A-Za-z0-9_]+, [A-Za-z0-9_]+\\)" constants "${table}")
set(names "")
foreach(line IN LISTS constants)
  string(REGEX MATCH "X\\(([A-Za-z0-9_]+), ([A-Za-z0-9_]+)\\)" m "${line}")
  list(APPEND names "${CMAKE_MATCH_2}")
  set(ident_${CMAKE_MATCH_2} "${CMAKE_MATCH_1}")
endforeach()
file(READ "${numbers_file}" table)
string(REGEX MATCH "syscall_numbers_x86_64\\{\\{([^}]*)\\}\\};" m "${table}")
string(REGEX REPLACE "//[^\n]*" "" numbers "${CMAKE_MATCH_1}")
string(REGEX MATCHALL "-?[0-9]+" numbers "${numbers}")
list(LENGTH names count)
list(LENGTH numbers n_numbers)
if(count EQUAL 0 OR NOT count EQUAL n_numbers)
  message(FATAL_ERROR "gen_signatures: cannot read ${ids_file} and ${numbers_file} "
                      "(${count} names, ${n_numbers} x86_64 numbers); "
                      "regenerate it with tools/gen_syscalls.cmake first")
endif()

# --- x86_64's entry points ------------------------------------------------------------------------
# The table and ABIs the kernel's build makes asm/syscalls_64.h (the x86_64 syscall table's
# __SYSCALL(nr, entry) lines) from; a line without an entry point is sys_ni_syscall there.
sysfence_find_table(x86_64 x86 ${entries_header})
sysfence_read_table(x86_64)
list(JOIN abis_x86_64 ", " entries_abis_text)
# The committed numbers must be this table's: signatures and numbers come from one kernel.
foreach(name nr IN ZIP_LISTS names numbers)
  set(in_table -1)
  if(DEFINED nr_x86_64_${name})
    set(in_table ${nr_x86_64_${name}})
  endif()
  if(NOT nr EQUAL in_table)
    message(FATAL_ERROR "gen_signatures: x86_64's ${name} is ${nr} in ${numbers_file} but ${in_table} in "
                        "${ksrc}/${table_x86_64} (-1: none); regenerate the syscall tables from the same "
                        "source with tools/gen_syscalls.cmake first")
  endif()
endforeach()
foreach(name IN LISTS names_x86_64)
  if(NOT name IN_LIST names)
    message(FATAL_ERROR "gen_signatures: ${ksrc}/${table_x86_64} has ${name}, ${ids_file} does not; "
                        "regenerate the syscall tables from the same source with tools/gen_syscalls.cmake first")
  endif()
endforeach()

# --- the CONFIG_ symbols x86_64 selects -----------------------------------------------------------
# syscalls.h declares a few entry points twice or more under CONFIG_ symbols that say how an
# architecture's ABI differs (sys_clone: CLONE_BACKWARDS, CLONE_BACKWARDS3; sys_fanotify_mark:
# ARCH_SPLIT_ARG64). They are facts of the architecture, not choices of a configuration: arch/Kconfig
# declares each a `bool` without a prompt or a default, so it is set exactly when an option that is
# on selects it, and the architecture selects it in arch/<arch>/Kconfig.

# sysfence_kconfig_selects(<file>): every `select <symbol> [if <condition>]` of the Kconfig file, as
# selects_<symbol>, a list of `<option>|<condition>` (the option whose entry holds the select; the
# condition, with those of enclosing `if` blocks, empty when there is none). Help texts are skipped.
function(sysfence_kconfig_selects file)
  file(STRINGS "${file}" lines)
  set(option "")
  set(ifs "")
  set(in_help OFF)
  set(symbols "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[^ \t#]")  # a new entry or block: ends the previous entry and its help text
      set(in_help OFF)
      set(option "")
      if(line MATCHES "^(menu)?config[ \t]+([A-Za-z0-9_]+)")
        set(option "${CMAKE_MATCH_2}")
      elseif(line MATCHES "^if[ \t]+(.*)$")
        string(STRIP "${CMAKE_MATCH_1}" c)
        list(APPEND ifs "${c}")
      elseif(line MATCHES "^endif")
        list(POP_BACK ifs)
      endif()
    elseif(in_help)
      continue()
    elseif(line MATCHES "^[ \t]+(help|---help---)[ \t]*$")
      set(in_help ON)
    elseif(line MATCHES "^[ \t]+select[ \t]+([A-Za-z0-9_]+)([ \t]+if[ \t]+(.*))?$")
      set(symbol "${CMAKE_MATCH_1}")
      set(conds ${ifs})
      if(NOT CMAKE_MATCH_3 STREQUAL "")
        string(STRIP "${CMAKE_MATCH_3}" c)
        list(APPEND conds "${c}")
      endif()
      list(JOIN conds " && " c)
      if(option STREQUAL "")
        message(FATAL_ERROR "gen_signatures: ${file}: `${line}` outside a config entry")
      endif()
      list(APPEND selects_${symbol} "${option}|${c}")
      list(APPEND symbols ${symbol})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES symbols)
  foreach(symbol IN LISTS symbols)
    set(selects_${symbol} "${selects_${symbol}}" PARENT_SCOPE)
  endforeach()
endfunction()
sysfence_kconfig_selects("${x86_kconfig}")

# sysfence_select_only(<out-var> <symbol>): ON when arch/Kconfig declares `config <symbol>` a bool
# without a prompt and without a default, which only a select can set.
function(sysfence_select_only out symbol)
  file(STRINGS "${arch_kconfig}" lines)
  set(found OFF)
  set(in_entry OFF)
  set(in_help OFF)
  set(plain_bool OFF)
  set(other OFF)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[^ \t#]")
      set(in_entry OFF)
      if(line MATCHES "^config[ \t]+([A-Za-z0-9_]+)[ \t]*$" AND CMAKE_MATCH_1 STREQUAL symbol)
        set(found ON)
        set(in_entry ON)
        set(in_help OFF)
      endif()
    elseif(in_entry AND NOT in_help)
      string(STRIP "${line}" a)
      if(a MATCHES "^(help|---help---)$")
        set(in_help ON)
      elseif(a STREQUAL "bool")
        set(plain_bool ON)
      elseif(a MATCHES "^(bool|tristate|string|int|hex)[ \t]|^(default|def_bool|def_tristate|prompt|tristate)")
        set(other ON)
      endif()
    endif()
  endforeach()
  if(found AND plain_bool AND NOT other)
    set(${out} ON PARENT_SCOPE)
  else()
    set(${out} OFF PARENT_SCOPE)
  endif()
endfunction()

# sysfence_x86_64_selects(<out-var> <symbol>): whether x86_64 sets CONFIG_<symbol>: ON when one of
# SYSFENCE_X86_64_OPTIONS_ON selects it without a condition, OFF when nothing in arch/x86/Kconfig
# selects it or only SYSFENCE_X86_64_OPTIONS_OFF do. Anything else stops the script. Each answer,
# with its reason, is appended to the global property sysfence_config_facts for the header's comment.
function(sysfence_x86_64_selects out symbol)
  sysfence_select_only(only "${symbol}")
  if(NOT only)
    message(FATAL_ERROR "gen_signatures: ${arch_kconfig} does not declare CONFIG_${symbol} a bool without a "
                        "prompt or a default (set only by an architecture's select), so arch/x86/Kconfig "
                        "cannot tell whether x86_64 sets it")
  endif()
  set(v OFF)
  set(by_on "")
  set(by_off "")
  foreach(s IN LISTS selects_${symbol})
    string(REPLACE "|" ";" s "${s}")
    list(GET s 0 option)
    list(LENGTH s n)
    set(cond "")
    if(n GREATER 1)
      list(GET s 1 cond)
    endif()
    if(option IN_LIST SYSFENCE_X86_64_OPTIONS_OFF)
      list(APPEND by_off "${option}")
    elseif(option IN_LIST SYSFENCE_X86_64_OPTIONS_ON AND cond STREQUAL "")
      set(v ON)
      list(APPEND by_on "${option}")
    else()
      message(FATAL_ERROR "gen_signatures: ${x86_kconfig}: `config ${option}` selects ${symbol}"
                          " (if `${cond}`); cannot tell whether x86_64 sets it")
    endif()
  endforeach()
  if(v)
    list(JOIN by_on ", " t)
    set(fact "CONFIG_${symbol} set (selected by ${t})")
  elseif(by_off)
    list(JOIN by_off ", " t)
    set(fact "CONFIG_${symbol} not set (selected by ${t} only)")
  else()
    set(fact "CONFIG_${symbol} not set (not selected)")
  endif()
  get_property(facts GLOBAL PROPERTY sysfence_config_facts)
  if(NOT fact IN_LIST facts)
    set_property(GLOBAL APPEND PROPERTY sysfence_config_facts "${fact}")
  endif()
  set(${out} ${v} PARENT_SCOPE)
endfunction()

# --- the prototypes -------------------------------------------------------------------------------
# sysfence_read_prototypes(<header>): every `sys_x(...)`/`ksys_x(...)` declaration of the header.
# Sets decl_<name> (a list of indices) and, per index k, decl_params_<k> (the text between the
# parentheses) and decl_conds_<k> (the #if conditions around it, outermost first, `|`-separated).
set(decl_count 0)
function(sysfence_read_prototypes header)
  file(READ "${header}" text)
  string(REPLACE ";" "<semi>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\\\n" " " text "${text}")  # continuation lines: macros are one line
  # Comments: /* ... */ (CMake regexes are greedy, so cut them one at a time) and //.
  while(TRUE)
    string(FIND "${text}" "/*" a)
    if(a EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${text}" ${a} -1 rest)
    string(FIND "${rest}" "*/" b)
    if(b EQUAL -1)
      message(FATAL_ERROR "gen_signatures: ${header}: unterminated comment")
    endif()
    math(EXPR b "${b} + 2")
    string(SUBSTRING "${rest}" ${b} -1 rest)
    string(SUBSTRING "${text}" 0 ${a} head)
    set(text "${head} ${rest}")
  endwhile()
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(stack "")
  set(statement "")
  set(k ${decl_count})
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(line MATCHES "^#[ \t]*(if|ifdef|ifndef|elif|else|endif)([ \t](.*))?$")
      set(directive "${CMAKE_MATCH_1}")
      string(STRIP "${CMAKE_MATCH_3}" expr)
      string(REGEX REPLACE "[ \t]+" " " expr "${expr}")
      if(directive STREQUAL "ifdef")
        list(APPEND stack "defined(${expr})")
      elseif(directive STREQUAL "ifndef")
        list(APPEND stack "!defined(${expr})")
      elseif(directive STREQUAL "if")
        list(APPEND stack "${expr}")
      elseif(directive STREQUAL "elif")
        list(POP_BACK stack top)
        list(APPEND stack "!(${top}) && ${expr}")
      elseif(directive STREQUAL "else")
        list(POP_BACK stack top)
        if(top MATCHES "^!defined\\(([A-Za-z0-9_]+)\\)$")
          list(APPEND stack "defined(${CMAKE_MATCH_1})")
        elseif(top MATCHES "^defined\\(([A-Za-z0-9_]+)\\)$")
          list(APPEND stack "!defined(${CMAKE_MATCH_1})")
        else()
          list(APPEND stack "!(${top})")
        endif()
      else()
        list(POP_BACK stack)
      endif()
      continue()
    endif()
    if(line MATCHES "^#")
      continue()
    endif()
    string(APPEND statement " ${line}")
    while(statement MATCHES "<semi>")
      string(FIND "${statement}" "<semi>" at)
      string(SUBSTRING "${statement}" 0 ${at} one)
      math(EXPR at "${at} + 6")
      string(SUBSTRING "${statement}" ${at} -1 statement)
      string(REGEX REPLACE "[ \t]+" " " one "${one}")
      string(STRIP "${one}" one)
      if(one MATCHES "(^|[^A-Za-z0-9_])((compat_)?k?sys_[a-z0-9_]+) ?\\((.*)\\)$")
        set(name "${CMAKE_MATCH_2}")
        string(STRIP "${CMAKE_MATCH_4}" params)
        list(JOIN stack "|" conds)
        set(decl_params_${k} "${params}" PARENT_SCOPE)
        set(decl_conds_${k} "${conds}" PARENT_SCOPE)
        set(list_ ${decl_${name}})
        list(APPEND list_ ${k})
        set(decl_${name} ${list_} PARENT_SCOPE)
        set(decl_${name} ${list_})
        math(EXPR k "${k} + 1")
      endif()
    endwhile()
  endforeach()
  set(decl_count ${k} PARENT_SCOPE)
endfunction()
sysfence_read_prototypes("${syscalls_h}")
sysfence_read_prototypes("${compat_h}")

# sysfence_eval(<out-var> <condition>): a #if condition on x86_64. Only `defined(CONFIG_X)` and
# `!defined(CONFIG_X)` are understood, X as arch/x86/Kconfig selects it (sysfence_x86_64_selects);
# anything else stops the script.
function(sysfence_eval out cond)
  if(cond MATCHES "^(!?)defined\\((CONFIG_[A-Za-z0-9_]+)\\)$")
    set(negated "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "^CONFIG_" "" symbol "${CMAKE_MATCH_2}")
    sysfence_x86_64_selects(v "${symbol}")
    if(negated STREQUAL "!")
      if(v)
        set(v OFF)
      else()
        set(v ON)
      endif()
    endif()
    set(${out} ${v} PARENT_SCOPE)
  else()
    message(FATAL_ERROR "gen_signatures: cannot evaluate `#if ${cond}` to choose between two declarations")
  endif()
endfunction()

# sysfence_choose(<out-var> <function>): the index of the function's declaration that x86_64
# compiles, or -1 when there is none. Several declarations (sys_clone's CONFIG_CLONE_BACKWARDS
# variants) are told apart by the conditions they do not share, as x86_64 sets their symbols;
# the ones they share (CONFIG_ARCH_HAS_SYSCALL_WRAPPER around all prototypes) say only whether the
# prototype is compiled, and the prototype is the same either way.
function(sysfence_choose out fn)
  set(ks ${decl_${fn}})
  list(LENGTH ks n)
  if(n EQUAL 0)
    set(${out} -1 PARENT_SCOPE)
    return()
  elseif(n EQUAL 1)
    set(${out} ${ks} PARENT_SCOPE)
    return()
  endif()
  set(chosen "")
  foreach(k IN LISTS ks)
    string(REPLACE "|" ";" conds "${decl_conds_${k}}")
    set(holds ON)
    foreach(c IN LISTS conds)
      set(shared ON)
      foreach(other IN LISTS ks)
        string(REPLACE "|" ";" oc "${decl_conds_${other}}")
        if(NOT c IN_LIST oc)
          set(shared OFF)
        endif()
      endforeach()
      if(NOT shared)
        sysfence_eval(v "${c}")
        if(NOT v)
          set(holds OFF)
        endif()
      endif()
    endforeach()
    if(holds)
      list(APPEND chosen ${k})
    endif()
  endforeach()
  list(LENGTH chosen n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "gen_signatures: ${fn} is declared ${n} times under x86_64's configuration")
  endif()
  set(${out} ${chosen} PARENT_SCOPE)
endfunction()

# --- the widths of the C types on x86_64 ----------------------------------------------------------
# The parameter types the prototypes use, by the size of the type on x86_64 (LP64). Typedefs as
# the kernel's headers define them (include/linux/types.h, include/uapi/asm-generic/posix_types.h,
# arch/x86/include/uapi/asm/posix_types_64.h). A type not listed stops the script.
set(types_64 "long" "unsigned long" "long long" "unsigned long long" "size_t" "ssize_t" "loff_t" "off_t"
  "u64" "__u64" "s64" "__s64" "uint64_t" "int64_t" "aio_context_t" "old_sigset_t" "__kernel_old_time_t"
  "__sighandler_t" "cap_user_header_t" "cap_user_data_t")  # the last three are pointer typedefs
set(types_32 "int" "unsigned int" "unsigned" "u32" "__u32" "s32" "__s32" "uint32_t" "int32_t" "pid_t" "uid_t" "gid_t" "qid_t"
  "key_serial_t" "key_t" "mqd_t" "timer_t" "clockid_t" "rwf_t" "old_time32_t")
set(types_16 "umode_t" "old_uid_t" "old_gid_t")  # unsigned short (old_*: x86's __kernel_old_uid_t)
# The compat types of x32's own entry points (include/asm-generic/compat.h, arch/x86/include/asm/compat.h:
# u32 or s32 whatever the kernel's word size; compat_loff_t and compat_u64 are 64-bit).
list(APPEND types_32 "compat_int_t" "compat_uint_t" "compat_long_t" "compat_ulong_t" "compat_size_t" "compat_ssize_t"
  "compat_uptr_t" "compat_pid_t" "compat_off_t" "compat_timer_t" "compat_clock_t" "compat_key_t" "compat_aio_context_t"
  "compat_old_sigset_t" "compat_caddr_t")
list(APPEND types_64 "compat_loff_t" "compat_s64" "compat_u64")

# sysfence_parameter(<index> <text>): sets p_name (the name, or argN), p_type (the type as written,
# without __user) and p_bits (what the kernel reads) for one parameter's declaration.
function(sysfence_parameter index text fn)
  string(REPLACE "__user" " " t "${text}")  # an annotation, not part of the type
  string(REPLACE "*" " * " t "${t}")
  string(REGEX REPLACE "[ \t]+" " " t "${t}")
  string(STRIP "${t}" t)
  string(REPLACE " " ";" shown "${t}")  # the type as written, for the comments
  string(REPLACE " " ";" tokens "${t}")
  list(REMOVE_ITEM tokens const volatile)
  set(name "")
  if("*" IN_LIST tokens)
    set(bits 64)
    list(GET tokens -1 last)
    if(NOT last STREQUAL "*")
      set(name "${last}")
      list(POP_BACK shown)
    endif()
  else()
    list(JOIN tokens " " whole)
    set(type "${whole}")
    list(LENGTH tokens nt)
    set(known "${types_64};${types_32};${types_16}")
    if(NOT whole IN_LIST known AND NOT whole MATCHES "^enum [A-Za-z0-9_]+$" AND nt GREATER 1)
      list(POP_BACK tokens name)
      list(JOIN tokens " " type)
      list(POP_BACK shown)
    endif()
    if(type IN_LIST types_64)
      set(bits 64)
    elseif(type IN_LIST types_32 OR type MATCHES "^enum [A-Za-z_][A-Za-z0-9_]*$")  # a C enum is an int
      set(bits 32)
    elseif(type IN_LIST types_16)
      set(bits 16)
    else()
      message(FATAL_ERROR "gen_signatures: ${fn}: parameter ${index} `${text}` has type `${type}`, "
                          "whose size on x86_64 tools/gen_signatures.cmake does not know; add it to "
                          "types_64, types_32 or types_16 after checking its typedef")
    endif()
    # An `unsigned long fd` (readv, writev, preadv, pwritev, preadv2, pwritev2, mmap) is passed
    # to fdget(unsigned int fd) / fget(unsigned int fd) (include/linux/file.h, fs/file.c): the
    # kernel reads its low 32 bits.
    if(name STREQUAL "fd" AND bits EQUAL 64)
      set(bits 32)
    endif()
  endif()
  if(name STREQUAL "")
    set(name "arg${index}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "gen_signatures: ${fn}: cannot read parameter ${index} `${text}`")
  endif()
  set(p_name "${name}" PARENT_SCOPE)
  list(JOIN shown " " type_text)
  string(REPLACE " *" "*" type_text "${type_text}")
  set(p_type "${type_text}" PARENT_SCOPE)
  set(p_bits ${bits} PARENT_SCOPE)
endfunction()

# --- parameter names from SYSCALL_DEFINE, where the prototype has none ------------------------------
# `define_names_<name>`: the names of SYSCALL_DEFINEn(name, type, pname, ...) at the start of a line
# of define_sources_rel; a name defined twice (under CONFIG_ choices) is left out.
foreach(rel IN LISTS define_sources_rel)
  if(NOT EXISTS "${ksrc}/${rel}")
    message(FATAL_ERROR "gen_signatures: ${ksrc}/${rel} does not exist; ${sysfence_linux_source_hint}")
  endif()
  file(READ "${ksrc}/${rel}" text)
  string(REPLACE ";" "," text "${text}")  # (CMake lists split on ';')
  string(REGEX MATCHALL "\nSYSCALL_DEFINE[0-6]\\([a-z0-9_]+,[^)]*\\)" defs "${text}")
  foreach(d IN LISTS defs)
    string(REGEX REPLACE "^\nSYSCALL_DEFINE[0-6]\\(" "" d "${d}")
    string(REGEX REPLACE "\\)$" "" d "${d}")
    string(REGEX REPLACE "[ \t\n]+" " " d "${d}")
    string(REPLACE "," ";" parts "${d}")
    list(POP_FRONT parts def_name)
    string(STRIP "${def_name}" def_name)
    set(pnames "")
    list(LENGTH parts np)
    foreach(k RANGE 1 ${np} 2)
      if(k LESS np)
        list(GET parts ${k} pname)
        string(STRIP "${pname}" pname)
        list(APPEND pnames "${pname}")
      endif()
    endforeach()
    if(DEFINED define_names_${def_name})
      set(define_twice_${def_name} ON)
    endif()
    set(define_names_${def_name} "${pnames}")
  endforeach()
endforeach()

# --- each syscall's signature ---------------------------------------------------------------------
set(rows "")
set(name_rows "")
set(specializations "")
set(tags "")
set(unknown "")
set(n_known 0)
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last})
  list(GET names ${i} name)
  list(GET numbers ${i} nr)
  set(ident "${ident_${name}}")
  set(why "")
  set(fn "")
  set(params "")
  if(nr EQUAL -1)
    set(why "not an x86_64 syscall")
  elseif(entry_x86_64_${name} STREQUAL "sys_ni_syscall")  # also a table line without an entry point
    set(why "sys_ni_syscall: not implemented")
  else()
    set(entry "${entry_x86_64_${name}}")
    list(FIND SYSFENCE_ARCH_ENTRIES "${entry}" at)
    if(NOT at EQUAL -1)
      math(EXPR at "${at} + 1")
      list(GET SYSFENCE_ARCH_ENTRIES ${at} stand_in)
      if(stand_in STREQUAL "void")
        set(fn "${entry}")
        set(params "void")
      else()
        sysfence_choose(k "${stand_in}")
        if(k EQUAL -1)
          message(FATAL_ERROR "gen_signatures: ${stand_in} (for ${entry}) is not declared")
        endif()
        set(fn "${entry} as ${stand_in}")
        set(params "${decl_params_${k}}")
      endif()
    else()
      sysfence_choose(k "${entry}")
      set(fn "${entry}")
      if(k EQUAL -1)
        set(why "${entry} is not declared")
      else()
        set(params "${decl_params_${k}}")
      endif()
    endif()
  endif()
  if(NOT why STREQUAL "")
    set(bits_${name} 64 64 64 64 64 64)
    list(APPEND unknown "${name} (${why})")
    string(APPEND rows "    {6, {64, 64, 64, 64, 64, 64}, false},  // ${name}: unknown, ${why}\n")
    string(APPEND name_rows "    \"\",  // ${name}\n")
    continue()
  endif()
  math(EXPR n_known "${n_known} + 1")
  set(bits_list "")
  set(tag_list "")
  set(kernel_names "")
  set(proto "")
  if(params STREQUAL "void" OR params STREQUAL "")
    set(np 0)
  else()
    if(params MATCHES "[()]")
      message(FATAL_ERROR "gen_signatures: ${fn}: cannot read the parameters `${params}`")
    endif()
    string(REPLACE "," ";" plist "${params}")
    set(np 0)
    foreach(p IN LISTS plist)
      sysfence_parameter(${np} "${p}" "${fn}")
      list(APPEND kernel_names "${p_name}")
      if(p_name IN_LIST cxx_keywords)
        set(p_name "${p_name}_")
      endif()
      list(APPEND bits_list ${p_bits})
      list(APPEND tag_list "param::${p_name}")
      list(APPEND tags "${p_name}")
      list(APPEND proto "${p_type} ${p_name}")
      math(EXPR np "${np} + 1")
    endforeach()
  endif()
  if(np GREATER 6)
    message(FATAL_ERROR "gen_signatures: ${fn} has ${np} parameters; seccomp passes six")
  endif()
  set(bits_${name} ${bits_list})
  set(padded ${bits_list})
  set(j ${np})
  while(j LESS 6)
    list(APPEND padded 0)
    math(EXPR j "${j} + 1")
  endwhile()
  list(JOIN padded ", " bits_text)
  list(JOIN proto ", " proto_text)
  string(APPEND rows "    {${np}, {${bits_text}}, true},  // ${name}: ${fn}(${proto_text})\n")
  # Unnamed in the prototype: the names of its SYSCALL_DEFINE, when there is exactly one.
  string(REGEX REPLACE "^sys_" "" def_name "${fn}")
  list(LENGTH kernel_names nk)
  if(kernel_names MATCHES "(^|;)arg[0-5](;|$)" AND DEFINED define_names_${def_name} AND NOT define_twice_${def_name})
    list(LENGTH define_names_${def_name} nd)
    if(nd EQUAL nk)
      set(kernel_names ${define_names_${def_name}})
    endif()
  endif()
  list(JOIN kernel_names " " names_text)
  string(APPEND name_rows "    \"${names_text}\",  // ${name}\n")
  if(np GREATER 0)
    list(JOIN tag_list ", " tag_text)
    string(APPEND specializations
           "template <>\nstruct parameters_of<sys::id::${ident}> {\n  using type = sys::params<${tag_text}>;\n};\n")
  endif()
endforeach()
list(REMOVE_DUPLICATES tags)
list(SORT tags)
list(LENGTH tags n_tags)
list(LENGTH unknown n_unknown)

# --- x32's own entry points ---------------------------------------------------------------------
# x32 shares x86_64's table (ABIs common and x32, as the Makefile builds asm/syscalls_x32.h). Its
# common syscalls are x86_64's entry points, reading what they read. Its own lines (numbered from
# 512, the x32 ABI's) are mostly compat entry points: COMPAT_SYSCALL_DEFINE's x32 stub passes the
# 64-bit registers through __SC_DELOUSE, a cast to the parameter's type, so a compat type
# (compat_ulong_t, compat_uptr_t...) reads 32 bits where x86_64's entry reads 64; pointers stay 64.
# Generated: for each of them, the arguments read as 32 bits where x86_64's entry reads more.
# compat_sys_x32_rt_sigreturn (arch/x86/kernel/signal_64.c, COMPAT_SYSCALL_DEFINE0) has no prototype.
set(SYSFENCE_X32_ENTRIES compat_sys_x32_rt_sigreturn)
sysfence_find_table(x32 x86 syscalls_x32.h)
sysfence_read_table(x32)
list(JOIN abis_x32 ", " x32_abis_text)
set(x32_masks "")
set(x32_narrowed "")
set(x32_first "")
foreach(name IN LISTS names)
  set(mask 0)
  if(DEFINED nr_x32_${name} AND DEFINED nr_x86_64_${name} AND NOT nr_x32_${name} EQUAL nr_x86_64_${name})
    if(x32_first STREQUAL "" OR nr_x32_${name} LESS x32_first)
      set(x32_first ${nr_x32_${name}})
    endif()
    set(entry "${entry_x32_${name}}")
    set(params "void")
    if(NOT entry IN_LIST SYSFENCE_X32_ENTRIES)
      sysfence_choose(k "${entry}")
      if(k EQUAL -1)
        message(FATAL_ERROR "gen_signatures: x32's ${name} is ${entry}, which neither ${syscalls_h_rel} nor "
                            "${compat_h_rel} declares; its argument widths cannot be known")
      endif()
      set(params "${decl_params_${k}}")
    endif()
    set(widths "")
    set(shown "")
    if(NOT params STREQUAL "void" AND NOT params STREQUAL "")
      string(REPLACE "," ";" plist "${params}")
      set(j 0)
      foreach(p IN LISTS plist)
        sysfence_parameter(${j} "${p}" "${entry}")
        list(LENGTH bits_${name} nb)
        set(wide 64)
        if(j LESS nb)
          list(GET bits_${name} ${j} wide)
        endif()
        if(p_bits LESS_EQUAL 32 AND wide GREATER 32)
          math(EXPR mask "${mask} | (1 << ${j})")
          list(APPEND shown "${p_name}")
        endif()
        math(EXPR j "${j} + 1")
      endforeach()
    endif()
    if(shown)
      list(JOIN shown ", " t)
      list(APPEND x32_narrowed "${name} (${entry}: ${t})")
    endif()
  endif()
  list(APPEND x32_masks ${mask})
endforeach()
if(x32_first STREQUAL "")
  message(FATAL_ERROR "gen_signatures: ${table_x32} gives x32 no entry points of its own")
endif()

# --- emit ----------------------------------------------------------------------------------------
string(CONCAT o "// GENERATED by tools/gen_signatures.cmake from ${source_text} ${syscalls_h_rel}, "
                "${table_x86_64} (ABIs ${entries_abis_text}) and ${x86_kconfig_rel} (x86_64) - DO NOT EDIT\n")
string(APPEND o "// SPDX-License-Identifier: MIT\n")
string(APPEND o "// syscall_signatures.hpp - each syscall's parameters, and how many bits of each the kernel reads on x86_64.\n")
string(APPEND o "//\n")
string(APPEND o "// Bits are those of the parameter's C type on x86_64: 64 (pointers, long, size_t, loff_t, u64),\n")
string(APPEND o "// 32 (int, unsigned int, pid_t, u32...) or 16 (umode_t); an `unsigned long fd` is 32, as the\n")
string(APPEND o "// kernel passes it to fdget(unsigned int). A syscall without a prototype is unknown: six\n")
string(APPEND o "// parameters of 64 bits. The entry point of each x86_64 number is the table's (fstat: sys_newfstat).\n")
get_property(facts GLOBAL PROPERTY sysfence_config_facts)
if(facts)
  string(APPEND o "// Declarations told apart by a CONFIG_ symbol are chosen as ${x86_kconfig_rel} selects it for x86_64:\n")
  sysfence_pack(text "//   " 100 ${facts})
  string(APPEND o "${text}")
endif()
string(APPEND o "// The ${n_unknown} unknown syscalls:\n")
sysfence_pack(text "//   " 100 ${unknown})
string(APPEND o "${text}")
string(APPEND o "#pragma once\n\n")
string(APPEND o "#include <array>\n#include <cstdint>\n#include <string_view>\n\n")
string(APPEND o "#include \"sysfence/detail/generated/syscall_ids.hpp\"\n\n")
string(APPEND o "// `param::<name>` names a syscall parameter in compile errors (`argN` where the prototype has no name).\n")
string(APPEND o "namespace sysfence::param {\n")
foreach(t IN LISTS tags)
  string(APPEND o "struct ${t};\n")
endforeach()
string(APPEND o "}  // namespace sysfence::param\n\n")
string(APPEND o "namespace sysfence::sys {\n")
string(APPEND o "// `params<P...>` lists a syscall's parameters, as param:: tags, in compile errors.\n")
string(APPEND o "template <class... P>\nstruct params {};\n")
string(APPEND o "}  // namespace sysfence::sys\n\n")
string(APPEND o "namespace sysfence::detail {\n")
string(APPEND o "// `signature` is how many parameters a syscall has and the bits of each the kernel reads on x86_64.\n")
string(APPEND o "struct signature {\n  std::uint8_t count = 6;\n  std::array<std::uint8_t, 6> bits{64, 64, 64, 64, 64, 64};\n")
string(APPEND o "  bool known = false;  // false: no prototype, every argument register is a 64-bit parameter\n};\n\n")
string(APPEND o "// The signature of each sys::id (${n_known} known, ${n_unknown} unknown).\n")
string(APPEND o "inline constexpr std::array<signature, syscall_count> syscall_signatures{{\n")
string(APPEND o "${rows}}};\n\n")
string(APPEND o "// The kernel's names of each sys::id's parameters, separated by spaces, as its prototype spells\n")
string(APPEND o "// them, or its one SYSCALL_DEFINE where the prototype has none (else `argN`; empty for an unknown\n")
string(APPEND o "// syscall): kafel's argument names.\n")
string(APPEND o "inline constexpr std::array<std::string_view, syscall_count> syscall_parameter_names{{\n")
string(APPEND o "${name_rows}}};\n\n")
string(APPEND o "// x32's syscalls numbered from `syscall_x32_own_first` are its own entry points (${table_x32}, ABIs\n")
string(APPEND o "// ${x32_abis_text}); `syscall_x32_narrow` says which of their arguments they read as 32 bits where\n")
string(APPEND o "// x86_64's entry point reads 64 (bit N: argument N), by sys::id:\n")
sysfence_pack(text "//   " 100 ${x32_narrowed})
string(APPEND o "${text}")
string(APPEND o "inline constexpr std::uint32_t syscall_x32_own_first = ${x32_first};\n")
sysfence_pack(mask_text "    " 100 ${x32_masks})
string(APPEND o "inline constexpr std::array<std::uint8_t, syscall_count> syscall_x32_narrow{{\n${mask_text}}};\n\n")
string(APPEND o "// `parameters_of<S>::type` is syscall S's parameters as sys::params<param::...> (compile errors print it).\n")
string(APPEND o "template <sys::id S>\nstruct parameters_of {\n  using type = sys::params<>;\n};\n")
string(APPEND o "${specializations}")
string(APPEND o "}  // namespace sysfence::detail\n")

# --- write or check ------------------------------------------------------------------------------
sysfence_regenerate_hint(regen it "a mismatch usually means a newer linux-source-* was installed, or the syscall tables changed")
sysfence_write_or_check(
  TOOL gen_signatures FILE "${out_file}" TEXT o
  SUMMARY "${count} syscalls: ${n_known} known, ${n_unknown} unknown; ${n_tags} parameter names; from ${source_name}, Linux ${kernel_release}"
  WHAT "syscall signatures match the kernel source"
  SOURCES "the prototypes, syscall table and Kconfig of ${ksrc}"
  REGENERATE "${regen}")
