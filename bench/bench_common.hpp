// The harness shared by ag_bench and torch_bench: command line, timing and the output format.
// Both programs print one line per measurement,
//   impl=ag threads=1 workload=mlp_b32 metric=samples_per_s value=81234.5
// which bench/aggregate.py reads. Each value is the median over --reps repetitions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct Options {
  int threads = 1;
  int reps = 5;            // repetitions per measurement; the median is reported
  double min_time = 0.2;   // seconds per repetition (loops are calibrated to at least this)
  std::vector<std::string> groups;  // empty: every group
  bool cpu_clock = false;  // time with the process's CPU time instead of the wall clock
};

// The wall clock by default. --clock cpu reads the process's CPU time instead: on a machine
// shared with other jobs a one-thread run then counts only the time it was on a core (with
// more threads it would add up every thread's time, spinning included, so use it at one).
inline bool& use_cpu_clock() {
  static bool on = false;
  return on;
}

inline double now() {
  if (use_cpu_clock()) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double seconds_since(double t0) { return now() - t0; }

inline void usage(const char* prog, const std::vector<std::string>& all_groups) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--reps R] [--min-time SECONDS] [--only g1,g2,...]\n"
               "          [--clock wall|cpu]\n"
               "groups:",
               prog);
  for (const auto& g : all_groups) std::fprintf(stderr, " %s", g.c_str());
  std::fprintf(stderr, "\n");
}

inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Exits with a usage message on a bad command line: a benchmark run with a typo in it
// should not silently measure something else.
inline Options parse_options(int argc, char** argv, const std::vector<std::string>& all_groups) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
      usage(argv[0], all_groups);
      std::exit(2);
    }
    return argv[++i];
  };
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--threads") {
        o.threads = std::stoi(value(i));
      } else if (a == "--reps") {
        o.reps = std::stoi(value(i));
      } else if (a == "--min-time") {
        o.min_time = std::stod(value(i));
      } else if (a == "--only") {
        o.groups = split_commas(value(i));
      } else if (a == "--clock") {
        std::string c = value(i);
        if (c != "wall" && c != "cpu") {
          std::fprintf(stderr, "%s: --clock takes wall or cpu, got '%s'\n", argv[0], c.c_str());
          std::exit(2);
        }
        o.cpu_clock = c == "cpu";
      } else if (a == "--help" || a == "-h") {
        usage(argv[0], all_groups);
        std::exit(0);
      } else {
        std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], a.c_str());
        usage(argv[0], all_groups);
        std::exit(2);
      }
    }
  } catch (const std::logic_error&) {  // stoi/stod on a non-number
    std::fprintf(stderr, "%s: bad number on the command line\n", argv[0]);
    usage(argv[0], all_groups);
    std::exit(2);
  }
  if (o.threads < 1 || o.reps < 1 || !(o.min_time > 0)) {
    std::fprintf(stderr, "%s: --threads and --reps need at least 1, --min-time more than 0\n",
                 argv[0]);
    std::exit(2);
  }
  for (const auto& g : o.groups)
    if (std::find(all_groups.begin(), all_groups.end(), g) == all_groups.end()) {
      std::fprintf(stderr, "%s: unknown group '%s'\n", argv[0], g.c_str());
      usage(argv[0], all_groups);
      std::exit(2);
    }
  use_cpu_clock() = o.cpu_clock;
  return o;
}

inline bool selected(const Options& o, const std::string& group) {
  return o.groups.empty() || std::find(o.groups.begin(), o.groups.end(), group) != o.groups.end();
}

inline double median(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("median of nothing");
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Seconds per call of fn: one untimed call to warm caches and allocators, a calibration that
// makes each repetition last at least o.min_time, then the median over o.reps repetitions.
template <class F>
double seconds_per_call(const Options& o, F&& fn) {
  fn();
  double t0 = now();
  fn();
  double once = std::max(seconds_since(t0), 1e-9);
  long iters = std::max(1L, static_cast<long>(std::ceil(o.min_time / once)));
  std::vector<double> per_call;
  for (int r = 0; r < o.reps; ++r) {
    t0 = now();
    for (long i = 0; i < iters; ++i) fn();
    per_call.push_back(seconds_since(t0) / static_cast<double>(iters));
  }
  return median(per_call);
}

// Median seconds of one call of fn, with setup() run untimed before each call (a fresh graph
// before each backward, say).
template <class Setup, class Fn>
double seconds_with_setup(const Options& o, Setup&& setup, Fn&& fn) {
  setup();
  fn();
  std::vector<double> t;
  for (int r = 0; r < o.reps; ++r) {
    setup();
    double t0 = now();
    fn();
    t.push_back(seconds_since(t0));
  }
  return median(t);
}

struct Reporter {
  std::string impl;
  int threads;
  void operator()(const std::string& workload, const std::string& metric, double value) const {
    std::printf("impl=%s threads=%d workload=%s metric=%s value=%.6g\n", impl.c_str(), threads,
                workload.c_str(), metric.c_str(), value);
    std::fflush(stdout);
  }
};

// Workload sizes, shared so that both programs measure exactly the same thing.
inline constexpr std::size_t kMnistFeatures = 784;
inline constexpr std::size_t kClasses = 10;
inline constexpr std::size_t kSamples = 4096;        // distinct samples cycled through
inline constexpr std::size_t kChainOps = 10000;      // workload 3
inline constexpr std::size_t kMatmulN = 1024;        // workload 4
inline constexpr std::size_t kSigxElements = 10000000;  // workload 5
inline constexpr std::size_t kParElements = 1 << 24;    // scaling loops: 64 MiB per float array
inline constexpr double kLr = 0.1;
inline constexpr std::size_t kCnnBatch = 64;  // LeNet training (group cnn)
inline constexpr double kCnnLr = 0.05;

// The conv layer of group conv: 64x16x28x28, 16 -> 32 channels, 3x3, padding 1 (same size out).
struct ConvShape {
  std::size_t n = 64, in = 16, out = 32, h = 28, w = 28, k = 3, pad = 1;
  double gemm_flops() const {  // one of the three GEMMs (forward, input or weight gradient)
    return 2.0 * double(n) * double(out) * double(h * w) * double(in * k * k);
  }
};

}  // namespace bench
