#include "store/engine/flat_kvdb.hpp"

#include <algorithm>
#include <limits>
#include <mutex>

#include "store/engine/key_hash.hpp"
#include "store/engine/snapshot_codec.hpp"

namespace dkv {

using engine::deadline_item;
using engine::deadline_kind;
using engine::entry;

namespace {

enum class write_op { set, set_e, set_e_if_unset, expire, remove, remove_if_value };

constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

// docs/spec.md: deadline = W + n when n > 0, else never (0).
constexpr std::uint64_t deadline_after(std::uint64_t now, std::uint64_t n) noexcept {
  return n == 0 ? 0 : saturating_add(now, n);
}

}  // namespace

struct flat_kvdb::write_request {
  write_op op;
  std::string_view key;
  std::string_view value;
  std::string* owned_value = nullptr;  // steal from here instead of copying
  std::uint64_t expire_in = 0;
  std::uint64_t delete_in = 0;
  std::uint64_t index = 0;
  bool* deleted = nullptr;
};

flat_kvdb::flat_kvdb(store_limits limits) : limits_(limits) {}

flat_kvdb::~flat_kvdb() { clear(); }

error flat_kvdb::Set(std::string_view key, std::string_view value, std::uint64_t index) {
  return apply({write_op::set, key, value, nullptr, 0, 0, index});
}

error flat_kvdb::SetOwned(std::string_view key, std::string&& value, std::uint64_t index) {
  return apply({write_op::set, key, value, &value, 0, 0, index});
}

error flat_kvdb::SetE(std::string_view key, std::string_view value, std::uint64_t expire_in, std::uint64_t delete_in,
                      std::uint64_t index) {
  return apply({write_op::set_e, key, value, nullptr, expire_in, delete_in, index});
}

error flat_kvdb::SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                             std::uint64_t delete_in, std::uint64_t index) {
  return apply({write_op::set_e_if_unset, key, value, nullptr, expire_in, delete_in, index});
}

error flat_kvdb::Expire(std::string_view key, std::uint64_t index) {
  return apply({write_op::expire, key, {}, nullptr, 0, 0, index});
}

error flat_kvdb::Delete(std::string_view key, std::uint64_t index) {
  return apply({write_op::remove, key, {}, nullptr, 0, 0, index});
}

error flat_kvdb::DeleteIfValue(std::string_view key, std::string_view value, std::uint64_t index, bool& deleted) {
  deleted = false;
  return apply({write_op::remove_if_value, key, value, nullptr, 0, 0, index, &deleted});
}

error flat_kvdb::check_index(std::uint64_t index) const {
  const std::uint64_t now = WriteIdx();
  if (index > now) return {};
  return internal_error("write index " + std::to_string(index) + " does not exceed the current write index " +
                        std::to_string(now));
}

void flat_kvdb::advance_clock(std::uint64_t index) noexcept {
  std::uint64_t seen = clock_.load(std::memory_order_relaxed);
  while (seen < index && !clock_.compare_exchange_weak(seen, index, std::memory_order_release)) {
  }
}

void flat_kvdb::SetWriteIdx(std::uint64_t index) { advance_clock(index); }

error flat_kvdb::apply(const write_request& r) {
  if (error e = limits_.check(r.key, r.value); !e.ok()) return e;
  const std::uint64_t hash = engine::key_hash(r.key);
  shard& s = shard_of(hash);
  std::lock_guard guard(s.lock);
  if (error e = check_index(r.index); !e.ok()) return e;
  const std::uint64_t now = r.index;  // a write sees the clock at its own index

  const std::size_t position = s.table.probe(hash, r.key);
  entry* current = s.table.at(position);
  const bool is_set = r.op == write_op::set || r.op == write_op::set_e ||
                      (r.op == write_op::set_e_if_unset && (!current || current->deleted_at(now)));
  if (is_set) {
    entry* target = current;
    if (current && (current->fits_inline(r.value.size()) || current->large_value)) {
      s.bytes -= current->footprint();
      current->assign_value(r.value, r.owned_value);
    } else {
      target = entry::make(hash, r.key, r.value, r.owned_value);
      if (current) {
        s.table.replace(position, target);
        unlink(s, current);
      } else {
        s.table.insert(position, target);
      }
    }
    target->index = now;
    target->expire_at = deadline_after(now, r.expire_in);
    target->delete_at = deadline_after(now, r.delete_in);
    s.bytes += target->footprint();
    s.deadlines.schedule(target);
  } else if (r.op == write_op::expire) {
    if (current && current->live_at(now)) {
      s.bytes -= current->footprint();
      current->drop_value();
      current->expire_at = now;
      s.bytes += current->footprint();
    }
  } else if (r.op == write_op::remove) {
    if (current) unlink(s, s.table.erase(hash, r.key));
  } else if (r.op == write_op::remove_if_value) {
    if (current && current->live_at(now) && current->value() == r.value) {
      unlink(s, s.table.erase(hash, r.key));
      *r.deleted = true;
    }
  }
  advance_clock(now);
  reclaim(s, now, 2);  // amortized background reclamation
  return {};
}

void flat_kvdb::unlink(shard& s, entry* e) noexcept {
  s.bytes -= e->footprint();
  e->linked = false;
  if (e->queue_refs == 0) entry::destroy(e);
}

std::size_t flat_kvdb::reclaim(shard& s, std::uint64_t now, std::size_t budget) noexcept {
  std::size_t reclaimed = 0;
  while (reclaimed < budget && s.deadlines.due(now)) {
    const deadline_item item = s.deadlines.pop();
    if (item.current()) {
      entry* e = item.target;
      if (item.kind == deadline_kind::expire) {
        s.bytes -= e->footprint();
        e->drop_value();
        s.bytes += e->footprint();
      } else {
        unlink(s, s.table.erase(e->hash, e->key()));
      }
      ++reclaimed;
    }
    engine::deadline_queue::release(item);
  }
  return reclaimed;
}

read_status flat_kvdb::Get(std::string_view key, std::string& value_out) const {
  const std::uint64_t hash = engine::key_hash(key);
  const shard& s = shard_of(hash);
  std::lock_guard guard(s.lock);
  const std::uint64_t now = WriteIdx();
  const entry* e = s.table.find(hash, key);
  if (!e || !e->live_at(now)) {
    value_out.clear();
    return {false, now};
  }
  value_out.assign(e->value());
  return {true, now};
}

read_status flat_kvdb::Has(std::string_view key) const {
  const std::uint64_t hash = engine::key_hash(key);
  const shard& s = shard_of(hash);
  std::lock_guard guard(s.lock);
  const std::uint64_t now = WriteIdx();
  const entry* e = s.table.find(hash, key);
  return {e && !e->deleted_at(now), now};
}

std::size_t flat_kvdb::GarbageCollect(std::size_t budget) {
  std::size_t reclaimed = 0;
  for (shard& s : shards_) {
    std::lock_guard guard(s.lock);
    reclaimed += reclaim(s, WriteIdx(), budget - reclaimed);
  }
  return reclaimed;
}

void flat_kvdb::lock_all() const noexcept {
  for (shard& s : shards_) s.lock.lock();
}

void flat_kvdb::unlock_all() const noexcept {
  for (shard& s : shards_) s.lock.unlock();
}

void flat_kvdb::clear() noexcept {
  for (shard& s : shards_) {
    s.deadlines.clear();  // drops references first, so draining can free everything
    s.table.drain([&](entry* e) { unlink(s, e); });
    s.bytes = 0;
  }
}

std::vector<const entry*> flat_kvdb::canonical_order() const {
  // Shards split the hash space by its top bits and tables lay out slots by
  // the bits after them, so this gather is already close to (hash, key) order
  // and the sort mostly confirms it. Entries are not touched here (they sit
  // at random addresses); the codec skips the deleted ones as it streams.
  std::vector<std::pair<std::uint64_t, const entry*>> keyed;
  std::size_t total = 0;
  for (const shard& s : shards_) total += s.table.size();
  keyed.reserve(total);
  for (const shard& s : shards_)
    s.table.for_each_hashed([&](std::uint64_t hash, const entry* e) { keyed.emplace_back(hash, e); });
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->key() < b.second->key();
  });
  std::vector<const entry*> ordered;
  ordered.reserve(keyed.size());
  for (const auto& [hash, e] : keyed) ordered.push_back(e);
  return ordered;
}

error flat_kvdb::Save(std::string& out) const {
  lock_all();
  const std::uint64_t now = WriteIdx();
  engine::encode_snapshot(now, canonical_order(), out);
  unlock_all();
  return {};
}

std::uint64_t flat_kvdb::Digest() const {
  lock_all();
  const std::uint64_t digest = engine::digest_entries(WriteIdx(), canonical_order());
  unlock_all();
  return digest;
}

error flat_kvdb::Load(std::string_view snapshot) {
  engine::decoded_snapshot decoded;
  if (error e = engine::decode_snapshot(snapshot, limits_, decoded); !e.ok()) return e;

  // Build the new shards aside, then swap them in: a failed load changes nothing.
  struct staged_shard {
    engine::flat_table table;
    engine::deadline_queue deadlines;
    std::uint64_t bytes = 0;
  };
  std::array<staged_shard, shard_count> staged;
  for (auto& s : staged) s.table.reserve(decoded.entries.size() / shard_count + 1);
  for (std::size_t i = 0; i < decoded.entries.size(); ++i) {
    entry* e = decoded.entries[i];
    staged_shard& s = staged[shard_index(e->hash)];
    const std::size_t position = s.table.probe(e->hash, e->key());
    if (s.table.at(position)) {
      for (auto& t : staged) {
        t.deadlines.clear();
        t.table.drain([](entry* moved) { entry::destroy(moved); });
      }
      decoded.entries.erase(decoded.entries.begin(), decoded.entries.begin() + static_cast<std::ptrdiff_t>(i));
      return internal_error("corrupt snapshot: a key appears twice");
    }
    s.table.insert(position, e);
    s.bytes += e->footprint();
    s.deadlines.schedule(e);
  }
  decoded.entries.clear();  // now owned by the staged tables

  lock_all();
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::swap(shards_[i].table, staged[i].table);
    std::swap(shards_[i].deadlines, staged[i].deadlines);
    std::swap(shards_[i].bytes, staged[i].bytes);
  }
  clock_.store(decoded.write_index, std::memory_order_release);
  unlock_all();

  // Free the replaced state outside the locks.
  for (auto& s : staged) {
    s.deadlines.clear();
    s.table.drain([](entry* old) {
      old->linked = false;
      if (old->queue_refs == 0) entry::destroy(old);
    });
  }
  return {};
}

db_info flat_kvdb::GetInfo() const {
  db_info info;
  info.engine = std::string(engine_name);
  info.features = Features();
  std::uint64_t keys = 0, expired = 0, deleted = 0, scheduled = 0;
  lock_all();
  const std::uint64_t now = WriteIdx();
  for (const shard& s : shards_) {
    info.size_bytes += s.bytes;
    keys += s.table.size();
    scheduled += s.deadlines.size();
    expired += s.deadlines.count_due(now, deadline_kind::expire);
    deleted += s.deadlines.count_due(now, deadline_kind::remove);
  }
  unlock_all();
  info.metadata["write_index"] = std::to_string(now);
  info.metadata["key_count"] = std::to_string(keys - deleted);
  info.metadata["expired_backlog"] = std::to_string(expired);
  info.metadata["deleted_backlog"] = std::to_string(deleted);
  info.metadata["scheduled_deadlines"] = std::to_string(scheduled);
  info.metadata["shards"] = std::to_string(shard_count);
  return info;
}

db_factory default_db_factory() {
  return [](const store_limits& limits) -> std::unique_ptr<kvdb> { return std::make_unique<flat_kvdb>(limits); };
}

}  // namespace dkv
