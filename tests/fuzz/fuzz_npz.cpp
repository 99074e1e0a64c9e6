// libFuzzer harness: Module::load of arbitrary bytes as an .npz checkpoint. A load either
// throws ag::Error and leaves every parameter as it was, or succeeds with finite-or-not values
// of the right shapes (load checks names, shapes, dtypes and CRCs before it copies anything).
#include <cstring>

#include <nn/nn.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::temp_path("model.npz");
  fuzz::write_file(path, data, size);
  auto model = ag::nn::mlp({2, 3, 1});
  std::vector<std::vector<double>> before;
  for (const auto& p : model->parameters()) before.push_back(p.to_vector());
  try {
    model->load(path);
  } catch (const ag::Error&) {
    std::size_t i = 0;
    for (const auto& p : model->parameters())
      if (p.to_vector() != before[i++]) __builtin_trap();  // a failed load changed a parameter
    return 0;
  }
  const auto params = model->parameters();
  if (params[0].shape() != ag::Shape{3, 2} || params[3].shape() != ag::Shape{1}) __builtin_trap();
  return 0;
}
