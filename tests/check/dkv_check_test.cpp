// The dkv store model: the index witness (duplicates, real time, gaps), reads
// against docs/spec.md's clock, info writes searched into gaps, and histories
// without indexes checked as one.

#include <catch2/catch.hpp>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"

using namespace dkv::check;

namespace {

// Builds a dkv history from compact events: {t, process, "invoke"|"ok"|"fail"|"info", json fields}.
struct event {
  std::uint64_t t;
  int process;
  const char* type;
  std::string fields;
};

check_report check(const std::vector<event>& events, bool split = true) {
  std::string text;
  for (const auto& e : events)
    text += "{\"t\": " + std::to_string(e.t) + ", \"process\": " + std::to_string(e.process) + ", \"type\": \"" +
            e.type + "\"" + (e.fields.empty() ? "" : ", " + e.fields) + "}\n";
  history h;
  parse_error error;
  INFO(error.reason);
  REQUIRE(parse_history(text, h, error));
  check_options options;
  options.split = split;
  return check_history(h, options);
}

}  // namespace

TEST_CASE("dkv: acknowledged writes and reads at their indexes", "[check][dkv]") {
  const std::vector<event> ok = {
      {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
      {2, 1, "ok", R"("index": 1)"},
      {3, 2, "invoke", R"("f": "get", "key": "a")"},
      {4, 2, "ok", R"("found": true, "value": "1", "index": 1)"},
      {5, 1, "invoke", R"("f": "delete", "key": "a")"},
      {6, 1, "ok", R"("index": 2)"},
      {7, 2, "invoke", R"("f": "has", "key": "a")"},
      {8, 2, "ok", R"("found": false, "index": 2)"},
  };
  REQUIRE(check(ok).result == verdict::linearizable);
  REQUIRE(check(ok, false).result == verdict::linearizable);

  auto stale = ok;
  stale[7].fields = R"("found": true, "index": 2)";
  const check_report r = check(stale);
  REQUIRE(r.result == verdict::not_linearizable);
  REQUIRE(r.part == "a");
  REQUIRE(r.stuck == 3u);
  REQUIRE(check(stale, false).result == verdict::not_linearizable);
}

TEST_CASE("dkv: the logical clock decides expiry", "[check][dkv]") {
  // setE at index 1 with e=2, d=4: expireAt 3, deleteAt 5.
  std::vector<event> h = {
      {1, 1, "invoke", R"("f": "setE", "key": "a", "value": "v", "e": 2, "d": 4)"},
      {2, 1, "ok", R"("index": 1)"},
      {3, 1, "invoke", R"("f": "set", "key": "b", "value": "x")"},
      {4, 1, "ok", R"("index": 2)"},
      {5, 2, "invoke", R"("f": "get", "key": "a")"},
      {6, 2, "ok", R"("found": true, "value": "v", "index": 2)"},
      {7, 1, "invoke", R"("f": "set", "key": "b", "value": "y")"},
      {8, 1, "ok", R"("index": 3)"},
      {9, 2, "invoke", R"("f": "get", "key": "a")"},
      {10, 2, "ok", R"("found": false, "index": 3)"},
      {11, 2, "invoke", R"("f": "has", "key": "a")"},
      {12, 2, "ok", R"("found": true, "index": 3)"},
  };
  REQUIRE(check(h).result == verdict::linearizable);
  REQUIRE(check(h, false).result == verdict::linearizable);
  h[9].fields = R"("found": true, "value": "v", "index": 3)";  // still there at its expireAt
  REQUIRE(check(h).result == verdict::not_linearizable);
  REQUIRE(check(h, false).result == verdict::not_linearizable);
}

TEST_CASE("dkv: an index used twice is a duplicated write", "[check][dkv]") {
  const check_report r = check({
      {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
      {2, 1, "ok", R"("index": 1)"},
      {3, 2, "invoke", R"("f": "set", "key": "b", "value": "2")"},
      {4, 2, "ok", R"("index": 1)"},
  });
  REQUIRE(r.result == verdict::not_linearizable);
  REQUIRE(r.explanation.find("duplicated write") != std::string::npos);
  REQUIRE(r.part_ops == std::vector<std::size_t>{0, 1});
}

TEST_CASE("dkv: indexes against real time", "[check][dkv]") {
  // Write at index 2 returned before the write at index 1 was invoked.
  const check_report r = check({
      {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
      {2, 1, "ok", R"("index": 2)"},
      {3, 2, "invoke", R"("f": "set", "key": "b", "value": "2")"},
      {4, 2, "ok", R"("index": 1)"},
  });
  REQUIRE(r.result == verdict::not_linearizable);
  REQUIRE(r.explanation.find("returned before") != std::string::npos);
}

TEST_CASE("dkv: a gap needs an info write that could have taken it", "[check][dkv]") {
  std::vector<event> h = {
      {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
      {2, 1, "ok", R"("index": 1)"},
      {3, 2, "invoke", R"("f": "set", "key": "b", "value": "2")"},
      {10, 2, "ok", R"("index": 3)"},
  };
  // Nothing explains index 2: a lost (or phantom) write.
  check_report r = check(h);
  REQUIRE(r.result == verdict::not_linearizable);
  REQUIRE(r.explanation.find("lost or phantom") != std::string::npos);

  // An unacknowledged write invoked in time explains it — and a read may see it.
  h.push_back({4, 3, "invoke", R"("f": "set", "key": "c", "value": "3")"});
  h.push_back({6, 3, "info", R"("code": 4)"});
  h.push_back({11, 4, "invoke", R"("f": "get", "key": "c")"});
  h.push_back({12, 4, "ok", R"("found": true, "value": "3", "index": 3)"});
  std::stable_sort(h.begin(), h.end(), [](const event& a, const event& b) { return a.t < b.t; });
  REQUIRE(check(h).result == verdict::linearizable);
  REQUIRE(check(h, false).result == verdict::linearizable);

  // Invoked only after the write at index 3 returned, it cannot have taken index 2.
  std::vector<event> late = {
      {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},  {2, 1, "ok", R"("index": 1)"},
      {3, 2, "invoke", R"("f": "set", "key": "b", "value": "2")"},  {10, 2, "ok", R"("index": 3)"},
      {11, 3, "invoke", R"("f": "set", "key": "c", "value": "3")"}, {12, 3, "info", R"("code": 4)"},
  };
  REQUIRE(check(late).result == verdict::not_linearizable);
}

TEST_CASE("dkv: an info write that was never applied leaves no trace", "[check][dkv]") {
  REQUIRE(check({
                    {1, 3, "invoke", R"("f": "set", "key": "a", "value": "lost")"},
                    {2, 3, "info", R"("code": 4)"},
                    {3, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
                    {4, 1, "ok", R"("index": 1)"},
                    {5, 2, "invoke", R"("f": "get", "key": "a")"},
                    {6, 2, "ok", R"("found": true, "value": "1", "index": 1)"},
                })
              .result == verdict::linearizable);
}

TEST_CASE("dkv: DeleteIfValue's outcome is checked", "[check][dkv]") {
  std::vector<event> h = {
      {1, 1, "invoke", R"("f": "set", "key": "lock", "value": "me")"},
      {2, 1, "ok", R"("index": 1)"},
      {3, 1, "invoke", R"("f": "deleteIfValue", "key": "lock", "value": "you")"},
      {4, 1, "ok", R"("deleted": false, "index": 2)"},
      {5, 1, "invoke", R"("f": "deleteIfValue", "key": "lock", "value": "me")"},
      {6, 1, "ok", R"("deleted": true, "index": 3)"},
  };
  REQUIRE(check(h).result == verdict::linearizable);
  h[3].fields = R"("deleted": true, "index": 2)";
  REQUIRE(check(h).result == verdict::not_linearizable);
}

TEST_CASE("dkv: failed operations took no effect", "[check][dkv]") {
  REQUIRE(check({
                    {1, 1, "invoke", R"("f": "set", "key": "a", "value": "1")"},
                    {2, 1, "fail", R"("code": 5)"},
                    {3, 2, "invoke", R"("f": "get", "key": "a")"},
                    {4, 2, "ok", R"("found": true, "value": "1", "index": 0)"},
                })
              .result == verdict::not_linearizable);
}
