// The IStore conformance suite, unchanged, for remote_store against an
// in-process protocol server serving an lstore shard on 127.0.0.1, port 0.
// Each make() gets a fresh server, client and store.

#include <catch2/catch.hpp>

#include <chrono>

#include "net/client/remote_lock_manager.hpp"
#include "net/client/remote_store.hpp"
#include "net/server/lstore_shard.hpp"
#include "net/server/protocol_server.hpp"
#include "store/lstore.hpp"
#include "tests/support/conformance.hpp"
#include "tests/support/forwarding_store.hpp"

namespace dkv::net {
namespace {

constexpr std::uint64_t shard_id = 100;

// A remote_store that owns the server it talks to.
class served_store final : public test::forwarding_store {
 public:
  served_store() {
    protocol_server_options options;
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<protocol_server>(
        options, std::map<std::uint64_t, std::shared_ptr<shard>>{
                     {shard_id, std::make_shared<lstore_shard>(std::make_shared<lstore>(), true)}});
    const error started = server_->start();
    REQUIRE(started.ok());
    remote_client_options client_options;
    client_options.endpoints = {"127.0.0.1:" + std::to_string(server_->bound_port())};
    // The suite's 100 MiB value took over the default 10 s on a loaded
    // machine (CI, beside the sanitizer suite): it checks what is stored, not how fast.
    client_options.call_timeout = std::chrono::seconds(60);
    client_ = std::make_shared<remote_client>(client_options);
    store_ = std::make_unique<remote_store>(client_, shard_id);
  }

  const store_limits& limits() const override { return store_->limits(); }

  std::shared_ptr<remote_client> client() const { return client_; }

 private:
  istore& target() override { return *store_; }

  std::unique_ptr<protocol_server> server_;
  std::shared_ptr<remote_client> client_;
  std::unique_ptr<remote_store> store_;
};

TEST_CASE("remote_store over an lstore shard conforms") {
  test::store_maker maker;
  maker.make = [] { return std::make_unique<served_store>(); };
  test::run_conformance(maker);
}

TEST_CASE("remote_lock_manager over an lstore shard") {
  served_store s;
  remote_lock_manager locks(s.client(), shard_id);
  auto first = locks.AcquireLock("lock", 3);
  REQUIRE(first.err.ok());
  CHECK(first.acquired);
  CHECK(first.owner_id.size() == lock_manager::owner_id_bytes);
  CHECK(first.index == 1);
  auto second = locks.AcquireLock("lock", 3);
  CHECK_FALSE(second.acquired);
  CHECK(second.index == 0);
  CHECK_FALSE(locks.ReleaseLock("lock", second.owner_id).released);
  CHECK(locks.ReleaseLock("lock", first.owner_id).released);
  CHECK(locks.AcquireLock("lock", 3).index > first.index);
  remote_lock_manager wrong_shard(s.client(), 999);
  CHECK(wrong_shard.AcquireLock("lock", 0).err.code() == error_code::invalid_operation);
}

}  // namespace
}  // namespace dkv::net
