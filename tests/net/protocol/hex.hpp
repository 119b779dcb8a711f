#pragma once
// Bytes written as hex in the tests, spaces allowed for readability.

#include <stdexcept>
#include <string>
#include <string_view>

namespace dkv::test {

inline std::string from_hex(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("from_hex: not a hex digit");
  };
  std::string bytes;
  int high = -1;
  for (const char c : hex) {
    if (c == ' ') continue;
    const int n = nibble(c);
    if (high < 0) {
      high = n;
    } else {
      bytes.push_back(static_cast<char>(high << 4 | n));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("from_hex: odd number of digits");
  return bytes;
}

}  // namespace dkv::test
