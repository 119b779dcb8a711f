// A failed DKV_ASSERT in a simulation ends the simulation's run, not the
// process: the simulator throws dkv::broken_invariant with the first
// failure's message — from inside an actor (which CAF ends) or from a
// scheduled action alike — and shuts down cleanly afterwards. With no
// simulator alive, a failed assertion aborts as before.

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <csignal>

#include "sim/simulator/simulator.hpp"
#include "store/assert.hpp"

using namespace dkv;

namespace {

// An actor that checks what it is sent, as store code in a node would.
// (An argument, as CAF 0.17 binds a null pointer for a function actor with none.)
caf::behavior checker(caf::event_based_actor* self, int limit) {
  // Quietly, as raft_node does: CAF's default handler would print the exception.
  self->set_exception_handler([](std::exception_ptr&) -> caf::error { return caf::exit_reason::unhandled_exception; });
  return {[limit](int seen) { DKV_ASSERT(seen < limit, seen, limit); }};
}

}  // namespace

TEST_CASE("an assertion failing in an actor stops the simulation with its message", "[sim][assert]") {
  sim::simulator s(1);
  const caf::actor a = s.spawn(checker, 3);
  caf::anon_send(a, 1);
  s.run_until(10);
  CHECK_FALSE(s.failed_assertion());
  caf::anon_send(a, 7);
  REQUIRE_THROWS_AS(s.run_until(20), broken_invariant);
  REQUIRE(s.failed_assertion());
  CHECK(s.failed_assertion()->find("tests/sim/assertion_trap_test.cpp:") == 0);
  CHECK(s.failed_assertion()->ends_with(": seen < limit (seen=7 limit=3)"));
  // The run stays stopped: the next step throws the same failure again.
  s.at(30, "later", [] {});
  try {
    s.run_until(40);
    FAIL("the simulation went on after a failed assertion");
  } catch (const broken_invariant& again) {
    CHECK(std::string(again.what()) == *s.failed_assertion());
  }
}  // and the simulator shuts down with its actor gone: no hang, no leak

TEST_CASE("an assertion failing outside an actor stops the simulation too, the first failure wins", "[sim][assert]") {
  sim::simulator s(2);
  s.at(10, "first", [] { DKV_ASSERT(1 > 2, 1, 2); });
  s.at(10, "second", [] { DKV_ASSERT(3 > 4); });
  REQUIRE_THROWS_AS(s.run_until(100), broken_invariant);
  REQUIRE(s.failed_assertion());
  CHECK(s.failed_assertion()->ends_with(": 1 > 2 (1=1 2=2)"));
  try {
    s.run_until(100);  // runs the second action, whose failure comes after
  } catch (const broken_invariant& e) {
    CHECK(std::string(e.what()) == *s.failed_assertion());
  }
  CHECK(s.failed_assertion()->ends_with(": 1 > 2 (1=1 2=2)"));
}

TEST_CASE("with no simulator alive a failed assertion aborts the process", "[sim][assert]") {
  { sim::simulator s(3); }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch's handler: the child is to die of it
    ::close(2);
    DKV_ASSERT(false);
    ::_exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}
