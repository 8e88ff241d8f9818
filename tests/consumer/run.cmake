# SPDX-License-Identifier: MIT
# run.cmake - installs sysfence into a scratch prefix (configured as on a machine without the test
# dependencies), then builds tests/consumer against it.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}")
  endif()
endfunction()
# As on a machine with only the library's own dependency (Boost): no option given, the test and
# example dependencies hidden. The tests and the sysfence command must then default off, and
# configure and install work.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/sysfence -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
    -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/sysfence)
# A cross build passes its TOOLCHAIN_FILE and EMULATOR (both empty otherwise).
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/consumer
    -DCMAKE_CXX_COMPILER=${COMPILER} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${EMULATOR} ${WORK_DIR}/consumer/consumer)
message(STATUS "find_package(sysfence) works from an outside project")
