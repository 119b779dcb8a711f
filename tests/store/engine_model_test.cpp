// Model-based test of the engine against the reference model (docs/spec.md):
// random sequences of writes at explicit indexes (including stale ones),
// reads, clock moves, Save/Load round trips, damaged loads and reclamation.
// Replay a failure with RC_PARAMS="seed=N" (the seed is printed).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include "store/engine/flat_kvdb.hpp"
#include "tests/support/reference_store.hpp"

namespace {

using model = dkv::test::reference_store;
using sut = dkv::flat_kvdb;
using command = rc::state::Command<model, sut>;

rc::Gen<std::string> small_key() { return rc::gen::elementOf(std::vector<std::string>{"", "a", "b", "c", "d", "ee"}); }

rc::Gen<std::string> value() {
  return rc::gen::oneOf(
      rc::gen::elementOf(std::vector<std::string>{"", "x", "y", "hello"}),
      rc::gen::map(rc::gen::inRange<std::size_t>(4090, 4100), [](std::size_t n) { return std::string(n, 'L'); }));
}

rc::Gen<std::uint64_t> small_delay() {
  return rc::gen::oneOf(rc::gen::just<std::uint64_t>(0), rc::gen::inRange<std::uint64_t>(1, 6),
                        rc::gen::just(std::numeric_limits<std::uint64_t>::max()));
}

enum class op { set, set_e, set_e_if_unset, expire, remove, remove_if_value };

struct write_cmd final : command {
  op kind = *rc::gen::element(op::set, op::set_e, op::set_e_if_unset, op::expire, op::remove, op::remove_if_value);
  std::string key = *small_key();
  std::string val = *value();
  std::uint64_t e = *small_delay();
  std::uint64_t d = *small_delay();
  // 0: a stale index (must be refused); otherwise how far past the clock.
  std::uint64_t step = *rc::gen::weightedElement<std::uint64_t>({{1, 0}, {12, 1}, {2, 3}});

  void apply(model& m) const override {
    if (step == 0) return;
    const std::uint64_t w = m.clock() + step;
    switch (kind) {
      case op::set: m.set(key, val, w); break;
      case op::set_e: m.set_e(key, val, e, d, w); break;
      case op::set_e_if_unset: m.set_e_if_unset(key, val, e, d, w); break;
      case op::expire: m.expire(key, w); break;
      case op::remove: m.remove(key, w); break;
      case op::remove_if_value: m.remove_if_value(key, val, w); break;
    }
  }

  void run(const model& m, sut& db) const override {
    const std::uint64_t w = step == 0 ? m.clock() : m.clock() + step;
    model expected = m;
    bool expected_deleted = false;
    if (kind == op::remove_if_value && step != 0) expected_deleted = expected.remove_if_value(key, val, w);
    dkv::error result;
    bool deleted = false;
    switch (kind) {
      case op::set: result = db.Set(key, val, w); break;
      case op::set_e: result = db.SetE(key, val, e, d, w); break;
      case op::set_e_if_unset: result = db.SetEIfUnset(key, val, e, d, w); break;
      case op::expire: result = db.Expire(key, w); break;
      case op::remove: result = db.Delete(key, w); break;
      case op::remove_if_value: result = db.DeleteIfValue(key, val, w, deleted); break;
    }
    if (step == 0) {
      RC_ASSERT(result.code() == dkv::error_code::internal_error);
    } else {
      RC_ASSERT(result.ok());
      RC_ASSERT(deleted == expected_deleted);
    }
    RC_ASSERT(db.WriteIdx() == (step == 0 ? m.clock() : w));
  }

  void show(std::ostream& os) const override {
    os << "write(op=" << static_cast<int>(kind) << " key='" << key << "' value.size=" << val.size() << " e=" << e
       << " d=" << d << " step=" << step << ")";
  }
};

struct read_cmd final : command {
  std::string key = *small_key();
  void run(const model& m, sut& db) const override {
    std::string out = "junk";
    const auto got = db.Get(key, out);
    const auto want = m.get(key);
    RC_ASSERT(got.found == want.has_value());
    RC_ASSERT(got.index == m.clock());
    if (want) RC_ASSERT(out == *want);
    const auto has = db.Has(key);
    RC_ASSERT(has.found == m.has(key));
    RC_ASSERT(has.index == m.clock());
  }
  void show(std::ostream& os) const override { os << "read('" << key << "')"; }
};

struct advance_cmd final : command {
  std::uint64_t by = *rc::gen::inRange<std::uint64_t>(0, 8);
  void apply(model& m) const override { m.advance(m.clock() + by); }
  void run(const model& m, sut& db) const override {
    db.SetWriteIdx(m.clock() + by);
    db.SetWriteIdx(m.clock());  // backwards: ignored
    RC_ASSERT(db.WriteIdx() == m.clock() + by);
  }
  void show(std::ostream& os) const override { os << "advance(" << by << ")"; }
};

struct save_load_cmd final : command {
  std::size_t damage_at = *rc::gen::inRange<std::size_t>(0, 1000);
  bool damaged = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
  void run(const model&, sut& db) const override {
    std::string bytes;
    RC_ASSERT(db.Save(bytes).ok());
    const auto digest = db.Digest();
    if (damaged) {
      bytes[damage_at % bytes.size()] ^= 1;
      RC_ASSERT(!db.Load(bytes).ok());
    } else {
      RC_ASSERT(db.Load(bytes).ok());
    }
    RC_ASSERT(db.Digest() == digest);
  }
  void show(std::ostream& os) const override { os << "save_load(damaged=" << damaged << ")"; }
};

struct collect_cmd final : command {
  std::size_t budget = *rc::gen::inRange<std::size_t>(1, 20);
  void run(const model&, sut& db) const override {
    const auto digest = db.Digest();
    db.GarbageCollect(budget);
    RC_ASSERT(db.Digest() == digest);
  }
  void show(std::ostream& os) const override { os << "collect(" << budget << ")"; }
};

}  // namespace

TEST_CASE("the engine behaves like the reference model", "[engine][model]") {
  rc::prop("random operation sequences", [] {
    model m;
    sut db;
    rc::state::check(m, db,
                     rc::state::gen::execOneOfWithArgs<write_cmd, write_cmd, write_cmd, read_cmd, read_cmd, advance_cmd,
                                                       save_load_cmd, collect_cmd>());
  });
}
