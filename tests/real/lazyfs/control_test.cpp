// The control file's commands.

#include <catch2/catch.hpp>

#include "real/lazyfs/control.hpp"

using dkv::lazyfs::command;
using dkv::lazyfs::parse_commands;
using dkv::lazyfs::tear_kind;

TEST_CASE("control: commands parse, one a line", "[lazyfs][control]") {
  std::string error;
  const auto commands = parse_commands(
      "lose-unsynced\n\n  sync-all  \nlose-unsynced tear 7\nlose-unsynced tear 9 0.25\nstats\n"
      "lose-unsynced keep-prefix 3 0\n",
      error);
  REQUIRE(commands);
  REQUIRE(commands->size() == 6);
  REQUIRE((*commands)[0].what == command::kind::lose_unsynced);
  REQUIRE((*commands)[0].tear == tear_kind::none);
  REQUIRE((*commands)[1].what == command::kind::sync_all);
  REQUIRE((*commands)[2].tear == tear_kind::last_write);
  REQUIRE((*commands)[2].seed == 7);
  REQUIRE((*commands)[2].tear_probability == 1.0);
  REQUIRE((*commands)[3].seed == 9);
  REQUIRE((*commands)[3].tear_probability == 0.25);
  REQUIRE((*commands)[4].what == command::kind::stats);
  REQUIRE((*commands)[5].tear == tear_kind::dirty_prefix);
  REQUIRE((*commands)[5].seed == 3);
  REQUIRE((*commands)[5].tear_probability == 0.0);
}

TEST_CASE("control: bad commands are refused with a reason", "[lazyfs][control]") {
  for (const char* text : {"lose", "lose-unsynced tear", "lose-unsynced tear x", "lose-unsynced tear 1 2",
                           "lose-unsynced tear 1 0.5 extra", "lose-unsynced now", "sync-all please",
                           "lose-unsynced tear -1", "lose-unsynced keep-prefix", "lose-unsynced tear 1 1.5"}) {
    std::string error;
    INFO(text);
    REQUIRE_FALSE(parse_commands(text, error));
    REQUIRE_FALSE(error.empty());
  }
}

TEST_CASE("control: the random numbers are SplitMix64's", "[lazyfs][control]") {
  // The reference sequence for seed 0 (Vigna's splitmix64.c).
  dkv::lazyfs::splitmix64 random(0);
  REQUIRE(random.next() == 0xe220a8397b1dcdafULL);
  REQUIRE(random.next() == 0x6e789e6aa1b965f4ULL);
  dkv::lazyfs::splitmix64 unit(5);
  for (int i = 0; i < 1000; ++i) {
    const double u = unit.unit();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}
