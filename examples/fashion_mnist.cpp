// Fashion-MNIST: 28x28 grey pictures of clothes in 10 classes, learned by a 784-100-10 network
// with sigmoid hidden units and mini-batch stochastic gradient descent.
//
// Run: ./fashion_mnist [--epochs 5] [--batch 32] [--lr 0.1] [--hidden 100] [--activation sigmoid]
//                      [--seed 0] [--threads T] [--data DIR] [--out DIR] [--min-accuracy X]
// --data takes any directory of IDX files named like MNIST's (train-images-idx3-ubyte[.gz], ...),
// so real MNIST works too. Writes fashion_mnist_loss.png and the weights, fashion_mnist.npz, to
// --out. The last line printed is "test accuracy: 0.XXXX".
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"

using ag::Tensor;
namespace F = ag::nn::functional;

int main(int argc, char** argv) {
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
    return ex::load_idx_dir(args.data, images, labels);
  };
  ag::data::TensorDataset train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte");
  ag::data::TensorDataset test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  std::printf("data: %zu training and %zu test images of %zu pixels from %s (%.1f s)\n", train.size(),
              test.size(), train.inputs().size(1), args.data.c_str(), load_time.seconds());

  std::vector<std::size_t> sizes = {train.inputs().size(1)};
  for (std::size_t h : args.hidden_sizes()) sizes.push_back(h);
  sizes.push_back(10);
  auto model = ag::nn::mlp(sizes, args.activation);
  ag::optim::SGD sgd(model->parameters(), {args.lr});
  ag::data::DataLoader loader(train, args.batch);  // reshuffled every epoch
  std::printf("model: %s, %s, %zu parameters; SGD lr %g, batch %zu; threads: %d\n",
              args.hidden.c_str(), args.activation.c_str(), model->num_parameters(), args.lr,
              args.batch, ag::get_num_threads());

  // Loss curves: the training loss averaged over each tenth of an epoch, and the test loss
  // after each epoch; x counts epochs.
  ex::Series train_curve{"training loss (per tenth of an epoch)", {}, {}, ex::colors::blue};
  ex::Series test_curve{"test loss (end of each epoch)", {}, {}, ex::colors::orange};
  const std::size_t batches = loader.num_batches();

  ex::Timer total_time;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    ex::Timer epoch_time;
    ex::Progress progress(epoch, args.epochs, batches);
    double loss_sum = 0, right = 0, chunk_loss = 0;
    std::size_t seen = 0, b = 0, chunk_batches = 0;
    for (const ag::data::Batch& batch : loader) {
      Tensor logits = (*model)(batch.inputs);
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
        train_curve.y.push_back(chunk_loss / chunk_batches);
        chunk_loss = 0;
        chunk_batches = 0;
      }
      ++b;
      progress.update(b, loss_sum / seen, right / seen, seen / epoch_time.seconds());
    }
    double seconds = epoch_time.seconds();
    ex::Score score = ex::evaluate(*model, test);
    test_curve.x.push_back(epoch);
    test_curve.y.push_back(score.loss);
    std::printf("epoch %d/%d: train loss %.4f accuracy %.4f | test loss %.4f accuracy %.4f | %.2f s, %.0f samples/s\n",
                epoch, args.epochs, loss_sum / seen, right / seen, score.loss, score.accuracy, seconds,
                seen / seconds);
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
  return ex::exit_code();
}
