#pragma once
// The bytes between two dkv server processes. A connection carries one
// direction only: the member that opened it writes, the one that accepted it
// reads (each pair of members uses two connections, one each way). All
// integers are little-endian.
//
//   hello, once, first:  [magic u32 "dkvp"][version u32 = 1][sender's member u64]
//   then frames:         [group u64][to u64][length u32][length bytes]
//
// The frame's bytes are the caf::message as CAF's binary_serializer writes
// it — the same bytes the simulator round-trips (sim/network) — and `to` is
// the actors::net_address inside `group`. The receiver closes a connection
// whose hello is wrong or names a member it does not know, and one whose
// frame announces more than max_frame_bytes: after either, it cannot trust
// where the next frame starts. A frame whose bytes do not decode is dropped
// alone; the framing around it still holds.

#include <cstddef>
#include <cstdint>

namespace dkv::net::wire {

inline constexpr std::uint32_t magic = 0x70766b64;  // "dkvp" read as little-endian bytes
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t hello_bytes = 16;
inline constexpr std::size_t frame_header_bytes = 20;

inline void put_u32(char* out, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u64(char* out, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const char* in) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}
inline std::uint64_t get_u64(const char* in) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

inline void put_hello(char* out, std::uint64_t member) noexcept {
  put_u32(out, magic);
  put_u32(out + 4, version);
  put_u64(out + 8, member);
}

struct frame_header {
  std::uint64_t group = 0;
  std::uint64_t to = 0;
  std::uint32_t length = 0;
};

inline void put_frame_header(char* out, const frame_header& h) noexcept {
  put_u64(out, h.group);
  put_u64(out + 8, h.to);
  put_u32(out + 16, h.length);
}
inline frame_header get_frame_header(const char* in) noexcept {
  return {get_u64(in), get_u64(in + 8), get_u32(in + 16)};
}

}  // namespace dkv::net::wire
