#include "common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <nn/functional.hpp>

// Debian's libstb: the PNG encoder is compiled here, once; the bitmap font is header-only.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <stb/stb_easy_font.h>

namespace ex {

// ---- flags ----------------------------------------------------------------------------------

namespace {

const char* kUsage =
    "flags:\n"
    "  --epochs N          passes over the training data\n"
    "  --batch B           samples per mini-batch\n"
    "  --lr X              learning rate\n"
    "  --hidden H[,H...]   hidden layer sizes, e.g. 100 or 8,8\n"
    "  --activation NAME   sigmoid, tanh, relu, leaky_relu, softplus\n"
    "  --seed S            seed of the random generator (weights, data, shuffling)\n"
    "  --threads T         worker threads (default: all)\n"
    "  --data DIR          dataset directory\n"
    "  --out DIR           where pictures and weights are written (default: .)\n"
    "  --dataset NAME      playground: circle, xor, gaussian, spiral or all\n"
    "  --min-accuracy X    exit with status 1 when the final accuracy is below X\n"
    "  --config NAME       a named set-up of the example (see above)\n"
    "  --quick             a short run, as CI does\n";

[[noreturn]] void usage_error(const std::string& program, const std::string& problem) {
  std::cerr << program << ": " << problem << "\n" << kUsage;
  std::exit(2);
}

double parse_number(const std::string& program, const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v))
    usage_error(program, flag + " needs a number, got '" + text + "'");
  return v;
}

std::size_t parse_count(const std::string& program, const std::string& flag, const std::string& text) {
  double v = parse_number(program, flag, text);
  if (v < 0 || v != std::floor(v))
    usage_error(program, flag + " needs a whole number >= 0, got '" + text + "'");
  return static_cast<std::size_t>(v);
}

}  // namespace

void Args::parse(int argc, char** argv) {
  std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "example";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    bool has_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos) {  // --lr=0.1 works too
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      std::cout << "usage: " << program << " [flags]\n" << about << kUsage;
      std::exit(0);
    }
    if (flag == "--quick") {
      quick = true;
      given_.push_back(flag);
      continue;
    }
    static const char* const kValued[] = {"--epochs", "--batch", "--lr", "--hidden", "--activation",
                                          "--seed", "--threads", "--data", "--out", "--dataset",
                                          "--min-accuracy", "--config"};
    if (std::find(std::begin(kValued), std::end(kValued), flag) == std::end(kValued))
      usage_error(program, "unknown flag '" + flag + "'");
    if (!has_value) {
      if (i + 1 >= argc) usage_error(program, flag + " needs a value");
      value = argv[++i];
    }
    if (flag == "--epochs") epochs = static_cast<int>(parse_count(program, flag, value));
    else if (flag == "--batch") batch = parse_count(program, flag, value);
    else if (flag == "--lr") lr = parse_number(program, flag, value);
    else if (flag == "--hidden") hidden = value;
    else if (flag == "--activation") activation = value;
    else if (flag == "--seed") seed = parse_count(program, flag, value);
    else if (flag == "--threads") threads = static_cast<int>(parse_count(program, flag, value));
    else if (flag == "--data") data = value;
    else if (flag == "--out") out = value;
    else if (flag == "--dataset") dataset = value;
    else if (flag == "--min-accuracy") min_accuracy = parse_number(program, flag, value);
    else if (flag == "--config") config = value;
    given_.push_back(flag);
  }
  if (batch == 0) usage_error(program, "--batch must be at least 1");
  hidden_sizes();  // reject a malformed --hidden now rather than mid-run
}

bool Args::given(const std::string& flag) const {
  return std::find(given_.begin(), given_.end(), flag) != given_.end();
}

std::vector<std::size_t> Args::hidden_sizes() const {
  std::vector<std::size_t> sizes;
  std::stringstream ss(hidden);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char* end = nullptr;
    long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v <= 0) {
      std::cerr << "--hidden takes sizes >= 1 separated by commas, e.g. 8,8; got '" << hidden
                << "'\n";
      std::exit(2);
    }
    sizes.push_back(static_cast<std::size_t>(v));
  }
  return sizes;
}

std::string Args::out_path(const std::string& file) const {
  std::filesystem::create_directories(out);
  return (std::filesystem::path(out) / file).string();
}

void Args::apply() const {
  ag::manual_seed(seed);
  if (threads > 0) ag::set_num_threads(threads);
}

// ---- checks ---------------------------------------------------------------------------------

namespace {
int g_failures = 0;
}

void expect(bool ok, const std::string& what) {
  std::cout << "check: " << what << " ... " << (ok ? "ok" : "FAILED") << std::endl;
  if (!ok) ++g_failures;
}

int exit_code() { return g_failures == 0 ? 0 : 1; }

// ---- measuring ------------------------------------------------------------------------------

double accuracy(const ag::Tensor& logits, const ag::Tensor& labels) {
  std::vector<double> predicted = ag::argmax(logits, 1).to_vector();
  std::vector<double> truth = labels.to_vector();
  std::size_t right = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) right += predicted[i] == truth[i];
  return truth.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(truth.size());
}

double binary_accuracy(const ag::Tensor& prob, const ag::Tensor& target) {
  std::vector<double> p = prob.to_vector(), t = target.to_vector();
  std::size_t right = 0;
  for (std::size_t i = 0; i < t.size(); ++i) right += (p[i] >= 0.5) == (t[i] >= 0.5);
  return t.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(t.size());
}

std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

// ---- pictures -------------------------------------------------------------------------------

Color palette(std::size_t i) {
  static const Color table[] = {colors::blue, colors::orange, colors::green, colors::red,
                                colors::purple, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
  return table[i % (sizeof table / sizeof table[0])];
}

Color mix(Color a, Color b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto m = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + (y - x) * t));
  };
  return {m(a.r, b.r), m(a.g, b.g), m(a.b, b.b)};
}

Image::Image(int width, int height, Color background)
    : width_(width), height_(height), rgb_(static_cast<std::size_t>(width) * height * 3) {
  fill_rect(0, 0, width, height, background);
}

void Image::set(int x, int y, Color c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Color c) {
  for (int y = std::max(y0, 0); y < std::min(y1, height_); ++y)
    for (int x = std::max(x0, 0); x < std::min(x1, width_); ++x) set(x, y, c);
}

void Image::line(double x0, double y0, double x1, double y1, Color c, double thickness) {
  // Stamps a square of the given thickness every half pixel: plain, but plenty for plots.
  double length = std::hypot(x1 - x0, y1 - y0);
  int steps = std::max(1, static_cast<int>(std::ceil(length * 2)));
  double r = thickness / 2;
  for (int s = 0; s <= steps; ++s) {
    double t = static_cast<double>(s) / steps;
    double x = x0 + (x1 - x0) * t, y = y0 + (y1 - y0) * t;
    fill_rect(static_cast<int>(std::lround(x - r)), static_cast<int>(std::lround(y - r)),
              static_cast<int>(std::lround(x + r)) + (thickness <= 1 ? 1 : 0),
              static_cast<int>(std::lround(y + r)) + (thickness <= 1 ? 1 : 0), c);
  }
}

void Image::disc(double cx, double cy, double radius, Color fill, Color outline) {
  int x0 = static_cast<int>(std::floor(cx - radius - 1)), x1 = static_cast<int>(std::ceil(cx + radius + 1));
  int y0 = static_cast<int>(std::floor(cy - radius - 1)), y1 = static_cast<int>(std::ceil(cy + radius + 1));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d <= radius - 1) set(x, y, fill);
      else if (d <= radius) set(x, y, outline);
    }
}

void Image::text(int x, int y, const std::string& s, Color c, int scale) {
  std::vector<char> chars(s.begin(), s.end());
  chars.push_back('\0');
  // stb_easy_font builds each glyph from axis-aligned quads: 4 vertices of 16 bytes each.
  std::vector<char> buffer(s.size() * 1024 + 1024);  // at most ~16 quads of 64 bytes a glyph
  int quads = stb_easy_font_print(0, 0, chars.data(), nullptr, buffer.data(),
                                  static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    const char* v = buffer.data() + static_cast<std::size_t>(q) * 4 * 16;
    float qx0, qy0, qx1, qy1;
    std::copy(v, v + 4, reinterpret_cast<char*>(&qx0));
    std::copy(v + 4, v + 8, reinterpret_cast<char*>(&qy0));
    std::copy(v + 32, v + 36, reinterpret_cast<char*>(&qx1));  // vertex 2: the opposite corner
    std::copy(v + 36, v + 40, reinterpret_cast<char*>(&qy1));
    fill_rect(x + static_cast<int>(std::lround(qx0 * scale)), y + static_cast<int>(std::lround(qy0 * scale)),
              x + static_cast<int>(std::lround(qx1 * scale)), y + static_cast<int>(std::lround(qy1 * scale)), c);
  }
}

int Image::text_width(const std::string& s, int scale) {
  std::vector<char> chars(s.begin(), s.end());
  chars.push_back('\0');
  return stb_easy_font_width(chars.data()) * scale;
}

void Image::paste(const Image& src, int x, int y) {
  for (int sy = 0; sy < src.height_; ++sy)
    for (int sx = 0; sx < src.width_; ++sx) {
      std::size_t i = (static_cast<std::size_t>(sy) * src.width_ + sx) * 3;
      set(x + sx, y + sy, {src.rgb_[i], src.rgb_[i + 1], src.rgb_[i + 2]});
    }
}

void Image::save_png(const std::string& path) const {
  if (!stbi_write_png(path.c_str(), width_, height_, 3, rgb_.data(), width_ * 3))
    throw std::runtime_error("save_png: cannot write '" + path + "'");
}

// ---- plots ----------------------------------------------------------------------------------

namespace {

// Round tick steps (1, 2 or 5 times a power of ten) giving about `count` ticks over [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int count) {
  double raw = (hi - lo) / std::max(count, 1);
  if (!(raw > 0)) return {lo};
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * (raw / power < 1.5 ? 1 : raw / power < 3.5 ? 2 : raw / power < 7.5 ? 5 : 10);
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

// Ticks of a log10 axis over [lo, hi] (in log10 units): at 1, 2 and 5 times powers of ten,
// or at every digit when the range spans less than a decade.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  for (const auto& mantissas : {std::vector<double>{1, 2, 5}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    ticks.clear();
    for (double k = std::floor(lo); k <= std::ceil(hi); ++k)
      for (double m : mantissas) {
        double t = k + std::log10(m);
        if (t >= lo && t <= hi) ticks.push_back(t);
      }
    if (ticks.size() >= 3) break;
  }
  return ticks;
}

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

Plot::Plot(Image& target, int x0, int y0, int w, int h, double x_min, double x_max, double y_min,
           double y_max)
    : image(target), left(x0), top(y0), width(w), height(h), xmin(x_min), xmax(x_max),
      ymin(y_min), ymax(y_max) {}

double Plot::px(double x) const { return left + (x - xmin) / (xmax - xmin) * width; }
double Plot::py(double y) const { return top + (ymax - y) / (ymax - ymin) * height; }

void Plot::axes(const std::string& xlabel, const std::string& ylabel, int ticks) {
  for (double t : nice_ticks(xmin, xmax, ticks)) {
    int x = static_cast<int>(std::lround(px(t)));
    image.fill_rect(x, top, x + 1, top + height, colors::light_grey);
    image.fill_rect(x, top + height, x + 1, top + height + 5, colors::black);
    std::string label = short_number(t);
    image.text(x - Image::text_width(label) / 2, top + height + 8, label, colors::black);
  }
  for (double t : log_y ? log_ticks(ymin, ymax) : nice_ticks(ymin, ymax, ticks)) {
    int y = static_cast<int>(std::lround(py(t)));
    image.fill_rect(left, y, left + width, y + 1, colors::light_grey);
    image.fill_rect(left - 5, y, left, y + 1, colors::black);
    std::string label = short_number(log_y ? std::pow(10.0, t) : t);
    image.text(left - 8 - Image::text_width(label), y - 6, label, colors::black);
  }
  image.fill_rect(left, top, left + width, top + 1, colors::black);
  image.fill_rect(left, top + height, left + width + 1, top + height + 1, colors::black);
  image.fill_rect(left, top, left + 1, top + height, colors::black);
  image.fill_rect(left + width, top, left + width + 1, top + height, colors::black);
  image.text(left + (width - Image::text_width(xlabel)) / 2, top + height + 28, xlabel, colors::black);
  image.text(std::max(2, left - 8 - Image::text_width(ylabel)), top - 22, ylabel, colors::black);
}

void Plot::line(double x0, double y0, double x1, double y1, Color c, double thickness) {
  // Liang-Barsky: keep the part of the segment inside [xmin, xmax] x [ymin, ymax].
  double t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - xmin, xmax - x0, y0 - ymin, ymax - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return;
      continue;
    }
    double r = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, r);
    else t1 = std::min(t1, r);
  }
  if (t0 > t1) return;
  image.line(px(x0 + t0 * dx), py(y0 + t0 * dy), px(x0 + t1 * dx), py(y0 + t1 * dy), c, thickness);
}

void Plot::polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c,
                    double thickness) {
  for (std::size_t i = 1; i < std::min(xs.size(), ys.size()); ++i)
    if (std::isfinite(ys[i - 1]) && std::isfinite(ys[i])) line(xs[i - 1], ys[i - 1], xs[i], ys[i], c, thickness);
}

void Plot::implicit_line(double a, double b, double c, Color color, double thickness) {
  if (std::abs(b) >= std::abs(a)) {  // mostly horizontal: solve for y at both x ends
    if (b == 0) return;
    line(xmin, -(a * xmin + c) / b, xmax, -(a * xmax + c) / b, color, thickness);
  } else {
    line(-(b * ymin + c) / a, ymin, -(b * ymax + c) / a, ymax, color, thickness);
  }
}

void Plot::point(double x, double y, Color fill, double radius, Color outline) {
  if (x < xmin || x > xmax || y < ymin || y > ymax) return;
  image.disc(px(x), py(y), radius, fill, outline);
}

namespace {

// Legend box in the top right corner of a plot: a swatch (line or disc) and a name per entry.
struct LegendEntry {
  std::string name;
  Color color;
  bool disc;
};

// Top right inside the plot, or (below = true) under the x axis label, where it hides nothing.
void legend(Plot& plot, const std::vector<LegendEntry>& entries, bool below = false) {
  int text_w = 0;
  for (const auto& e : entries) text_w = std::max(text_w, Image::text_width(e.name));
  int w = text_w + 46, h = static_cast<int>(entries.size()) * 22 + 8;
  int x = below ? plot.left : plot.left + plot.width - w - 10;
  int y = below ? plot.top + plot.height + 50 : plot.top + 10;
  plot.image.fill_rect(x, y, x + w, y + h, colors::white);
  plot.image.fill_rect(x, y, x + w, y + 1, colors::grey);
  plot.image.fill_rect(x, y + h, x + w, y + h + 1, colors::grey);
  plot.image.fill_rect(x, y, x + 1, y + h, colors::grey);
  plot.image.fill_rect(x + w, y, x + w + 1, y + h + 1, colors::grey);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    int cy = y + 15 + static_cast<int>(i) * 22;
    if (entries[i].disc) plot.image.disc(x + 18, cy, 6, entries[i].color, colors::white);
    else plot.image.line(x + 8, cy, x + 28, cy, entries[i].color, 3);
    plot.image.text(x + 38, cy - 6, entries[i].name, colors::black);
  }
}

}  // namespace

Image line_plot(const std::vector<Series>& series, const std::string& title,
                const std::string& xlabel, const std::string& ylabel, bool log_y, int width,
                int height) {
  std::vector<std::vector<double>> xs, ys;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : series) {
    std::vector<double> x = s.x, y = s.y;
    if (x.empty())
      for (std::size_t i = 0; i < y.size(); ++i) x.push_back(static_cast<double>(i + 1));
    for (double& v : y) v = log_y ? (v > 0 ? std::log10(v) : NAN) : v;
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (!std::isfinite(y[i])) continue;
      xmin = std::min(xmin, x[i]);
      xmax = std::max(xmax, x[i]);
      ymin = std::min(ymin, y[i]);
      ymax = std::max(ymax, y[i]);
    }
    xs.push_back(std::move(x));
    ys.push_back(std::move(y));
  }
  if (!(xmin < xmax)) { xmin -= 1; xmax += 1; }
  if (!(ymin < ymax)) { ymin -= 1; ymax += 1; }
  double pad = (ymax - ymin) * 0.05;
  if (!log_y && ymin >= 0 && ymin - pad < 0) ymin = 0;  // a loss axis starts at 0, not below
  else ymin -= pad;
  ymax += pad;

  Image image(width, height);
  image.text((width - Image::text_width(title)) / 2, 8, title, colors::black);
  Plot plot(image, 80, 50, width - 100, height - 110, xmin, xmax, ymin, ymax);
  plot.log_y = log_y;
  plot.axes(xlabel, log_y ? ylabel + " (log scale)" : ylabel);
  std::vector<LegendEntry> entries;
  for (std::size_t i = 0; i < series.size(); ++i) {
    plot.polyline(xs[i], ys[i], series[i].color, 2);
    if (ys[i].size() <= 30)  // few points: mark each, so that a single one shows too
      for (std::size_t j = 0; j < ys[i].size(); ++j)
        if (std::isfinite(ys[i][j])) plot.point(xs[i][j], ys[i][j], series[i].color, 4);
    entries.push_back({series[i].name, series[i].color, false});
  }
  legend(plot, entries);
  return image;
}

Image decision_boundary(const ProbFn& prob, const ag::Tensor& points, const ag::Tensor& labels,
                        double xmin, double xmax, double ymin, double ymax,
                        const std::string& title, int size) {
  // The playground's colours: orange for class 0, blue for class 1.
  const Color c0{245, 147, 34}, c1{8, 119, 189};
  std::vector<double> grid;
  grid.reserve(static_cast<std::size_t>(size) * size * 2);
  for (int row = 0; row < size; ++row)
    for (int col = 0; col < size; ++col) {
      grid.push_back(xmin + (col + 0.5) / size * (xmax - xmin));
      grid.push_back(ymax - (row + 0.5) / size * (ymax - ymin));
    }
  std::vector<double> p;
  {
    ag::NoGradGuard no_grad;  // only the values are needed
    p = prob(ag::tensor(grid, {static_cast<std::size_t>(size) * size, 2})).to_vector();
  }
  if (p.size() != static_cast<std::size_t>(size) * size)
    throw std::runtime_error("decision_boundary: the model gave " + std::to_string(p.size()) +
                             " values for " + std::to_string(size * size) + " grid points");

  const int title_h = title.empty() ? 0 : 26;
  Image image(size, size + title_h);
  image.text((size - Image::text_width(title)) / 2, 6, title, colors::black);
  auto at = [&](int row, int col) { return p[static_cast<std::size_t>(row) * size + col]; };
  for (int row = 0; row < size; ++row)
    for (int col = 0; col < size; ++col) {
      double v = at(row, col);
      Color c = v >= 0.5 ? mix(colors::white, c1, (v - 0.5) * 2 * 0.75)
                         : mix(colors::white, c0, (0.5 - v) * 2 * 0.75);
      // The p = 0.5 contour: where a pixel and its right or lower neighbour disagree.
      bool edge = (col + 1 < size && (at(row, col + 1) >= 0.5) != (v >= 0.5)) ||
                  (row + 1 < size && (at(row + 1, col) >= 0.5) != (v >= 0.5));
      image.set(col, row + title_h, edge ? Color{60, 60, 60} : c);
    }
  Plot plot(image, 0, title_h, size, size, xmin, xmax, ymin, ymax);
  std::vector<double> xy = points.to_vector(), y = labels.to_vector();
  double radius = y.size() <= 50 ? 8 : 4;  // a few points drawn large, many drawn small
  for (std::size_t i = 0; i < y.size(); ++i)
    plot.point(xy[2 * i], xy[2 * i + 1], y[i] >= 0.5 ? c1 : c0, radius, Color{40, 40, 40});
  return image;
}

Image scatter(const ag::Tensor& points, const ag::Tensor& labels,
              const std::vector<std::string>& class_names, const std::vector<DividingLine>& lines,
              double xmin, double xmax, double ymin, double ymax, const std::string& title,
              const std::string& xlabel, const std::string& ylabel, int width, int height) {
  static const Color kClassColors[] = {colors::red, colors::green, colors::purple, colors::blue};
  // The legend goes under the plot: scattered points leave no corner free for it.
  const int legend_h = static_cast<int>(class_names.size() + lines.size()) * 22 + 20;
  Image image(width, height + legend_h);
  image.text((width - Image::text_width(title)) / 2, 8, title, colors::black);
  Plot plot(image, 70, 50, width - 90, height - 110, xmin, xmax, ymin, ymax);
  plot.axes(xlabel, ylabel);
  std::vector<LegendEntry> entries;
  for (std::size_t k = 0; k < class_names.size(); ++k)
    entries.push_back({class_names[k], kClassColors[k % 4], true});
  for (const auto& l : lines) {
    plot.implicit_line(l.a, l.b, l.c, l.color, 3);
    entries.push_back({l.name, l.color, false});
  }
  std::vector<double> xy = points.to_vector(), y = labels.to_vector();
  for (std::size_t i = 0; i < y.size(); ++i) {
    auto k = static_cast<std::size_t>(y[i]);
    plot.point(xy[2 * i], xy[2 * i + 1], entries.at(k).color, 6);
  }
  legend(plot, entries, true);
  return image;
}

Image hstack(const std::vector<Image>& panels, int gap) {
  int w = gap, h = 0;
  for (const auto& p : panels) {
    w += p.width() + gap;
    h = std::max(h, p.height());
  }
  Image strip(w, h + 2 * gap);
  int x = gap;
  for (const auto& p : panels) {
    strip.paste(p, x, gap);
    x += p.width() + gap;
  }
  return strip;
}

// ---- training on (Fashion-)MNIST ----------------------------------------------------------

ag::data::TensorDataset load_idx_dir(const std::string& dir, const std::string& images,
                                     const std::string& labels) {
  auto file = [&](const std::string& name) {
    std::filesystem::path gz = std::filesystem::path(dir) / (name + ".gz");
    return std::filesystem::exists(gz) ? gz.string() : (std::filesystem::path(dir) / name).string();
  };
  try {
    return ag::data::load_idx(file(images), file(labels));
  } catch (const ag::Error& e) {
    std::cerr << e.what() << "\n--data DIR must hold " << images << "[.gz] and " << labels
              << "[.gz] (Debian: apt install dataset-fashion-mnist)\n";
    std::exit(2);
  }
}

Score evaluate(ag::nn::Module& model, const ag::data::TensorDataset& set) {
  ag::NoGradGuard no_grad;
  model.eval();
  double loss = 0, right = 0;
  const std::size_t n = set.size();
  for (std::size_t start = 0; start < n; start += 1000) {
    std::size_t stop = std::min(n, start + 1000);
    ag::Tensor logits = model(set.inputs().slice(0, start, stop));
    ag::Tensor labels = set.targets().slice(0, start, stop);
    double rows = static_cast<double>(stop - start);
    loss += ag::nn::functional::cross_entropy(logits, labels).item() * rows;
    right += accuracy(logits, labels) * rows;
  }
  model.train();
  return {loss / static_cast<double>(n), right / static_cast<double>(n)};
}

Progress::Progress(int epoch, int epochs, std::size_t batches)
    : epoch_(epoch), epochs_(epochs), batches_(batches), tty_(isatty(fileno(stdout)) != 0) {}

void Progress::update(std::size_t batch, double loss, double accuracy, double samples_per_s) {
  bool last = batch == batches_;  // the epoch's summary line follows it
  bool quarter = batch * 4 / batches_ != (batch - 1) * 4 / batches_;
  if (tty_ ? (batch % 50 != 0 && !last) : (last || !quarter)) return;
  std::printf("%sepoch %d/%d %5.1f%%  loss %.4f  accuracy %.4f  %.0f samples/s%s", tty_ ? "\r" : "",
              epoch_, epochs_, 100.0 * batch / batches_, loss, accuracy, samples_per_s,
              tty_ && !last ? "" : "\n");
  std::fflush(stdout);
}

}  // namespace ex
