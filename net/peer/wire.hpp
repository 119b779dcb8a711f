#pragma once
// The bytes between two dkv server processes. A connection carries one
// direction only: the member that opened it writes, the one that accepted it
// reads (each pair of members uses two connections, one each way). All
// integers are little-endian.
//
//   hello, once, first:
//     [magic u32 "dkvp"][version u32 = 2][sender's member u64]
//     [sender's cluster id u64][members length u16][members: that many bytes]
//   then frames:         [group u64][to u64][length u32][length bytes]
//
// The hello's first 16 bytes are the whole hello of version 1, so the
// receiver reads the version before it knows how long the rest is, and can
// name an older sender. The cluster id (cluster_identity.hpp) must equal
// the receiver's: it is the hash of the member list and the cluster token,
// so two processes given different lists never mix their Raft traffic. The
// members text (the sender's --cluster-members, at most max_members_bytes)
// is there only so that the receiver can say how the lists differ.
//
// The receiver never writes, except to refuse a hello: then it sends
//
//   refusal: [magic u32 "dkvr"][version u32: the refuser's][reason u32]
//            [refuser's cluster id u64][members length u16][members]
//
// shuts down its side, and closes once the sender closes (or after a
// bound), so that the sender reads the refusal instead of a reset; the
// sender says why it was refused. The refusal keeps this layout in every
// version, so that a sender learns even from a newer receiver why.
//
// The frame's bytes are the caf::message as CAF's binary_serializer writes
// it — the same bytes the simulator round-trips (sim/network) — and `to` is
// the actors::net_address inside `group`. The receiver closes a connection
// whose hello is wrong (refusing it as above when it can say why), and one
// whose frame announces more than max_frame_bytes: after either, it cannot
// trust where the next frame starts. A frame whose bytes do not decode is
// dropped alone; the framing around it still holds.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dkv::net::wire {

inline constexpr std::uint32_t magic = 0x70766b64;          // "dkvp" read as little-endian bytes
inline constexpr std::uint32_t refusal_magic = 0x72766b64;  // "dkvr"
inline constexpr std::uint32_t version = 2;
inline constexpr std::size_t hello_prefix_bytes = 16;  // magic, version, member: the same in every version
inline constexpr std::size_t hello_bytes = 26;         // version 2's hello without its members text
inline constexpr std::size_t refusal_bytes = 22;       // a refusal without its members text
inline constexpr std::size_t max_members_bytes = 4096;
inline constexpr std::size_t frame_header_bytes = 20;

// Why a receiver refused a hello.
enum class refusal_reason : std::uint32_t {
  other_cluster = 1,  // the cluster ids differ
  version = 2,        // the receiver does not speak the sender's version
  not_a_member = 3,   // the same cluster, but the sender's number is not another member's
};

inline void put_u16(char* out, std::uint16_t v) noexcept {
  for (int i = 0; i < 2; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u32(char* out, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u64(char* out, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint16_t get_u16(const char* in) noexcept {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(in[0]) | static_cast<unsigned char>(in[1]) << 8);
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

// The members text as sent: cut to max_members_bytes (it only explains; the
// cluster id covers the whole list).
inline std::string_view sendable(std::string_view members) noexcept { return members.substr(0, max_members_bytes); }

inline std::vector<char> hello(std::uint64_t member, std::uint64_t cluster_id, std::string_view members) {
  members = sendable(members);
  std::vector<char> out(hello_bytes + members.size());
  put_u32(out.data(), magic);
  put_u32(out.data() + 4, version);
  put_u64(out.data() + 8, member);
  put_u64(out.data() + 16, cluster_id);
  put_u16(out.data() + 24, static_cast<std::uint16_t>(members.size()));
  members.copy(out.data() + hello_bytes, members.size());
  return out;
}

struct refusal {
  std::uint32_t version = 0;  // the refuser's
  refusal_reason reason = refusal_reason::other_cluster;
  std::uint64_t cluster_id = 0;  // the refuser's
  std::string members;           // the refuser's
};

inline std::vector<char> encode(const refusal& r) {
  const std::string_view members = sendable(r.members);
  std::vector<char> out(refusal_bytes + members.size());
  put_u32(out.data(), refusal_magic);
  put_u32(out.data() + 4, r.version);
  put_u32(out.data() + 8, static_cast<std::uint32_t>(r.reason));
  put_u64(out.data() + 12, r.cluster_id);
  put_u16(out.data() + 20, static_cast<std::uint16_t>(members.size()));
  members.copy(out.data() + refusal_bytes, members.size());
  return out;
}

// What `size` bytes read from a receiver say: a whole refusal, not yet one
// (`complete` false), or nothing a dkv peer sends (`bad`).
struct refusal_read {
  bool complete = false, bad = false;
  refusal value;
};
inline refusal_read decode_refusal(const char* in, std::size_t size) {
  refusal_read r;
  if (size >= 4 && get_u32(in) != refusal_magic) r.bad = true;
  if (r.bad || size < refusal_bytes) return r;
  const std::size_t length = get_u16(in + 20);
  if (length > max_members_bytes) r.bad = true;
  if (r.bad || size < refusal_bytes + length) return r;
  r.bad = size > refusal_bytes + length;  // the receiver writes nothing after it
  r.complete = !r.bad;
  r.value = {get_u32(in + 4), static_cast<refusal_reason>(get_u32(in + 8)), get_u64(in + 12),
             std::string(in + refusal_bytes, length)};
  return r;
}
inline constexpr std::size_t max_refusal_bytes = refusal_bytes + max_members_bytes;

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
