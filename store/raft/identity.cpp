#include "store/raft/identity.hpp"

#include <algorithm>

#include "store/byte_io.hpp"

#include <xxhash.h>

namespace dkv::raft {

bool identity::has_met(node_id id) const noexcept { return std::binary_search(met.begin(), met.end(), id); }

void identity::note_met(node_id id) {
  const auto at = std::lower_bound(met.begin(), met.end(), id);
  if (at == met.end() || *at != id) met.insert(at, id);
}

std::uint64_t identity::known_as(node_id id) const noexcept {
  const auto at = std::lower_bound(known.begin(), known.end(), std::pair<node_id, std::uint64_t>{id, 0});
  return at != known.end() && at->first == id ? at->second : 0;
}

void identity::note_known(node_id id, std::uint64_t incarnation) {
  const auto at = std::lower_bound(known.begin(), known.end(), std::pair<node_id, std::uint64_t>{id, 0});
  if (at != known.end() && at->first == id)
    at->second = incarnation;
  else
    known.insert(at, {id, incarnation});
}

namespace {

constexpr std::string_view magic = "DKVI";
// Far more members than any cluster has: a count past it is damage.
constexpr std::uint32_t max_members = 1u << 16;

std::string encode(const identity& id) {
  std::string out(magic);
  byte_writer w(out);
  w.u64(id.incarnation);
  w.u8(id.introduced ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(id.met.size()));
  for (node_id m : id.met) w.u64(m);
  w.u32(static_cast<std::uint32_t>(id.known.size()));
  for (const auto& [member, incarnation] : id.known) {
    w.u64(member);
    w.u64(incarnation);
  }
  w.u64(XXH3_64bits(out.data(), out.size()));
  return out;
}

bool decode(std::string_view bytes, identity& id) {
  if (bytes.size() < magic.size() + 8 || bytes.substr(0, magic.size()) != magic) return false;
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  byte_reader sum_reader(bytes.substr(body.size()));
  std::uint64_t sum = 0;
  if (!sum_reader.u64(sum) || sum != XXH3_64bits(body.data(), body.size())) return false;
  byte_reader r(body.substr(magic.size()));
  std::uint8_t introduced = 0;
  std::uint32_t count = 0;
  if (!r.u64(id.incarnation) || !r.u8(introduced) || !r.u32(count) || count > max_members) return false;
  id.introduced = introduced == 1;
  id.met.resize(count);
  for (node_id& m : id.met)
    if (!r.u64(m)) return false;
  if (!r.u32(count) || count > max_members) return false;
  id.known.resize(count);
  for (auto& [member, incarnation] : id.known)
    if (!r.u64(member) || !r.u64(incarnation)) return false;
  return r.done() && std::is_sorted(id.met.begin(), id.met.end()) && std::is_sorted(id.known.begin(), id.known.end());
}

}  // namespace

error identity_file::read(dkv::storage::file_system& fs, identity& out, std::string& problem) {
  out = {};
  std::vector<std::string> names;
  if (error e = fs.list(names); !e.ok()) return e;
  if (!std::binary_search(names.begin(), names.end(), std::string(name))) return {};
  std::unique_ptr<dkv::storage::file> f;
  if (error e = fs.open(name, dkv::storage::open_mode::existing, f); !e.ok()) return e;
  std::string bytes;
  identity read;
  bool valid = false;
  const auto decodes = [&read](const std::string& b) {
    read = {};
    return decode(b, read);
  };
  if (error e = dkv::storage::read_verified(*f, 0, static_cast<std::size_t>(f->size()), bytes, valid, decodes); !e.ok())
    return e;
  if (valid)
    out = std::move(read);
  else
    problem = std::string(name) + " is damaged";
  return {};
}

error identity_file::write(dkv::storage::file_system& fs, const identity& id) {
  return dkv::storage::replace_file(fs, name, encode(id));
}

}  // namespace dkv::raft
