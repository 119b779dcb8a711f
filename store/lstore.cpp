#include "store/lstore.hpp"

namespace dkv {

namespace {
// Reclaim a little every this many writes, so an engine never builds up an
// unbounded backlog even in shards that see no writes.
constexpr std::uint64_t reclaim_every = 64;
constexpr std::size_t reclaim_budget = 64;
}  // namespace

lstore::lstore(store_limits limits, const db_factory& make_engine) : limits_(limits), engine_(make_engine(limits)) {}

delete_if_value_result lstore::write(const write_command& command) {
  if (error e = validate(command, *engine_, limits_); !e.ok()) return {std::move(e), false, 0};
  std::lock_guard guard(writer_);
  const std::uint64_t index = engine_->WriteIdx() + 1;
  bool deleted = false;
  if (error e = apply(command, *engine_, index, deleted); !e.ok()) return {std::move(e), false, 0};
  if (index % reclaim_every == 0) engine_->GarbageCollect(reclaim_budget);
  return {{}, deleted, index};
}

namespace {
write_result without_flag(delete_if_value_result r) { return {std::move(r.err), r.index}; }
}  // namespace

write_result lstore::Set(std::string_view key, std::string_view value) {
  return without_flag(write({operation_kind::set, key, value, 0, 0}));
}

write_result lstore::SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                          std::uint64_t delete_in) {
  return without_flag(write({operation_kind::set_e, key, value, expire_in, delete_in}));
}

write_result lstore::SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                 std::uint64_t delete_in) {
  return without_flag(write({operation_kind::set_e_if_unset, key, value, expire_in, delete_in}));
}

write_result lstore::Expire(std::string_view key) {
  return without_flag(write({operation_kind::expire, key, {}, 0, 0}));
}

write_result lstore::Delete(std::string_view key) {
  return without_flag(write({operation_kind::remove, key, {}, 0, 0}));
}

delete_if_value_result lstore::DeleteIfValue(std::string_view key, std::string_view value) {
  return write({operation_kind::remove_if_value, key, value, 0, 0});
}

get_result lstore::Get(std::string_view key) {
  if (!engine_->SupportsFeature(feature::get)) return {unsupported_operation("Get"), false, {}, 0};
  if (error e = limits_.check(key); !e.ok()) return {std::move(e), false, {}, 0};
  get_result result;
  const read_status status = engine_->Get(key, result.value);
  result.found = status.found;
  result.index = status.index;
  return result;
}

has_result lstore::Has(std::string_view key) {
  if (!engine_->SupportsFeature(feature::has)) return {unsupported_operation("Has"), false, 0};
  if (error e = limits_.check(key); !e.ok()) return {std::move(e), false, 0};
  const read_status status = engine_->Has(key);
  return {{}, status.found, status.index};
}

db_info_result lstore::GetDBInfo() { return {{}, engine_->GetInfo()}; }

error lstore::Save(std::string& out) const {
  if (!engine_->SupportsFeature(feature::save)) return unsupported_operation("Save");
  return engine_->Save(out);
}

error lstore::Load(std::string_view snapshot) {
  if (!engine_->SupportsFeature(feature::load)) return unsupported_operation("Load");
  std::lock_guard guard(writer_);
  return engine_->Load(snapshot);
}

}  // namespace dkv
