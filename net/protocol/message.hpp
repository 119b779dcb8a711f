#pragma once
// The client protocol's message (docs/protocol.md, dKV's binary
// encoding): a type byte, a flags byte, then each field whose flag is set,
// in flag order, integers big-endian. A field that is empty, zero or false
// is not sent and reads back as such. Pure code: no sockets, no allocation
// beyond the strings; the fuzzers in tests/net/fuzz drive the decoder.

#include <cstdint>
#include <string>
#include <string_view>

namespace dkv::net {

enum class message_type : std::uint8_t {
  unknown = 0,
  success = 1,
  error = 2,
  set = 3,
  set_e = 4,
  set_e_if_unset = 5,
  expire = 6,
  remove = 7,  // dKV's "delete"
  get = 8,
  has = 9,
  lock_acquire = 10,
  lock_release = 11,
  custom = 12,
  db_info = 13,          // ext
  remove_if_value = 14,  // ext: key, value; ok = deleted
  status = 15,           // ext: the shard's replica as this server sees it; value = JSON
};

// The flag of each field, in the order the fields follow the flags byte.
namespace field {
inline constexpr std::uint8_t key = 0x01;
inline constexpr std::uint8_t expire_in = 0x02;
inline constexpr std::uint8_t delete_in = 0x04;
inline constexpr std::uint8_t value = 0x08;
inline constexpr std::uint8_t ok = 0x10;
inline constexpr std::uint8_t err = 0x20;
inline constexpr std::uint8_t meta = 0x40;
inline constexpr std::uint8_t code = 0x80;  // ext
}  // namespace field

struct message {
  message_type type = message_type::unknown;
  std::string key;
  std::uint64_t expire_in = 0;
  std::uint64_t delete_in = 0;  // lock acquire: the timeout
  std::string value;            // lock: the owner id; db info: JSON
  bool ok = false;              // get: found; has: exists; lock: acquired / released
  std::string err;              // dKV's "KVStoreError (code NAME): message"
  std::string meta;             // ext: a store result's write index, 8 bytes big-endian
  std::uint8_t code = 0;        // ext: docs/spec.md's error code; sent whenever err is

  friend bool operator==(const message&, const message&) = default;
};

// Appends the encoding of `m` to `out`.
void encode(const message& m, std::string& out);

// The encoded size of `m`, without encoding it.
std::size_t encoded_size(const message& m) noexcept;

// Decodes one message from `payload` (trailing bytes are ignored, as dKV
// does). On failure returns false and says why in `why` (an empty payload, a
// truncated field, a type past the last enumerated); `out` is then
// unspecified. The ok byte reads as true when non-zero (dKV writes 1 and
// reads it so). A length is checked against the bytes left before anything
// is allocated. A field sent empty (dKV sends a value of length 0 for an
// empty []byte) reads as absent. encode() may throw std::length_error for a
// field over 4 GiB.
bool decode(std::string_view payload, message& out, std::string& why);

// meta's ext form: the write index as 8 bytes big-endian, and back (0 when
// meta is not 8 bytes).
std::string index_meta(std::uint64_t index);
std::uint64_t meta_index(std::string_view meta) noexcept;

}  // namespace dkv::net
