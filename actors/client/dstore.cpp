#include "actors/client/dstore.hpp"

namespace dkv::actors {

error error_of(const store_answer& answer) {
  if (answer.code == 0) return {};
  return {static_cast<error_code>(answer.code), answer.message};
}

dstore::dstore(store_round_trip round_trip, store_limits limits)
    : round_trip_(std::move(round_trip)), limits_(limits) {}

store_answer dstore::call(operation_kind op, std::string_view key, std::string_view value, std::uint64_t expire_in,
                          std::uint64_t delete_in) {
  store_call c;
  c.op = static_cast<std::uint8_t>(op);
  c.key.assign(key);
  c.value.assign(value);
  c.expire_in = expire_in;
  c.delete_in = delete_in;
  return round_trip_(std::move(c));
}

namespace {
write_result as_write(const store_answer& a) { return {error_of(a), a.code == 0 ? a.index : 0}; }
}  // namespace

write_result dstore::Set(std::string_view key, std::string_view value) {
  return as_write(call(operation_kind::set, key, value));
}

write_result dstore::SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                          std::uint64_t delete_in) {
  return as_write(call(operation_kind::set_e, key, value, expire_in, delete_in));
}

write_result dstore::SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                 std::uint64_t delete_in) {
  return as_write(call(operation_kind::set_e_if_unset, key, value, expire_in, delete_in));
}

write_result dstore::Expire(std::string_view key) { return as_write(call(operation_kind::expire, key)); }

write_result dstore::Delete(std::string_view key) { return as_write(call(operation_kind::remove, key)); }

delete_if_value_result dstore::DeleteIfValue(std::string_view key, std::string_view value) {
  const store_answer a = call(operation_kind::remove_if_value, key, value);
  return {error_of(a), a.code == 0 && a.found, a.code == 0 ? a.index : 0};
}

get_result dstore::Get(std::string_view key) {
  store_answer a = call(operation_kind::get, key);
  if (a.code != 0) return {error_of(a), false, {}, 0};
  return {{}, a.found, std::move(a.value), a.index};
}

has_result dstore::Has(std::string_view key) {
  const store_answer a = call(operation_kind::has, key);
  if (a.code != 0) return {error_of(a), false, 0};
  return {{}, a.found, a.index};
}

db_info_result dstore::GetDBInfo() {
  store_answer a = call(operation_kind::info, {});
  return {error_of(a), std::move(a.info)};
}

}  // namespace dkv::actors
