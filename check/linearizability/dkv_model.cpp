#include "check/linearizability/dkv_model.hpp"

namespace dkv::check {

namespace {
std::uint64_t deadline(std::uint64_t w, std::uint64_t n) {
  if (n == 0) return 0;
  return w > std::numeric_limits<std::uint64_t>::max() - n ? std::numeric_limits<std::uint64_t>::max() : w + n;
}
}  // namespace

bool apply_write(dkv_entry& e, const dkv_op& op, std::uint64_t w) {
  auto set = [&](std::uint64_t expire_in, std::uint64_t delete_in) {
    e = {true, op.value, deadline(w, expire_in), deadline(w, delete_in)};
  };
  switch (op.kind) {
    case operation_kind::set: set(0, 0); return false;
    case operation_kind::set_e: set(op.expire_in, op.delete_in); return false;
    case operation_kind::set_e_if_unset:
      if (!e.exists || e.deleted_at(w)) set(op.expire_in, op.delete_in);
      return false;
    case operation_kind::expire:
      if (e.live_at(w)) {
        e.value.clear();
        e.expire_at = w;
      }
      return false;
    case operation_kind::remove: e = {}; return false;
    case operation_kind::remove_if_value:
      if (e.live_at(w) && e.value == op.value) {
        e = {};
        return true;
      }
      return false;
    default: return false;
  }
}

bool read_matches(const dkv_entry& e, const dkv_op& op, std::uint64_t w) {
  if (!op.known) return true;
  if (op.kind == operation_kind::has) return op.found == (e.exists && !e.deleted_at(w));
  const bool live = e.live_at(w);
  return op.found == live && (!live || op.value == e.value);
}

std::uint64_t dkv_store_model::hash(const state& s) {
  std::uint64_t h = s.clock;
  for (const auto& e : s.entries) {
    h = XXH3_64bits_withSeed(e.value.data(), e.value.size(), h ^ (e.exists ? 0x51 : 0x17));
    h ^= e.expire_at * 0x9e3779b97f4a7c15ULL ^ e.delete_at * 0xc2b2ae3d27d4eb4fULL;
  }
  return h;
}

bool dkv_store_model::step(const state& s, const op& o, state& next) {
  if (!is_write(o.kind)) {
    next = s;
    return read_matches(o.key < s.entries.size() ? s.entries[o.key] : dkv_entry{}, o, s.clock);
  }
  next = s;
  next.clock = s.clock + 1;
  if (next.entries.size() <= o.key) next.entries.resize(o.key + 1);
  const bool deleted = apply_write(next.entries[o.key], o, next.clock);
  return !o.known || o.kind != operation_kind::remove_if_value || deleted == o.found;
}

}  // namespace dkv::check
