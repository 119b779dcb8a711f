#pragma once
// lstore: a thread-safe, linearizable local store over one engine.
//
// Writes take consecutive indexes under one writer lock and are applied in
// index order; reads go straight to the engine (sharded locks) and report the
// index of the state they read. Validation comes before indexing: a request
// over a limit, or for a feature the engine lacks, takes no index.

#include <memory>
#include <mutex>

#include "store/command.hpp"
#include "store/istore.hpp"
#include "store/kvdb.hpp"

namespace dkv {

class lstore final : public istore {
 public:
  explicit lstore(store_limits limits = {}, const db_factory& make_engine = default_db_factory());

  write_result Set(std::string_view key, std::string_view value) override;
  write_result SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                    std::uint64_t delete_in) override;
  write_result SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                           std::uint64_t delete_in) override;
  write_result Expire(std::string_view key) override;
  write_result Delete(std::string_view key) override;
  delete_if_value_result DeleteIfValue(std::string_view key, std::string_view value) override;
  get_result Get(std::string_view key) override;
  has_result Has(std::string_view key) override;
  db_info_result GetDBInfo() override;
  const store_limits& limits() const override { return limits_; }

  // Snapshots of the whole store (engine format, see snapshot_codec.hpp).
  error Save(std::string& out) const;
  error Load(std::string_view snapshot);

  const kvdb& engine() const { return *engine_; }

 private:
  // Runs one write at the next index: validation first, then the engine
  // under the writer lock.
  delete_if_value_result write(const write_command& command);

  store_limits limits_;
  std::unique_ptr<kvdb> engine_;
  std::mutex writer_;
};

}  // namespace dkv
