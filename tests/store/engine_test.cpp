// The engine (flat_kvdb) on its own: explicit write indexes, the clock,
// reclamation, digests, and the read buffer overload.

#include <catch2/catch.hpp>
#include <string>

#include "store/engine/flat_kvdb.hpp"

using dkv::error_code;
using dkv::flat_kvdb;

namespace {
std::string get(const flat_kvdb& db, std::string_view key) {
  std::string out;
  return db.Get(key, out).found ? out : "<absent>";
}
}  // namespace

TEST_CASE("a write index must exceed WriteIdx, anything else is InternalError and applies nothing", "[engine]") {
  flat_kvdb db;
  REQUIRE(db.Set("k", "v1", 5).ok());
  CHECK(db.WriteIdx() == 5);
  for (std::uint64_t stale : {0u, 3u, 5u}) {
    auto e = db.Set("k", "v2", stale);
    CHECK(e.code() == error_code::internal_error);
    CHECK_THAT(e.message(), Catch::Contains("does not exceed"));
    CHECK(db.Delete("k", stale).code() == error_code::internal_error);
    bool deleted = true;
    CHECK(db.DeleteIfValue("k", "v1", stale, deleted).code() == error_code::internal_error);
    CHECK_FALSE(deleted);
  }
  CHECK(get(db, "k") == "v1");
  CHECK(db.WriteIdx() == 5);
  REQUIRE(db.Set("k", "v3", 9).ok());  // gaps are allowed
  CHECK(get(db, "k") == "v3");
}

TEST_CASE("over-limit writes are InvalidOperation and leave the clock alone", "[engine]") {
  flat_kvdb db(dkv::store_limits{3, 3});
  CHECK(db.Set("abcd", "v", 1).code() == error_code::invalid_operation);
  CHECK(db.SetE("k", "long", 0, 0, 1).code() == error_code::invalid_operation);
  CHECK(db.WriteIdx() == 0);
  CHECK(db.Set("abc", "123", 1).ok());
}

TEST_CASE("SetWriteIdx only moves the clock forward, and reads evaluate expiry at it", "[engine]") {
  flat_kvdb db;
  REQUIRE(db.SetE("k", "v", 10, 20, 1).ok());
  db.SetWriteIdx(10);
  CHECK(get(db, "k") == "v");
  db.SetWriteIdx(5);
  CHECK(db.WriteIdx() == 10);
  db.SetWriteIdx(11);
  CHECK(get(db, "k") == "<absent>");
  CHECK(db.Has("k").found);
  CHECK(db.Has("k").index == 11);
  db.SetWriteIdx(21);
  CHECK_FALSE(db.Has("k").found);
}

TEST_CASE("the Get overload reuses the caller's buffer", "[engine]") {
  flat_kvdb db;
  REQUIRE(db.Set("k", std::string(100, 'x'), 1).ok());
  std::string buffer;
  buffer.reserve(256);
  const char* before = buffer.data();
  CHECK(db.Get("k", buffer).found);
  CHECK(buffer == std::string(100, 'x'));
  CHECK(buffer.data() == before);
  CHECK_FALSE(db.Get("missing", buffer).found);
  CHECK(buffer.empty());
}

TEST_CASE("a large value handed over by rvalue is moved, not copied", "[engine]") {
  flat_kvdb db;
  std::string big(1 << 20, 'b');
  REQUIRE(db.SetOwned("k", std::move(big), 1).ok());
  CHECK(big.empty());  // NOLINT(bugprone-use-after-move): the engine took the buffer
  std::string out;
  REQUIRE(db.Get("k", out).found);
  CHECK(out == std::string(1 << 20, 'b'));
}

TEST_CASE("values change size in place and out of line", "[engine]") {
  flat_kvdb db;
  std::uint64_t w = 0;
  for (std::size_t size : {10u, 5u, 5000u, 3u, 100000u, 0u, 4096u, 4097u, 1u}) {
    const std::string value(size, static_cast<char>('a' + size % 26));
    REQUIRE(db.Set("k", value, ++w).ok());
    REQUIRE(get(db, "k") == value);
  }
}

TEST_CASE("reclamation runs in deadline order and never changes what reads see", "[engine]") {
  flat_kvdb a, b;
  std::uint64_t w = 0;
  for (int i = 0; i < 500; ++i) {
    ++w;
    const std::string key = "k" + std::to_string(i);
    REQUIRE(a.SetE(key, "v", 1 + i % 7, 3 + i % 11, w).ok());
    REQUIRE(b.SetE(key, "v", 1 + i % 7, 3 + i % 11, w).ok());
  }
  a.SetWriteIdx(w + 5);
  b.SetWriteIdx(w + 5);
  const auto digest_before = a.Digest();
  CHECK(a.GarbageCollect(1'000'000) > 0);
  CHECK(a.Digest() == digest_before);  // reclamation is invisible
  CHECK(a.Digest() == b.Digest());     // b never reclaimed
  for (int i = 0; i < 500; ++i) {
    const std::string key = "k" + std::to_string(i);
    std::string out_a, out_b;
    CHECK(a.Get(key, out_a).found == b.Get(key, out_b).found);
    CHECK(a.Has(key).found == b.Has(key).found);
  }
  const auto info = a.GetInfo();
  CHECK(info.metadata.at("expired_backlog") == "0");
  CHECK(info.metadata.at("deleted_backlog") == "0");
  CHECK(std::stoull(b.GetInfo().metadata.at("deleted_backlog")) > 0);
}

TEST_CASE("an overwritten entry is not reclaimed by its old schedule", "[engine]") {
  flat_kvdb db;
  REQUIRE(db.SetE("k", "old", 2, 3, 1).ok());
  REQUIRE(db.Set("k", "new", 2).ok());  // clears the schedule; same allocation reused
  db.SetWriteIdx(10);
  db.GarbageCollect(100);
  CHECK(get(db, "k") == "new");
  REQUIRE(db.SetE("k", "third", 0, 2, 11).ok());
  REQUIRE(db.Set("k", std::string(10000, 'x'), 12).ok());  // reallocated while scheduled
  db.SetWriteIdx(20);
  db.GarbageCollect(100);
  CHECK(get(db, "k") == std::string(10000, 'x'));
}

TEST_CASE("the digest depends on content, not on history", "[engine]") {
  flat_kvdb a, b, c;
  REQUIRE(a.Set("x", "1", 1).ok());
  REQUIRE(a.Set("y", "2", 2).ok());
  REQUIRE(a.Set("z", "3", 3).ok());
  REQUIRE(a.Delete("z", 4).ok());
  // b reaches the same entries and clock another way
  REQUIRE(b.Set("x", "1", 1).ok());
  REQUIRE(b.Set("y", "2", 2).ok());
  REQUIRE(b.Set("q", std::string(9000, 'q'), 3).ok());
  REQUIRE(b.Delete("q", 4).ok());
  CHECK(a.Digest() == b.Digest());
  // c differs only in the index at which y was written
  REQUIRE(c.Set("x", "1", 1).ok());
  REQUIRE(c.Set("y", "2", 3).ok());
  c.SetWriteIdx(4);
  CHECK(c.Digest() != a.Digest());
  // and the clock is part of the content
  a.SetWriteIdx(5);
  CHECK(a.Digest() != b.Digest());
}

TEST_CASE("features and info", "[engine]") {
  flat_kvdb db;
  CHECK(db.Features() == dkv::all_features);
  CHECK(db.SupportsFeature(dkv::feature::garbage_collect));
  CHECK(db.SupportsFeature(dkv::feature::load));
  REQUIRE(db.Set("k", "v", 1).ok());
  const auto info = db.GetInfo();
  CHECK(info.engine == "flat_kvdb");
  CHECK(info.features == 1023);
  CHECK(info.metadata.at("write_index") == "1");
  CHECK(info.metadata.at("key_count") == "1");
}
