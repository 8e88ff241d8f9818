# SPDX-License-Identifier: MIT
# sysfence_add_policy.cmake - sysfence_add_policy(): a policy file compiled into a header at build
# time (a constexpr sysfence::prebuilt_policy), by the generator tools/sysfence_policy.cpp built in
# the calling project's build tree. Included by sysfence-config.cmake and by sysfence's own
# CMakeLists.txt.
#
#   sysfence_add_policy(<target> <NAME> <file> [FORMAT seccompiler|oci|kafel] [FILTER <name>] [ARCH <abi>...]
#                       [OPTIONS <key>=<value>...])
#
# Writes ${CMAKE_CURRENT_BINARY_DIR}/sysfence_policies/<NAME>.hpp, defining
# `inline constexpr sysfence::prebuilt_policy<...> <NAME>::policy` and `<NAME>::flags` (the
# seccomp() flags the file asks for), and lets <target> include it as
# <NAME>.hpp (it is generated before <target> compiles, again when <file> changes). ABIs: x86_64
# x86 x32 aarch64 riscv64; by default the target's own. A bad file fails the build with the error
# the run-time loader gives (file, line, column, filter, rule). OPTIONS reach the format's loader
# in the generator (`--option key=value`); seccompiler takes none; oci (a Docker, Podman or OCI
# profile) needs kernel=MAJOR.MINOR and takes caps=, cap_add= and cap_drop= (comma-separated), and
# one ARCH, the host's (the profile's archMap gives the ABIs); kafel (nsjail's policy language,
# first match wins) takes neither FILTER nor OPTIONS. A new format: its loader and row
# in the generator's `formats` table, and its name in `formats` below.
#
# Cross builds: the generator is built for the target and run under CMAKE_CROSSCOMPILING_EMULATOR
# (qemu-user: the generator makes no seccomp call); without an emulator, set
# SYSFENCE_POLICY_GENERATOR to a generator built for the build host (the same source, compiled with
# -std=c++20 against sysfence's include directory and nlohmann-json), and the default ABI becomes
# the one CMAKE_SYSTEM_PROCESSOR names.
include_guard(GLOBAL)

set(SYSFENCE_POLICY_GENERATOR "" CACHE FILEPATH
    "A sysfence_policy generator built for the build host (cross builds without an emulator)")

# `_sysfence_policy_generator(<out-var>)` is the generator to run: SYSFENCE_POLICY_GENERATOR, or the
# target sysfence_policy, made the first time.
function(_sysfence_policy_generator out)
  if(SYSFENCE_POLICY_GENERATOR)
    set(${out} "${SYSFENCE_POLICY_GENERATOR}" PARENT_SCOPE)
    return()
  endif()
  if(CMAKE_CROSSCOMPILING AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
    message(FATAL_ERROR
      "sysfence_add_policy: a cross build runs the policy generator under CMAKE_CROSSCOMPILING_EMULATOR, "
      "and none is set; set one (qemu-user), or set SYSFENCE_POLICY_GENERATOR to a generator built for "
      "the build host from tools/sysfence_policy.cpp (installed in share/sysfence)")
  endif()
  if(NOT TARGET sysfence_policy)
    # The generator's source: sysfence-config.cmake names the installed copy, sysfence's own
    # CMakeLists.txt this tree's (a global property: seen from every directory).
    get_property(source GLOBAL PROPERTY SYSFENCE_POLICY_GENERATOR_SOURCE)
    find_package(nlohmann_json 3.10 QUIET)
    if(NOT nlohmann_json_FOUND)
      message(FATAL_ERROR
        "sysfence_add_policy: the policy generator reads JSON with nlohmann-json 3.10 or later, which "
        "find_package(nlohmann_json) did not find (Debian: apt-get install nlohmann-json3-dev)")
    endif()
    if(NOT TARGET sysfence::sysfence)
      message(FATAL_ERROR "sysfence_add_policy: needs the target sysfence::sysfence (find_package(sysfence) first)")
    endif()
    add_executable(sysfence_policy "${source}")
    target_link_libraries(sysfence_policy PRIVATE sysfence::sysfence nlohmann_json::nlohmann_json)
  endif()
  set(${out} sysfence_policy PARENT_SCOPE)
endfunction()

function(sysfence_add_policy target name file)
  cmake_parse_arguments(PARSE_ARGV 3 arg "" "FORMAT;FILTER" "ARCH;OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sysfence_add_policy: unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "sysfence_add_policy: ${target} is not a target")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "sysfence_add_policy: NAME \"${name}\" must be a C++ identifier (it names the "
                        "namespace and the header)")
  endif()
  if(NOT arg_FORMAT)
    set(arg_FORMAT seccompiler)
  endif()
  set(formats seccompiler oci kafel)  # the generator's `formats` table
  if(NOT arg_FORMAT IN_LIST formats)
    message(FATAL_ERROR "sysfence_add_policy: unknown FORMAT \"${arg_FORMAT}\" (known: ${formats})")
  endif()
  if(arg_FORMAT STREQUAL "seccompiler" AND NOT arg_FILTER)
    message(FATAL_ERROR "sysfence_add_policy: FORMAT seccompiler needs FILTER (the name of one filter of ${file})")
  endif()
  cmake_path(ABSOLUTE_PATH file BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE OUTPUT_VARIABLE input)
  # Messages and the banner name the file as the project does: relative to the calling directory.
  cmake_path(IS_PREFIX CMAKE_CURRENT_SOURCE_DIR "${input}" NORMALIZE inside)
  if(inside)
    cmake_path(RELATIVE_PATH input BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" OUTPUT_VARIABLE shown)
  else()
    set(shown "${input}")
  endif()

  _sysfence_policy_generator(generator)
  set(abis ${arg_ARCH})
  if(NOT abis AND SYSFENCE_POLICY_GENERATOR AND CMAKE_CROSSCOMPILING)
    # A host generator's own ABI is the host's: name the target's.
    string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" processor)
    if(processor MATCHES "^(x86_64|amd64)$")
      set(abis x86_64)
    elseif(processor MATCHES "^(aarch64|arm64)$")
      set(abis aarch64)
    elseif(processor MATCHES "^riscv64$")
      set(abis riscv64)
    elseif(processor MATCHES "^i.86$")
      set(abis x86)
    else()
      message(FATAL_ERROR "sysfence_add_policy: no ABI known for CMAKE_SYSTEM_PROCESSOR ${CMAKE_SYSTEM_PROCESSOR}; give ARCH")
    endif()
  endif()
  set(command --format ${arg_FORMAT} --input "${input}" --file-name "${shown}" --namespace ${name})
  if(arg_FILTER)
    list(APPEND command --filter "${arg_FILTER}")
  endif()
  foreach(abi IN LISTS abis)
    list(APPEND command --arch ${abi})
  endforeach()
  foreach(option IN LISTS arg_OPTIONS)
    list(APPEND command --option "${option}")
  endforeach()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/sysfence_policies")
  set(header "${dir}/${name}.hpp")
  # The generator rewrites the header only when its text changes (so an edit that changes nothing
  # rebuilds nothing); the stamp records that it ran.
  set(stamp "${dir}/${name}.stamp")
  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS "${header}"
    COMMAND ${generator} ${command} --output "${header}"
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS "${input}" ${generator}
    COMMENT "sysfence: policy ${name} from ${shown}"
    VERBATIM)
  target_sources(${target} PRIVATE "${stamp}" "${header}")
  target_include_directories(${target} PRIVATE "${dir}")
endfunction()
