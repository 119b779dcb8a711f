// DKV_ASSERT: what a failed one reports (file, line, the condition's text,
// each value by name), that it costs nothing to evaluate when it holds, and
// that the default handler prints and aborts the process.

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>

#include "store/assert.hpp"

namespace {

enum class colour : std::uint8_t { red = 3 };

// Records the failure and unwinds back to the test (the simulator's way).
dkv::assertion_failure last;
void record(const dkv::assertion_failure& f) {
  last = f;
  throw dkv::broken_invariant(f.message());
}

// Runs `body` under the recording handler; the message it threw, or "".
template <class Body>
std::string failure_of(Body body) {
  const dkv::assertion_handler before = dkv::set_assertion_handler(&record);
  std::string message;
  try {
    body();
  } catch (const dkv::broken_invariant& e) {
    message = e.what();
  }
  dkv::set_assertion_handler(before);
  return message;
}

}  // namespace

TEST_CASE("a failed DKV_ASSERT names its file, line, condition and values", "[assert]") {
  const std::uint64_t commit = 7, last_index = 5;
  int line = 0;
  const std::string message = failure_of([&] {
    line = __LINE__ + 1;
    DKV_ASSERT(commit <= last_index, commit, last_index);
  });
  // The build strips the checkout's path: the report reads the same anywhere.
  CHECK(message ==
        "tests/store/assert_test.cpp:" + std::to_string(line) + ": commit <= last_index (commit=7 last_index=5)");
  CHECK(std::string(last.file) == "tests/store/assert_test.cpp");
  CHECK(last.line == line);
  CHECK(std::string(last.expression) == "commit <= last_index");
  CHECK(last.values == "commit=7 last_index=5");
}

TEST_CASE("DKV_ASSERT prints numbers, enums, bools and strings, names split at top-level commas", "[assert]") {
  const int a = 4, b = -2;
  const std::string key = "k1";
  const std::uint8_t byte = 200;
  // clang-format would read `a < b, …, a > b` as a template's arguments.
  // clang-format off
  const std::string message = failure_of([&] {
    DKV_ASSERT(a < b, std::min(a, b), colour::red, a > b, key, byte);
  });
  // clang-format on
  CHECK(last.values == "std::min(a, b)=-2 colour::red=3 a > b=true key=\"k1\" byte=200");
  CHECK(message.find(": a < b (std::min(a, b)=-2 ") != std::string::npos);
}

TEST_CASE("DKV_ASSERT without values reports the condition alone", "[assert]") {
  const bool ready = false;
  failure_of([&] { DKV_ASSERT(ready); });
  CHECK(std::string(last.expression) == "ready");
  CHECK(last.values.empty());
  CHECK(last.message().ends_with(": ready"));
}

TEST_CASE("a DKV_ASSERT that holds evaluates none of its values", "[assert]") {
  int evaluated = 0;
  const auto costly = [&] { return ++evaluated; };
  const std::string message = failure_of([&] { DKV_ASSERT(evaluated == 0, costly(), costly()); });
  CHECK(message.empty());
  CHECK(evaluated == 0);
}

TEST_CASE("the default handler prints the failure on stderr and aborts", "[assert]") {
  int err[2];
  REQUIRE(::pipe(err) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch's handler: the child is to die of it
    ::dup2(err[1], 2);
    ::close(err[0]);
    dkv::set_assertion_handler(nullptr);
    const int term = 3, seen = 4;
    DKV_ASSERT(seen <= term, seen, term);
    ::_exit(0);  // not reached
  }
  ::close(err[1]);
  std::string printed;
  char chunk[512];
  for (ssize_t n; (n = ::read(err[0], chunk, sizeof chunk)) > 0;) printed.append(chunk, static_cast<std::size_t>(n));
  ::close(err[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(printed.starts_with("dkv: assertion failed: tests/store/assert_test.cpp:"));
  CHECK(printed.find(": seen <= term (seen=4 term=3)\n") != std::string::npos);
}

TEST_CASE("a handler that returns does not let the code go on: the process aborts", "[assert]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch's handler: the child is to die of it
    ::close(2);                     // the message is not this test's business
    dkv::set_assertion_handler([](const dkv::assertion_failure&) {});
    DKV_ASSERT(1 + 1 == 3);
    ::_exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}
