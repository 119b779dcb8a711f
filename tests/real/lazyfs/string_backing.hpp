#pragma once
// A backing file in a string, for the overlay's tests.

#include <cstring>
#include <string>

#include "real/lazyfs/overlay.hpp"

namespace dkv::test {

struct string_backing final : lazyfs::backing_file {
  std::string bytes;
  int reads = 0;

  int read(std::uint64_t offset, char* into, std::size_t length) override {
    ++reads;
    for (std::size_t i = 0; i < length; ++i) into[i] = offset + i < bytes.size() ? bytes[offset + i] : '\0';
    return 0;
  }
  int write(std::uint64_t offset, std::string_view data) override {
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    return 0;
  }
  int truncate(std::uint64_t size) override {
    bytes.resize(size, '\0');
    return 0;
  }
};

// The whole view of `o` over `backing`.
inline std::string view_of(const lazyfs::overlay& o, lazyfs::backing_file& backing) {
  std::string out(o.size() + 16, '?');
  const std::int64_t n = o.read(0, out.data(), out.size(), backing);
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

}  // namespace dkv::test
