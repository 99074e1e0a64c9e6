# Configures, builds and runs the consumer project (tests/consumer/project) one of four ways.
#   MODE=subdirectory: the consumer adds ag's source tree with add_subdirectory.
#   MODE=install:      ag's (static) build tree is installed into a fresh prefix; the consumer
#                      finds it with find_package, and is built once more by hand with
#                      `pkg-config --static --cflags --libs ag`.
#   MODE=shared:       ag is configured with AG_SHARED=ON in a tree of its own, installed, and the
#                      consumer is built with find_package and with `pkg-config --cflags --libs ag`;
#                      libag.so must carry its SONAME and export no internal (kernels) symbol.
#   MODE=deb:          ag's build tree packs libag-dev with `cpack -G DEB`, `dpkg -x` unpacks it
#                      into a scratch root, and the consumer is built against that root both ways.
# Inputs (-D): MODE, SOURCE_DIR (ag), BUILD_DIR (ag's build tree), WORK_DIR, BUILD_TYPE,
# CXX_COMPILER, CXX_FLAGS, CONFIG_FLAGS, LINKER_FLAGS, SANITIZE, JOBS, PROJECT_VERSION.
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

# The installed tree has the CMake package and the headers where users look for them.
function(check_installed prefix)
  file(GLOB_RECURSE found ${prefix}/*agConfig.cmake)
  if(NOT found)
    message(FATAL_ERROR "[consumer ${MODE}] no agConfig.cmake under ${prefix}")
  endif()
  if(NOT EXISTS ${prefix}/include/ag/autograd/autograd.hpp OR NOT EXISTS ${prefix}/include/ag/ag.hpp)
    message(FATAL_ERROR "[consumer ${MODE}] headers missing under ${prefix}/include/ag")
  endif()
endfunction()

function(build_with_find_package prefix)
  run(configure ${CMAKE_COMMAND} -S ${project_dir} -B ${bin} ${options}
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON)
  run(build ${CMAKE_COMMAND} --build ${bin} --target consumer -j ${JOBS})
  run(run ${bin}/consumer)
endfunction()

# One compiler command with the flags pkg-config gives (PKG_CONFIG_PATH: the prefix's only).
function(build_with_pkg_config prefix)
  file(GLOB_RECURSE pc ${prefix}/*/pkgconfig/ag.pc)
  if(NOT pc)
    message(FATAL_ERROR "[consumer ${MODE}] no ag.pc under ${prefix}")
  endif()
  get_filename_component(pc_dir ${pc} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  execute_process(COMMAND pkg-config ${ARGN} --cflags --libs ag RESULT_VARIABLE rc
                  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[consumer ${MODE}] pkg-config ${ARGN} --cflags --libs ag failed (${rc})")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS} ${CONFIG_FLAGS} ${LINKER_FLAGS}")
  set(exe ${bin}/consumer_pkg_config)
  run(pkg-config-build ${CXX_COMPILER} -std=c++17 ${cxx_flags} ${project_dir}/main.cpp
      ${project_dir}/umbrella.cpp ${flags} -Wl,-rpath,${prefix}/lib -o ${exe})
  run(pkg-config-run ${exe})
endfunction()

# A shared libag: versioned SONAME, and none of the internal kernels in its dynamic symbols.
function(check_shared_library prefix)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${PROJECT_VERSION}")
  if(major_minor MATCHES "^0\\.")
    set(soname libag.so.${major_minor})
  else()
    string(REGEX MATCH "^[0-9]+" major "${PROJECT_VERSION}")
    set(soname libag.so.${major})
  endif()
  file(GLOB_RECURSE libs ${prefix}/*/libag.so)
  if(NOT libs)
    message(FATAL_ERROR "[consumer shared] no libag.so under ${prefix}")
  endif()
  list(GET libs 0 lib)
  execute_process(COMMAND objdump -p ${lib} OUTPUT_VARIABLE dyn)
  if(NOT dyn MATCHES "SONAME +${soname}\n")
    message(FATAL_ERROR "[consumer shared] ${lib}: SONAME is not ${soname}:\n${dyn}")
  endif()
  execute_process(COMMAND nm -D --defined-only -C ${lib} OUTPUT_VARIABLE syms)
  if(syms MATCHES "ag::kernels::|ag::parallel::|ag::ops::")
    message(FATAL_ERROR "[consumer shared] ${lib} exports internal symbols (ag::kernels, ...)")
  endif()
  if(NOT syms MATCHES "ag::matmul\\(")
    message(FATAL_ERROR "[consumer shared] ${lib} does not export ag::matmul")
  endif()
  message(STATUS "[consumer shared] ${lib}: SONAME ${soname}, internal symbols hidden")
endfunction()

if(MODE STREQUAL "subdirectory")
  run(configure ${CMAKE_COMMAND} -S ${project_dir} -B ${bin} ${options}
      -DAG_SOURCE=${SOURCE_DIR} -DAG_SANITIZE=${SANITIZE})
  run(build ${CMAKE_COMMAND} --build ${bin} --target consumer -j ${JOBS})
  run(run ${bin}/consumer)
elseif(MODE STREQUAL "install")
  set(prefix ${WORK_DIR}/install-prefix)
  file(REMOVE_RECURSE ${prefix})
  # libag.a must exist before it can be installed; a no-op when the tree is built.
  run(build-ag ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ag -j ${JOBS})
  run(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  check_installed(${prefix})
  build_with_find_package(${prefix})
  build_with_pkg_config(${prefix} --static)
elseif(MODE STREQUAL "shared")
  set(ag_bin ${WORK_DIR}/ag-shared-build)
  set(prefix ${WORK_DIR}/shared-prefix)
  file(REMOVE ${ag_bin}/CMakeCache.txt)
  file(REMOVE_RECURSE ${prefix})
  run(configure-ag ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${ag_bin} ${options} -DAG_SHARED=ON
      -DAG_BUILD_TESTS=OFF -DAG_BUILD_EXAMPLES=OFF -DAG_BUILD_BENCH=OFF -DAG_SANITIZE=${SANITIZE})
  # Everything the tree builds (tests and examples are off): libag.so and, with MPI, ag::dist.
  run(build-ag ${CMAKE_COMMAND} --build ${ag_bin} -j ${JOBS})
  run(install ${CMAKE_COMMAND} --install ${ag_bin} --prefix ${prefix})
  check_installed(${prefix})
  check_shared_library(${prefix})
  build_with_find_package(${prefix})
  build_with_pkg_config(${prefix})
elseif(MODE STREQUAL "deb")
  set(deb_dir ${WORK_DIR}/deb)
  set(prefix ${WORK_DIR}/deb-root/usr)
  file(REMOVE_RECURSE ${deb_dir} ${WORK_DIR}/deb-root)
  run(build-ag ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ag -j ${JOBS})
  run(cpack cpack -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${deb_dir})
  file(GLOB debs ${deb_dir}/libag-dev_*.deb)
  if(NOT debs)
    message(FATAL_ERROR "[consumer deb] cpack made no libag-dev_*.deb in ${deb_dir}")
  endif()
  execute_process(COMMAND dpkg-deb -f ${debs} Package Depends OUTPUT_VARIABLE fields)
  message(STATUS "[consumer deb] ${debs}:\n${fields}")
  foreach(dep libopenblas-dev libtbb-dev zlib1g-dev)
    if(NOT fields MATCHES "${dep}")
      message(FATAL_ERROR "[consumer deb] the package does not depend on ${dep}")
    endif()
  endforeach()
  run(unpack dpkg -x ${debs} ${WORK_DIR}/deb-root)
  check_installed(${prefix})
  build_with_find_package(${prefix})
  build_with_pkg_config(${prefix} --static)
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be subdirectory, install, shared or deb, got '${MODE}'")
endif()
