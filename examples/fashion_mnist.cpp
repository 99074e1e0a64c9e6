// Fashion-MNIST: 28x28 grey pictures of clothes in 10 classes, learned by a 784-100-10 network
// with sigmoid hidden units and mini-batch stochastic gradient descent.
//
// Run: ./fashion_mnist [--epochs 5] [--batch 32] [--lr 0.1] [--hidden 100] [--activation sigmoid]
//                      [--seed 0] [--threads T] [--data DIR] [--out DIR] [--min-accuracy X]
// --data takes any directory of IDX files named like MNIST's (train-images-idx3-ubyte[.gz], ...),
// so real MNIST works too. Writes fashion_mnist_loss.png and the weights, fashion_mnist.npz, to
// --out. The last line printed is "test accuracy: 0.XXXX".
//
// Data-parallel, unchanged: mpirun -np 2 fashion_mnist --epochs 5 --batch 32 (when ag::dist was
// built). --batch is then the global batch, split evenly over the ranks (16 each here), so the
// training follows the single-process one and reaches the same accuracy; each rank gets its
// cores' share of threads. Only rank 0 prints, evaluates and writes files; the others wait.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"
#include "parallel.hpp"

using ag::Tensor;
namespace F = ag::nn::functional;

namespace {

// DIR/name.gz if it is there, else DIR/name.
std::string idx_file(const std::string& dir, const std::string& name) {
  std::filesystem::path gz = std::filesystem::path(dir) / (name + ".gz");
  return std::filesystem::exists(gz) ? gz.string() : (std::filesystem::path(dir) / name).string();
}

// One line of progress: rewritten in place on a terminal, printed at each quarter of the epoch
// otherwise (a log file then gets a few lines per epoch instead of thousands).
class Progress {
 public:
  Progress(int epoch, int epochs, std::size_t batches)
      : epoch_(epoch), epochs_(epochs), batches_(batches),
        // mpirun hands rank 0 a terminal that the job's log may not be: quarters there
        tty_(isatty(fileno(stdout)) != 0 && ex::par::world() == 1) {}

  // Whether update() may print after this batch in either mode: the same answer on every rank,
  // so that all of them join the reduction of the figures at the same batches.
  bool due(std::size_t batch) const { return batch % 50 == 0 || batch == batches_ || quarter(batch); }

  void update(std::size_t batch, double loss, double accuracy, double samples_per_s) {
    bool last = batch == batches_;  // the epoch's summary line follows it
    if (tty_ ? (batch % 50 != 0 && !last) : (last || !quarter(batch))) return;
    std::printf("%sepoch %d/%d %5.1f%%  loss %.4f  accuracy %.4f  %.0f samples/s%s", tty_ ? "\r" : "",
                epoch_, epochs_, 100.0 * batch / batches_, loss, accuracy, samples_per_s,
                tty_ && !last ? "" : "\n");
    std::fflush(stdout);
  }

 private:
  bool quarter(std::size_t batch) const { return batch * 4 / batches_ != (batch - 1) * 4 / batches_; }
  int epoch_, epochs_;
  std::size_t batches_;
  bool tty_;
};

}  // namespace

int main(int argc, char** argv) {
  ex::par::init(&argc, &argv);
  const bool lead = ex::par::rank() == 0;  // rank 0 prints and writes
  const int ranks = ex::par::world();
  ex::Args args;
  args.epochs = 5;
  args.batch = 32;
  args.lr = 0.1;
  args.hidden = "100";
  args.activation = "sigmoid";
  args.data = "/usr/share/datasets/fashion-mnist";
  args.parse(argc, argv);
  args.apply();

  ex::Timer load_time;
  auto load = [&](const std::string& images, const std::string& labels) {
    try {
      return ag::data::load_idx(idx_file(args.data, images), idx_file(args.data, labels));
    } catch (const ag::Error& e) {
      std::cerr << e.what() << "\n--data DIR must hold " << images << "[.gz] and " << labels
                << "[.gz] (Debian: apt install dataset-fashion-mnist)\n";
      std::exit(2);
    }
  };
  ag::data::TensorDataset train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte");
  ag::data::TensorDataset test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  if (lead)
    std::printf("data: %zu training and %zu test images of %zu pixels from %s (%.1f s)\n", train.size(),
              test.size(), train.inputs().size(1), args.data.c_str(), load_time.seconds());

  std::vector<std::size_t> sizes = {train.inputs().size(1)};
  for (std::size_t h : args.hidden_sizes()) sizes.push_back(h);
  sizes.push_back(10);
  auto model = ag::nn::mlp(sizes, args.activation);
  ag::optim::SGD sgd(model->parameters(), {args.lr});
  if (args.batch % static_cast<std::size_t>(ranks) != 0) {
    if (lead) std::cerr << "--batch " << args.batch << " must split evenly over " << ranks << " ranks\n";
    ex::par::finalize();
    return 2;
  }
  const std::size_t rank_batch = args.batch / static_cast<std::size_t>(ranks);
  ex::par::Trainer trainer(model, train, rank_batch, args.seed);  // reshuffled every epoch
  if (lead)
    std::printf("model: %s, %s, %zu parameters; SGD lr %g, batch %zu (%d rank%s x %zu); threads "
                "per rank: %d\n",
                args.hidden.c_str(), args.activation.c_str(), model->num_parameters(), args.lr,
                args.batch, ranks, ranks > 1 ? "s" : "", rank_batch, ag::get_num_threads());

  // Loss curves: the training loss averaged over each tenth of an epoch, and the test loss
  // after each epoch; x counts epochs.
  ex::Series train_curve{"training loss (per tenth of an epoch)", {}, {}, ex::colors::blue};
  ex::Series test_curve{"test loss (end of each epoch)", {}, {}, ex::colors::orange};
  const std::size_t batches = trainer.epoch(1).num_batches();

  ex::Timer total_time;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    ex::Timer epoch_time;
    Progress progress(epoch, args.epochs, batches);
    double loss_sum = 0, right = 0, chunk_loss = 0;
    std::size_t seen = 0, b = 0, chunk_batches = 0;
    for (const ag::data::Batch& batch : trainer.epoch(epoch)) {
      Tensor logits = trainer(batch.inputs);
      Tensor loss = F::cross_entropy(logits, batch.targets);
      sgd.zero_grad();
      loss.backward();
      sgd.step();

      double rows = static_cast<double>(batch.inputs.size(0));
      loss_sum += loss.item() * rows;
      right += ex::accuracy(logits, batch.targets) * rows;
      seen += batch.inputs.size(0);
      chunk_loss += loss.item();
      ++chunk_batches;
      if ((b + 1) * 10 / batches != b * 10 / batches) {  // crossed a tenth of the epoch
        train_curve.x.push_back(epoch - 1 + static_cast<double>(b + 1) / batches);
        train_curve.y.push_back(ex::par::sum(chunk_loss) / (chunk_batches * ranks));
        chunk_loss = 0;
        chunk_batches = 0;
      }
      ++b;
      if (progress.due(b)) {  // figures over all ranks
        double all_seen = ex::par::sum(static_cast<double>(seen));
        double all_loss = ex::par::sum(loss_sum), all_right = ex::par::sum(right);
        if (lead) progress.update(b, all_loss / all_seen, all_right / all_seen, all_seen / epoch_time.seconds());
      }
    }
    double seconds = epoch_time.seconds();
    double all_seen = ex::par::sum(static_cast<double>(seen));
    double all_loss = ex::par::sum(loss_sum) / all_seen, all_right = ex::par::sum(right) / all_seen;
    if (lead) {  // the weights are the same on every rank: one evaluation is enough
      ex::Score score = ex::evaluate(*model, test);
      test_curve.x.push_back(epoch);
      test_curve.y.push_back(score.loss);
      std::printf("epoch %d/%d: train loss %.4f accuracy %.4f | test loss %.4f accuracy %.4f | %.2f s, %.0f samples/s\n",
                  epoch, args.epochs, all_loss, all_right, score.loss, score.accuracy, seconds,
                  all_seen / seconds);
    }
    ex::par::barrier();
  }
  if (!lead) {  // rank 0 alone writes the pictures and weights
    ex::par::barrier();
    ex::par::finalize();
    return 0;
  }
  std::printf("trained %d epochs in %.2f s (%.2f s per epoch)\n", args.epochs, total_time.seconds(),
              total_time.seconds() / std::max(args.epochs, 1));

  std::string picture = args.out_path("fashion_mnist_loss.png");
  ex::line_plot({train_curve, test_curve}, "Fashion-MNIST, " + args.hidden + " " + args.activation + " hidden units",
                "epoch", "cross-entropy")
      .save_png(picture);
  std::cout << "wrote " << picture << "\n";

  // Save, reload into a freshly built model, and check that it scores exactly the same.
  double accuracy = ex::evaluate(*model, test).accuracy;
  std::string weights = args.out_path("fashion_mnist.npz");
  model->save(weights);
  auto reloaded = ag::nn::mlp(sizes, args.activation);
  reloaded->load(weights);
  double reloaded_accuracy = ex::evaluate(*reloaded, test).accuracy;
  std::cout << "saved the weights to " << weights << " and reloaded them into a new model\n";
  ex::expect(reloaded_accuracy == accuracy,
             "the reloaded model scores the same (" + ex::fixed(reloaded_accuracy) + ")");
  if (args.given("--min-accuracy"))
    ex::expect(accuracy >= args.min_accuracy, "test accuracy >= " + ex::fixed(args.min_accuracy, 3));
  std::cout << "test accuracy: " << ex::fixed(accuracy) << std::endl;
  ex::par::barrier();
  ex::par::finalize();
  return ex::exit_code();
}
