// Module::save / Module::load in NumPy's .npz format.
//
// The file is a ZIP archive (no compression, no ZIP64, no data descriptors) with one member per
// parameter, named "<dotted parameter name>.npy" ("0.weight.npy", "fc1.bias.npy"), in
// named_parameters() order. Each member is an NPY version 1.0 file:
//   "\x93NUMPY" 0x01 0x00, a little-endian uint16 header length, then an ASCII header
//   "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and a final
//   '\n' so the data starts at a multiple of 64 bytes, then the raw little-endian row-major values.
// descr is '<f4' (float32), '<f8' (float64) or '<i8' (int64). Every member's CRC-32 (zlib) is
// stored in its local header and the central directory, and load verifies it.
// In Python: `w = np.load("model.npz"); w["0.weight"]`.
//
// save writes a temp file unique to the save, fsyncs it, renames it over <path> and fsyncs the
// directory (ag::io::write_file_atomically): a reader sees the old file or the new one, never a
// mix, concurrent saves to one path each write a complete file, and a failed save leaves the old
// file untouched.
// load reads everything and checks every name, shape, dtype and checksum before it changes a
// single parameter.
#include <nn/module.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include <autograd/detail/checked.hpp>
#include <autograd/detail/io.hpp>
#include <autograd/engine.hpp>
#include <nn/detail/npz.hpp>

namespace ag::nn {

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22;
// 1980-01-01 00:00 in MS-DOS format: a fixed stamp keeps saved files byte-for-byte reproducible.
constexpr std::uint16_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;

void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint16_t get16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                    (static_cast<unsigned char>(s[at + 1]) << 8));
}
std::uint32_t get32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

const char* descr_of(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "<f4";
    case Dtype::Float64: return "<f8";
    case Dtype::Int64: return "<i8";
  }
  return "?";
}

std::string npy_bytes(const Tensor& t) {
  std::string shape = "(";
  for (std::size_t i = 0; i < t.dim(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape()[i]);
  shape += t.dim() == 1 ? ",)" : ")";  // Python's one-element tuple
  std::string header = std::string("{'descr': '") + descr_of(t.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;  // magic+version+len, header, '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<std::uint16_t>(header.size()));
  out += header;
  const std::size_t nbytes = t.numel() * dtype_size(t.dtype());
  const char* data = nullptr;
  switch (t.dtype()) {
    case Dtype::Float32: data = reinterpret_cast<const char*>(t.data_ptr<float>()); break;
    case Dtype::Float64: data = reinterpret_cast<const char*>(t.data_ptr<double>()); break;
    case Dtype::Int64: data = reinterpret_cast<const char*>(t.data_ptr<std::int64_t>()); break;
  }
  out.append(data, nbytes);  // x86-64 is little-endian, as '<' says
  return out;
}

std::uint32_t crc_of(const std::string& bytes, std::size_t at, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data() + at);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

std::string build_npz(const std::vector<std::pair<std::string, Tensor>>& entries, const std::string& path) {
  std::string out, central;
  for (const auto& [name, t] : entries) {
    const std::string member = name + ".npy";
    if (member.size() > 0xffff)  // ZIP stores name lengths in 16 bits
      throw Error("Module::save: " + path + ": parameter name '" + name.substr(0, 40) + "...' has " +
                  std::to_string(name.size()) + " bytes; an .npz member name holds at most 65531");
    const std::string npy = npy_bytes(t);
    if (npy.size() > 0xffffffffu || out.size() > 0xffffffffu)
      throw Error("Module::save: " + path + ": parameter '" + name + "' makes the archive exceed 4 GiB");
    const std::uint32_t crc = crc_of(npy, 0, npy.size());
    const auto offset = static_cast<std::uint32_t>(out.size());
    const auto size = static_cast<std::uint32_t>(npy.size());
    put32(out, kLocalSig);
    put16(out, 20);  // version needed: 2.0
    put16(out, 0);   // flags
    put16(out, 0);   // method: stored
    put16(out, kDosTime);
    put16(out, kDosDate);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<std::uint16_t>(member.size()));
    put16(out, 0);  // extra length
    out += member;
    out += npy;

    put32(central, kCentralSig);
    put16(central, 20);  // made by: 2.0, MS-DOS attributes
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosTime);
    put16(central, kDosDate);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<std::uint16_t>(member.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, offset);
    central += member;
  }
  if (entries.size() > 0xffff) throw Error("Module::save: " + path + ": more than 65535 parameters");
  const auto central_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  put32(out, kEndSig);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint16_t>(entries.size()));
  put16(out, static_cast<std::uint16_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, central_offset);
  put16(out, 0);  // comment length
  return out;
}

struct NpyEntry {
  Dtype dtype;
  Shape shape;
  std::size_t data_at, data_size;  // in the archive buffer
};

// Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" as NumPy writes it.
NpyEntry parse_npy(const std::string& buf, std::size_t at, std::size_t size, const std::string& where) {
  auto bad = [&](const std::string& why) -> Error { return Error("Module::load: " + where + ": " + why); };
  if (size < 10 || buf.compare(at, 6, "\x93NUMPY") != 0) throw bad("not an NPY array (bad magic)");
  const int major = static_cast<unsigned char>(buf[at + 6]);
  std::size_t header_len, header_at;
  if (major == 1) {
    header_len = get16(buf, at + 8);
    header_at = at + 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw bad("NPY header truncated");
    header_len = get32(buf, at + 8);
    header_at = at + 12;
  } else {
    throw bad("unsupported NPY version " + std::to_string(major));
  }
  if (header_at + header_len > at + size) throw bad("NPY header truncated");
  const std::string header = buf.substr(header_at, header_len);

  auto value_of = [&](const std::string& key) {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw bad("NPY header has no '" + key + "': " + header);
    auto v = header.find(':', k);
    if (v == std::string::npos) throw bad("malformed NPY header: " + header);
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    return v;
  };
  NpyEntry e{};
  const auto d = value_of("descr");
  const auto d_end = header.find('\'', d + 1);
  if (header[d] != '\'' || d_end == std::string::npos) throw bad("malformed descr in NPY header: " + header);
  const std::string descr = header.substr(d + 1, d_end - d - 1);
  if (descr == "<f4") e.dtype = float32;
  else if (descr == "<f8") e.dtype = float64;
  else if (descr == "<i8") e.dtype = int64;
  else throw bad("unsupported dtype '" + descr + "' (float32 '<f4', float64 '<f8', int64 '<i8')");
  if (header.compare(value_of("fortran_order"), 5, "False") != 0)
    throw bad("Fortran-ordered arrays are not supported");
  auto s = value_of("shape");
  if (header[s] != '(') throw bad("malformed shape in NPY header: " + header);
  const auto s_end = header.find(')', s);
  if (s_end == std::string::npos) throw bad("malformed shape in NPY header: " + header);
  std::istringstream dims(header.substr(s + 1, s_end - s - 1));
  std::string item;
  std::size_t numel = 1;
  while (std::getline(dims, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    char* end = nullptr;
    const unsigned long long dim = std::strtoull(item.c_str() + first, &end, 10);
    if (end == item.c_str() + first || item.find_first_not_of(' ', end - item.c_str()) != std::string::npos)
      throw bad("malformed shape in NPY header: " + header);
    if (dim > kMaxElements) throw bad("dimension " + item + " is too large in NPY header: " + header);
    e.shape.push_back(static_cast<std::size_t>(dim));
  }
  try {
    numel = checked_numel("Module::load", e.shape);
  } catch (const Error&) {
    throw bad("shape " + shape_str(e.shape) + " has too many elements");
  }
  e.data_at = header_at + header_len;
  if (!mul_fits(numel, dtype_size(e.dtype), &e.data_size) || e.data_at + e.data_size != at + size)
    throw bad("holds " + std::to_string(at + size - e.data_at) + " data bytes, but shape " +
              shape_str(e.shape) + " " + dtype_name(e.dtype) + " needs " + std::to_string(e.data_size));
  return e;
}

// Entries by name, plus their names in archive order (so errors name the first bad one).
std::map<std::string, NpyEntry> parse_npz(const std::string& buf, const std::string& path,
                                          std::vector<std::string>& order) {
  auto bad = [&](const std::string& why) { return Error("Module::load: " + path + ": " + why); };
  if (buf.size() < kEndSize) throw bad("file is truncated or not an .npz archive (" + std::to_string(buf.size()) + " bytes)");
  // The end record sits at the very end unless the archive has a comment (at most 65535 bytes).
  std::size_t end = std::string::npos;
  const std::size_t lowest = buf.size() >= kEndSize + 0xffff ? buf.size() - kEndSize - 0xffff : 0;
  for (std::size_t i = buf.size() - kEndSize + 1; i-- > lowest;)
    if (get32(buf, i) == kEndSig) { end = i; break; }
  if (end == std::string::npos)
    throw bad("no ZIP end-of-central-directory record: the file is truncated or not an .npz archive");
  const std::size_t count = get16(buf, end + 10);
  const std::size_t central_size = get32(buf, end + 12), central_at = get32(buf, end + 16);
  if (central_at + central_size > end) throw bad("central directory lies outside the file (truncated or corrupt)");

  std::map<std::string, NpyEntry> entries;
  std::size_t at = central_at;
  for (std::size_t i = 0; i < count; ++i) {
    if (at + kCentralSize > central_at + central_size || get32(buf, at) != kCentralSig)
      throw bad("central directory entry " + std::to_string(i) + " is corrupt");
    const std::uint16_t method = get16(buf, at + 10);
    const std::uint32_t crc = get32(buf, at + 16);
    const std::size_t csize = get32(buf, at + 20), usize = get32(buf, at + 24);
    const std::size_t name_len = get16(buf, at + 28), extra_len = get16(buf, at + 30),
                      comment_len = get16(buf, at + 32);
    const std::size_t local = get32(buf, at + 42);
    if (at + kCentralSize + name_len > central_at + central_size)
      throw bad("central directory entry " + std::to_string(i) + " is corrupt");
    const std::string member = buf.substr(at + kCentralSize, name_len);
    at += kCentralSize + name_len + extra_len + comment_len;
    const std::string where = path + " entry '" + member + "'";
    if (method != 0) throw bad("entry '" + member + "' is compressed (method " + std::to_string(method) +
                               "); save with np.savez, not np.savez_compressed");
    if (csize != usize) throw Error("Module::load: " + where + ": stored sizes disagree");
    if (local + kLocalSize > buf.size() || get32(buf, local) != kLocalSig)
      throw Error("Module::load: " + where + ": local header missing (truncated or corrupt)");
    const std::size_t data_at = local + kLocalSize + get16(buf, local + 26) + get16(buf, local + 28);
    if (data_at + csize > central_at)
      throw Error("Module::load: " + where + ": data runs past its end (truncated or corrupt)");
    if (buf.compare(local + kLocalSize, name_len, member) != 0 || get16(buf, local + 26) != name_len)
      throw Error("Module::load: " + where + ": local header names a different entry (corrupt)");
    const std::uint32_t actual = crc_of(buf, data_at, csize);
    if (actual != crc) {
      char msg[64];
      std::snprintf(msg, sizeof msg, "CRC-32 mismatch (stored %08x, computed %08x)", crc, actual);
      throw Error("Module::load: " + where + ": " + msg + ": the file is corrupt");
    }
    if (member.size() < 5 || member.compare(member.size() - 4, 4, ".npy") != 0)
      throw Error("Module::load: " + where + ": not an .npy member");
    const std::string name = member.substr(0, member.size() - 4);
    if (!entries.emplace(name, parse_npy(buf, data_at, csize, where)).second)
      throw Error("Module::load: " + where + ": appears twice");
    order.push_back(name);
  }
  return entries;
}

Tensor tensor_from_entry(const std::string& buf, const NpyEntry& e) {
  Tensor t = zeros(e.shape, e.dtype);
  void* dst = nullptr;
  switch (e.dtype) {
    case Dtype::Float32: dst = t.data_ptr<float>(); break;
    case Dtype::Float64: dst = t.data_ptr<double>(); break;
    case Dtype::Int64: dst = t.data_ptr<std::int64_t>(); break;
  }
  if (e.data_size > 0) std::memcpy(dst, buf.data() + e.data_at, e.data_size);
  return t;
}

}  // namespace

namespace detail {

void write_npz(const std::string& path,
               const std::vector<std::pair<std::string, Tensor>>& entries) {
  io::write_file_atomically("Module::save", path, build_npz(entries, path));
}

std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path) {
  const std::string buf = io::read_file("Module::load", path);
  std::vector<std::string> order;
  const auto entries = parse_npz(buf, path, order);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& name : order) out.emplace_back(name, tensor_from_entry(buf, entries.at(name)));
  return out;
}

}  // namespace detail

namespace {

// Parameters, then buffers: the entries of a module's file, in this order.
std::vector<std::pair<std::string, Tensor>> state_of(const Module& m) {
  auto state = m.named_parameters();
  for (auto& b : m.named_buffers()) state.push_back(std::move(b));
  return state;
}

}  // namespace

void Module::save(const std::string& path) const { detail::write_npz(path, state_of(*this)); }

void Module::load(const std::string& path) {
  const auto entries = detail::read_npz(path);
  auto state = state_of(*this);
  const std::size_t num_params = named_parameters().size();
  std::vector<const Tensor*> sources;  // the entry for state[i]
  for (std::size_t i = 0; i < state.size(); ++i) {
    const auto& [name, t] = state[i];
    const char* kind = i < num_params ? "parameter" : "buffer";
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&name = name](const auto& e) { return e.first == name; });
    if (it == entries.end())
      throw Error("Module::load: " + path + " has no entry '" + name + ".npy' for " + kind + " '" +
                  name + "' " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) + " of " +
                  type_name());
    const Tensor& e = it->second;
    if (e.shape() != t.shape() || e.dtype() != t.dtype())
      throw Error("Module::load: " + path + " entry '" + name + ".npy' is " + shape_str(e.shape()) +
                  " " + dtype_name(e.dtype()) + ", but " + kind + " '" + name + "' is " +
                  shape_str(t.shape()) + " " + dtype_name(t.dtype()));
    sources.push_back(&e);
  }
  for (const auto& [name, e] : entries) {
    const bool known =
        std::any_of(state.begin(), state.end(),
                    [&name = name](const auto& p) { return p.first == name; });
    if (!known)
      throw Error("Module::load: " + path + " entry '" + name + ".npy' " + shape_str(e.shape()) +
                  " matches no parameter or buffer of " + type_name());
  }
  // Everything checked: now copy (the dtypes match, so copy_ is a plain copy).
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < state.size(); ++i) state[i].second.copy_(*sources[i]);
}

}  // namespace ag::nn
