// The misuse catalogue, files: missing, a directory, /dev/zero, a read-only directory, a full
// disk (a file-size limit), truncated and bit-flipped checkpoints, the wrong architecture or
// element type, a header that overflows, a gzip bomb, and CSV values float32 cannot hold.
#include "misuse.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <autograd/detail/io.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>

using namespace ag;

namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("ag_misuse_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}
std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  return s;
}
std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::string s = be32(0x803) + be32(n) + be32(rows) + be32(cols);
  s.append(static_cast<std::size_t>(n) * rows * cols, '\x07');
  return s;
}
std::string idx_labels(std::uint32_t n) { return be32(0x801) + be32(n) + std::string(n, '\x01'); }

// gzip of `head` followed by `zeros` zero bytes, streamed (the input is never held whole).
std::string gzip(const std::string& head, std::size_t zeros) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out, chunk(1 << 20, '\0');
  std::string buf(1 << 16, '\0');
  auto pump = [&](const char* p, std::size_t n, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(&buf[0]);
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  pump(head.data(), head.size(), Z_NO_FLUSH);
  for (std::size_t left = zeros; left > 0;) {
    const std::size_t n = std::min(left, chunk.size());
    pump(chunk.data(), n, Z_NO_FLUSH);
    left -= n;
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&z);
  return out;
}

// A one-member .npz holding `npy` under `name`, with correct CRCs (so the parser, not the
// checksum, decides).
std::string npz_of(const std::string& name, const std::string& npy) {
  auto put16 = [](std::string& s, unsigned v) { s.push_back(char(v & 0xff)); s.push_back(char(v >> 8)); };
  auto put32 = [](std::string& s, std::uint32_t v) { for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff)); };
  const std::uint32_t crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
  const std::string member = name + ".npy";
  std::string out, central;
  put32(out, 0x04034b50); put16(out, 20); put16(out, 0); put16(out, 0); put16(out, 0); put16(out, 33);
  put32(out, crc); put32(out, npy.size()); put32(out, npy.size()); put16(out, member.size()); put16(out, 0);
  out += member + npy;
  put32(central, 0x02014b50); put16(central, 20); put16(central, 20); put16(central, 0); put16(central, 0);
  put16(central, 0); put16(central, 33); put32(central, crc); put32(central, npy.size()); put32(central, npy.size());
  put16(central, member.size()); put16(central, 0); put16(central, 0); put16(central, 0); put16(central, 0);
  put32(central, 0); put32(central, 0);
  central += member;
  const std::size_t at = out.size();
  out += central;
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0); put16(out, 1); put16(out, 1);
  put32(out, central.size()); put32(out, at); put16(out, 0);
  return out;
}
std::string npy_of(const std::string& descr, const std::string& shape, std::size_t data_bytes) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string s("\x93NUMPY\x01\x00", 8);
  s.push_back(char(header.size() & 0xff));
  s.push_back(char(header.size() >> 8));
  return s + header + std::string(data_bytes, '\0');
}

// Runs f with the process's file-size limit set to `bytes` (a full disk, as far as a writer can
// tell: write fails with EFBIG).
template <class F>
void with_file_limit(rlim_t bytes, F f) {
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = bytes;
  ::setrlimit(RLIMIT_FSIZE, &small);
  f();
  ::setrlimit(RLIMIT_FSIZE, &saved);
}

}  // namespace

TEST_CASE("misuse files: paths that are not checkpoints", "[misuse][files]") {
  TempDir dir;
  nn::Linear lin(3, 2);
  FAILS(lin.load(dir.file("missing.npz")), "Module::load", "cannot open", "missing.npz", "No such file");
  FAILS(lin.load(dir.path()), "Module::load", "is a directory");
  FAILS(lin.load("/dev/zero"), "Module::load", "/dev/zero", "not a regular file");
  FAILS(lin.load("/dev/null"), "Module::load", "not a regular file");
  write_bytes(dir.file("empty.npz"), "");
  FAILS(lin.load(dir.file("empty.npz")), "Module::load", "truncated or not an .npz");
  write_bytes(dir.file("text.npz"), "hello, this is not a zip archive at all");
  FAILS(lin.load(dir.file("text.npz")), "Module::load", "no ZIP end-of-central-directory");
  FAILS(lin.save(dir.path()), "Module::save", "cannot rename");
  FAILS(lin.save(dir.file("no/such/dir/m.npz")), "Module::save", "cannot create", "No such file");
  FAILS(lin.save("/dev/null/m.npz"), "Module::save", "cannot create");
  HOLDS(io::count_temp_files(dir.file("x")) == 0);
  HOLDS(std::filesystem::is_directory(dir.path()));

  const std::string images = idx_images(2, 2, 2), labels = idx_labels(2);
  write_bytes(dir.file("img"), images);
  write_bytes(dir.file("lab"), labels);
  FAILS(data::load_idx(dir.file("nope"), dir.file("lab")), "load_idx", "cannot open", "nope");
  FAILS(data::load_idx(dir.file("img"), dir.file("nope")), "load_idx", "cannot open", "nope");
  FAILS(data::load_idx(dir.path(), dir.file("lab")), "load_idx", "is a directory");
  FAILS(data::load_idx(dir.file("img"), dir.path()), "load_idx", "is a directory");
  FAILS(data::load_idx("/dev/zero", dir.file("lab")), "load_idx", "not a regular file");
  FAILS(data::load_idx(dir.file("img"), "/dev/zero"), "load_idx", "not a regular file");
  FAILS(data::load_csv(dir.file("nope.csv"), {}), "load_csv", "cannot open");
  FAILS(data::load_csv(dir.path(), {}), "load_csv", "is a directory");
  FAILS(data::load_csv("/dev/zero", {}), "load_csv", "not a regular file");
}

TEST_CASE("misuse files: read-only directory and full disk", "[misuse][files]") {
  TempDir dir;
  nn::Linear lin(3, 2), other(3, 2);
  const std::string path = dir.file("m.npz");
  lin.save(path);
  const std::string old = read_bytes(path);

  std::filesystem::create_directory(dir.file("ro"));
  ::chmod(dir.file("ro").c_str(), 0555);
  if (::geteuid() == 0) {  // root writes anywhere: the exact outcome is then a saved file
    HOLDS((other.save(dir.file("ro/m.npz")), std::filesystem::exists(dir.file("ro/m.npz"))));
  } else {
    FAILS(other.save(dir.file("ro/m.npz")), "Module::save", "cannot create", "Permission denied");
  }
  HOLDS(io::count_temp_files(dir.file("ro/m.npz")) == 0);

  with_file_limit(64, [&] { FAILS(other.save(path), "Module::save", "cannot write", "File too large", "is unchanged"); });
  HOLDS(read_bytes(path) == old);
  HOLDS(io::count_temp_files(path) == 0);
  with_file_limit(old.size() - 1, [&] { FAILS(other.save(path), "Module::save", "cannot write"); });
  HOLDS(read_bytes(path) == old);
  HOLDS((lin.load(path), true));
  HOLDS(io::count_temp_files(path) == 0);
}

TEST_CASE("misuse files: every truncation of a checkpoint is an error", "[misuse][files]") {
  TempDir dir;
  nn::Linear lin(2, 1);
  const std::string path = dir.file("m.npz"), cut = dir.file("cut.npz");
  lin.save(path);
  const std::string full = read_bytes(path);
  const std::vector<double> w = lin.weight.to_vector();
  for (std::size_t n = 0; n < full.size(); n += 7) {
    write_bytes(cut, full.substr(0, n));
    nn::Linear other(2, 1);
    FAILS(other.load(cut), "Module::load", "cut.npz");
  }
  write_bytes(cut, full);
  nn::Linear other(2, 1);
  HOLDS((other.load(cut), other.weight.to_vector() == w));
  // A flipped byte anywhere either fails to load or loads exactly the saved values.
  for (std::size_t i = 0; i < full.size(); i += 5) {
    std::string flipped = full;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    write_bytes(cut, flipped);
    nn::Linear victim(2, 1);
    const std::vector<double> before = victim.weight.to_vector();
    bool ag_error = false;
    misuse::outcome_of([&] { victim.load(cut); }, ag_error);
    HOLDS(ag_error ? victim.weight.to_vector() == before : victim.weight.to_vector() == w);
  }
}

TEST_CASE("misuse files: wrong architecture, dtype and shape in a checkpoint", "[misuse][files]") {
  TempDir dir;
  const std::string path = dir.file("m.npz");
  nn::Linear lin(2, 1, false);
  auto load_npy = [&](const std::string& npy) {
    write_bytes(path, npz_of("weight", npy));
    lin.load(path);
  };
  HOLDS((load_npy(npy_of("<f4", "(1, 2)", 8)), lin.weight.to_vector() == std::vector<double>{0, 0}));
  FAILS(load_npy(npy_of(">f4", "(1, 2)", 8)), "Module::load", "unsupported dtype '>f4'");
  FAILS(load_npy(npy_of("<f2", "(1, 2)", 4)), "Module::load", "unsupported dtype '<f2'");
  FAILS(load_npy(npy_of("<f8", "(1, 2)", 16)), "Module::load", "float64", "float32");
  FAILS(load_npy(npy_of("<i8", "(1, 2)", 16)), "Module::load", "int64");
  FAILS(load_npy(npy_of("<f4", "(2, 1)", 8)), "Module::load", "{2, 1}", "{1, 2}");
  FAILS(load_npy(npy_of("<f4", "(1, 2)", 4)), "Module::load", "data bytes");
  FAILS(load_npy(npy_of("<f4", "(4294967296, 4294967296)", 8)), "Module::load", "too many elements");
  FAILS(load_npy(npy_of("<f4", "(4611686018427387904, 4)", 8)), "Module::load", "too many elements");
  FAILS(load_npy(npy_of("<f4", "(-1, 2)", 8)), "Module::load", "too large");
  FAILS(load_npy(npy_of("<f4", "(99999999999999999999999, 2)", 8)), "Module::load", "too large");
  FAILS(load_npy(npy_of("<f4", "(1, x)", 8)), "Module::load", "malformed shape");
  std::string fortran = npy_of("<f4", "(1, 2)", 8);
  fortran.replace(fortran.find("False"), 5, "True ");
  FAILS(load_npy(fortran), "Module::load", "Fortran");
  write_bytes(path, npz_of("bias", npy_of("<f4", "(1,)", 4)));
  FAILS(lin.load(path), "Module::load", "no entry 'weight.npy'");
  // A parameter name past ZIP's 16-bit name length.
  struct Long : nn::Module {
    Long() { register_parameter(std::string(70000, 'w'), zeros({1})); }
  } long_names;
  FAILS(long_names.save(dir.file("long.npz")), "Module::save", "70000 bytes", "65531");
  HOLDS(!std::filesystem::exists(dir.file("long.npz")));
  HOLDS(io::count_temp_files(dir.file("long.npz")) == 0);
}

TEST_CASE("misuse files: IDX headers that lie, wrong element types, gzip bombs", "[misuse][files]") {
  TempDir dir;
  const std::string img = dir.file("img"), lab = dir.file("lab");
  write_bytes(lab, idx_labels(4));
  // The 28-byte pair: dimensions multiplying past 2^64 (4 x 2^31 x 2^31 = 2^64).
  write_bytes(img, be32(0x803) + be32(4) + be32(1u << 31) + be32(1u << 31));
  FAILS(data::load_idx(img, lab), "load_idx", "{4, 2147483648, 2147483648}");
  write_bytes(img, be32(0x803) + be32(0xffffffff) + be32(0xffffffff) + be32(0xffffffff));
  FAILS(data::load_idx(img, lab), "load_idx", "more elements than any file can hold");
  write_bytes(img, be32(0x803) + be32(1u << 30) + be32(1u << 15) + be32(1u << 15));
  FAILS(data::load_idx(img, lab), "load_idx", "truncated", "promises");
  write_bytes(img, idx_images(4, 2, 2));
  HOLDS(data::load_idx(img, lab).size() == 4);
  write_bytes(lab, be32(0x801) + be32(0xffffffff));
  FAILS(data::load_idx(img, lab), "load_idx", "truncated");
  write_bytes(lab, idx_labels(4));
  std::string floats = idx_images(4, 2, 2);
  floats[2] = 0x0D;
  write_bytes(img, floats);
  FAILS(data::load_idx(img, lab), "load_idx", "element type 13", "unsigned bytes");
  std::string dims = idx_images(4, 2, 2);
  dims[3] = 2;
  write_bytes(img, dims);
  FAILS(data::load_idx(img, lab), "load_idx", "2 dimensions");
  write_bytes(img, idx_images(4, 0, 2));
  FAILS(data::load_idx(img, lab), "load_idx", "images of size");
  write_bytes(img, idx_images(0, 2, 2));
  write_bytes(lab, idx_labels(0));
  HOLDS(data::load_idx(img, lab).size() == 0);
  write_bytes(lab, idx_labels(4));

  // gzip bombs: 1 GiB of zeros in about 1 MiB. After a valid header the reader inflates only
  // the size the header claims, plus one byte to see that more follows.
  write_bytes(img, gzip(be32(0x803) + be32(4) + be32(2) + be32(2), std::size_t(1) << 30));
  HOLDS(std::filesystem::file_size(img) < (std::size_t(2) << 20));
  FAILS(data::load_idx(img, lab), "load_idx", "inflates to more than the 32 bytes");
  write_bytes(img, gzip(std::string(), std::size_t(64) << 20));  // zeros only: not IDX
  FAILS(data::load_idx(img, lab), "load_idx", "element type 0");
  write_bytes(img, gzip(be32(0x803) + be32(1u << 30) + be32(1u << 15) + be32(1u << 15), 1 << 20));
  FAILS(data::load_idx(img, lab), "load_idx", "truncated", "inflates to");
  const std::string good = gzip(idx_images(4, 2, 2), 0);
  write_bytes(img, good);
  HOLDS(data::load_idx(img, lab).size() == 4);
  write_bytes(img, good.substr(0, good.size() - 6));
  FAILS(data::load_idx(img, lab), "load_idx", "truncated");
  write_bytes(img, good + "junk");
  FAILS(data::load_idx(img, lab), "load_idx", "unexpected bytes after the gzip data");
  std::string corrupt = good;
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0xff);
  write_bytes(img, corrupt);
  FAILS(data::load_idx(img, lab), "load_idx");
}

TEST_CASE("misuse files: CSV values float32 cannot hold", "[misuse][files]") {
  TempDir dir;
  const std::string path = dir.file("d.csv");
  auto csv = [&](const std::string& text) {
    write_bytes(path, text);
    return data::load_csv(path, {1});
  };
  FAILS(csv("1e39,1\n"), "load_csv", "line 1, column 1", "'1e39'", "float32 range");
  FAILS(csv("a,b\n2,1\n-1e39,0\n"), "load_csv", "line 3", "float32 range");
  FAILS(csv("1e400,1\n"), "load_csv", "line 1", "'1e400'", "not finite");
  FAILS(csv("inf,1\n"), "load_csv", "not finite");
  FAILS(csv("nan,1\n"), "load_csv", "not finite");
  FAILS(csv("1,-inf\n"), "load_csv", "column 2", "not finite");
  FAILS(csv("1,2\n3,x\n"), "load_csv", "line 2", "not a number");
  FAILS(csv("1,2\n3\n"), "load_csv", "line 2", "expected 2");
  FAILS(csv(""), "load_csv", "no data rows");
  FAILS(csv("a,b\n"), "load_csv", "no data rows");
  FAILS(csv("1\n"), "load_csv", "target column 1 is out of range");
  // A first row of tiny or subnormal values is data, not a header.
  GIVES(csv("1e-320,5\n2,6\n").inputs(), (Shape{2, 1}), {0, 2});
  GIVES(csv("1e-40,5\n").inputs(), (Shape{1, 1}), {1e-40}, 1e-3);
  GIVES(csv("3.4028234e38,5\n").inputs(), (Shape{1, 1}), {3.4028234e38});
  GIVES(csv("x,y\n1,2\n").targets(), (Shape{1, 1}), {2});
  GIVES(csv("0x10,1\n").inputs(), (Shape{1, 1}), {16});
}
