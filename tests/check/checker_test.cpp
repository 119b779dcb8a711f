// The checker on small register and kv histories: verdicts, info and fail
// semantics, the budget and the cancel flag, and a deterministic report.

#include <catch2/catch.hpp>

#include <sstream>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"

using namespace dkv::check;

namespace {

// A register history in Jepsen's layout, one event a line: "P invoke|ok|fail|info f value".
history jepsen(const std::vector<std::string>& events) {
  std::string text;
  for (const auto& e : events) {
    std::istringstream in(e);
    std::string process, type, f, value;
    in >> process >> type >> f;
    std::getline(in >> std::ws, value);
    text += "INFO  jepsen.util - " + process + "\t:" + type + "\t:" + f + "\t" + value + "\n";
  }
  history h;
  parse_error error;
  REQUIRE(parse_history(text, h, error));
  return h;
}

history edn(std::initializer_list<const char*> lines) {
  std::string text;
  for (const char* l : lines) text += std::string(l) + "\n";
  history h;
  parse_error error;
  REQUIRE(parse_history(text, h, error));
  return h;
}

verdict check(const history& h, check_options options = {}) { return check_history(h, options).result; }

}  // namespace

TEST_CASE("register: sequential and concurrent histories", "[check]") {
  REQUIRE(check(jepsen({"0 invoke write 1", "0 ok write 1", "1 invoke read nil", "1 ok read 1"})) ==
          verdict::linearizable);
  // A stale read after the write completed.
  REQUIRE(check(jepsen({"0 invoke write 1", "0 ok write 1", "1 invoke read nil", "1 ok read nil"})) ==
          verdict::not_linearizable);
  // Concurrent with the write, either value may be read.
  REQUIRE(check(jepsen({"0 invoke write 1", "1 invoke read nil", "1 ok read nil", "0 ok write 1"})) ==
          verdict::linearizable);
  REQUIRE(check(jepsen({"0 invoke write 1", "1 invoke read nil", "1 ok read 1", "0 ok write 1"})) ==
          verdict::linearizable);
  // A read of a value nobody wrote.
  REQUIRE(check(jepsen({"0 invoke read nil", "0 ok read 7"})) == verdict::not_linearizable);
}

TEST_CASE("register: info operations may take effect later, or never, fail ones never", "[check]") {
  // The write timed out, yet a later read sees it: fine.
  REQUIRE(check(jepsen({"0 invoke write 5", "0 info write :timed-out", "1 invoke read nil", "1 ok read 5"})) ==
          verdict::linearizable);
  // ... or does not see it: also fine.
  REQUIRE(check(jepsen({"0 invoke write 5", "0 info write :timed-out", "1 invoke read nil", "1 ok read nil"})) ==
          verdict::linearizable);
  // A failed cas took no effect.
  REQUIRE(check(jepsen({"0 invoke write 1", "0 ok write 1", "1 invoke cas [1 2]", "1 fail cas [1 2]",
                        "2 invoke read nil", "2 ok read 2"})) == verdict::not_linearizable);
  // An info cas whose precondition never held simply did not happen.
  REQUIRE(check(jepsen({"0 invoke cas [9 2]", "0 info cas :timed-out", "1 invoke read nil", "1 ok read nil"})) ==
          verdict::linearizable);
  // But an info write cannot take effect before it was invoked.
  REQUIRE(check(jepsen({"1 invoke read nil", "1 ok read 5", "0 invoke write 5", "0 info write :timed-out"})) ==
          verdict::not_linearizable);
}

TEST_CASE("kv: split by key, or as one", "[check]") {
  const history h = edn({
      R"({:process 0, :type :invoke, :f :put, :key "a", :value "1"})",
      R"({:process 0, :type :ok, :f :put, :key "a", :value "1"})",
      R"({:process 1, :type :invoke, :f :append, :key "b", :value "x"})",
      R"({:process 1, :type :ok, :f :append, :key "b", :value "x"})",
      R"({:process 2, :type :invoke, :f :get, :key "b", :value nil})",
      R"({:process 2, :type :ok, :f :get, :key "b", :value "x"})",
  });
  const check_report split = check_history(h, {});
  REQUIRE(split.result == verdict::linearizable);
  REQUIRE(split.partitions == 2);
  check_options whole;
  whole.split = false;
  REQUIRE(check_history(h, whole).partitions == 1);
  REQUIRE(check_history(h, whole).result == verdict::linearizable);
}

TEST_CASE("the report names the lowest failing key, the prefix and the stuck operation", "[check]") {
  // Keys "b" and "a" both have a stale read; "a" must be reported, whatever the threads do.
  const history h = edn({
      R"({:process 0, :type :invoke, :f :put, :key "b", :value "1"})",
      R"({:process 0, :type :ok, :f :put, :key "b", :value "1"})",
      R"({:process 1, :type :invoke, :f :get, :key "b", :value nil})",
      R"({:process 1, :type :ok, :f :get, :key "b", :value ""})",
      R"({:process 2, :type :invoke, :f :put, :key "a", :value "1"})",
      R"({:process 2, :type :ok, :f :put, :key "a", :value "1"})",
      R"({:process 3, :type :invoke, :f :get, :key "a", :value nil})",
      R"({:process 3, :type :ok, :f :get, :key "a", :value ""})",
  });
  for (unsigned threads : {1u, 2u, 4u}) {
    check_options options;
    options.threads = threads;
    const check_report r = check_history(h, options);
    REQUIRE(r.result == verdict::not_linearizable);
    REQUIRE(r.part == "a");
    REQUIRE(r.part_ops == std::vector<std::size_t>{2, 3});
    REQUIRE(r.longest_prefix == std::vector<std::size_t>{2});
    REQUIRE(r.stuck == 3u);
  }
}

TEST_CASE("an exhausted budget or a cancel says unknown, never a guess", "[check]") {
  // Ten concurrent writes and a read of none of them: refuting it takes many steps.
  std::vector<std::string> events;
  for (int p = 0; p < 10; ++p) events.push_back(std::to_string(p) + " invoke write " + std::to_string(p));
  for (int p = 0; p < 10; ++p) events.push_back(std::to_string(p) + " ok write " + std::to_string(p));
  events.push_back("10 invoke read nil");
  events.push_back("10 ok read 99");
  const history h = jepsen(events);
  check_options tiny;
  tiny.budget.max_steps = 10;
  REQUIRE(check_history(h, tiny).result == verdict::unknown);
  std::atomic<bool> cancel{true};
  check_options cancelled;
  cancelled.budget.cancel = &cancel;
  REQUIRE(check_history(h, cancelled).result == verdict::unknown);
  REQUIRE(check_history(h, {}).result == verdict::not_linearizable);
}
