// The HTML report's data: the node lanes a history's faults and node events
// make, the verdicts, and what the page is given to draw (its drawing is
// check_tool_tests' in headless Chromium).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "check/history/parse.hpp"
#include "check/report/html_report.hpp"
#include "check/report/node_lanes.hpp"

using namespace dkv::check;

namespace {

history parse(const std::string& text) {
  history h;
  parse_error error;
  INFO("line " << error.line << ": " << error.reason);
  REQUIRE(parse_history(text, h, error));
  return h;
}

// The lane's text at time t.
std::string at(const node_lane& lane, std::uint64_t t) {
  for (const node_span& s : lane.spans)
    if (s.from_ns <= t && t < s.to_ns) return s.text();
  return "(none)";
}

// The page's data: the JSON between the data script's tags.
nlohmann::json page_data(const std::string& page) {
  const std::string open = R"(<script id="data" type="application/json">)";
  const std::size_t from = page.find(open) + open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

const char* const run = R"({"t": 0, "type": "meta", "seed": 1, "scenario": "s", "nodes": 3}
{"t": 1, "type": "node", "node": 1, "role": "follower", "term": 1}
{"t": 1, "type": "node", "node": 2, "role": "follower", "term": 1}
{"t": 10, "type": "node", "node": 1, "role": "leader", "term": 2}
{"t": 20, "process": 1, "type": "invoke", "f": "set", "key": "k", "value": "a"}
{"t": 25, "process": 1, "type": "ok", "f": "set", "key": "k", "index": 1}
{"t": 30, "type": "fault", "fault": "partition", "groups": [[1], [2, 3]], "description": "split 1 | 2,3"}
{"t": 40, "type": "fault", "fault": "pause", "node": 2, "description": "pause 2"}
{"t": 50, "type": "fault", "fault": "partition", "from": 3, "to": 1, "description": "cut 3->1"}
{"t": 60, "type": "fault", "fault": "crash", "node": 1, "description": "crash 1"}
{"t": 65, "type": "fault", "fault": "resume", "node": 2, "description": "resume 2"}
{"t": 70, "type": "fault", "fault": "heal", "description": "heal"}
{"t": 80, "type": "fault", "fault": "restart", "node": 1, "description": "restart 1"}
{"t": 80, "type": "node", "node": 1, "role": "follower", "term": 2}
{"t": 85, "process": 2, "type": "invoke", "f": "get", "key": "k"}
{"t": 88, "process": 2, "type": "ok", "f": "get", "key": "k", "found": true, "value": "stale", "index": 1}
{"t": 90, "type": "node", "node": 2, "role": "stopped", "term": 3}
)";

}  // namespace

TEST_CASE("node lanes: down, paused, stopped, cut off from whom, role and term", "[check][report]") {
  const history h = parse(run);
  const std::vector<node_lane> lanes = node_lanes(h, 0, 100);
  REQUIRE(lanes.size() == 3);  // the meta line's 3, though node 3 has no event of its own
  const node_lane &one = lanes[0], &two = lanes[1], &three = lanes[2];
  CHECK(one.node == 1);
  CHECK(at(one, 0) == "role unknown");
  CHECK(at(one, 5) == "follower, term 1");
  CHECK(at(one, 15) == "leader, term 2");
  CHECK(at(one, 35) == "leader, term 2; cut from 2,3");
  CHECK(at(one, 55) == "leader, term 2; cannot hear 3");  // a partition replaces the one before
  CHECK(at(one, 62) == "down; cannot hear 3");
  CHECK(at(one, 75) == "down");
  CHECK(at(one, 85) == "follower, term 2");  // restarted, and what the new process said at once
  CHECK(at(two, 45) == "follower, term 1; paused; cut from 1");
  CHECK(at(two, 66) == "follower, term 1");
  CHECK(at(two, 95) == "stopped itself, term 3");
  CHECK(at(three, 55) == "role unknown; cannot send to 1");
  // Back to back from start to end, each a change.
  for (const node_lane& lane : lanes) {
    CHECK(lane.spans.front().from_ns == 0);
    CHECK(lane.spans.back().to_ns == 100);
    for (std::size_t i = 1; i < lane.spans.size(); ++i) {
      CHECK(lane.spans[i].from_ns == lane.spans[i - 1].to_ns);
      CHECK(!lane.spans[i].same_state(lane.spans[i - 1]));
    }
  }
  // A restart and what the new process says at the same time: one span, not an empty one between.
  CHECK(at(one, 80) == "follower, term 2");
}

TEST_CASE("node lanes: without a node count, the nodes the events name", "[check][report]") {
  const history h = parse(
      R"({"t": 5, "type": "fault", "fault": "partition", "node": 4, "groups": [[2], [7]], "description": "bridge"})"
      "\n");
  const std::vector<node_lane> lanes = node_lanes(h, 0, 10);
  REQUIRE(lanes.size() == 3);
  CHECK(lanes[0].node == 2);
  CHECK(lanes[1].node == 4);
  CHECK(at(lanes[1], 7) == "role unknown");  // the bridge reaches both sides
  CHECK(at(lanes[2], 7) == "role unknown; cut from 2");
}

TEST_CASE("the report's data: every verdict, the lanes, the failing point, the time unit", "[check][report]") {
  const history h = parse(run);
  check_options options;
  options.model = model_kind::dkv;
  const check_report checked = check_history(h, options);
  REQUIRE(checked.result == verdict::not_linearizable);  // the get read "stale", which nobody wrote

  const check_verdict linearizability = linearizability_verdict(h, checked);
  CHECK(!linearizability.passed);
  CHECK(!linearizability.undecided);
  CHECK(linearizability.detail == checked.summary);
  CHECK(linearizability.at_ns == 85u);  // the get's call
  CHECK(linearizability.process == 2u);

  check_verdict liveness{"liveness", false, "no write acknowledged within 2000 ms after healing"};
  liveness.at_ns = 95;
  const check_verdict agreement{"agreement", true, "3 log entries"};
  check_verdict storage{"storage", true, "skipped: a real run has no simulated disks"};
  storage.skipped = true;
  const nlohmann::json d = page_data(
      render_html_report(h, {agreement, liveness, linearizability, storage}, checked, "a </script> title"));
  CHECK(d["title"] == "a </script> title");  // escaped in the page, whole in its data
  CHECK(d["unit"] == "ns");
  CHECK(d["t0"] == 1);   // the first event (the meta line is none)
  CHECK(d["t1"] == 95);  // the liveness deadline is on the page too
  REQUIRE(d["checks"].size() == 4);
  CHECK(d["checks"][0]["name"] == "agreement");
  CHECK(d["checks"][0]["skipped"] == false);
  CHECK(d["checks"][3]["skipped"] == true);  // drawn apart from the passed ones
  CHECK(!d["checks"][0].contains("at"));
  CHECK(d["checks"][1]["at"] == 95);
  CHECK(!d["checks"][1].contains("p"));
  CHECK(d["checks"][2]["at"] == 85);
  CHECK(d["checks"][2]["p"] == 2);
  REQUIRE(d["lanes"].size() == 3);
  CHECK(d["lanes"][1]["node"] == 2);
  CHECK(d["lanes"][1]["spans"].back()["s"] == "stopped");
  CHECK(d["ops"].size() == 2);
  CHECK(d["faults"].size() == 7);
  CHECK(d["faults"][1]["node"] == 2);

  // A log without a clock: line numbers stand in for time.
  const history jepsen = parse("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n");
  const nlohmann::json j = page_data(render_html_report(jepsen, {}, check_history(jepsen), "jepsen"));
  CHECK(j["unit"] == "line");
  CHECK(j["lanes"].empty());
}
