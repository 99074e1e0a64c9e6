// Shared by the nn/optim/data tests: PyTorch fixtures, temporary directories, comparisons.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>

namespace testing {

// tests/fixtures/<name>: lines "<key> <count> <values...>", written by scripts/make_fixtures.py.
class Fixture {
 public:
  explicit Fixture(const std::string& name) : path_(std::string(AG_SOURCE_DIR) + "/tests/fixtures/" + name) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("cannot open fixture " + path_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream s(line);
      std::string key;
      std::size_t n = 0;
      s >> key >> n;
      std::vector<double> v(n);
      for (auto& x : v) s >> x;
      if (!s) throw std::runtime_error("malformed fixture line in " + path_ + ": " + key);
      values_[key] = std::move(v);
    }
  }
  const std::vector<double>& operator[](const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw std::runtime_error("fixture " + path_ + " has no key " + key);
    return it->second;
  }
  double scalar(const std::string& key) const { return (*this)[key].at(0); }
  ag::Tensor tensor(const std::string& key, ag::Shape shape, ag::Dtype dtype = ag::float64) const {
    return ag::tensor((*this)[key], std::move(shape), dtype);
  }

 private:
  std::string path_;
  std::map<std::string, std::vector<double>> values_;
};

// Element-wise |a - b| <= rtol |b| + atol, with the first failing index in the message.
inline void require_close(const std::vector<double>& actual, const std::vector<double>& expected,
                          double rtol = 1e-6, double atol = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("index " << i << ": " << actual[i] << " vs expected " << expected[i]);
    REQUIRE(std::abs(actual[i] - expected[i]) <= rtol * std::abs(expected[i]) + atol);
  }
}

inline void require_close(const ag::Tensor& actual, const std::vector<double>& expected, double rtol = 1e-6,
                          double atol = 1e-12) {
  REQUIRE(actual.defined());
  require_close(actual.to_vector(), expected, rtol, atol);
}

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ag_test_nn_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace testing
