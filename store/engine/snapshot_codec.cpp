#include "store/engine/snapshot_codec.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "store/bugs.hpp"
#include "store/engine/key_hash.hpp"

namespace dkv::engine {

static_assert(std::endian::native == std::endian::little, "the snapshot codec assumes a little-endian host");

namespace {

constexpr char magic[8] = {'D', 'K', 'V', 'S', 'N', 'A', 'P', '\0'};
constexpr std::size_t header_size = 8 + 4 + 4 + 8 + 8;
constexpr std::size_t entry_header_size = 4 + 8 + 8 + 8 + 8;
constexpr std::size_t trailer_size = 8;

template <typename T>
char* put(char* p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

template <typename T>
T take(const char*& p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

// The value as the snapshot records it: empty once expired.
std::string_view logical_value(const entry* e, std::uint64_t now) noexcept {
  return e->expired_at(now) ? std::string_view() : e->value();
}

char* put_entry_header(char* p, const entry* e, std::uint64_t value_size) noexcept {
  p = put<std::uint32_t>(p, e->key_size);
  p = put<std::uint64_t>(p, value_size);
  p = put<std::uint64_t>(p, e->index);
  // injected bug snapshot_drops_ttl: the deadlines are not written, so a restored entry never expires (dKV's way).
  if (bugs::on(bugs::bug::snapshot_drops_ttl)) return put<std::uint64_t>(put<std::uint64_t>(p, 0), 0);
  p = put<std::uint64_t>(p, e->expire_at);
  return put<std::uint64_t>(p, e->delete_at);
}

char* put_header(char* p, std::uint64_t write_index, std::uint64_t count) noexcept {
  std::memcpy(p, magic, sizeof magic);
  p = put<std::uint32_t>(p + sizeof magic, snapshot_version);
  p = put<std::uint32_t>(p, 0);
  p = put<std::uint64_t>(p, write_index);
  return put<std::uint64_t>(p, count);
}

// Entries sit at random addresses; asking for one a few steps ahead hides
// most of the cache misses of a large snapshot.
constexpr std::size_t prefetch_distance = 8;
void prefetch_ahead(const std::vector<const entry*>& ordered, std::size_t i) noexcept {
  if (i + prefetch_distance < ordered.size()) __builtin_prefetch(ordered[i + prefetch_distance]);
}

error corrupt(const std::string& why) { return internal_error("corrupt snapshot: " + why); }

// Bytes the live entries take and how many there are: the header needs both
// before the first entry is written.
struct body_size {
  std::size_t bytes = 0;
  std::uint64_t count = 0;
};

body_size measure(std::uint64_t write_index, const std::vector<const entry*>& ordered) noexcept {
  body_size size;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    prefetch_ahead(ordered, i);
    const entry* e = ordered[i];
    if (e->deleted_at(write_index)) continue;
    size.bytes += entry_header_size + e->key_size + logical_value(e, write_index).size();
    ++size.count;
  }
  return size;
}

}  // namespace

void encode_snapshot(std::uint64_t write_index, const std::vector<const entry*>& ordered, std::string& out) {
  const body_size body = measure(write_index, ordered);
  const std::size_t total = header_size + body.bytes + trailer_size;
  out.resize(total);
  char* p = put_header(out.data(), write_index, body.count);
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    prefetch_ahead(ordered, i);
    const entry* e = ordered[i];
    if (e->deleted_at(write_index)) continue;
    const std::string_view value = logical_value(e, write_index);
    p = put_entry_header(p, e, value.size());
    std::memcpy(p, e->key_data(), e->key_size);
    p += e->key_size;
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
    p += value.size();
  }
  put<std::uint64_t>(p, XXH3_64bits(out.data(), total - trailer_size));
}

std::uint64_t digest_entries(std::uint64_t write_index, const std::vector<const entry*>& ordered) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  char buffer[std::max(header_size, entry_header_size)];
  put_header(buffer, write_index, measure(write_index, ordered).count);
  XXH3_64bits_update(&state, buffer, header_size);
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    prefetch_ahead(ordered, i);
    const entry* e = ordered[i];
    if (e->deleted_at(write_index)) continue;
    const std::string_view value = logical_value(e, write_index);
    put_entry_header(buffer, e, value.size());
    XXH3_64bits_update(&state, buffer, entry_header_size);
    XXH3_64bits_update(&state, e->key_data(), e->key_size);
    XXH3_64bits_update(&state, value.data(), value.size());
  }
  return XXH3_64bits_digest(&state);
}

decoded_snapshot::~decoded_snapshot() {
  for (entry* e : entries) entry::destroy(e);
}

error decode_snapshot(std::string_view bytes, const store_limits& limits, decoded_snapshot& out) {
  if (bytes.size() < header_size + trailer_size)
    return corrupt("truncated: " + std::to_string(bytes.size()) + " bytes is shorter than a header");
  if (std::memcmp(bytes.data(), magic, sizeof magic) != 0) return corrupt("bad magic, not a dkv snapshot");
  const char* p = bytes.data() + sizeof magic;
  const auto version = take<std::uint32_t>(p);
  if (version != snapshot_version) return corrupt("unsupported version " + std::to_string(version));
  take<std::uint32_t>(p);  // flags
  const auto write_index = take<std::uint64_t>(p);
  const auto count = take<std::uint64_t>(p);
  const char* body_end = bytes.data() + bytes.size() - trailer_size;
  const char* trailer = body_end;
  if (take<std::uint64_t>(trailer) != XXH3_64bits(bytes.data(), bytes.size() - trailer_size))
    return corrupt("checksum mismatch (truncated or damaged)");

  decoded_snapshot decoded;
  decoded.write_index = write_index;
  if (count > static_cast<std::uint64_t>(body_end - p) / entry_header_size)
    return corrupt("entry count " + std::to_string(count) + " does not fit the file");
  decoded.entries.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    if (static_cast<std::size_t>(body_end - p) < entry_header_size)
      return corrupt("entry " + std::to_string(i) + " truncated");
    const auto key_size = take<std::uint32_t>(p);
    const auto value_size = take<std::uint64_t>(p);
    const auto index = take<std::uint64_t>(p);
    const auto expire_at = take<std::uint64_t>(p);
    const auto delete_at = take<std::uint64_t>(p);
    const auto left = static_cast<std::uint64_t>(body_end - p);
    if (key_size > left || value_size > left - key_size)
      return corrupt("entry " + std::to_string(i) + " overruns the file");
    const std::string_view key(p, key_size);
    const std::string_view value(p + key_size, value_size);
    p += key_size + value_size;
    if (error e = limits.check(key, value); !e.ok()) return corrupt("entry " + std::to_string(i) + ": " + e.message());
    if (index > write_index) return corrupt("entry " + std::to_string(i) + " is newer than the snapshot's write index");
    if (delete_at != 0 && delete_at <= write_index) continue;  // already deleted: nothing to restore
    entry* e = entry::make(key_hash(key), key, value, nullptr);
    e->index = index;
    e->expire_at = expire_at;
    e->delete_at = delete_at;
    decoded.entries.push_back(e);
  }
  if (p != body_end) return corrupt("trailing bytes after the last entry");
  out.write_index = decoded.write_index;
  out.entries.swap(decoded.entries);
  return {};
}

}  // namespace dkv::engine
