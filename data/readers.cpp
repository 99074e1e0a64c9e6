// Readers for IDX (MNIST, Fashion-MNIST) and numeric CSV files.
#include <data/data.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

namespace ag::data {

namespace {

// The whole file, gunzipped when it is gzip data. zlib reads plain files transparently.
std::string read_maybe_gzipped(const std::string& path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("load_idx: cannot open " + path + ": " + (errno ? std::strerror(errno) : "out of memory"));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  gzbuffer(f, 1 << 20);  // bigger reads than zlib's 8 KiB default: fewer system calls
  std::string out;
  std::size_t size = 0;
  constexpr unsigned kChunk = 1u << 22;
  for (;;) {
    out.resize(size + kChunk);  // read straight into the result, no bounce buffer
    const int n = gzread(f, &out[size], kChunk);
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw Error("load_idx: " + path + ": cannot read (" + (code == Z_ERRNO ? std::strerror(errno) : msg) +
                  "): the file is corrupt or truncated");
    }
    size += static_cast<std::size_t>(n);
    if (n == 0) break;
  }
  out.resize(size);
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK && code != Z_STREAM_END)  // a gzip stream cut short ends with Z_BUF_ERROR
    throw Error("load_idx: " + path + ": " + msg + ": the gzip data is truncated or corrupt");
  return out;
}

std::uint32_t big_endian32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Checks an IDX header of unsigned bytes with `dims` dimensions and returns the dimensions.
std::vector<std::size_t> idx_header(const std::string& bytes, const std::string& path, int dims, const char* kind) {
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(dims);
  if (bytes.size() < 4)
    throw Error("load_idx: " + path + " is truncated: " + std::to_string(bytes.size()) +
                " bytes, too short for an IDX magic number");
  char magic[16];
  std::snprintf(magic, sizeof magic, "0x%08x", big_endian32(bytes, 0));
  char want[16];
  std::snprintf(want, sizeof want, "0x%08x", 0x800u | static_cast<unsigned>(dims));
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error("load_idx: " + path + ": magic number " + magic + " is not IDX (expected " + want + " for " +
                kind + ")");
  if (static_cast<unsigned char>(bytes[2]) != 0x08)
    throw Error("load_idx: " + path + ": magic number " + magic + " has element type " +
                std::to_string(static_cast<unsigned char>(bytes[2])) + "; only unsigned bytes (0x08) are supported");
  if (bytes[3] != dims)
    throw Error("load_idx: " + path + ": magic number " + magic + " says " +
                std::to_string(static_cast<int>(bytes[3])) + " dimensions, but " + kind + " files have " +
                std::to_string(dims) + " (expected " + want + ")");
  if (bytes.size() < header)
    throw Error("load_idx: " + path + " is truncated: " + std::to_string(bytes.size()) +
                " bytes, shorter than the " + std::to_string(header) + "-byte header of an IDX " + kind + " file");
  std::vector<std::size_t> shape;
  std::size_t expected = header;
  std::size_t count = 1;
  for (int d = 0; d < dims; ++d) {
    shape.push_back(big_endian32(bytes, 4 + 4 * static_cast<std::size_t>(d)));
    count *= shape.back();
  }
  expected += count;
  if (bytes.size() < expected)
    throw Error("load_idx: " + path + " is truncated: its header promises " + shape_str(shape) + " (" +
                std::to_string(expected) + " bytes) but it has " + std::to_string(bytes.size()) + " bytes");
  if (bytes.size() > expected)
    throw Error("load_idx: " + path + " has " + std::to_string(bytes.size() - expected) +
                " bytes beyond the " + shape_str(shape) + " its header describes");
  return shape;
}

}  // namespace

TensorDataset load_idx(const std::string& images_path, const std::string& labels_path) {
  const std::string images = read_maybe_gzipped(images_path);
  const std::string labels = read_maybe_gzipped(labels_path);
  const auto ishape = idx_header(images, images_path, 3, "images");
  const auto lshape = idx_header(labels, labels_path, 1, "labels");
  const std::size_t n = ishape[0], pixels = ishape[1] * ishape[2];
  if (lshape[0] != n)
    throw Error("load_idx: " + images_path + " has " + std::to_string(n) + " images but " + labels_path + " has " +
                std::to_string(lshape[0]) + " labels");
  if (pixels == 0) throw Error("load_idx: " + images_path + ": images of size " + shape_str({ishape[1], ishape[2]}));

  Tensor x = empty({n, pixels}, float32);
  Tensor y = empty({n}, int64);
  float* xp = x.data_ptr<float>();
  const auto* src = reinterpret_cast<const unsigned char*>(images.data() + 16);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n * pixels, 1 << 16),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i < r.end(); ++i) xp[i] = src[i] / 255.0f;
                    });
  std::int64_t* yp = y.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < n; ++i) yp[i] = static_cast<unsigned char>(labels[8 + i]);
  return TensorDataset(x, y);
}

namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

bool parse_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(field.c_str(), &end);
  return end == field.c_str() + field.size() && errno != ERANGE;
}

}  // namespace

TensorDataset load_csv(const std::string& path, std::vector<std::size_t> target_columns) {
  std::ifstream in(path);
  if (!in) throw Error("load_csv: cannot open " + path + ": " + std::strerror(errno));
  std::vector<double> values;  // row-major, all columns
  std::size_t columns = 0, rows = 0, line_no = 0;
  bool first = true;
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto fields = split(line);
    if (first) {
      first = false;
      columns = fields.size();
      for (std::size_t c : target_columns)
        if (c >= columns)
          throw Error("load_csv: " + path + ": target column " + std::to_string(c) + " is out of range (line " +
                      std::to_string(line_no) + " has " + std::to_string(columns) + " columns, numbered from 0)");
      bool numeric = true;
      double v;
      for (const auto& f : fields) numeric = numeric && parse_number(f, v);
      if (!numeric) continue;  // a header line
    }
    if (fields.size() != columns)
      throw Error("load_csv: " + path + " line " + std::to_string(line_no) + ": has " + std::to_string(fields.size()) +
                  " columns, expected " + std::to_string(columns));
    for (std::size_t c = 0; c < fields.size(); ++c) {
      double v;
      if (!parse_number(fields[c], v))
        throw Error("load_csv: " + path + " line " + std::to_string(line_no) + ", column " + std::to_string(c + 1) +
                    ": '" + fields[c] + "' is not a number");
      if (!std::isfinite(v))
        throw Error("load_csv: " + path + " line " + std::to_string(line_no) + ", column " + std::to_string(c + 1) +
                    ": '" + fields[c] + "' is not finite");
      values.push_back(v);
    }
    ++rows;
  }
  if (in.bad()) throw Error("load_csv: cannot read " + path + ": " + std::strerror(errno));
  if (rows == 0) throw Error("load_csv: " + path + " has no data rows");

  std::vector<bool> is_target(columns, false);
  for (std::size_t c : target_columns) {
    if (is_target[c]) throw Error("load_csv: " + path + ": target column " + std::to_string(c) + " is listed twice");
    is_target[c] = true;
  }
  const std::size_t k = target_columns.size(), features = columns - k;
  if (features == 0)
    throw Error("load_csv: " + path + ": all " + std::to_string(columns) + " columns are targets; no inputs remain");

  Tensor x = empty({rows, features}, float32);
  Tensor y = empty({rows, k}, float32);
  float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = values.data() + r * columns;
    std::size_t f = 0;
    for (std::size_t c = 0; c < columns; ++c)
      if (!is_target[c]) xp[r * features + f++] = static_cast<float>(row[c]);
    for (std::size_t j = 0; j < k; ++j) yp[r * k + j] = static_cast<float>(row[target_columns[j]]);
  }
  return TensorDataset(x, y);
}

}  // namespace ag::data
