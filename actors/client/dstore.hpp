#pragma once
// dstore: docs/spec.md's IStore over a dkv cluster. Each operation becomes one
// store_call to a client actor, and the facade blocks until its answer. How
// it waits is the caller's business — in the simulator, by running the
// simulation until the answer arrives; over a real actor system, by a
// blocking request — so the facade takes the round trip as a function.

#include <functional>

#include "actors/messages.hpp"
#include "store/istore.hpp"

namespace dkv::actors {

using store_round_trip = std::function<store_answer(store_call)>;

class dstore final : public istore {
 public:
  explicit dstore(store_round_trip round_trip,
                  store_limits limits = {.max_key_bytes = 64ull << 10, .max_value_bytes = 16ull << 20});

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

 private:
  store_answer call(operation_kind op, std::string_view key, std::string_view value = {}, std::uint64_t expire_in = 0,
                    std::uint64_t delete_in = 0);

  store_round_trip round_trip_;
  store_limits limits_;
};

// The error an answer carries (success for code 0).
error error_of(const store_answer& answer);

}  // namespace dkv::actors
