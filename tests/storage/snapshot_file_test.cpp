// Snapshot files: round trip, atomic replacement under a crash at every step,
// corruption detected and never returned.

#include <catch2/catch.hpp>

#include "store/storage/snapshot_file.hpp"
#include "tests/storage/crashing_file_system.hpp"
#include "tests/storage/file_systems.hpp"

using namespace dkv;

TEMPLATE_TEST_CASE("snapshot file round trip", "[storage][snapshot]", test::posix_files, test::simulated_files) {
  TestType made;
  const std::string payload = std::string("engine\0bytes", 12) + std::string(10'000, 's');
  REQUIRE(storage::write_snapshot_file(made.files(), "snap", payload).ok());
  std::string out;
  REQUIRE(storage::read_snapshot_file(made.files(), "snap", out).ok());
  REQUIRE(out == payload);
  REQUIRE(storage::write_snapshot_file(made.files(), "snap", "").ok());
  REQUIRE(storage::read_snapshot_file(made.files(), "snap", out).ok());
  REQUIRE(out.empty());
  REQUIRE_FALSE(storage::read_snapshot_file(made.files(), "missing", out).ok());
}

TEST_CASE("snapshot file: a crash at every step leaves the old or the new file, whole", "[storage][snapshot][crash]") {
  const std::string old_payload(3000, 'o'), new_payload(5000, 'n');
  std::size_t steps = 0;
  for (std::uint64_t budget = 0;; ++budget) {
    sim::sim_disk disk{rng(budget)};
    REQUIRE(storage::write_snapshot_file(disk.files(), "snap", old_payload).ok());
    test::crashing_file_system crashing(disk, budget);
    const bool done = storage::write_snapshot_file(crashing, "snap", new_payload).ok();
    if (!crashing.crashed()) disk.crash();  // the write finished: it must survive a crash
    std::string out;
    REQUIRE(storage::read_snapshot_file(disk.files(), "snap", out).ok());
    if (done)
      REQUIRE(out == new_payload);
    else
      REQUIRE((out == old_payload || out == new_payload));
    if (done) break;
    ++steps;
  }
  REQUIRE(steps >= 4);  // create+append, sync, rename, directory sync
}

TEST_CASE("snapshot file: corrupt or truncated files are refused with a clear error", "[storage][snapshot]") {
  sim::sim_disk disk{rng(2)};
  REQUIRE(storage::write_snapshot_file(disk.files(), "snap", std::string(100, 'p')).ok());
  std::string out = "untouched";
  SECTION("a flipped byte") {
    REQUIRE(disk.damage("snap", 50));
    const error e = storage::read_snapshot_file(disk.files(), "snap", out);
    REQUIRE(e.code() == error_code::internal_error);
    REQUIRE(e.message().find("checksum mismatch") != std::string::npos);
  }
  SECTION("cut short") {
    std::unique_ptr<storage::file> f;
    REQUIRE(disk.files().open("snap", storage::open_mode::existing, f).ok());
    REQUIRE(f->truncate(60).ok());
    const error e = storage::read_snapshot_file(disk.files(), "snap", out);
    REQUIRE(e.message().find("corrupt snapshot file snap") != std::string::npos);
  }
  SECTION("not a snapshot") {
    REQUIRE(storage::write_snapshot_file(disk.files(), "snap", "x").ok());
    std::unique_ptr<storage::file> f;
    REQUIRE(disk.files().open("other", storage::open_mode::create, f).ok());
    REQUIRE(f->append(std::string(64, 'z')).ok());
    REQUIRE(storage::read_snapshot_file(disk.files(), "other", out).message().find("bad magic") != std::string::npos);
  }
  REQUIRE(out == "untouched");
}
