// Test files that make Catch2 tests from the op registry register a function here; main()
// calls each before Catch2 runs, when every op has registered itself (see tests/main.cpp).
#pragma once

#include <vector>

std::vector<void (*)()>& late_registrars();
