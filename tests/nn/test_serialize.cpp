#include "helpers.hpp"

#include <sys/resource.h>

#include <csignal>

#include <autograd/detail/io.hpp>
#include <nn/nn.hpp>

using namespace ag;
using Catch::Matchers::Contains;

namespace {

std::vector<std::vector<double>> values_of(const nn::Module& m) {
  std::vector<std::vector<double>> out;
  for (const auto& p : m.parameters()) out.push_back(p.to_vector());
  return out;
}

// Raw bytes of every parameter: the round trip must be bit-exact, NaN payloads and -0 included.
std::vector<std::string> bytes_of(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& p : m.parameters()) {
    const char* data = p.dtype() == float32 ? reinterpret_cast<const char*>(p.data_ptr<float>())
                                            : reinterpret_cast<const char*>(p.data_ptr<double>());
    out.emplace_back(data, p.numel() * dtype_size(p.dtype()));
  }
  return out;
}

}  // namespace

TEST_CASE("save/load round trip is bit-exact", "[nn][serialize]") {
  testing::TempDir dir;
  const std::string path = dir.file("model.npz");
  manual_seed(1);
  auto a = nn::mlp({5, 7, 3});
  {
    NoGradGuard no_grad;  // awkward values must survive too
    float* w = std::dynamic_pointer_cast<nn::Linear>((*a)[0])->weight.data_ptr<float>();
    w[0] = -0.0f;
    w[1] = 1e-40f;  // subnormal
    w[2] = std::numeric_limits<float>::max();
  }
  a->save(path);
  manual_seed(2);
  auto b = nn::mlp({5, 7, 3});
  REQUIRE(bytes_of(*a) != bytes_of(*b));
  const auto version = b->parameters()[0].version();
  b->load(path);
  REQUIRE(bytes_of(*a) == bytes_of(*b));
  REQUIRE(b->parameters()[0].version() > version);  // load bumps version counters

  // float64 parameters too, and saving twice gives the same bytes.
  a->to(float64);
  b->to(float64);
  a->save(path);
  const std::string first = testing::read_bytes(path);
  a->save(path);
  REQUIRE(testing::read_bytes(path) == first);
  b->load(path);
  REQUIRE(values_of(*a) == values_of(*b));
  REQUIRE(bytes_of(*a) == bytes_of(*b));
}

TEST_CASE("the file is a stored ZIP of .npy members named after the parameters", "[nn][serialize]") {
  testing::TempDir dir;
  const std::string path = dir.file("lin.npz");
  nn::Linear lin(3, 2);
  lin.save(path);
  const std::string bytes = testing::read_bytes(path);
  REQUIRE(bytes.compare(0, 4, "PK\x03\x04") == 0);
  REQUIRE(bytes.find("weight.npy") != std::string::npos);
  REQUIRE(bytes.find("bias.npy") != std::string::npos);
  REQUIRE(bytes.find("\x93NUMPY") != std::string::npos);
  REQUIRE(bytes.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") != std::string::npos);
  REQUIRE(bytes.find("'shape': (2,), }") != std::string::npos);
  // Every NPY header is padded so the data starts on a 64-byte boundary of the member.
  const auto npy = bytes.find("\x93NUMPY");
  const std::size_t header_len = static_cast<unsigned char>(bytes[npy + 8]) |
                                 (static_cast<unsigned char>(bytes[npy + 9]) << 8);
  REQUIRE((10 + header_len) % 64 == 0);
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  REQUIRE(files == 1);
}

TEST_CASE("a failed save leaves the old file intact", "[nn][serialize]") {
  testing::TempDir dir;
  const std::string path = dir.file("model.npz");
  nn::Linear lin(3, 2);
  lin.save(path);
  const std::string old = testing::read_bytes(path);

  nn::Linear other(3, 2);
  // A file-size limit below the archive's size makes the write fail part-way (EFBIG).
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 64;
  ::setrlimit(RLIMIT_FSIZE, &small);
  REQUIRE_THROWS_WITH(other.save(path), Contains("cannot write") && Contains(path + ".tmp."));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  REQUIRE(testing::read_bytes(path) == old);
  REQUIRE(io::count_temp_files(path) == 0);

  REQUIRE_THROWS_WITH(other.save(dir.file("missing/dir/model.npz")), Contains("missing/dir/model.npz.tmp."));
  REQUIRE_FALSE(std::filesystem::exists(dir.file("missing")));

  other.save(path);
  REQUIRE(testing::read_bytes(path) != old);
  lin.load(path);
  REQUIRE(values_of(lin) == values_of(other));
}

TEST_CASE("load rejects corrupt and truncated files, naming file and entry", "[nn][serialize]") {
  testing::TempDir dir;
  const std::string path = dir.file("model.npz");
  auto net = nn::mlp({4, 3, 2});
  net->save(path);
  const std::string good = testing::read_bytes(path);
  auto target = nn::mlp({4, 3, 2});
  const auto before = values_of(*target);

  SECTION("a flipped data byte fails the CRC") {
    std::string bad = good;
    const auto member = bad.find("0.bias.npy");
    const auto data = bad.find("\x93NUMPY", member) + 128;  // inside the first member's values
    bad[data] = static_cast<char>(bad[data] ^ 0x10);
    testing::write_bytes(path, bad);
    REQUIRE_THROWS_WITH(target->load(path), Contains(path) && Contains("CRC-32 mismatch"));
  }
  SECTION("a flipped byte in the entry's data names the entry") {
    std::string bad = good;
    const auto member = bad.find("2.weight.npy");
    bad[member + 12 + 130] = static_cast<char>(bad[member + 12 + 130] ^ 0x01);
    testing::write_bytes(path, bad);
    REQUIRE_THROWS_WITH(target->load(path), Contains("'2.weight.npy'") && Contains("CRC-32 mismatch"));
  }
  SECTION("truncated") {
    for (std::size_t keep : {good.size() - 1, good.size() / 2, std::size_t{10}, std::size_t{0}}) {
      INFO("kept " << keep << " bytes");
      testing::write_bytes(path, good.substr(0, keep));
      REQUIRE_THROWS_WITH(target->load(path), Contains(path) && Contains("truncated"));
    }
  }
  SECTION("not a zip at all") {
    testing::write_bytes(path, std::string(200, 'x'));
    REQUIRE_THROWS_WITH(target->load(path), Contains("not an .npz"));
  }
  SECTION("missing file") {
    REQUIRE_THROWS_WITH(target->load(dir.file("nope.npz")), Contains("cannot open") && Contains("nope.npz"));
  }
  // Nothing was changed by a failed load.
  REQUIRE(values_of(*target) == before);
}

TEST_CASE("load rejects files that do not match the module", "[nn][serialize]") {
  testing::TempDir dir;
  const std::string path = dir.file("model.npz");
  nn::mlp({4, 3, 2})->save(path);

  auto wider = nn::mlp({4, 5, 2});
  const auto before = values_of(*wider);
  REQUIRE_THROWS_WITH(wider->load(path), Contains("entry '0.weight.npy' is {3, 4} float32") &&
                                             Contains("parameter '0.weight' is {5, 4} float32"));
  REQUIRE(values_of(*wider) == before);

  auto deeper = nn::mlp({4, 3, 2, 2});
  REQUIRE_THROWS_WITH(deeper->load(path), Contains("no entry '4.weight.npy'"));

  auto shallower = nn::mlp({4, 3});
  REQUIRE_THROWS_WITH(shallower->load(path), Contains("entry '2.weight.npy'") && Contains("matches no parameter"));

  auto doubles = nn::mlp({4, 3, 2});
  doubles->to(float64);
  REQUIRE_THROWS_WITH(doubles->load(path), Contains("is {3, 4} float32") && Contains("is {3, 4} float64"));

  nn::Linear no_bias(4, 3, false);
  nn::Linear with_bias(4, 3);
  with_bias.save(path);
  REQUIRE_THROWS_WITH(no_bias.load(path), Contains("'bias.npy'") && Contains("matches no parameter"));
}
