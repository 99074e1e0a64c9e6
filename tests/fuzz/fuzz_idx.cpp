// libFuzzer harness: load_idx of an images file and a labels file made from one input.
// Byte 0: bit 0 gzips the images, bit 1 the labels (so the fuzzer reaches the inflate paths with
// valid streams); bytes 1-2: where the input splits into images and labels.
#include <zlib.h>

#include <cmath>

#include <data/data.hpp>

#include "fuzz_common.hpp"

namespace {

std::string gzip(const std::uint8_t* p, std::size_t n) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) __builtin_trap();
  std::string out(deflateBound(&z, n) + 32, '\0');
  z.next_in = const_cast<Bytef*>(p);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) __builtin_trap();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void write_part(const std::string& path, const std::uint8_t* p, std::size_t n, bool gz) {
  if (!gz) return fuzz::write_file(path, p, n);
  const std::string z = gzip(p, n);
  fuzz::write_file(path, reinterpret_cast<const std::uint8_t*>(z.data()), z.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const std::string images = fuzz::temp_path("images"), labels = fuzz::temp_path("labels");
  const std::size_t body = size - 3, split = (data[1] | (data[2] << 8)) % (body + 1);
  write_part(images, data + 3, split, data[0] & 1);
  write_part(labels, data + 3 + split, body - split, data[0] & 2);
  try {
    const ag::data::TensorDataset ds = ag::data::load_idx(images, labels);
    const ag::Tensor& x = ds.inputs();
    if (x.dim() != 2 || ds.targets().shape() != ag::Shape{x.size(0)}) __builtin_trap();
    for (double v : x.to_vector())
      if (!(v >= 0 && v <= 1)) __builtin_trap();
  } catch (const ag::Error&) {
  }
  return 0;
}
