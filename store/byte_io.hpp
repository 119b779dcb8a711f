#pragma once
// Little-endian integers and length-prefixed byte strings, written to a
// std::string and read back with bounds checks: the building blocks of dkv's
// own binary formats (log commands, session tables, WAL records). A reader
// never reads past its input; a short or malformed input just fails.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dkv {

static_assert(std::endian::native == std::endian::little, "dkv's binary formats assume a little-endian host");

class byte_writer {
 public:
  explicit byte_writer(std::string& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void u8(std::uint8_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  // u32 size, then the bytes.
  void bytes(std::string_view b) {
    u32(static_cast<std::uint32_t>(b.size()));
    out_.append(b);
  }

 private:
  std::string& out_;
};

class byte_reader {
 public:
  explicit byte_reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool get(T& v) {
    if (in_.size() < sizeof v) return false;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return true;
  }
  bool u8(std::uint8_t& v) { return get(v); }
  bool u32(std::uint32_t& v) { return get(v); }
  bool u64(std::uint64_t& v) { return get(v); }
  // A view into the input: valid as long as the input is.
  bool bytes(std::string_view& b) {
    std::uint32_t size;
    if (!u32(size) || in_.size() < size) return false;
    b = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  bool raw(std::size_t size, std::string_view& b) {
    if (in_.size() < size) return false;
    b = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  std::size_t remaining() const noexcept { return in_.size(); }
  bool done() const noexcept { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace dkv
