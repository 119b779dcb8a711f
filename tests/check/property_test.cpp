// RapidCheck: histories made linearizable by construction always pass; with
// one read poisoned (a value never written) they always fail. Covers the dkv
// model with and without indexes, info operations and TTLs.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "check/linearizability/checker.hpp"
#include "check/testing/synthetic_history.hpp"

using namespace dkv;

TEST_CASE("synthetic dkv histories: linearizable, and caught once poisoned", "[check][property]") {
  rc::prop("index witness check", [](std::uint64_t seed) {
    test::synthetic_options o;
    o.operations = *rc::gen::inRange<std::size_t>(1, 400);
    o.slots = *rc::gen::inRange<std::uint32_t>(1, 8);
    o.keys = *rc::gen::inRange<std::uint32_t>(1, 6);
    o.info = *rc::gen::element(0.0, 0.05, 0.2);
    o.seed = seed;
    check::history h = test::synthetic_history(o);
    const check::check_report r = check::check_history(h, {});
    RC_ASSERT(r.result == check::verdict::linearizable);
    if (test::poison_read(h, seed)) RC_ASSERT(check::check_history(h, {}).result == check::verdict::not_linearizable);
  });
}

TEST_CASE("synthetic dkv histories without indexes, checked as one", "[check][property]") {
  rc::prop("unsplit search", [](std::uint64_t seed) {
    test::synthetic_options o;
    o.operations = *rc::gen::inRange<std::size_t>(1, 25);
    o.slots = *rc::gen::inRange<std::uint32_t>(1, 3);
    o.keys = *rc::gen::inRange<std::uint32_t>(1, 3);
    o.info = 0.1;
    o.seed = seed;
    check::history h = test::synthetic_history(o);
    for (auto& op : h.operations) op.index.reset();
    RC_ASSERT(check::check_history(h, {}).result == check::verdict::linearizable);
    if (test::poison_read(h, seed)) RC_ASSERT(check::check_history(h, {}).result == check::verdict::not_linearizable);
  });
}
