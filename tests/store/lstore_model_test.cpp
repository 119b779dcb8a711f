// Model-based test of lstore against the reference model: every IStore
// operation, results and indexes compared, with Save/Load round trips.
// Replay a failure with RC_PARAMS="seed=N" (the seed is printed).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include "store/lstore.hpp"
#include "tests/support/reference_store.hpp"

namespace {

using model = dkv::test::reference_store;
using sut = dkv::lstore;
using command = rc::state::Command<model, sut>;

rc::Gen<std::string> key() { return rc::gen::elementOf(std::vector<std::string>{"a", "b", "c", ""}); }
rc::Gen<std::string> value() { return rc::gen::elementOf(std::vector<std::string>{"", "1", "2", "three"}); }
rc::Gen<std::uint64_t> delay() { return rc::gen::inRange<std::uint64_t>(0, 5); }

void check_write(const dkv::write_result& r, const model& m) {
  RC_ASSERT(r.err.ok());
  RC_ASSERT(r.index == m.clock() + 1);  // consecutive indexes
}

struct set_cmd final : command {
  std::string k = *key(), v = *value();
  std::uint64_t e = *delay(), d = *delay();
  bool scheduled = *rc::gen::arbitrary<bool>();
  void apply(model& m) const override { m.set_e(k, v, scheduled ? e : 0, scheduled ? d : 0, m.clock() + 1); }
  void run(const model& m, sut& s) const override { check_write(scheduled ? s.SetE(k, v, e, d) : s.Set(k, v), m); }
  void show(std::ostream& os) const override { os << "set('" << k << "','" << v << "'," << e << "," << d << ")"; }
};

struct set_if_unset_cmd final : command {
  std::string k = *key(), v = *value();
  std::uint64_t e = *delay(), d = *delay();
  void apply(model& m) const override { m.set_e_if_unset(k, v, e, d, m.clock() + 1); }
  void run(const model& m, sut& s) const override { check_write(s.SetEIfUnset(k, v, e, d), m); }
  void show(std::ostream& os) const override { os << "setEIfUnset('" << k << "'," << e << "," << d << ")"; }
};

struct expire_cmd final : command {
  std::string k = *key();
  void apply(model& m) const override { m.expire(k, m.clock() + 1); }
  void run(const model& m, sut& s) const override { check_write(s.Expire(k), m); }
  void show(std::ostream& os) const override { os << "expire('" << k << "')"; }
};

struct delete_cmd final : command {
  std::string k = *key();
  void apply(model& m) const override { m.remove(k, m.clock() + 1); }
  void run(const model& m, sut& s) const override { check_write(s.Delete(k), m); }
  void show(std::ostream& os) const override { os << "delete('" << k << "')"; }
};

struct delete_if_value_cmd final : command {
  std::string k = *key(), v = *value();
  void apply(model& m) const override { m.remove_if_value(k, v, m.clock() + 1); }
  void run(const model& m, sut& s) const override {
    model after = m;
    const bool want = after.remove_if_value(k, v, m.clock() + 1);
    const auto r = s.DeleteIfValue(k, v);
    check_write({r.err, r.index}, m);
    RC_ASSERT(r.deleted == want);
  }
  void show(std::ostream& os) const override { os << "deleteIfValue('" << k << "','" << v << "')"; }
};

struct read_cmd final : command {
  std::string k = *key();
  void run(const model& m, sut& s) const override {
    const auto g = s.Get(k);
    const auto want = m.get(k);
    RC_ASSERT(g.err.ok());
    RC_ASSERT(g.found == want.has_value());
    RC_ASSERT(g.value == want.value_or(""));
    RC_ASSERT(g.index == m.clock());
    const auto h = s.Has(k);
    RC_ASSERT(h.found == m.has(k));
    RC_ASSERT(h.index == m.clock());
  }
  void show(std::ostream& os) const override { os << "read('" << k << "')"; }
};

struct save_load_cmd final : command {
  void run(const model& m, sut& s) const override {
    std::string bytes;
    RC_ASSERT(s.Save(bytes).ok());
    dkv::lstore copy;
    RC_ASSERT(copy.Load(bytes).ok());
    RC_ASSERT(copy.engine().Digest() == s.engine().Digest());
    RC_ASSERT(s.Load(bytes).ok());
    RC_ASSERT(s.engine().WriteIdx() == m.clock());
  }
  void show(std::ostream& os) const override { os << "save_load"; }
};

}  // namespace

TEST_CASE("lstore behaves like the reference model", "[lstore][model]") {
  rc::prop("random operation sequences", [] {
    model m;
    sut s;
    rc::state::check(m, s,
                     rc::state::gen::execOneOfWithArgs<set_cmd, set_if_unset_cmd, expire_cmd, delete_cmd,
                                                       delete_if_value_cmd, read_cmd, read_cmd, save_load_cmd>());
  });
}
