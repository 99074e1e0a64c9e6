// Symbol visibility: libag.so is built with -fvisibility=hidden, and only what a public header
// declares between AG_API_BEGIN and AG_API_END (or marks AG_API) is exported. Internal code
// (autograd/detail, kernels, ops helpers) stays hidden, so it can change without an ABI break.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define AG_API __attribute__((visibility("default")))
#define AG_API_BEGIN _Pragma("GCC visibility push(default)")
#define AG_API_END _Pragma("GCC visibility pop")
#else
#define AG_API
#define AG_API_BEGIN
#define AG_API_END
#endif
