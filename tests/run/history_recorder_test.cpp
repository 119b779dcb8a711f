// The history recorder: its lines are docs/history.md's, and what it keeps in
// memory is exactly what parse_history reads back from them.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <sstream>

#include "sim/run/history_recorder.hpp"
#include "check/history/parse.hpp"

using namespace dkv::sim;
using namespace dkv::check;

namespace {

operation op(std::uint32_t process, std::string f, std::string key, std::string value = {}, std::uint64_t e = 0,
             std::uint64_t d = 0) {
  operation o;
  o.process = process;
  o.f = std::move(f);
  o.key = std::move(key);
  o.value = std::move(value);
  o.expire_in = e;
  o.delete_in = d;
  return o;
}

op_result ok(std::optional<std::uint64_t> index, bool found = false, std::optional<std::string> value = {}) {
  return {outcome::ok, 0, found, std::move(value), index};
}
op_result failed(outcome o, int code) { return {o, code, false, {}, {}}; }

fault make(fault_kind kind, node_id node = 0, node_id other = 0, std::vector<std::vector<node_id>> groups = {}) {
  fault f;
  f.kind = kind;
  f.node = node;
  f.other = other;
  f.groups = std::move(groups);
  return f;
}

history parse(const std::string& text) {
  history h;
  parse_error error;
  const bool parsed = parse_history(text, h, error);
  INFO("line " << error.line << ": " << error.reason << "\n" << text);
  REQUIRE(parsed);
  return h;
}

// Field by field, so a difference says which field.
void require_same(const history& got, const history& want) {
  REQUIRE(got.format == want.format);
  REQUIRE(got.operations.size() == want.operations.size());
  for (std::size_t i = 0; i < got.operations.size(); ++i) {
    const operation &a = got.operations[i], &b = want.operations[i];
    INFO("operation " << i << " (" << b.f << " by " << b.process << ")");
    CHECK(a.process == b.process);
    CHECK(a.call_ns == b.call_ns);
    CHECK(a.return_ns == b.return_ns);
    CHECK(a.result == b.result);
    CHECK(a.f == b.f);
    CHECK(a.line == b.line);
    CHECK(a.key == b.key);
    CHECK(a.value == b.value);
    CHECK(a.expire_in == b.expire_in);
    CHECK(a.delete_in == b.delete_in);
    CHECK(a.a == b.a);
    CHECK(a.b == b.b);
    CHECK(a.found == b.found);
    CHECK(a.result_value == b.result_value);
    CHECK(a.result_number == b.result_number);
    CHECK(a.index == b.index);
    CHECK(a.code == b.code);
  }
  REQUIRE(got.faults.size() == want.faults.size());
  for (std::size_t i = 0; i < got.faults.size(); ++i) {
    INFO("fault " << i);
    CHECK(got.faults[i].time_ns == want.faults[i].time_ns);
    CHECK(got.faults[i].kind == want.faults[i].kind);
    CHECK(got.faults[i].description == want.faults[i].description);
    CHECK(got.faults[i].node == want.faults[i].node);
    CHECK(got.faults[i].groups == want.faults[i].groups);
    CHECK(got.faults[i].from == want.faults[i].from);
    CHECK(got.faults[i].to == want.faults[i].to);
  }
  REQUIRE(got.nodes.size() == want.nodes.size());
  for (std::size_t i = 0; i < got.nodes.size(); ++i) {
    INFO("node event " << i);
    CHECK(got.nodes[i].time_ns == want.nodes[i].time_ns);
    CHECK(got.nodes[i].node == want.nodes[i].node);
    CHECK(got.nodes[i].role == want.nodes[i].role);
    CHECK(got.nodes[i].term == want.nodes[i].term);
  }
  CHECK(got.node_count == want.node_count);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("recorder: docs/history.md's example lines, exactly", "[check][recorder]") {
  std::ostringstream out;
  history_recorder r(&out);
  r.meta(0, 42, "leader-isolation", 3);
  const auto set = r.invoke(1250000, op(3, "setE", "k7", "v12", 5, 0));
  r.complete(set, 1270000, ok(412));
  const auto get = r.invoke(1300000, op(1, "get", "k7"));
  const auto del = r.invoke(1310000, op(2, "delete", "k2"));
  r.complete(get, 1330000, ok(413, true, "v12"));
  r.complete(del, 1400000, failed(outcome::info, 4));
  r.fault(5000000000, make(fault_kind::split, 0, 0, {{1}, {2, 3}}));
  r.fault(9000000000, make(fault_kind::heal));
  r.fault(9500000000, make(fault_kind::crash, 2));
  r.fault(9700000000, make(fault_kind::restart, 2));
  r.node(9700250000, 2, "follower", 5);

  const std::vector<std::string> want = {
      R"({"t": 0, "type": "meta", "seed": 42, "scenario": "leader-isolation", "nodes": 3})",
      R"({"t": 1250000, "process": 3, "type": "invoke", "f": "setE", "key": "k7", "value": "v12", "e": 5, "d": 0})",
      R"({"t": 1270000, "process": 3, "type": "ok", "f": "setE", "key": "k7", "index": 412})",
      R"({"t": 1300000, "process": 1, "type": "invoke", "f": "get", "key": "k7"})",
      R"({"t": 1310000, "process": 2, "type": "invoke", "f": "delete", "key": "k2"})",
      R"({"t": 1330000, "process": 1, "type": "ok", "f": "get", "key": "k7", "found": true, "value": "v12", "index": 413})",
      R"({"t": 1400000, "process": 2, "type": "info", "f": "delete", "key": "k2", "code": 4})",
      R"({"t": 5000000000, "type": "fault", "fault": "partition", "groups": [[1], [2, 3]], "description": "split 1 | 2,3"})",
      R"({"t": 9000000000, "type": "fault", "fault": "heal", "description": "heal"})",
      R"({"t": 9500000000, "type": "fault", "fault": "crash", "node": 2, "description": "crash 2"})",
      R"({"t": 9700000000, "type": "fault", "fault": "restart", "node": 2, "description": "restart 2"})",
      R"({"t": 9700250000, "type": "node", "node": 2, "role": "follower", "term": 5})",
  };
  REQUIRE(lines_of(out.str()) == want);
  REQUIRE(out.str().back() == '\n');
}

TEST_CASE("recorder: the other lines — results, codes, partitions, clocks, bytes", "[check][recorder]") {
  std::ostringstream out;
  history_recorder r(&out);
  r.meta(0, 7, "s", 3);
  auto id = r.invoke(1, op(1, "deleteIfValue", "k", "v"));
  r.complete(id, 2, ok(9, true));
  id = r.invoke(3, op(1, "has", "k", "ignored", 4, 4));  // has takes only a key
  r.complete(id, 4, ok(10, false));
  id = r.invoke(5, op(1, "get", std::string("\0\xff", 2)));
  r.complete(id, 6, ok(11, false, "stale"));  // a value without found is not a result
  id = r.invoke(7, op(1, "set", "q\"\n", "\xc3\xa9"));
  r.complete(id, 8, failed(outcome::fail, 3));
  r.fault(9, make(fault_kind::isolate, 2));
  r.fault(10, make(fault_kind::one_way, 3, 1));
  r.fault(11, make(fault_kind::bridge, 1, 0, {{2}, {3}}));
  fault clock = make(fault_kind::clock, 3);
  clock.clock = {-1500, 250};
  r.fault(12, clock);
  r.fault(13, make(fault_kind::damage_disk, 1));

  const std::vector<std::string> got = lines_of(out.str());
  REQUIRE(got.size() == 14);
  CHECK(got[1] == R"({"t": 1, "process": 1, "type": "invoke", "f": "deleteIfValue", "key": "k", "value": "v"})");
  CHECK(got[2] ==
        R"({"t": 2, "process": 1, "type": "ok", "f": "deleteIfValue", "key": "k", "deleted": true, "index": 9})");
  CHECK(got[3] == R"({"t": 3, "process": 1, "type": "invoke", "f": "has", "key": "k"})");
  CHECK(got[4] == R"({"t": 4, "process": 1, "type": "ok", "f": "has", "key": "k", "found": false, "index": 10})");
  CHECK(got[5] == R"({"t": 5, "process": 1, "type": "invoke", "f": "get", "key": {"base64": "AP8="}})");
  CHECK(got[6] ==
        R"({"t": 6, "process": 1, "type": "ok", "f": "get", "key": {"base64": "AP8="}, "found": false, "index": 11})");
  CHECK(got[7] ==
        "{\"t\": 7, \"process\": 1, \"type\": \"invoke\", \"f\": \"set\", \"key\": \"q\\\"\\n\", \"value\": "
        "\"\xc3\xa9\"}");
  CHECK(got[8] == R"({"t": 8, "process": 1, "type": "fail", "f": "set", "key": "q\"\n", "code": 3})");
  CHECK(
      got[9] ==
      R"({"t": 9, "type": "fault", "fault": "partition", "node": 2, "groups": [[2], [1, 3]], "description": "isolate 2"})");
  CHECK(got[10] ==
        R"({"t": 10, "type": "fault", "fault": "partition", "from": 3, "to": 1, "description": "cut 3->1"})");
  CHECK(
      got[11] ==
      R"({"t": 11, "type": "fault", "fault": "partition", "node": 1, "groups": [[2], [3]], "description": "bridge 1 between 2 | 3"})");
  CHECK(
      got[12] ==
      R"({"t": 12, "type": "fault", "fault": "clock", "node": 3, "skew_ns": -1500, "drift_ppm": 250, "description": "clock 3 skew -1500ns drift 250ppm"})");
  CHECK(got[13] == R"({"t": 13, "type": "fault", "fault": "damage", "node": 1, "description": "damage disk 1"})");
}

TEST_CASE("recorder: a whole run reads back as the history kept in memory", "[check][recorder]") {
  std::ostringstream out;
  history_recorder r(&out);
  history_recorder quiet;  // memory only: must keep the same history
  auto both_invoke = [&](std::uint64_t t, operation o) {
    const auto id = r.invoke(t, o);
    REQUIRE(quiet.invoke(t, std::move(o)) == id);
    return id;
  };
  auto both_complete = [&](std::size_t id, std::uint64_t t, const op_result& res) {
    r.complete(id, t, res);
    quiet.complete(id, t, res);
  };
  auto both_fault = [&](std::uint64_t t, const fault& f) {
    r.fault(t, f);
    quiet.fault(t, f);
  };
  auto both_node = [&](std::uint64_t t, node_id id, std::string_view role, std::uint64_t term) {
    r.node(t, id, role, term);
    quiet.node(t, id, role, term);
  };
  r.meta(0, 99, "every-kind", 3);
  quiet.meta(0, 99, "every-kind", 3);

  std::uint64_t t = 10;
  const std::string odd_key("k\x80\xfe", 3), odd_value("\xed\xa0\x80", 3);  // a stray byte; a surrogate
  const auto a = both_invoke(t++, op(1, "set", "k1", "v1"));
  const auto b = both_invoke(t++, op(2, "setE", odd_key, odd_value, 5, 7));
  both_node(t++, 1, "candidate", 1);
  both_node(t++, 1, "leader", 1);
  both_fault(t++, make(fault_kind::split, 0, 0, {{1}, {2, 3}}));
  both_node(t++, 2, "pre-candidate", 1);
  both_complete(a, t++, ok(1));
  both_complete(b, t++, failed(outcome::fail, 2));
  const auto c = both_invoke(t++, op(1, "setEIfUnset", "lock", "me", 0, 30));
  const auto d = both_invoke(t++, op(3, "get", odd_key));
  both_fault(t++, make(fault_kind::one_way, 1, 2));
  both_fault(t++, make(fault_kind::isolate, 3));
  both_fault(t++, make(fault_kind::bridge, 2, 0, {{1}, {3}}));
  both_complete(d, t++, ok(2, true, odd_value));
  both_complete(c, t++, failed(outcome::info, 5));  // process 1 is done; 4 takes over
  both_fault(t++, make(fault_kind::heal));
  const auto e = both_invoke(t++, op(4, "expire", "k1", "", 3, 3));
  const auto f = both_invoke(t++, op(3, "delete", "k1"));
  both_fault(t++, make(fault_kind::crash, 2));
  both_fault(t++, make(fault_kind::restart, 2));
  both_node(t++, 2, "stopped", 2);
  both_fault(t++, make(fault_kind::pause, 1));
  both_fault(t++, make(fault_kind::resume, 1));
  fault clock = make(fault_kind::clock, 2);
  clock.clock = {123, -40};
  both_fault(t++, clock);
  both_fault(t++, make(fault_kind::damage_disk, 3));
  both_complete(e, t++, ok(3));
  both_complete(f, t++, ok(4));
  const auto g = both_invoke(t++, op(4, "has", odd_key));
  both_complete(g, t++, ok(5, true));
  const auto h = both_invoke(t++, op(3, "deleteIfValue", "lock", "me"));
  both_complete(h, t++, ok(6, false));
  both_invoke(t++, op(5, "get", "k1"));  // still in flight at the end
  both_invoke(t++, op(6, "set", "k2", ""));

  const history parsed = parse(out.str());
  require_same(r.recorded(), parsed);
  require_same(quiet.recorded(), parsed);
  REQUIRE(parsed.operations.size() == 10);
  REQUIRE(parsed.faults.size() == 11);
  REQUIRE(parsed.nodes.size() == 4);
  CHECK(parsed.node_count == 3);
  CHECK(parsed.faults[0].groups == std::vector<std::vector<std::uint32_t>>{{1}, {2, 3}});
  CHECK(parsed.faults[1].from == 1);
  CHECK(parsed.faults[1].to == 2);
  CHECK(parsed.faults[2].groups == std::vector<std::vector<std::uint32_t>>{{3}, {1, 2}});  // isolate: both sides
  CHECK(parsed.faults[5].node == 2);
  CHECK(parsed.faults[5].description == "crash 2");
  CHECK(parsed.nodes[3].role == "stopped");
  // a few facts the comparison relies on, so it cannot pass by both sides being empty
  CHECK(parsed.operations[1].key == odd_key);
  CHECK(parsed.operations[3].result_value == odd_value);
  CHECK(parsed.operations[2].return_ns == never);
  CHECK(parsed.operations[8].result == outcome::info);
  CHECK(parsed.operations[8].return_ns == never);

  CHECK(r.count(outcome::ok) == 6);
  CHECK(r.count(outcome::fail) == 1);
  CHECK(r.count(outcome::info) == 1);  // the two in flight are not counted
}

TEST_CASE("recorder: invocations at one time read back in the recorder's order, whatever completes first",
          "[check][recorder]") {
  std::ostringstream out;
  history_recorder r(&out);
  const auto first = r.invoke(5, op(1, "set", "k", "a"));
  const auto second = r.invoke(5, op(2, "set", "k", "b"));
  const auto third = r.invoke(5, op(3, "get", "k"));
  r.complete(third, 6, ok(2, true, "b"));
  r.complete(second, 7, ok(1));
  r.complete(first, 8, ok(2));
  const history parsed = parse(out.str());
  require_same(r.recorded(), parsed);
  REQUIRE(parsed.operations.size() == 3);
  CHECK(parsed.operations[0].process == 1);
  CHECK(parsed.operations[2].process == 3);
}

TEST_CASE("recorder: counts, empty history, misuse", "[check][recorder]") {
  history_recorder r;
  CHECK(r.recorded().format == history_format::empty);
  CHECK(r.count(outcome::ok) == 0);
  const auto a = r.invoke(1, op(1, "get", "k"));
  CHECK(r.recorded().format == history_format::dkv_json);
  CHECK(r.recorded().operations.at(a).result == outcome::info);       // in flight looks like info
  CHECK_THROWS_AS(r.invoke(2, op(1, "get", "k")), std::logic_error);  // one operation per process
  CHECK_THROWS_AS(r.invoke(2, op(2, "cas", "k")), std::invalid_argument);
  r.complete(a, 3, ok(1));
  CHECK_THROWS_AS(r.complete(a, 4, ok(2)), std::logic_error);  // completed twice
  CHECK_THROWS_AS(r.complete(17, 4, ok(2)), std::logic_error);
  CHECK(r.count(outcome::ok) == 1);
  CHECK(r.recorded().operations.at(a).index == 1u);  // the second completion changed nothing
}

TEST_CASE("recorder: any key and value bytes read back unchanged", "[check][recorder][property]") {
  rc::prop("bytes round-trip", [] {
    auto byte = rc::gen::map(rc::gen::inRange(0, 256), [](int c) { return static_cast<char>(c); });
    const auto key = *rc::gen::container<std::string>(byte);
    const auto value = *rc::gen::container<std::string>(byte);
    std::ostringstream out;
    history_recorder r(&out);
    r.complete(r.invoke(1, op(1, "set", key, value)), 2, ok(1));
    r.complete(r.invoke(3, op(1, "get", key)), 4, ok(2, true, value));
    history h;
    parse_error error;
    RC_ASSERT(parse_history(out.str(), h, error));
    RC_ASSERT(h.operations.size() == 2u);
    RC_ASSERT(h.operations[0].key == key);
    RC_ASSERT(h.operations[0].value == value);
    RC_ASSERT(h.operations[1].result_value == std::optional<std::string>(value));
  });
}
