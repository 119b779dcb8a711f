// History parsers: the three formats, layout tolerance, and clear errors.

#include <catch2/catch.hpp>

#include "check/history/parse.hpp"

using namespace dkv::check;

namespace {
history parse_ok(std::string_view text) {
  history h;
  parse_error error;
  INFO("line " << error.line << ": " << error.reason);
  REQUIRE(parse_history(text, h, error));
  return h;
}
parse_error parse_bad(std::string_view text) {
  history h;
  parse_error error;
  REQUIRE_FALSE(parse_history(text, h, error));
  return error;
}
}  // namespace

TEST_CASE("an empty or blank file is an empty history", "[check][parse]") {
  REQUIRE(parse_ok("").operations.empty());
  REQUIRE(parse_ok("\n  \n\t\n").format == history_format::empty);
}

TEST_CASE("Jepsen register logs: tabs or runs of spaces, timed-out operations", "[check][parse]") {
  const history h = parse_ok(
      "INFO  jepsen.util - 0\t:invoke\t:write\t3\n"
      "INFO  jepsen.util - 1   :invoke :cas    [3 4]\n"
      "INFO  jepsen.util - 0\t:ok\t:write\t3\n"
      "INFO  jepsen.util - 2\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1   :info   :cas    :timed-out\n"
      "INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n"
      "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 3\t:ok\t:read\tnil\n"
      "INFO  jepsen.util - 4\t:invoke\t:write\t9\n");
  REQUIRE(h.format == history_format::jepsen_register);
  REQUIRE(h.operations.size() == 5);
  const operation& write = h.operations[0];
  REQUIRE(write.f == "write");
  REQUIRE(write.a == 3);
  REQUIRE(write.result == outcome::ok);
  REQUIRE(write.return_ns == 3);
  const operation& cas = h.operations[1];
  REQUIRE(cas.a == 3);
  REQUIRE(cas.b == 4);
  REQUIRE(cas.result == outcome::info);
  REQUIRE(cas.return_ns == never);
  REQUIRE(h.operations[2].result == outcome::fail);  // the timed-out read took no effect
  REQUIRE_FALSE(h.operations[3].result_number.has_value());
  REQUIRE(h.operations[4].result == outcome::info);  // no completion before the end
}

TEST_CASE("Jepsen errors name the line", "[check][parse]") {
  auto e = parse_bad("INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n");
  REQUIRE(e.line == 2);
  REQUIRE(e.reason.find("invokes twice") != std::string::npos);
  REQUIRE(parse_bad("INFO  jepsen.util - 0\t:ok\t:read\t1\n").reason.find("without an invocation") !=
          std::string::npos);
  REQUIRE(parse_bad("INFO  jepsen.util - 0\t:invoke\t:cas\t[1]\n").reason.find("[old new]") != std::string::npos);
  REQUIRE(parse_bad("INFO  jepsen.util - x\t:invoke\t:read\tnil\n").reason.find("process") != std::string::npos);
  REQUIRE(parse_bad("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nhello\n").line == 2);
}

TEST_CASE("EDN key-value logs", "[check][parse]") {
  const history h = parse_ok(
      "{:process 0, :type :invoke, :f :append, :key \"1\", :value \"x 0 0 y\"}\n"
      "{:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n"
      "{:process 0, :type :ok, :f :append, :key \"1\", :value \"x 0 0 y\"}\n"
      "{:process 1, :type :ok, :f :get, :key \"1\", :value \"x 0 0 y\"}\n"
      "{:process 2, :type :invoke, :f :get, :key \"2\", :value nil}\n"
      "{:process 2, :type :ok, :f :get, :key \"2\", :value nil}\n");
  REQUIRE(h.format == history_format::edn_kv);
  REQUIRE(h.operations.size() == 3);
  REQUIRE(h.operations[0].value == "x 0 0 y");
  REQUIRE(h.operations[1].result_value == "x 0 0 y");
  REQUIRE(h.operations[2].result_value == "");  // nil reads as the empty string
  auto e = parse_bad("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0 :type}\n");
  REQUIRE(e.line == 2);
  REQUIRE(parse_bad("{:process 0, :type :invoke, :f :get, :key \"1}\n").reason.find("unterminated") !=
          std::string::npos);
}

TEST_CASE("dkv JSON lines: operations, byte strings, faults, unknown types", "[check][parse]") {
  const history h =
      parse_ok(R"({"t": 0, "type": "meta", "seed": 42})"
               "\n"
               R"({"t": 10, "process": 3, "type": "invoke", "f": "setE", "key": "k7", "value": "v12", "e": 5, "d": 9})"
               "\n"
               R"({"t": 20, "process": 3, "type": "ok", "f": "setE", "key": "k7", "index": 412})"
               "\n"
               R"({"t": 30, "process": 1, "type": "invoke", "f": "get", "key": {"base64": "AP8="}})"
               "\n"
               R"({"t": 35, "type": "fault", "fault": "crash", "node": 2})"
               "\n"
               R"({"t": 40, "process": 1, "type": "ok", "f": "get", "found": true, "value": "v12", "index": 413})"
               "\n"
               R"({"t": 50, "process": 2, "type": "invoke", "f": "delete", "key": "k2"})"
               "\n"
               R"({"t": 60, "process": 2, "type": "info", "f": "delete", "code": 4})"
               "\n"
               R"({"t": 70, "type": "something-new", "x": 1})"
               "\n");
  REQUIRE(h.format == history_format::dkv_json);
  REQUIRE(h.operations.size() == 3);
  REQUIRE(h.operations[0].expire_in == 5);
  REQUIRE(h.operations[0].delete_in == 9);
  REQUIRE(h.operations[0].index == 412);
  REQUIRE(h.operations[1].key == std::string("\x00\xff", 2));
  REQUIRE(h.operations[1].found);
  REQUIRE(h.operations[1].result_value == "v12");
  REQUIRE(h.operations[2].result == outcome::info);
  REQUIRE(h.operations[2].code == 4);
  REQUIRE(h.faults.size() == 1);
  REQUIRE(h.faults[0].kind == "crash");
  REQUIRE(h.faults[0].description.find("\"node\":2") != std::string::npos);  // no description: kind and fields
  REQUIRE(h.faults[0].node == 2);
  REQUIRE(h.nodes.empty());
  REQUIRE(h.node_count == 0);  // the meta line gives none
}

TEST_CASE("dkv JSON lines: node events, the node count, the faults' fields", "[check][parse]") {
  const history h = parse_ok(
      R"({"t": 0, "type": "meta", "seed": 42, "scenario": "x", "nodes": 3})"
      "\n"
      R"({"t": 5, "type": "node", "node": 1, "role": "leader", "term": 3})"
      "\n"
      R"({"t": 6, "type": "node", "node": 2})"
      "\n"
      R"({"t": 7, "type": "fault", "fault": "partition", "groups": [[1], [2, 3]], "description": "split 1 | 2,3"})"
      "\n"
      R"({"t": 8, "type": "fault", "fault": "partition", "from": 3, "to": 1, "description": "cut 3->1"})"
      "\n"
      R"({"t": 9, "type": "fault", "fault": "crash", "node": "two", "groups": 5})"
      "\n");
  REQUIRE(h.node_count == 3);
  REQUIRE(h.nodes.size() == 2);
  CHECK(h.nodes[0].time_ns == 5);
  CHECK(h.nodes[0].node == 1);
  CHECK(h.nodes[0].role == "leader");
  CHECK(h.nodes[0].term == 3);
  CHECK(h.nodes[1].role.empty());  // role and term are optional
  CHECK(h.nodes[1].term == 0);
  REQUIRE(h.faults.size() == 3);
  CHECK(h.faults[0].description == "split 1 | 2,3");
  CHECK(h.faults[0].groups == std::vector<std::vector<std::uint32_t>>{{1}, {2, 3}});
  CHECK(h.faults[1].from == 3);
  CHECK(h.faults[1].to == 1);
  CHECK(h.faults[2].node == 0);  // fields of the wrong shape are left out: faults are only drawn
  CHECK(h.faults[2].groups.empty());

  CHECK(parse_bad(R"({"t": 1, "type": "node", "role": "leader"})").reason.find("\"node\"") != std::string::npos);
  CHECK(parse_bad(R"({"t": 1, "type": "node", "node": 0})").reason.find("\"node\"") != std::string::npos);
  CHECK(parse_bad(R"({"t": 1, "type": "node", "node": 1, "role": 2})").reason.find("role") != std::string::npos);
  CHECK(parse_bad(R"({"t": 1, "type": "node", "node": 1, "term": -2})").reason.find("term") != std::string::npos);
}

TEST_CASE("dkv JSON errors name the line", "[check][parse]") {
  REQUIRE(
      parse_bad("{\"t\": 1, \"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\"}\nnot json\n").line ==
      2);
  REQUIRE(parse_bad(R"({"t": 1, "process": 1, "type": "invoke", "f": "frobnicate", "key": "a"})")
              .reason.find("unknown f") != std::string::npos);
  REQUIRE(parse_bad(R"({"t": 1, "process": 1, "type": "ok", "f": "get"})").reason.find("without an invocation") !=
          std::string::npos);
  REQUIRE(parse_bad(R"({"t": 1, "process": 1, "type": "invoke", "f": "get"})").reason.find("key") != std::string::npos);
}
