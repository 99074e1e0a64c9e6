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
# No -L /usr/aarch64-linux-gnu: that prefix holds the cross toolchain's glibc (2.36-8cross1), while
# the libraries the tests load come from /usr/lib/aarch64-linux-gnu, built against libc6:arm64
# (2.36-9+deb12u*). Mixing that ld.so with that libc hangs every program that starts a thread
# (catch_discover_tests then never returns). Without -L, qemu runs /lib/ld-linux-aarch64.so.1 from
# libc6:arm64, which matches.
set(CMAKE_CROSSCOMPILING_EMULATOR ${AG_QEMU_AARCH64})
# GCC's note that std::pair's parameter passing changed in GCC 10.1 concerns mixing objects of
# older compilers; everything here comes from one GCC.
string(APPEND CMAKE_CXX_FLAGS_INIT " -Wno-psabi")
# Header-only packages whose Debian CMake configs sit in the build machine's multiarch folder
# (they name include directories only, the same for every architecture).
set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd CACHE PATH "xsimd's CMake config")
set(xtensor_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor CACHE PATH "xtensor's CMake config")
set(xtensor-blas_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor-blas CACHE PATH
    "xtensor-blas's CMake config")
