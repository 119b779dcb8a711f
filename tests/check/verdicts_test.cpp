// External ground truth: every file listed in Porcupine's VERDICTS gets the
// verdict listed there (Jepsen etcd register logs and EDN kv logs).

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"

using namespace dkv::check;

TEST_CASE("every file of Porcupine's test data gets its listed verdict", "[check][ground-truth]") {
  const std::string dir = DKV_TESTDATA;
  std::ifstream list(dir + "/VERDICTS");
  REQUIRE(list);
  std::size_t files = 0, not_linearizable = 0;
  for (std::string line; std::getline(list, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, expected;
    fields >> file >> expected;
    INFO(file);
    std::ifstream in(dir + "/" + file, std::ios::binary);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    history h;
    parse_error error;
    INFO("line " << error.line << ": " << error.reason);
    REQUIRE(parse_history(text.str(), h, error));
    const verdict v = check_history(h, {}).result;
    REQUIRE(v == (expected == "linearizable" ? verdict::linearizable : verdict::not_linearizable));
    ++files;
    not_linearizable += expected != "linearizable";
  }
  REQUIRE(files == 109);
  REQUIRE(not_linearizable > 50);
}

TEST_CASE("kv/c10-ok is linearizable checked as one history", "[check][ground-truth]") {
  std::ifstream in(std::string(DKV_TESTDATA) + "/kv/c10-ok.txt", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  history h;
  parse_error error;
  REQUIRE(parse_history(text.str(), h, error));
  check_options whole;
  whole.split = false;
  REQUIRE(check_history(h, whole).result == verdict::linearizable);
}
