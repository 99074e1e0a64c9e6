# Portable SIMD. On x86-64 the kernels that use xsimd (AG_SIMD_SOURCES) are compiled once per
# instruction set in AG_SIMD_ISAS, each copy with its own -m flags and AG_SIMD_NS=isa_<isa>, and
# autograd/kernels/dispatch.cpp forwards every call to the best copy the CPU runs. The rest of the
# library is compiled for the x86-64 baseline, so it runs on any x86-64 CPU.
#
# Each copy is linked with `ld -r` into one object (--force-group-allocation dissolves the COMDAT
# groups, so the final link cannot swap its sections for another object's) in which objcopy keeps
# global only the symbols of its own namespace (ag::kernels::isa_<isa>::...). Without that, an inline function
# or template instance (std::vector's, xtensor's) compiled with -mavx2 could be the one the
# linker keeps for the baseline code too, and crash with SIGILL on a CPU without AVX2.
#
# AG_NATIVE=ON, or a CPU other than x86-64 (arm64: xsimd uses NEON, which is its baseline),
# compiles one copy for the build's own target, with AG_NATIVE_FLAGS on every source.

set(AG_SIMD_FLAGS_sse2 "")
set(AG_SIMD_FLAGS_avx2 -mavx2 -mfma)
# g++ 12's avx512fintrin.h fills the unused half of a vector from _mm512_undefined_*(), which it
# writes as `__m512 __Y = __Y;` and then warns about inside every inlined caller (GCC PR 105593,
# fixed in g++ 13): a false positive that AG_WERROR would turn into a failed build. It comes as
# -Wmaybe-uninitialized, or as -Wuninitialized where the caller is a conversion such as
# _mm512_cvtps_pd.
set(AG_SIMD_FLAGS_avx512 -mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")  # clang has no such warning and rejects the flag
  list(APPEND AG_SIMD_FLAGS_avx512 -Wno-maybe-uninitialized -Wno-uninitialized)
endif()

# g++ gives static locals of inline functions (xsimd's constant tables) STB_GNU_UNIQUE binding,
# which objcopy cannot make local; plain weak symbols it can.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-fno-gnu-unique AG_HAVE_NO_GNU_UNIQUE)
if(AG_HAVE_NO_GNU_UNIQUE)
  set(AG_SIMD_LOCAL_FLAGS -fno-gnu-unique)
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(AG_X86_64 ON)
else()
  set(AG_X86_64 OFF)
endif()
if(AG_X86_64 AND NOT AG_NATIVE)
  set(AG_SIMD_DISPATCH ON)
else()
  set(AG_SIMD_DISPATCH OFF)
endif()

# ag_simd_kernels(<sources>): adds the SIMD kernel sources to ag, dispatched or single.
function(ag_simd_kernels)
  if(NOT AG_SIMD_DISPATCH)
    target_sources(ag PRIVATE ${ARGN})
    if(AG_NATIVE)
      target_compile_options(ag PRIVATE ${AG_NATIVE_FLAGS})
    endif()
    if(AG_NATIVE)
      message(STATUS "ag: one copy of the SIMD kernels, AG_NATIVE_FLAGS=${AG_NATIVE_FLAGS}")
    else()
      message(STATUS "ag: one copy of the SIMD kernels for ${CMAKE_SYSTEM_PROCESSOR}'s baseline")
    endif()
    return()
  endif()
  if(NOT "sse2" IN_LIST AG_SIMD_ISAS)
    message(FATAL_ERROR "AG_SIMD_ISAS must contain sse2, the x86-64 baseline: ${AG_SIMD_ISAS}")
  endif()
  target_compile_definitions(ag PRIVATE AG_SIMD_NS=isa_dispatch AG_SIMD_DISPATCH)
  # --force-group-allocation is GNU ld's (binutils >= 2.37); under clang CMAKE_LINKER is ld.lld,
  # which has no such option, so the partial link asks for GNU ld by name.
  find_program(AG_GNU_LD NAMES ld.bfd ld
               DOC "GNU ld, for the partial link (ld -r) of each instruction set's kernels")
  if(NOT AG_GNU_LD)
    message(FATAL_ERROR "ag: GNU ld (binutils) not found: the dispatched kernels need ld -r")
  endif()
  foreach(isa IN LISTS AG_SIMD_ISAS)
    if(NOT DEFINED AG_SIMD_FLAGS_${isa})
      message(FATAL_ERROR "AG_SIMD_ISAS: unknown instruction set '${isa}' (sse2, avx2, avx512)")
    endif()
    set(lib ag_simd_${isa})
    add_library(${lib} OBJECT ${ARGN})
    target_include_directories(${lib} PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${lib} PRIVATE xtensor xtensor-blas xsimd TBB::tbb BLAS::BLAS)
    target_compile_definitions(${lib} PRIVATE AG_SIMD_NS=isa_${isa} XTENSOR_USE_XSIMD)
    target_compile_options(${lib} PRIVATE ${AG_SIMD_FLAGS_${isa}} ${AG_SIMD_LOCAL_FLAGS}
                                          ${AG_LIBRARY_FLAGS})
    set_target_properties(${lib} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                            CXX_VISIBILITY_PRESET hidden)
    string(LENGTH "isa_${isa}" len)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/ag_simd_${isa}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${AG_GNU_LD} -r --force-group-allocation -o ${obj}.r.o $<TARGET_OBJECTS:${lib}>
      COMMAND ${CMAKE_OBJCOPY} --wildcard --keep-global-symbol=_ZN2ag7kernels${len}isa_${isa}*
              ${obj}.r.o ${obj}
      DEPENDS ${lib} $<TARGET_OBJECTS:${lib}>
      COMMENT "ag: kernels for ${isa}, other symbols made local"
      COMMAND_EXPAND_LISTS VERBATIM)
    set_source_files_properties(${obj} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
    target_sources(ag PRIVATE ${obj})
    set_property(SOURCE ${PROJECT_SOURCE_DIR}/autograd/kernels/dispatch.cpp APPEND
                 PROPERTY COMPILE_DEFINITIONS AG_SIMD_HAVE_${isa})
  endforeach()
  message(STATUS "ag: SIMD kernels for ${AG_SIMD_ISAS}, chosen at run time")
endfunction()
