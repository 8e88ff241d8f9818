# SPDX-License-Identifier: MIT
# run.cmake - a bad policy file fails the build of the project using it, with the error text the
# run-time loader gives (file, line, column, filter, rule); its good twin builds. Run by CTest:
#   cmake -DSOURCE_DIR=<sysfence> -DWORK_DIR=<scratch> -DCOMPILER=<c++> -P run.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(policies ${SOURCE_DIR}/tests/policies)

# `build(POLICY FILTER)` configures and builds the project; rc and output in build_rc, build_out.
function(build policy filter)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/bad_policy -B ${WORK_DIR}
                          -DCMAKE_CXX_COMPILER=${COMPILER} -DSYSFENCE_DIR=${SOURCE_DIR}
                          -DPOLICY=${policy} -DFILTER=${filter}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring with ${policy} failed (only the build should):\n${out}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(build_rc ${rc} PARENT_SCOPE)
  set(build_out "${out}" PARENT_SCOPE)
endfunction()

# `fails_with(FILE FILTER TEXT)`: building with FILE fails and says TEXT.
function(fails_with file filter text)
  build(${policies}/${file} ${filter})
  if(build_rc EQUAL 0)
    message(FATAL_ERROR "the build with ${file} succeeded; it should fail with:\n${text}")
  endif()
  string(FIND "${build_out}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the build with ${file} failed without the expected message:\n${text}\nOutput:\n${build_out}")
  endif()
  message(STATUS "${file}: the build fails with the loader's message")
endfunction()

# The good twin: the same project builds with a good file (and builds the generator once).
build(${policies}/vmm.json api)
if(NOT build_rc EQUAL 0)
  message(FATAL_ERROR "the build with vmm.json failed:\n${build_out}")
endif()

# The files are outside the project's directory: messages name them by their absolute path.
set(dir ${policies})
fails_with(bad_op.json vmm
  "sysfence: ${dir}/bad_op.json: line 7, column 82: filter \"vmm\", rule 1 (ioctl), args[0], op: unknown op \"in\" (expected eq, ne, lt, le, gt, ge or {\"masked_eq\": mask})")
fails_with(bad_conflict.json vmm
  "sysfence: ${dir}/bad_conflict.json: filter \"vmm\": rule 0 (line 6, column 13) matches dup whatever its arguments and rule 1 (line 7, column 13) only under conditions, so the conditions would have no effect; keep one of the two rules")
fails_with(vmm.json no_such_filter
  "sysfence: ${dir}/vmm.json: no filter named \"no_such_filter\" (the file has \"vmm\", \"api\", \"jail\")")
