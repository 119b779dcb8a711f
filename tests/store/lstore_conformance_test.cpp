// lstore through the IStore conformance suite, reopened by Save and Load.

#include <catch2/catch.hpp>

#include "store/lstore.hpp"
#include "tests/support/conformance.hpp"

namespace {

dkv::test::store_maker lstore_maker() {
  return {
      [] { return std::make_unique<dkv::lstore>(); },
      [](dkv::istore& old) -> std::unique_ptr<dkv::istore> {
        std::string snapshot;
        REQUIRE(dynamic_cast<dkv::lstore&>(old).Save(snapshot).ok());
        auto fresh = std::make_unique<dkv::lstore>();
        REQUIRE(fresh->Load(snapshot).ok());
        return fresh;
      },
  };
}

// An engine that lacks a feature, to show lstore refuses before indexing.
class no_expire_engine final : public dkv::kvdb {
 public:
  explicit no_expire_engine(const dkv::store_limits& l) : inner_(dkv::default_db_factory()(l)) {}
  dkv::error Set(std::string_view k, std::string_view v, std::uint64_t w) override { return inner_->Set(k, v, w); }
  dkv::error SetOwned(std::string_view k, std::string&& v, std::uint64_t w) override {
    return inner_->SetOwned(k, std::move(v), w);
  }
  dkv::error SetE(std::string_view k, std::string_view v, std::uint64_t e, std::uint64_t d, std::uint64_t w) override {
    return inner_->SetE(k, v, e, d, w);
  }
  dkv::error SetEIfUnset(std::string_view k, std::string_view v, std::uint64_t e, std::uint64_t d,
                         std::uint64_t w) override {
    return inner_->SetEIfUnset(k, v, e, d, w);
  }
  dkv::error Expire(std::string_view, std::uint64_t) override { return dkv::unsupported_operation("Expire"); }
  dkv::error Delete(std::string_view k, std::uint64_t w) override { return inner_->Delete(k, w); }
  dkv::error DeleteIfValue(std::string_view k, std::string_view v, std::uint64_t w, bool& deleted) override {
    return inner_->DeleteIfValue(k, v, w, deleted);
  }
  dkv::read_status Get(std::string_view k, std::string& out) const override { return inner_->Get(k, out); }
  dkv::read_status Has(std::string_view k) const override { return inner_->Has(k); }
  std::uint64_t WriteIdx() const override { return inner_->WriteIdx(); }
  void SetWriteIdx(std::uint64_t w) override { inner_->SetWriteIdx(w); }
  dkv::error Save(std::string& out) const override { return inner_->Save(out); }
  dkv::error Load(std::string_view s) override { return inner_->Load(s); }
  std::size_t GarbageCollect(std::size_t b) override { return inner_->GarbageCollect(b); }
  std::uint32_t Features() const override {
    return dkv::all_features & ~static_cast<std::uint32_t>(dkv::feature::expire);
  }
  dkv::db_info GetInfo() const override { return inner_->GetInfo(); }
  const dkv::store_limits& limits() const override { return inner_->limits(); }
  std::uint64_t Digest() const override { return inner_->Digest(); }

 private:
  std::unique_ptr<dkv::kvdb> inner_;
};

}  // namespace

TEST_CASE("lstore passes the IStore conformance suite", "[conformance][lstore]") {
  dkv::test::run_conformance(lstore_maker());
}

TEST_CASE("lstore refuses an operation its engine lacks, before indexing", "[lstore]") {
  dkv::lstore store({}, [](const dkv::store_limits& l) { return std::make_unique<no_expire_engine>(l); });
  REQUIRE(store.Set("k", "v").index == 1);
  auto refused = store.Expire("k");
  CHECK(refused.err.code() == dkv::error_code::unsupported_operation);
  CHECK(refused.err.message() == "Expire operation is not supported");
  CHECK(refused.err.to_string() == "KVStoreError (code UnsupportedOperation): Expire operation is not supported");
  CHECK(refused.index == 0);
  CHECK(store.Set("k", "v2").index == 2);
  CHECK(store.Get("k").value == "v2");
}

TEST_CASE("lstore limits are configurable", "[lstore]") {
  dkv::lstore store(dkv::store_limits{4, 8});
  CHECK(store.Set("abcd", "12345678").err.ok());
  CHECK(store.Set("abcde", "1").err.code() == dkv::error_code::invalid_operation);
  CHECK(store.Set("a", "123456789").err.code() == dkv::error_code::invalid_operation);
  CHECK(store.Set("b", "1").index == 2);
}
