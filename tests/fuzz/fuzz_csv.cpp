// libFuzzer harness: load_csv of arbitrary text. Byte 0 picks the target columns (bit k: column
// k). A result holds only finite float32 values, in the shapes the columns imply.
#include <cmath>

#include <data/data.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const std::string path = fuzz::temp_path("data.csv");
  fuzz::write_file(path, data + 1, size - 1);
  std::vector<std::size_t> targets;
  for (std::size_t k = 0; k < 8; ++k)
    if (data[0] & (1u << k)) targets.push_back(k);
  try {
    const ag::data::TensorDataset ds = ag::data::load_csv(path, targets);
    if (ds.targets().shape() != ag::Shape{ds.size(), targets.size()}) __builtin_trap();
    for (const ag::Tensor* t : {&ds.inputs(), &ds.targets()})
      for (double v : t->to_vector())
        if (!std::isfinite(v)) __builtin_trap();
  } catch (const ag::Error&) {
  }
  return 0;
}
