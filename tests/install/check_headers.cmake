# Installs ag's headers into a fresh prefix and compiles each one alone (-fsyntax-only) with only
# that prefix's include directories, the way a user's compiler sees them.
# Inputs (-D): BUILD_DIR (ag's configured build tree), WORK_DIR, CXX_COMPILER.
cmake_minimum_required(VERSION 3.16)

set(prefix ${WORK_DIR}/headers-prefix)
file(REMOVE_RECURSE ${prefix})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                        --component headers RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install of the headers component failed (${rc})")
endif()

set(root ${prefix}/include/ag)
foreach(required ag.hpp autograd/autograd.hpp nn/nn.hpp optim/optim.hpp data/data.hpp)
  if(NOT EXISTS ${root}/${required})
    message(FATAL_ERROR "${root}/${required} was not installed")
  endif()
endforeach()
foreach(internal autograd/detail autograd/kernels autograd/ops)
  if(EXISTS ${root}/${internal})
    message(FATAL_ERROR "internal folder ${internal} was installed under ${root}")
  endif()
endforeach()

file(GLOB_RECURSE headers RELATIVE ${root} ${root}/*.hpp)
list(LENGTH headers count)
set(failed "")
foreach(h IN LISTS headers)
  # libag.so exports only what public headers declare between AG_API_BEGIN and AG_API_END.
  file(READ ${root}/${h} text)
  if(text MATCHES "\nnamespace ag" AND NOT text MATCHES "\nAG_API_BEGIN\n")
    list(APPEND failed ${h})
    message("${h} declares names in namespace ag outside AG_API_BEGIN ... AG_API_END "
            "(autograd/export.hpp): libag.so would not export them")
  endif()
  file(WRITE ${WORK_DIR}/tu/${h}.cpp "#include <${h}>\n#include <${h}>  // include guard\n")
  execute_process(
    COMMAND ${CXX_COMPILER} -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I${root} -I${prefix}/include
            ${WORK_DIR}/tu/${h}.cpp
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    list(APPEND failed ${h})
    message("${h} does not compile alone:\n${out}")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "headers that do not compile alone: ${failed}")
endif()
message(STATUS "all ${count} installed headers compile alone against ${prefix}")
