#include "store/command.hpp"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace dkv {

std::string_view op_name(write_kind kind) noexcept {
  switch (kind) {
    case write_kind::set: return "Set";
    case write_kind::set_e: return "SetE";
    case write_kind::set_e_if_unset: return "SetEIfUnset";
    case write_kind::expire: return "Expire";
    case write_kind::remove: return "Delete";
    case write_kind::remove_if_value: return "DeleteIfValue";
  }
  return "Unknown";
}

feature needed_feature(write_kind kind) noexcept {
  switch (kind) {
    case write_kind::set: return feature::set;
    case write_kind::set_e: return feature::set_e;
    case write_kind::set_e_if_unset: return feature::set_e_if_unset;
    case write_kind::expire: return feature::expire;
    case write_kind::remove:
    case write_kind::remove_if_value: return feature::remove;
  }
  return feature::set;
}

error validate(const write_command& command, const kvdb& engine, const store_limits& limits) {
  if (!engine.SupportsFeature(needed_feature(command.kind))) return unsupported_operation(op_name(command.kind));
  return limits.check(command.key, command.value);
}

std::uint64_t fingerprint(const write_command& c) noexcept {
  const bool has_value = c.kind == write_kind::set || c.kind == write_kind::set_e ||
                         c.kind == write_kind::set_e_if_unset || c.kind == write_kind::remove_if_value;
  const bool has_schedule = c.kind == write_kind::set_e || c.kind == write_kind::set_e_if_unset;
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
    case write_kind::set: return engine.Set(c.key, c.value, index);
    case write_kind::set_e: return engine.SetE(c.key, c.value, c.expire_in, c.delete_in, index);
    case write_kind::set_e_if_unset: return engine.SetEIfUnset(c.key, c.value, c.expire_in, c.delete_in, index);
    case write_kind::expire: return engine.Expire(c.key, index);
    case write_kind::remove: return engine.Delete(c.key, index);
    case write_kind::remove_if_value: return engine.DeleteIfValue(c.key, c.value, index, deleted);
  }
  return internal_error("unknown write kind");
}

}  // namespace dkv
