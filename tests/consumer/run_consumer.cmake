# Configures, builds and runs the consumer project (tests/consumer/project) one of two ways.
#   MODE=subdirectory: the consumer adds ag's source tree with add_subdirectory.
#   MODE=install:      ag's build tree is installed into a fresh prefix; find_package finds it.
# Inputs (-D): MODE, SOURCE_DIR (ag), BUILD_DIR (ag's build tree), WORK_DIR, BUILD_TYPE,
# CXX_COMPILER, CXX_FLAGS, CONFIG_FLAGS, LINKER_FLAGS, SANITIZE, JOBS.
cmake_minimum_required(VERSION 3.16)

function(run step)
  message(STATUS "[consumer ${MODE}] ${step}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[consumer ${MODE}] ${step} failed (${rc})")
  endif()
endfunction()

string(TOUPPER "${BUILD_TYPE}" config)
set(project_dir ${SOURCE_DIR}/tests/consumer/project)
set(bin ${WORK_DIR}/${MODE}-build)
# Keep the object files between runs (ccache and make make a rerun cheap), but never a stale cache.
file(REMOVE ${bin}/CMakeCache.txt)
set(options
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_CXX_FLAGS_${config}=${CONFIG_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")

if(MODE STREQUAL "subdirectory")
  run(configure ${CMAKE_COMMAND} -S ${project_dir} -B ${bin} ${options}
      -DAG_SOURCE=${SOURCE_DIR} -DAG_SANITIZE=${SANITIZE})
elseif(MODE STREQUAL "install")
  set(prefix ${WORK_DIR}/install-prefix)
  file(REMOVE_RECURSE ${prefix})
  # libag.a must exist before it can be installed; a no-op when the tree is built.
  run(build-ag ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ag -j ${JOBS})
  run(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  if(NOT EXISTS ${prefix}/lib/cmake/ag/agConfig.cmake AND NOT EXISTS ${prefix}/lib64/cmake/ag/agConfig.cmake)
    file(GLOB_RECURSE found ${prefix}/*agConfig.cmake)
    if(NOT found)
      message(FATAL_ERROR "[consumer install] no agConfig.cmake under ${prefix}")
    endif()
  endif()
  if(NOT EXISTS ${prefix}/include/ag/autograd/autograd.hpp)
    message(FATAL_ERROR "[consumer install] ${prefix}/include/ag/autograd/autograd.hpp was not installed")
  endif()
  run(configure ${CMAKE_COMMAND} -S ${project_dir} -B ${bin} ${options}
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON)
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be subdirectory or install, got '${MODE}'")
endif()

run(build ${CMAKE_COMMAND} --build ${bin} --target consumer -j ${JOBS})
run(run ${bin}/consumer)
