#pragma once
// Big-endian integers for the codec (private to net/protocol). Byte by byte
// with shifts: no alignment or host byte-order assumptions, and compilers
// turn it into one load / store plus a byte swap.

#include <cstdint>
#include <string>

namespace dkv::net {

inline void put_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                         static_cast<char>(v)};
  out.append(bytes, sizeof bytes);
}

inline void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

inline std::uint32_t get_u32(const char* p) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
}

inline std::uint64_t get_u64(const char* p) noexcept { return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4); }

}  // namespace dkv::net
