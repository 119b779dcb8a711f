#include "tests/support/conformance.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>

#include "store/lock_manager.hpp"

namespace dkv::test {

namespace {

constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

// Every write of a single client must take the next index.
class indexed_client {
 public:
  explicit indexed_client(istore& s) : store(s) {}

  std::uint64_t expect_write(const write_result& r) {
    INFO("write: " << r.err.to_string());
    REQUIRE(r.err.ok());
    if (last_ != 0) CHECK(r.index == last_ + 1);
    CHECK(r.index > 0);
    last_ = r.index;
    return r.index;
  }
  // Moves the clock forward by n writes to a key no case looks at.
  void fill(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) expect_write(store.Set("~filler", "x"));
  }
  std::uint64_t last() const { return last_; }
  get_result get(std::string_view k) {
    get_result r = store.Get(k);
    REQUIRE(r.err.ok());
    CHECK(r.index == last_);  // reads report the state they read
    return r;
  }
  bool has(std::string_view k) {
    has_result r = store.Has(k);
    REQUIRE(r.err.ok());
    CHECK(r.index == last_);
    return r.found;
  }

  istore& store;

 private:
  std::uint64_t last_ = 0;
};

void fresh_store_is_empty(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  CHECK_FALSE(c.get("k").found);
  CHECK_FALSE(c.has("k"));
  CHECK(c.get("k").value.empty());
}

void set_then_get(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  const auto w = c.expect_write(s->Set("k", "v1"));
  auto r = c.get("k");
  CHECK(r.found);
  CHECK(r.value == "v1");
  CHECK(r.index == w);
  CHECK(c.has("k"));
}

void overwrite_clears_schedule(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->SetE("k", "v1", 2, 3));
  c.expect_write(s->Set("k", "v2"));
  c.fill(10);
  auto r = c.get("k");
  CHECK(r.found);
  CHECK(r.value == "v2");
  CHECK(c.has("k"));
}

void set_e_replaces_schedule(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->SetE("k", "v1", 2, 0));
  c.expect_write(s->SetE("k", "v2", 0, 5));  // at W+1; old expiry dropped
  c.fill(4);                                 // W+5
  CHECK(c.get("k").value == "v2");
  c.fill(1);  // W+6: deleted
  CHECK_FALSE(c.get("k").found);
  CHECK_FALSE(c.has("k"));
}

void expire_keeps_has_drops_value(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->SetE("k", "v", 0, 4));
  c.expect_write(s->Expire("k"));
  CHECK_FALSE(c.get("k").found);
  CHECK(c.get("k").value.empty());
  CHECK(c.has("k"));
  c.fill(2);  // W+3 after SetE at W: still there (deleteAt unchanged)
  CHECK(c.has("k"));
  c.fill(1);  // W+4: deleted
  CHECK_FALSE(c.has("k"));
}

void expire_of_expired_or_missing_key_only_moves_clock(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->SetE("k", "v", 1, 0));  // expired from the next index on
  c.expect_write(s->Expire("k"));
  CHECK(c.has("k"));
  CHECK_FALSE(c.get("k").found);
  c.expect_write(s->Expire("missing"));  // still a write: advances the clock
  CHECK_FALSE(c.has("missing"));
  c.expect_write(s->Set("after", "x"));
}

void delete_removes_and_missing_is_noop(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->Set("k", "v"));
  c.expect_write(s->Delete("k"));
  CHECK_FALSE(c.get("k").found);
  CHECK_FALSE(c.has("k"));
  c.expect_write(s->Delete("k"));
  c.expect_write(s->Delete("never-set"));
}

void delete_if_value(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->Set("k", "v"));
  auto wrong = s->DeleteIfValue("k", "other");
  c.expect_write({wrong.err, wrong.index});
  CHECK_FALSE(wrong.deleted);
  CHECK(c.get("k").value == "v");
  auto right = s->DeleteIfValue("k", "v");
  c.expect_write({right.err, right.index});
  CHECK(right.deleted);
  CHECK_FALSE(c.has("k"));
  auto missing = s->DeleteIfValue("k", "v");
  c.expect_write({missing.err, missing.index});
  CHECK_FALSE(missing.deleted);
  // An expired key holds no value: nothing to match.
  c.expect_write(s->SetE("e", "v", 1, 0));
  auto expired = s->DeleteIfValue("e", "v");
  c.expect_write({expired.err, expired.index});
  CHECK_FALSE(expired.deleted);
  CHECK(c.has("e"));
}

void set_e_if_unset_cases(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  // absent: writes
  c.expect_write(s->SetEIfUnset("absent", "v1", 0, 0));
  CHECK(c.get("absent").value == "v1");
  // present: left alone, still a write
  c.expect_write(s->SetEIfUnset("absent", "v2", 0, 0));
  CHECK(c.get("absent").value == "v1");
  // expired but not deleted: counts as set
  c.expect_write(s->SetE("expired", "old", 1, 0));
  c.expect_write(s->SetEIfUnset("expired", "new", 0, 0));
  CHECK_FALSE(c.get("expired").found);
  CHECK(c.has("expired"));
  // deleted by its deadline: writes
  c.expect_write(s->SetE("deleted", "old", 0, 1));
  c.expect_write(s->SetEIfUnset("deleted", "new", 0, 0));
  CHECK(c.get("deleted").value == "new");
  // deleted by Delete: writes, with the new schedule
  c.expect_write(s->Set("gone", "old"));
  c.expect_write(s->Delete("gone"));
  c.expect_write(s->SetEIfUnset("gone", "new", 2, 0));
  CHECK(c.get("gone").value == "new");
  c.fill(2);
  CHECK_FALSE(c.get("gone").found);
}

void expiry_boundaries(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  const std::uint64_t e = 5, d = 9;
  const auto w = c.expect_write(s->SetE("k", "v", e, d));
  c.fill(e - 1);  // W+e-1: present
  REQUIRE(c.last() == w + e - 1);
  CHECK(c.get("k").found);
  c.fill(1);  // W+e: expired, still has
  CHECK_FALSE(c.get("k").found);
  CHECK(c.has("k"));
  c.fill(d - e - 1);  // W+d-1: still has
  CHECK(c.has("k"));
  c.fill(1);  // W+d: deleted
  CHECK_FALSE(c.has("k"));
  // e = 0, d = N: never expires, deleted at W+N
  const auto w2 = c.expect_write(s->SetE("k2", "v", 0, 3));
  c.fill(2);
  REQUIRE(c.last() == w2 + 2);
  CHECK(c.get("k2").found);
  c.fill(1);
  CHECK_FALSE(c.get("k2").found);
  CHECK_FALSE(c.has("k2"));
}

void schedules_saturate(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->SetE("k", "v", max_u64, max_u64));
  c.expect_write(s->SetE("k2", "v", max_u64 - 1, 0));
  c.fill(3);
  CHECK(c.get("k").found);
  CHECK(c.get("k2").found);
  CHECK(c.has("k"));
}

void reads_never_advance_the_clock(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  const auto w = c.expect_write(s->SetE("k", "v", 2, 0));
  for (int i = 0; i < 10; ++i) {
    CHECK(c.get("k").found);  // an idle store never expires anything
    CHECK(c.has("k"));
  }
  auto info = s->GetDBInfo();
  REQUIRE(info.err.ok());
  CHECK(c.expect_write(s->Set("x", "y")) == w + 1);
}

void many_expiring_keys(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  struct planned {
    std::string key;
    std::uint64_t written, e, d;
  };
  std::vector<planned> plan;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    planned p{"k" + std::to_string(i), 0, rng() % 50, rng() % 80};
    p.written = c.expect_write(s->SetE(p.key, "v" + std::to_string(i), p.e, p.d));
    plan.push_back(p);
  }
  for (int round = 0; round < 4; ++round) {
    c.fill(30);
    const std::uint64_t now = c.last();
    for (const auto& p : plan) {
      const bool deleted = p.d != 0 && now >= p.written + p.d;
      const bool expired = p.e != 0 && now >= p.written + p.e;
      INFO(p.key << " written at " << p.written << " e=" << p.e << " d=" << p.d << " now=" << now);
      CHECK(c.has(p.key) == !deleted);
      CHECK(c.get(p.key).found == (!deleted && !expired));
    }
  }
}

void save_and_reopen_keeps_schedules(const store_maker& m) {
  if (!m.reopen) SUCCEED("this store has no reopen");
  if (!m.reopen) return;
  auto s = m.make();
  indexed_client c(*s);
  const auto w = c.expect_write(s->SetE("exp", "v", 3, 6));
  c.expect_write(s->SetE("del", "v", 0, 4));
  c.expect_write(s->Set("plain", "p"));
  c.expect_write(s->SetE("gone", "v", 0, 1));
  auto reopened = m.reopen(*s);
  REQUIRE(reopened);
  // The clock survived: the next write continues the sequence.
  const auto next = reopened->Set("~filler", "x");
  REQUIRE(next.err.ok());
  CHECK(next.index == w + 4);
  auto r = reopened->Get("exp");  // at W+4: expired, not deleted
  CHECK_FALSE(r.found);
  CHECK(r.index == w + 4);
  CHECK(reopened->Has("exp").found);
  CHECK(reopened->Has("del").found);  // deleted at W+5
  CHECK(reopened->Get("plain").value == "p");
  CHECK_FALSE(reopened->Has("gone").found);  // deleted at W+4
  REQUIRE(reopened->Set("~filler", "x").index == w + 5);
  CHECK_FALSE(reopened->Has("del").found);
  CHECK(reopened->Has("exp").found);
}

void odd_sizes(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->Set("", "empty key"));
  CHECK(c.get("").value == "empty key");
  c.expect_write(s->Set("ev", ""));
  auto r = c.get("ev");
  CHECK(r.found);
  CHECK(r.value.empty());
  const std::string key1000(1000, 'k');
  c.expect_write(s->Set(key1000, "long key"));
  CHECK(c.get(key1000).value == "long key");
  CHECK_FALSE(c.has(std::string(999, 'k')));
  // 100 MiB, or the store's limit if it is lower (dstore's is 16 MiB).
  std::string big(std::min<std::uint64_t>(100u << 20, s->limits().max_value_bytes), '\0');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  c.expect_write(s->Set("big", big));
  auto got = c.get("big");
  CHECK(got.found);
  CHECK(got.value == big);
  std::string binary("a\0b\xff", 4);
  c.expect_write(s->Set(binary, binary));
  CHECK(c.get(binary).value == binary);
}

void returned_values_are_copies(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->Set("k", "value"));
  auto r = c.get("k");
  r.value[0] = 'X';
  CHECK(c.get("k").value == "value");
}

void limits_at_and_over(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  const store_limits lim = s->limits();
  const std::string key_at(lim.max_key_bytes, 'k');
  const std::string key_over(lim.max_key_bytes + 1, 'k');
  c.expect_write(s->Set(key_at, "v"));
  auto over = s->Set(key_over, "v");
  CHECK(over.err.code() == error_code::invalid_operation);
  CHECK(over.index == 0);
  CHECK(s->SetE(key_over, "v", 1, 1).err.code() == error_code::invalid_operation);
  CHECK(s->SetEIfUnset(key_over, "v", 1, 1).err.code() == error_code::invalid_operation);
  CHECK(s->Expire(key_over).err.code() == error_code::invalid_operation);
  CHECK(s->Delete(key_over).err.code() == error_code::invalid_operation);
  CHECK(s->DeleteIfValue(key_over, "v").err.code() == error_code::invalid_operation);
  CHECK(s->Get(key_over).err.code() == error_code::invalid_operation);
  CHECK(s->Has(key_over).err.code() == error_code::invalid_operation);
  {
    std::string value_at(lim.max_value_bytes, 'v');
    c.expect_write(s->Set("v", value_at));
    CHECK(c.get("v").value.size() == lim.max_value_bytes);
  }
  {
    std::string value_over(lim.max_value_bytes + 1, 'v');
    auto r = s->SetE("v2", value_over, 0, 0);
    CHECK(r.err.code() == error_code::invalid_operation);
    CHECK(r.index == 0);
    CHECK(s->DeleteIfValue("v", value_over).err.code() == error_code::invalid_operation);
  }
  CHECK_FALSE(c.has("v2"));
  c.expect_write(s->Set("after", "x"));  // rejected requests took no index
}

void db_info_reports_metadata(const store_maker& m) {
  auto s = m.make();
  indexed_client c(*s);
  c.expect_write(s->Set("a", "1"));
  c.expect_write(s->Set("b", "2"));
  auto info = s->GetDBInfo();
  REQUIRE(info.err.ok());
  CHECK_FALSE(info.info.engine.empty());
  CHECK(info.info.size_bytes > 0);
  REQUIRE(info.info.metadata.count("write_index"));
  CHECK(info.info.metadata.at("write_index") == std::to_string(c.last()));
  REQUIRE(info.info.metadata.count("key_count"));
  CHECK(info.info.metadata.at("key_count") == "2");
  CHECK(info.info.metadata.count("expired_backlog"));
  CHECK(info.info.metadata.count("deleted_backlog"));
}

void lock_manager_cases(const store_maker& m) {
  auto s = m.make();
  std::mt19937_64 rng(42);
  lock_manager locks(*s, [&] { return rng(); });

  auto first = locks.AcquireLock("lock", 0);
  REQUIRE(first.err.ok());
  CHECK(first.acquired);
  CHECK(first.owner_id.size() == lock_manager::owner_id_bytes);
  CHECK(first.index > 0);
  auto second = locks.AcquireLock("lock", 0);
  CHECK_FALSE(second.acquired);
  CHECK(second.owner_id != first.owner_id);
  CHECK_FALSE(locks.ReleaseLock("lock", second.owner_id).released);  // not the owner
  CHECK(locks.ReleaseLock("lock", first.owner_id).released);
  CHECK(locks.ReleaseLock("lock", first.owner_id).released);  // already gone: succeeds
  auto third = locks.AcquireLock("lock", 0);
  CHECK(third.acquired);
  CHECK(third.index > first.index);  // fencing tokens grow

  // The timeout counts writes to the store: after 5 more writes the lock is free.
  auto timed = locks.AcquireLock("timed", 5);
  REQUIRE(timed.acquired);
  CHECK_FALSE(locks.AcquireLock("timed", 5).acquired);  // one write
  for (int i = 0; i < 3; ++i) REQUIRE(s->Set("~filler", "x").err.ok());
  CHECK(s->Has("timed").found);  // W+4
  REQUIRE(s->Set("~filler", "x").err.ok());
  auto after = locks.AcquireLock("timed", 5);
  CHECK(after.acquired);
  CHECK(locks.ReleaseLock("timed", timed.owner_id).released == false);  // somebody else's now

  // Expiring a lock key by hand leaves it unreleasable until its deleteAt.
  auto held = locks.AcquireLock("manual", 4);
  REQUIRE(held.acquired);
  REQUIRE(s->Expire("manual").err.ok());
  CHECK_FALSE(locks.ReleaseLock("manual", held.owner_id).released);
  CHECK_FALSE(locks.AcquireLock("manual", 4).acquired);
  REQUIRE(s->Set("~filler", "x").err.ok());
  CHECK(locks.ReleaseLock("manual", held.owner_id).released);  // deleted by now
}

}  // namespace

const std::vector<conformance_case>& conformance_cases() {
  static const std::vector<conformance_case> cases = {
      {"a fresh store is empty", fresh_store_is_empty},
      {"set then get", set_then_get},
      {"overwrite clears the schedule", overwrite_clears_schedule},
      {"SetE replaces the schedule", set_e_replaces_schedule},
      {"expire keeps Has and drops the value", expire_keeps_has_drops_value},
      {"expire of an expired or missing key only moves the clock", expire_of_expired_or_missing_key_only_moves_clock},
      {"delete removes; a missing key is a no-op", delete_removes_and_missing_is_noop},
      {"DeleteIfValue with the right and the wrong value", delete_if_value},
      {"SetEIfUnset on absent, present, expired and deleted keys", set_e_if_unset_cases},
      {"expiry boundaries W+e-1, W+e, W+d", expiry_boundaries},
      {"schedules saturate instead of wrapping", schedules_saturate},
      {"reads never advance the clock", reads_never_advance_the_clock},
      {"many expiring keys", many_expiring_keys},
      {"save and reopen keeps schedules and the clock", save_and_reopen_keeps_schedules},
      {"empty key, empty value, 1000-byte key, 100 MiB value (or the limit)", odd_sizes},
      {"returned values are copies", returned_values_are_copies},
      {"each limit at the limit and one over", limits_at_and_over},
      {"GetDBInfo reports metadata", db_info_reports_metadata},
      {"lock manager", lock_manager_cases},
  };
  return cases;
}

void run_conformance(const store_maker& maker) {
  for (const auto& c : conformance_cases()) {
    DYNAMIC_SECTION(c.name) { c.run(maker); }
  }
}

}  // namespace dkv::test
