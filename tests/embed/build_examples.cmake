# Run by the embed_examples test (cmake -P): installs dkv's build to a
# scratch prefix, moves the prefix elsewhere (nothing may point back into the
# build), then configures, builds and runs each example as an outside project
# that finds dkv with find_package(dkv CONFIG REQUIRED). Fails on the first
# step that fails; an example passes when it exits 0 and its last line starts
# with "PASS" (a program, or the runner script of a multi-process one) or
# "All tests passed" (a Catch2 test).
#
# -DDKV_BUILD_DIR -DDKV_SOURCE_DIR -DWORK_DIR -DEXAMPLES=a,b [-DBUILD_TYPE]
# [-DBUILD_TYPE_FLAGS] [-DCXX_COMPILER] [-DRC_PARAMS]

foreach(var DKV_BUILD_DIR DKV_SOURCE_DIR WORK_DIR EXAMPLES)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_examples.cmake: -D${var}=… is missing")
  endif()
endforeach()
string(REPLACE "," ";" EXAMPLES "${EXAMPLES}")
if(NOT BUILD_TYPE)
  set(BUILD_TYPE RelWithDebInfo)
endif()
# The build type's flags as dkv's build has them (-g1, not CMake's -g: faster).
if(BUILD_TYPE_FLAGS)
  string(TOUPPER "${BUILD_TYPE}" config)
  set(flags_arg "-DCMAKE_CXX_FLAGS_${config}=${BUILD_TYPE_FLAGS}")
endif()

function(step what)
  string(TIMESTAMP now "%s")
  math(EXPR elapsed "${now} - ${started}")
  message(STATUS "[${elapsed} s] ${what}")
endfunction()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("${out}")
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${rc}): ${command}")
  endif()
endfunction()

string(TIMESTAMP started "%s")
file(REMOVE_RECURSE "${WORK_DIR}")
set(stage "${WORK_DIR}/stage")
set(prefix "${WORK_DIR}/prefix")

step("install ${DKV_BUILD_DIR} to ${stage}")
run(${CMAKE_COMMAND} --install "${DKV_BUILD_DIR}" --prefix "${stage}")
file(RENAME "${stage}" "${prefix}")
step("moved the prefix to ${prefix}")

# Relocatable: no installed CMake file names the build, the source tree or the staging prefix.
file(GLOB_RECURSE package_files "${prefix}/*.cmake")
if(NOT package_files)
  message(FATAL_ERROR "no CMake package files under ${prefix}")
endif()
foreach(f IN LISTS package_files)
  file(READ "${f}" text)
  foreach(path "${DKV_BUILD_DIR}" "${DKV_SOURCE_DIR}" "${stage}")
    string(FIND "${text}" "${path}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names ${path}: the package is not relocatable")
    endif()
  endforeach()
endforeach()

set(compiler_arg "")
if(CXX_COMPILER)
  set(compiler_arg "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
set(ENV{RC_PARAMS} "${RC_PARAMS}")

foreach(example IN LISTS EXAMPLES)
  set(source "${DKV_SOURCE_DIR}/examples/${example}")
  set(build "${WORK_DIR}/${example}")
  step("${example}: configure")
  run(${CMAKE_COMMAND} -S "${source}" -B "${build}" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
      ${compiler_arg} ${flags_arg})
  step("${example}: build")
  run(${CMAKE_COMMAND} --build "${build}" -j 2)
  step("${example}: run")
  # An example that is more than one process (three_processes: one cluster
  # member each) is run by a script next to this one, run_<example>.sh, given
  # the program and a scratch directory; it ends with a PASS or FAIL line too.
  set(runner "${CMAKE_CURRENT_LIST_DIR}/run_${example}.sh")
  if(EXISTS "${runner}")
    set(command bash "${runner}" "${build}/${example}" "${build}/run")
  else()
    set(command "${build}/${example}")
  endif()
  execute_process(COMMAND ${command} WORKING_DIRECTORY "${build}" RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 300)
  message("${out}")
  string(STRIP "${out}" stripped)
  string(REGEX MATCH "[^\n]*$" last_line "${stripped}")
  if(NOT rc EQUAL 0 OR NOT last_line MATCHES "^(PASS|All tests passed)")
    message(FATAL_ERROR "${example}: exit ${rc}, last line '${last_line}' (expected exit 0 and PASS or All tests passed)")
  endif()
endforeach()
step("every example passed")
