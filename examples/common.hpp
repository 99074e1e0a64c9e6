// What every example shares: command-line flags, self-checks, a stopwatch, and PNG pictures
// (line plots of loss curves, decision boundaries, scatter plots with dividing lines).
// Kept apart so that each example file reads as the idea it teaches and little else.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/module.hpp>

namespace ex {

// ---- flags ----------------------------------------------------------------------------------

// The flags the examples understand. An example sets its own defaults in the fields, then
// parse() overrides them from the command line:
//   --epochs N --batch B --lr X --hidden H[,H...] --activation NAME --seed S --threads T
//   --data DIR --out DIR --dataset NAME --min-accuracy X --config NAME --quick --help
struct Args {
  int epochs = 10;
  std::size_t batch = 32;
  double lr = 0.1;
  std::string hidden = "100";         // layer sizes, comma-separated: "8,8"
  std::string activation = "sigmoid";
  std::uint64_t seed = 0;
  int threads = 0;                    // 0: all hardware threads
  std::string data;                   // where a dataset's files are
  std::string out = ".";              // where pictures and weights go
  std::string dataset;                // playground: circle, xor, gaussian, spiral or all
  double min_accuracy = 0;            // exit 1 when the final accuracy is below this
  bool quick = false;                 // the short run CI uses
  std::string config;                 // an example's named set-up (--config NAME)
  std::string about;                  // an example's own lines for --help, printed first

  // Prints the usage and exits 0 on --help; prints the problem and exits 2 on an unknown flag,
  // a missing value or a value that is not a number.
  void parse(int argc, char** argv);
  bool given(const std::string& flag) const;  // was --flag on the command line?
  std::vector<std::size_t> hidden_sizes() const;  // "8,8" -> {8, 8}
  std::string out_path(const std::string& file) const;  // out/file; creates out if needed
  void apply() const;  // ag::manual_seed(seed); ag::set_num_threads(threads) when threads > 0

 private:
  std::vector<std::string> given_;
};

// ---- checks ---------------------------------------------------------------------------------

// Prints "check: <what> ... ok" or "... FAILED"; a failure makes exit_code() return 1, so CI
// sees an example whose result is wrong.
void expect(bool ok, const std::string& what);
int exit_code();

// ---- measuring ------------------------------------------------------------------------------

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Share of rows whose largest logit is at the label: logits {N, C}, int64 labels {N}.
double accuracy(const ag::Tensor& logits, const ag::Tensor& labels);
// Share of samples where (prob >= 0.5) equals the 0/1 target; prob and target hold N values each.
double binary_accuracy(const ag::Tensor& prob, const ag::Tensor& target);

// "0.8451" style: fixed notation with `digits` decimals.
std::string fixed(double value, int digits = 4);

// ---- training on (Fashion-)MNIST ----------------------------------------------------------

// DIR/images and DIR/labels (each .gz if that is there) as a dataset; on failure prints what
// --data must hold and exits 2.
ag::data::TensorDataset load_idx_dir(const std::string& dir, const std::string& images,
                                     const std::string& labels);

struct Score {
  double loss, accuracy;
};
// Cross-entropy and accuracy over a whole dataset, in slices of 1000 rows, in eval mode and
// without recording a graph; the model is back in training mode after.
Score evaluate(ag::nn::Module& model, const ag::data::TensorDataset& set);

// One line of progress: rewritten in place on a terminal, printed at each quarter of the epoch
// otherwise (a log file then gets a few lines per epoch instead of thousands).
class Progress {
 public:
  Progress(int epoch, int epochs, std::size_t batches);
  void update(std::size_t batch, double loss, double accuracy, double samples_per_s);

 private:
  int epoch_, epochs_;
  std::size_t batches_;
  bool tty_;
};

// ---- pictures -------------------------------------------------------------------------------

struct Color {
  std::uint8_t r, g, b;
};
namespace colors {
inline constexpr Color white{255, 255, 255}, black{0, 0, 0}, grey{150, 150, 150},
    light_grey{225, 225, 225}, blue{31, 119, 180}, orange{255, 127, 14}, green{44, 160, 44},
    red{214, 39, 40}, purple{148, 103, 189};
}
Color palette(std::size_t i);  // distinct colours for series 0, 1, 2, ...
Color mix(Color a, Color b, double t);  // a at t = 0, b at t = 1

// An RGB picture that can be saved as PNG (through stb_image_write).
class Image {
 public:
  Image(int width, int height, Color background = colors::white);
  int width() const { return width_; }
  int height() const { return height_; }

  void set(int x, int y, Color c);  // pixels outside the image are ignored
  void fill_rect(int x0, int y0, int x1, int y1, Color c);  // [x0, x1) x [y0, y1)
  void line(double x0, double y0, double x1, double y1, Color c, double thickness = 1);
  void disc(double cx, double cy, double radius, Color fill, Color outline);
  // Text in stb_easy_font's bitmap font, `scale` pixels per font pixel; (x, y) is the top left.
  void text(int x, int y, const std::string& s, Color c, int scale = 2);
  static int text_width(const std::string& s, int scale = 2);
  void paste(const Image& src, int x, int y);
  // Throws std::runtime_error naming the path when the file cannot be written.
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

// A rectangle of an Image with data coordinates: x grows right, y grows up.
class Plot {
 public:
  Plot(Image& image, int left, int top, int width, int height, double xmin, double xmax,
       double ymin, double ymax);
  double px(double x) const;  // data -> pixel
  double py(double y) const;
  // Frame, tick labels (about `ticks` per axis) and axis labels.
  // With log_y set, y coordinates are log10 of the values and the ticks name the values.
  void axes(const std::string& xlabel, const std::string& ylabel, int ticks = 5);
  // A segment, clipped to the plotting rectangle.
  void line(double x0, double y0, double x1, double y1, Color c, double thickness = 2);
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c,
                double thickness = 2);
  // The line a x + b y + c = 0 across the whole rectangle.
  void implicit_line(double a, double b, double c, Color color, double thickness = 2);
  void point(double x, double y, Color fill, double radius = 4, Color outline = colors::white);

  Image& image;
  int left, top, width, height;
  double xmin, xmax, ymin, ymax;
  bool log_y = false;
};

struct Series {
  std::string name;
  std::vector<double> x, y;  // x empty: 1, 2, 3, ...
  Color color;
};

// Several curves on shared axes with a legend: loss curves and the like. With log_y the y axis
// is logarithmic (all y must then be positive).
Image line_plot(const std::vector<Series>& series, const std::string& title,
                const std::string& xlabel, const std::string& ylabel, bool log_y = false,
                int width = 720, int height = 440);

// A 2-D binary classifier's view of the plane: each pixel of [xmin, xmax] x [ymin, ymax] is
// coloured by prob(points), the model's probability of class 1 (orange for 0, blue for 1, white
// at 0.5, as in the TensorFlow playground), and the data points are drawn on top.
// prob maps float32 {M, 2} to M probabilities; points is {N, 2}, labels holds N values 0 or 1.
using ProbFn = std::function<ag::Tensor(const ag::Tensor&)>;
Image decision_boundary(const ProbFn& prob, const ag::Tensor& points, const ag::Tensor& labels,
                        double xmin, double xmax, double ymin, double ymax,
                        const std::string& title = "", int size = 320);

// The line a x + b y + c = 0, drawn in a scatter plot.
struct DividingLine {
  std::string name;
  double a, b, c;
  Color color;
};

// Points coloured by class (labels hold class indices), the named lines, axes and a legend.
Image scatter(const ag::Tensor& points, const ag::Tensor& labels,
              const std::vector<std::string>& class_names, const std::vector<DividingLine>& lines,
              double xmin, double xmax, double ymin, double ymax, const std::string& title,
              const std::string& xlabel, const std::string& ylabel, int width = 560,
              int height = 480);

// Panels side by side on one white strip, e.g. decision boundaries at several epochs.
Image hstack(const std::vector<Image>& panels, int gap = 8);

}  // namespace ex
