// Readers for IDX (MNIST, Fashion-MNIST) and numeric CSV files.
#include <data/data.hpp>

#include <autograd/detail/checked.hpp>
#include <autograd/detail/io.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ag::data {

namespace {

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates gzip data a piece at a time, never past a cap: load_idx first inflates the header,
// learns from it how many bytes the file must hold, and inflates exactly that many (a gzip bomb,
// or a header that claims more than the data has, stops there with an error).
class Gunzip {
 public:
  Gunzip(const std::string& in, const std::string& path) : in_(in), path_(path) {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw Error("load_idx: " + path + ": zlib cannot start");
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = 0;
  }
  ~Gunzip() { inflateEnd(&z_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  // Appends to `out` until it holds `want` bytes or the data ends; returns whether it ended.
  bool inflate_to(std::string& out, std::size_t want) {
    constexpr std::size_t kChunk = std::size_t(1) << 22;
    while (out.size() < want && !ended_) {
      const std::size_t have = out.size(), step = std::min(kChunk, want - have);
      grow(out, have + step);
      z_.next_out = reinterpret_cast<Bytef*>(&out[have]);
      z_.avail_out = static_cast<uInt>(step);
      refill();
      const int rc = inflate(&z_, Z_NO_FLUSH);
      out.resize(have + (step - z_.avail_out));
      if (rc == Z_STREAM_END) next_member();
      else if (rc == Z_BUF_ERROR && z_.avail_in == 0 && used_ == in_.size())
        throw Error("load_idx: " + path_ + ": the gzip data is truncated");
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        throw Error("load_idx: " + path_ + ": " + (z_.msg ? z_.msg : "zlib error") +
                    ": the gzip data is corrupt");
    }
    return ended_;
  }

 private:
  void grow(std::string& out, std::size_t n) {
    try {
      out.resize(n);
    } catch (const std::bad_alloc&) {
      throw Error("load_idx: out of memory inflating " + path_ + " (" + std::to_string(n) + " bytes)");
    }
  }
  void refill() {  // zlib counts input in 32-bit units
    if (z_.avail_in == 0 && used_ < in_.size()) {
      const std::size_t n = std::min<std::size_t>(in_.size() - used_, 1u << 30);
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data() + used_));
      z_.avail_in = static_cast<uInt>(n);
      used_ += n;
    }
  }
  // A gzip file may hold several members back to back (what `cat a.gz b.gz` makes).
  void next_member() {
    refill();
    if (z_.avail_in == 0) {
      ended_ = true;
      return;
    }
    if (z_.avail_in < 2 || z_.next_in[0] != 0x1f || z_.next_in[1] != 0x8b)
      throw Error("load_idx: " + path_ + ": unexpected bytes after the gzip data");
    inflateReset(&z_);
  }

  const std::string& in_;
  const std::string& path_;
  z_stream z_{};
  std::size_t used_ = 0;
  bool ended_ = false;
};

std::uint32_t big_endian32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Checks the magic number of an IDX file of unsigned bytes with `dims` dimensions, and that
// `bytes` holds its whole header.
void check_magic(const std::string& bytes, const std::string& path, int dims, const char* kind) {
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
}

// The dimensions an IDX header claims, and the file size they imply (checked: dimensions of
// 2^32 - 1 multiply past 2^64).
std::vector<std::size_t> claimed_shape(const std::string& bytes, const std::string& path, int dims,
                                       std::size_t& expected) {
  std::vector<std::size_t> shape;
  for (int d = 0; d < dims; ++d) shape.push_back(big_endian32(bytes, 4 + 4 * static_cast<std::size_t>(d)));
  std::size_t count = 0;
  try {
    count = checked_numel("load_idx", shape);
  } catch (const Error&) {
    throw Error("load_idx: " + path + ": header claims " + shape_str(shape) +
                ", more elements than any file can hold");
  }
  expected = checked_add("load_idx", 4 + 4 * static_cast<std::size_t>(dims), count, "the IDX file size");
  return shape;
}

// The IDX file's bytes (inflated when gzip) after checking them against the header: the
// header is read first, and no more than the size it claims is ever inflated or allocated.
std::string read_idx(const std::string& path, int dims, const char* kind, std::vector<std::size_t>& shape) {
  std::string raw = io::read_file("load_idx", path);
  std::size_t expected = 0;
  if (!is_gzip(raw)) {
    check_magic(raw, path, dims, kind);
    shape = claimed_shape(raw, path, dims, expected);
    if (raw.size() < expected)
      throw Error("load_idx: " + path + " is truncated: its header promises " + shape_str(shape) + " (" +
                  std::to_string(expected) + " bytes) but it has " + std::to_string(raw.size()) + " bytes");
    if (raw.size() > expected)
      throw Error("load_idx: " + path + " has " + std::to_string(raw.size() - expected) +
                  " bytes beyond the " + shape_str(shape) + " its header describes");
    return raw;
  }
  Gunzip z(raw, path);
  std::string out;
  z.inflate_to(out, 4 + 4 * static_cast<std::size_t>(dims));
  check_magic(out, path, dims, kind);
  shape = claimed_shape(out, path, dims, expected);
  const bool ended = z.inflate_to(out, expected);
  if (out.size() < expected)
    throw Error("load_idx: " + path + " is truncated: its header promises " + shape_str(shape) + " (" +
                std::to_string(expected) + " bytes) but it inflates to " + std::to_string(out.size()) + " bytes");
  if (!ended) {
    std::string extra;
    z.inflate_to(extra, 1);
    if (!extra.empty())
      throw Error("load_idx: " + path + " inflates to more than the " + std::to_string(expected) +
                  " bytes its header " + shape_str(shape) + " describes");
  }
  return out;
}

}  // namespace

TensorDataset load_idx(const std::string& images_path, const std::string& labels_path) {
  std::vector<std::size_t> ishape, lshape;
  const std::string images = read_idx(images_path, 3, "images", ishape);
  const std::string labels = read_idx(labels_path, 1, "labels", lshape);
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

// A field is a number when strtod reads all of it; whether that number is usable is separate,
// so that a first row of 1e39 or 1e-320 is data with an error, never silently a header.
bool is_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(field.c_str(), &end);
  return end == field.c_str() + field.size();
}

// Values become float32: a finite double beyond float32's range (1e39) would become inf.
// Values too small for float32 round to 0 or a subnormal, as NumPy's float32 conversion does.
void check_value(const std::string& field, double v, const std::string& where) {
  if (!std::isfinite(v))
    throw Error("load_csv: " + where + ": '" + field + "' is not finite");
  if (std::fabs(v) > static_cast<double>(FLT_MAX))
    throw Error("load_csv: " + where + ": '" + field + "' is out of float32 range (|x| <= 3.4028235e38)");
}

struct CsvTable {
  std::vector<double> values;  // row-major, all columns
  std::size_t columns = 0, rows = 0;
};

// Parses one non-empty line into the table; the first line may be a header (skipped).
void parse_csv_line(const std::string& line, std::size_t line_no, const std::string& path,
                    const std::vector<std::size_t>& target_columns, CsvTable& t, bool first) {
  const auto fields = split(line);
  if (first) {
    t.columns = fields.size();
    for (std::size_t c : target_columns)
      if (c >= t.columns)
        throw Error("load_csv: " + path + ": target column " + std::to_string(c) + " is out of range (line " +
                    std::to_string(line_no) + " has " + std::to_string(t.columns) + " columns, numbered from 0)");
    bool numeric = true;
    double v;
    for (const auto& f : fields) numeric = numeric && is_number(f, v);
    if (!numeric) return;  // a header line
  }
  if (fields.size() != t.columns)
    throw Error("load_csv: " + path + " line " + std::to_string(line_no) + ": has " + std::to_string(fields.size()) +
                " columns, expected " + std::to_string(t.columns));
  for (std::size_t c = 0; c < fields.size(); ++c) {
    const std::string where = path + " line " + std::to_string(line_no) + ", column " + std::to_string(c + 1);
    double v;
    if (!is_number(fields[c], v)) throw Error("load_csv: " + where + ": '" + fields[c] + "' is not a number");
    check_value(fields[c], v, where);
    t.values.push_back(v);
  }
  ++t.rows;
}

}  // namespace

TensorDataset load_csv(const std::string& path, std::vector<std::size_t> target_columns) {
  const std::string text = io::read_file("load_csv", path);
  CsvTable table;
  std::size_t line_no = 0, at = 0;
  bool first = true;
  while (at < text.size()) {
    const std::size_t nl = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    parse_csv_line(line, line_no, path, target_columns, table, first);
    first = false;
  }
  const std::size_t rows = table.rows, columns = table.columns;
  const std::vector<double>& values = table.values;
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
