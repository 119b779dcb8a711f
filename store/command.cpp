#include "store/command.hpp"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace dkv {

feature needed_feature(operation_kind kind) noexcept {
  switch (kind) {
    case operation_kind::set: return feature::set;
    case operation_kind::set_e: return feature::set_e;
    case operation_kind::set_e_if_unset: return feature::set_e_if_unset;
    case operation_kind::expire: return feature::expire;
    case operation_kind::remove:
    case operation_kind::remove_if_value: return feature::remove;
    case operation_kind::get: return feature::get;
    case operation_kind::has: return feature::has;
    case operation_kind::info: break;  // GetDBInfo: every engine answers it
  }
  return feature::set;
}

error validate(const write_command& command, const kvdb& engine, const store_limits& limits) {
  if (!engine.SupportsFeature(needed_feature(command.kind))) return unsupported_operation(dkv_name(command.kind));
  return limits.check(command.key, command.value);
}

std::uint64_t fingerprint(const write_command& c) noexcept {
  const bool has_value = takes_value(c.kind);
  const bool has_schedule = takes_schedule(c.kind);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  const auto add_number = [&](std::uint64_t v) { XXH3_64bits_update(&state, &v, sizeof v); };
  const auto add_bytes = [&](std::string_view b) {
    add_number(b.size());
    XXH3_64bits_update(&state, b.data(), b.size());
  };
  add_number(static_cast<std::uint64_t>(c.kind));
  add_bytes(c.key);
  add_bytes(has_value ? c.value : std::string_view{});
  add_number(has_schedule ? c.expire_in : 0);
  add_number(has_schedule ? c.delete_in : 0);
  return XXH3_64bits_digest(&state);
}

error apply(const write_command& c, kvdb& engine, std::uint64_t index, bool& deleted) {
  deleted = false;
  switch (c.kind) {
    case operation_kind::set: return engine.Set(c.key, c.value, index);
    case operation_kind::set_e: return engine.SetE(c.key, c.value, c.expire_in, c.delete_in, index);
    case operation_kind::set_e_if_unset: return engine.SetEIfUnset(c.key, c.value, c.expire_in, c.delete_in, index);
    case operation_kind::expire: return engine.Expire(c.key, index);
    case operation_kind::remove: return engine.Delete(c.key, index);
    case operation_kind::remove_if_value: return engine.DeleteIfValue(c.key, c.value, index, deleted);
    case operation_kind::get:
    case operation_kind::has:
    case operation_kind::info: break;
  }
  return internal_error("not a write: " + std::string(dkv_name(c.kind)));
}

}  // namespace dkv
