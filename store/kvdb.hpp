#pragma once
// KVDB: the engine interface, the data core under lstore and dstore.
//
// Writes take their write index explicitly; it must exceed WriteIdx() (else
// InternalError, nothing applied) and the write evaluates its own conditions
// with the clock at that index. Over-limit requests are InvalidOperation and
// leave the clock alone. Reads evaluate expiry at the current clock and report
// it. Implementations are safe to call from many threads; callers that write
// concurrently must agree on the order of indexes themselves (lstore does).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/error.hpp"
#include "store/limits.hpp"
#include "store/results.hpp"

namespace dkv {

// Feature bits of SupportsFeature, numbered as in dKV.
enum class feature : std::uint32_t {
  set = 1,
  set_e = 2,
  set_e_if_unset = 4,
  get = 8,
  expire = 16,
  remove = 32,  // Delete
  has = 64,
  save = 128,
  load = 256,
  garbage_collect = 512,
};
inline constexpr std::uint32_t all_features = 1023;

// What a read saw: whether the key was found and the index of the state read.
struct read_status {
  bool found = false;
  std::uint64_t index = 0;
};

class kvdb {
 public:
  virtual ~kvdb() = default;

  // --- writes (index = W, must exceed WriteIdx()) ---
  virtual error Set(std::string_view key, std::string_view value, std::uint64_t index) = 0;
  // Set, taking ownership of the value's buffer instead of copying it (large values).
  virtual error SetOwned(std::string_view key, std::string&& value, std::uint64_t index) = 0;
  virtual error SetE(std::string_view key, std::string_view value, std::uint64_t expire_in, std::uint64_t delete_in,
                     std::uint64_t index) = 0;
  virtual error SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                            std::uint64_t delete_in, std::uint64_t index) = 0;
  virtual error Expire(std::string_view key, std::uint64_t index) = 0;
  virtual error Delete(std::string_view key, std::uint64_t index) = 0;
  virtual error DeleteIfValue(std::string_view key, std::string_view value, std::uint64_t index, bool& deleted) = 0;

  // --- reads (at the current clock) ---
  // Copies the value into `value_out`, reusing its capacity: no allocation once warm.
  virtual read_status Get(std::string_view key, std::string& value_out) const = 0;
  virtual read_status Has(std::string_view key) const = 0;

  // --- the logical clock ---
  virtual std::uint64_t WriteIdx() const = 0;
  virtual void SetWriteIdx(std::uint64_t index) = 0;  // only moves forward

  // --- snapshots: every field of every entry, and the clock ---
  virtual error Save(std::string& out) const = 0;
  virtual error Load(std::string_view snapshot) = 0;  // all or nothing

  // --- housekeeping and metadata ---
  // Reclaims up to `budget` due expirations / deletions in deadline order;
  // returns how many it reclaimed. Correctness never depends on it.
  virtual std::size_t GarbageCollect(std::size_t budget) = 0;
  virtual std::uint32_t Features() const = 0;
  bool SupportsFeature(feature f) const { return (Features() & static_cast<std::uint32_t>(f)) != 0; }
  virtual db_info GetInfo() const = 0;
  virtual const store_limits& limits() const = 0;
  // A digest of the logical content (entries and clock), independent of history.
  virtual std::uint64_t Digest() const = 0;
};

// DBFactory: makes an engine, so a store can be built over any engine.
using db_factory = std::function<std::unique_ptr<kvdb>(const store_limits&)>;

// The default engine (flat_kvdb).
db_factory default_db_factory();

}  // namespace dkv
