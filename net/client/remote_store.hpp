#pragma once
// remote_store: docs/spec.md's IStore over the network — each operation is one
// blocking call through a remote_client to a shard of a protocol server
// (dkv's, or dKV's own: its error texts are parsed when no ext code came).
// Results' indexes come from the ext meta field. Limits are checked by the
// server; limits() reports the shard's, as given here (lstore's defaults;
// a dstore shard: 16 MiB values).

#include <memory>

#include "net/client/remote_client.hpp"
#include "store/istore.hpp"

namespace dkv::net {

class remote_store final : public istore {
 public:
  remote_store(std::shared_ptr<remote_client> client, std::uint64_t shard, store_limits limits = {});

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
  message call(message_type type, std::string_view key, std::string_view value = {}, std::uint64_t expire_in = 0,
               std::uint64_t delete_in = 0);

  std::shared_ptr<remote_client> client_;
  std::uint64_t shard_;
  store_limits limits_;
};

// The error a response carries: success when it has no err; the ext code if
// present, else the code named in dKV's "KVStoreError (code NAME): message"
// (InternalError when the text has no such form). The message is the text
// after that prefix.
error error_of(const message& response);

// db_info from a db info response's JSON value; false if it does not parse.
bool db_info_of(std::string_view json, db_info& out);

}  // namespace dkv::net
