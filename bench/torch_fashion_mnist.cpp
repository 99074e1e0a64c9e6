// LibTorch's version of examples/fashion_mnist (the README's headline demo), for comparing test
// accuracy over the same seeds: a 784-100-10 network with sigmoid hidden units, LibTorch's default
// Linear init, cross-entropy, plain SGD (lr 0.1), batch 32, a fresh shuffle each epoch (the last
// batch smaller), pixels scaled to [0, 1]. Built only where Debian's libtorch-dev is installed;
// bench/demo_accuracy.sh runs it next to the ag demo.
//
// Run: torch_fashion_mnist [--epochs 5] [--batch 32] [--lr 0.1] [--seed 0] [--threads 1]
//                          [--data /usr/share/datasets/fashion-mnist]
// The last line printed is "test accuracy: 0.XXXX", as the ag demo's.
#include <torch/torch.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

// torch::set_num_threads bounds ATen's pool, not OpenBLAS's threads (LibTorch's GEMMs on Debian).
extern "C" void openblas_set_num_threads(int);

namespace {

struct Settings {
  int epochs = 5;
  std::int64_t batch = 32;
  double lr = 0.1;
  std::uint64_t seed = 0;
  int threads = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") s.epochs = std::stoi(value);
    else if (flag == "--batch") s.batch = std::stoll(value);
    else if (flag == "--lr") s.lr = std::stod(value);
    else if (flag == "--seed") s.seed = std::stoull(value);
    else if (flag == "--threads") s.threads = std::stoi(value);
    else if (flag == "--data") s.data = value;
    else throw std::runtime_error("unknown flag " + flag);
  }
  if (argc % 2 == 0)
    throw std::runtime_error(std::string("flag without a value: ") + argv[argc - 1]);
  return s;
}

// The whole of a gzip-compressed file.
std::vector<unsigned char> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  int n;
  while ((n = gzread(f, chunk, sizeof chunk)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  gzclose(f);
  if (n < 0) throw std::runtime_error("cannot read " + path);
  return bytes;
}

std::uint32_t big_endian(const std::vector<unsigned char>& b, std::size_t at) {
  return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 |
         std::uint32_t(b[at + 2]) << 8 | std::uint32_t(b[at + 3]);
}

// IDX images (magic 2051) as float32 {N, rows * cols} / 255, and labels (2049) as int64 {N}.
std::pair<torch::Tensor, torch::Tensor> load(const std::string& dir, const std::string& prefix) {
  std::vector<unsigned char> img = read_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz");
  std::vector<unsigned char> lab = read_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  if (img.size() < 16 || lab.size() < 8 || big_endian(img, 0) != 2051 || big_endian(lab, 0) != 2049)
    throw std::runtime_error("not IDX image and label files: " + dir + "/" + prefix);
  std::int64_t n = big_endian(img, 4);
  std::int64_t pixels = std::int64_t(big_endian(img, 8)) * big_endian(img, 12);
  if (std::int64_t(big_endian(lab, 4)) != n || img.size() != std::size_t(16 + n * pixels) ||
      lab.size() != std::size_t(8 + n))
    throw std::runtime_error("IDX sizes disagree in " + dir + "/" + prefix);
  torch::Tensor x =
      torch::from_blob(img.data() + 16, {n, pixels}, torch::kUInt8).to(torch::kFloat) / 255.0;
  torch::Tensor y = torch::from_blob(lab.data() + 8, {n}, torch::kUInt8).to(torch::kLong);
  return {x, y};
}

double accuracy(torch::nn::Sequential& model, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  return model->forward(x).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
}

}  // namespace

int main(int argc, char** argv) try {
  Settings s = parse(argc, argv);
  torch::set_num_threads(s.threads);
  openblas_set_num_threads(s.threads);
  auto [train_x, train_y] = load(s.data, "train");
  auto [test_x, test_y] = load(s.data, "t10k");
  torch::manual_seed(s.seed);
  torch::nn::Sequential model(torch::nn::Linear(train_x.size(1), 100), torch::nn::Sigmoid(),
                              torch::nn::Linear(100, 10));
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(s.lr));
  const std::int64_t n = train_x.size(0);
  for (int epoch = 1; epoch <= s.epochs; ++epoch) {
    torch::Tensor order = torch::randperm(n, torch::kLong);
    double loss_sum = 0;
    for (std::int64_t start = 0; start < n; start += s.batch) {
      torch::Tensor rows = order.slice(0, start, std::min(start + s.batch, n));
      torch::Tensor loss =
          torch::nn::functional::cross_entropy(model->forward(train_x.index_select(0, rows)),
                                               train_y.index_select(0, rows));
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      loss_sum += loss.item<double>() * double(rows.size(0));
    }
    std::printf("epoch %d/%d: train loss %.4f | test accuracy %.4f\n", epoch, s.epochs,
                loss_sum / double(n), accuracy(model, test_x, test_y));
  }
  std::printf("test accuracy: %.4f\n", accuracy(model, test_x, test_y));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_fashion_mnist: %s\n", e.what());
  return 2;
}
