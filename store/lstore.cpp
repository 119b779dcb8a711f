#include "store/lstore.hpp"

namespace dkv {

namespace {
// Reclaim a little every this many writes, so an engine never builds up an
// unbounded backlog even in shards that see no writes.
constexpr std::uint64_t reclaim_every = 64;
constexpr std::size_t reclaim_budget = 64;
}  // namespace

lstore::lstore(store_limits limits, const db_factory& make_engine)
    : limits_(limits), engine_(make_engine(limits)) {}

template <typename Apply>
write_result lstore::write(feature needed, std::string_view op, std::string_view key, std::string_view value,
                           Apply&& apply) {
  if (!engine_->SupportsFeature(needed)) return {unsupported_operation(op), 0};
  if (error e = limits_.check(key, value); !e.ok()) return {std::move(e), 0};
  std::lock_guard guard(writer_);
  const std::uint64_t index = engine_->WriteIdx() + 1;
  error e = apply(*engine_, index);
  if (!e.ok()) return {std::move(e), 0};
  if (index % reclaim_every == 0) engine_->GarbageCollect(reclaim_budget);
  return {{}, index};
}

write_result lstore::Set(std::string_view key, std::string_view value) {
  return write(feature::set, "Set", key, value, [&](kvdb& db, std::uint64_t w) { return db.Set(key, value, w); });
}

write_result lstore::SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                          std::uint64_t delete_in) {
  return write(feature::set_e, "SetE", key, value,
               [&](kvdb& db, std::uint64_t w) { return db.SetE(key, value, expire_in, delete_in, w); });
}

write_result lstore::SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                 std::uint64_t delete_in) {
  return write(feature::set_e_if_unset, "SetEIfUnset", key, value,
               [&](kvdb& db, std::uint64_t w) { return db.SetEIfUnset(key, value, expire_in, delete_in, w); });
}

write_result lstore::Expire(std::string_view key) {
  return write(feature::expire, "Expire", key, {}, [&](kvdb& db, std::uint64_t w) { return db.Expire(key, w); });
}

write_result lstore::Delete(std::string_view key) {
  return write(feature::remove, "Delete", key, {}, [&](kvdb& db, std::uint64_t w) { return db.Delete(key, w); });
}

delete_if_value_result lstore::DeleteIfValue(std::string_view key, std::string_view value) {
  bool deleted = false;
  write_result r = write(feature::remove, "DeleteIfValue", key, value,
                         [&](kvdb& db, std::uint64_t w) { return db.DeleteIfValue(key, value, w, deleted); });
  return {std::move(r.err), deleted, r.index};
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
