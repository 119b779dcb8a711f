#pragma once
// Log entries in binary, shared by the WAL records (wal_storage) and the
// messages (message_codec): u32 count | count x (u64 term | u8 kind |
// u32-prefixed data). Indexes are implied: consecutive from a first index
// the container knows.

#include <vector>

#include "store/byte_io.hpp"
#include "store/raft/types.hpp"

namespace dkv::raft {

inline void put_entries(byte_writer& w, const std::vector<entry>& entries) {
  w.u32(static_cast<std::uint32_t>(entries.size()));
  for (const entry& e : entries) {
    w.u64(e.term);
    w.u8(static_cast<std::uint8_t>(e.kind));
    w.bytes(e.data.view());
  }
}

inline bool get_entries(byte_reader& r, index_t first, std::vector<entry>& out) {
  constexpr std::size_t smallest_entry = 8 + 1 + 4;
  std::uint32_t count = 0;
  if (!r.u32(count) || count > r.remaining() / smallest_entry) return false;
  out.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t kind = 0;
    std::string_view data;
    if (!r.u64(out[i].term) || !r.u8(kind) || kind > static_cast<std::uint8_t>(entry_kind::config) || !r.bytes(data))
      return false;
    out[i].index = first + i;
    out[i].kind = static_cast<entry_kind>(kind);
    out[i].data = payload::copy_of(data);
  }
  return true;
}

}  // namespace dkv::raft
