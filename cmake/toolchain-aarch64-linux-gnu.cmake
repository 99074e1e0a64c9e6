# Cross-compiling for arm64 on Debian with g++-aarch64-linux-gnu and arm64 multiarch packages
# (libopenblas-dev:arm64, libtbb-dev:arm64, zlib1g-dev:arm64; the header-only xtensor, xsimd and
# Catch2 packages serve both architectures). Tests run under qemu-user. Used by
# scripts/test-arm64.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries and CMake packages from the arm64 multiarch directories only; headers from anywhere.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_PREFIX_PATH /usr/lib/aarch64-linux-gnu/cmake)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
find_program(AG_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${AG_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
# Header-only packages whose Debian CMake configs sit in the build machine's multiarch folder
# (they name include directories only, the same for every architecture).
set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd CACHE PATH "xsimd's CMake config")
set(xtensor_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor CACHE PATH "xtensor's CMake config")
set(xtensor-blas_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor-blas CACHE PATH
    "xtensor-blas's CMake config")
