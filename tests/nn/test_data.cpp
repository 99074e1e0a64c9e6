#include "helpers.hpp"

#include <zlib.h>

#include <algorithm>
#include <set>

#include <data/data.hpp>

using namespace ag;
using Catch::Matchers::Contains;

namespace {

// A dataset whose row i holds i in every column, so a batch tells which samples it carries.
data::TensorDataset numbered(std::size_t n, std::size_t width = 3) {
  std::vector<double> x(n * width), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < width; ++j) x[i * width + j] = static_cast<double>(i);
    y[i] = static_cast<double>(i);
  }
  return data::TensorDataset(tensor(x, {n, width}), tensor(y, {n}, int64));
}

// The sample ids of one pass, checking that inputs and targets stayed paired.
std::vector<std::vector<std::int64_t>> pass(data::DataLoader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  for (const data::Batch& b : loader) {
    const auto x = b.inputs.to_vector();
    const auto y = b.targets.to_vector();
    const std::size_t width = b.inputs.size(1);
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < y.size(); ++i) {
      for (std::size_t j = 0; j < width; ++j) REQUIRE(x[i * width + j] == y[i]);
      ids.push_back(static_cast<std::int64_t>(y[i]));
    }
    REQUIRE(b.targets.dtype() == int64);
    out.push_back(ids);
  }
  return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& batches) {
  std::vector<std::int64_t> out;
  for (auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// IDX images {n, rows, cols} with pixel (i, p) = (i * 7 + p) % 256, and labels i % 10.
std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::string s = be32(0x803) + be32(n) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < rows * cols; ++p) s.push_back(static_cast<char>((i * 7 + p) % 256));
  return s;
}
std::string idx_labels(std::uint32_t n) {
  std::string s = be32(0x801) + be32(n);
  for (std::uint32_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 10));
  return s;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

void check_idx(const data::TensorDataset& ds, std::size_t n, std::size_t pixels) {
  REQUIRE(ds.size() == n);
  REQUIRE(ds.inputs().shape() == Shape{n, pixels});
  REQUIRE(ds.inputs().dtype() == float32);
  REQUIRE(ds.targets().shape() == Shape{n});
  REQUIRE(ds.targets().dtype() == int64);
  const auto x = ds.inputs().to_vector();
  const auto y = ds.targets().to_vector();
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(y[i] == static_cast<double>(i % 10));
    for (std::size_t p = 0; p < pixels; ++p)
      REQUIRE(x[i * pixels + p] == Approx(((i * 7 + p) % 256) / 255.0).epsilon(1e-6));
  }
}

}  // namespace

TEST_CASE("TensorDataset pairs rows", "[data]") {
  const auto ds = numbered(5);
  REQUIRE(ds.size() == 5);
  REQUIRE_THROWS_WITH(data::TensorDataset(zeros({5, 2}), zeros({4})), Contains("{5, 2}") && Contains("{4}"));
  REQUIRE_THROWS_WITH(data::TensorDataset(scalar(1), scalar(1)), Contains("rows"));
}

TEST_CASE("DataLoader visits every sample exactly once per epoch", "[data]") {
  const auto ds = numbered(10);
  SECTION("in order without shuffling, with a last partial batch") {
    data::DataLoader loader(ds, 4, false);
    REQUIRE(loader.num_batches() == 3);
    const auto batches = pass(loader);
    REQUIRE(batches == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
  }
  SECTION("drop_last drops the partial batch") {
    data::DataLoader loader(ds, 4, false, true);
    REQUIRE(loader.num_batches() == 2);
    REQUIRE(pass(loader).size() == 2);
    data::DataLoader exact(ds, 5, true, true);
    REQUIRE(exact.num_batches() == 2);
    REQUIRE(flat(pass(exact)).size() == 10);
  }
  SECTION("shuffled: a permutation each epoch, different epochs, repeatable under a seed") {
    data::DataLoader loader(ds, 3);
    REQUIRE(loader.num_batches() == 4);
    manual_seed(42);
    std::vector<std::vector<std::int64_t>> epochs;
    for (int e = 0; e < 4; ++e) {
      const auto batches = pass(loader);
      REQUIRE(batches.size() == 4);
      REQUIRE(batches.back().size() == 1);
      auto ids = flat(batches);
      epochs.push_back(ids);
      std::sort(ids.begin(), ids.end());
      REQUIRE(ids == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    }
    REQUIRE(epochs[0] != epochs[1]);
    REQUIRE(epochs[1] != epochs[2]);
    REQUIRE(epochs[0] != std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

    manual_seed(42);
    for (int e = 0; e < 4; ++e) REQUIRE(flat(pass(loader)) == epochs[e]);
  }
  REQUIRE_THROWS_WITH(data::DataLoader(ds, 0), Contains("batch_size"));
}

TEST_CASE("DataLoader assembles large batches (parallel path) correctly", "[data]") {
  const auto ds = numbered(3000, 257);  // 3000 x 257 floats: ~3 MiB per full batch
  data::DataLoader loader(ds, 2048);
  manual_seed(9);
  const auto batches = pass(loader);
  REQUIRE(batches.size() == 2);
  REQUIRE(batches[0].size() == 2048);
  auto ids = flat(batches);
  std::sort(ids.begin(), ids.end());
  for (std::size_t i = 0; i < ids.size(); ++i) REQUIRE(ids[i] == static_cast<std::int64_t>(i));
}

TEST_CASE("load_idx reads plain and gzipped IDX files", "[data]") {
  testing::TempDir dir;
  const std::string images = idx_images(12, 4, 5), labels = idx_labels(12);
  testing::write_bytes(dir.file("img"), images);
  testing::write_bytes(dir.file("lab"), labels);
  write_gz(dir.file("img.gz"), images);
  write_gz(dir.file("lab.gz"), labels);
  check_idx(data::load_idx(dir.file("img"), dir.file("lab")), 12, 20);
  check_idx(data::load_idx(dir.file("img.gz"), dir.file("lab.gz")), 12, 20);
  check_idx(data::load_idx(dir.file("img.gz"), dir.file("lab")), 12, 20);
}

TEST_CASE("load_idx rejects truncated and malformed files, naming the file", "[data]") {
  testing::TempDir dir;
  const std::string images = idx_images(6, 3, 3), labels = idx_labels(6);
  const std::string img = dir.file("img"), lab = dir.file("lab");
  testing::write_bytes(lab, labels);

  testing::write_bytes(img, images.substr(0, images.size() - 4));
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains(img) && Contains("truncated") && Contains("{6, 3, 3}"));
  testing::write_bytes(img, images.substr(0, 10));
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains(img) && Contains("truncated"));
  testing::write_bytes(img, images + "xx");
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains("2 bytes beyond"));

  // A gzip stream cut short.
  write_gz(dir.file("full.gz"), images);
  const std::string gz = testing::read_bytes(dir.file("full.gz"));
  testing::write_bytes(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  REQUIRE_THROWS_WITH(data::load_idx(dir.file("cut.gz"), lab), Contains("cut.gz") && Contains("truncated"));

  // Swapped files: the magic numbers say which is which.
  testing::write_bytes(img, images);
  REQUIRE_THROWS_WITH(data::load_idx(lab, img), Contains(lab) && Contains("0x00000801") && Contains("0x00000803"));
  std::string bad_type = images;
  bad_type[2] = 0x0D;  // float elements
  testing::write_bytes(img, bad_type);
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains("unsigned bytes"));
  std::string not_idx = images;
  not_idx[0] = 'P';
  testing::write_bytes(img, not_idx);
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains("is not IDX"));

  testing::write_bytes(img, images);
  testing::write_bytes(lab, idx_labels(5));
  REQUIRE_THROWS_WITH(data::load_idx(img, lab), Contains("6 images") && Contains("5 labels"));
  REQUIRE_THROWS_WITH(data::load_idx(dir.file("missing"), lab), Contains("cannot open") && Contains("missing"));
}

TEST_CASE("load_csv reads numeric CSV with or without a header", "[data]") {
  testing::TempDir dir;
  const std::string path = dir.file("d.csv");
  testing::write_bytes(path, "width, length, label\n1.5,2,0\r\n\n3,4.25,1\n-1e-1,5,2\n");
  auto ds = data::load_csv(path, {2});
  REQUIRE(ds.size() == 3);
  REQUIRE(ds.inputs().shape() == Shape{3, 2});
  REQUIRE(ds.inputs().dtype() == float32);
  REQUIRE(ds.targets().shape() == Shape{3, 1});
  testing::require_close(ds.inputs(), {1.5, 2, 3, 4.25, -0.1, 5}, 1e-6);
  REQUIRE(ds.targets().to_vector() == std::vector<double>{0, 1, 2});

  testing::write_bytes(path, "1,2,3,4\n5,6,7,8\n");
  ds = data::load_csv(path, {3, 0});  // targets in the order given; inputs keep file order
  REQUIRE(ds.size() == 2);
  REQUIRE(ds.inputs().to_vector() == std::vector<double>{2, 3, 6, 7});
  REQUIRE(ds.targets().to_vector() == std::vector<double>{4, 1, 8, 5});

  ds = data::load_csv(path, {});
  REQUIRE(ds.inputs().shape() == Shape{2, 4});
  REQUIRE(ds.targets().shape() == Shape{2, 0});
}

TEST_CASE("load_csv errors name the file, line and column", "[data]") {
  testing::TempDir dir;
  const std::string path = dir.file("bad.csv");
  testing::write_bytes(path, "a,b,c\n1,2,3\n4,x5,6\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {2}), Contains(path) && Contains("line 3, column 2") && Contains("'x5'"));
  testing::write_bytes(path, "1,2,3\n4,5\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {2}), Contains("line 2") && Contains("2 columns, expected 3"));
  testing::write_bytes(path, "1,2,3\n4,,6\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {2}), Contains("line 2, column 2"));
  testing::write_bytes(path, "1,2,3\n4,inf,6\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {2}), Contains("line 2, column 2") && Contains("not finite"));
  testing::write_bytes(path, "1,2,3\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {3}), Contains("target column 3") && Contains("3 columns"));
  REQUIRE_THROWS_WITH(data::load_csv(path, {1, 1}), Contains("listed twice"));
  REQUIRE_THROWS_WITH(data::load_csv(path, {0, 1, 2}), Contains("no inputs"));
  testing::write_bytes(path, "x,y\n");
  REQUIRE_THROWS_WITH(data::load_csv(path, {1}), Contains("no data rows"));
  testing::write_bytes(path, "");
  REQUIRE_THROWS_WITH(data::load_csv(path, {}), Contains("no data rows"));
  REQUIRE_THROWS_WITH(data::load_csv(dir.file("none.csv"), {0}), Contains("cannot open") && Contains("none.csv"));
}
