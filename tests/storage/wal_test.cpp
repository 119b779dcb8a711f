// The write-ahead log: round trips, rotation, torn tails, damage.

#include <catch2/catch.hpp>

#include <optional>

#include "sim/disk/sim_disk.hpp"
#include "store/bugs.hpp"
#include "store/storage/wal.hpp"
#include "tests/storage/file_systems.hpp"

using namespace dkv;
using storage::wal;
using storage::wal_recovery;

namespace {

std::string payload_of(int i) {
  return "record-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7) * 13, 'x');
}

std::unique_ptr<wal> open_log(storage::file_system& fs, wal_recovery& recovered, storage::wal_options options = {}) {
  std::unique_ptr<wal> log;
  const error e = wal::open(fs, options, log, recovered);
  INFO(e.to_string());
  REQUIRE(e.ok());
  return log;
}

void append_records(wal& log, int from, int to) {
  for (int i = from; i < to; ++i) REQUIRE(log.append(static_cast<std::uint8_t>(i % 5), payload_of(i)).ok());
}

void require_records(const wal_recovery& recovered, int count) {
  REQUIRE(recovered.records.size() == static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    REQUIRE(recovered.records[static_cast<std::size_t>(i)].type == i % 5);
    REQUIRE(recovered.records[static_cast<std::size_t>(i)].payload == payload_of(i));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("wal round trip and continuation", "[storage][wal]", test::posix_files, test::simulated_files) {
  TestType made;
  wal_recovery recovered;
  {
    auto log = open_log(made.files(), recovered);
    REQUIRE(recovered.records.empty());
    REQUIRE_FALSE(recovered.damaged);
    append_records(*log, 0, 50);
    REQUIRE(log->append(9, "").ok());  // empty payloads are records too
    REQUIRE(log->sync().ok());
  }
  {
    auto log = open_log(made.files(), recovered);
    REQUIRE(recovered.records.size() == 51);
    REQUIRE(recovered.records.back().payload.empty());
    REQUIRE(recovered.torn_bytes == 0);
    REQUIRE(log->append(1, "after reopen").ok());
    REQUIRE(log->sync().ok());
  }
  auto log = open_log(made.files(), recovered);
  REQUIRE(recovered.records.size() == 52);
  REQUIRE(recovered.records.back().payload == "after reopen");
}

TEMPLATE_TEST_CASE("wal rotates segments and drops old ones", "[storage][wal]", test::posix_files,
                   test::simulated_files) {
  TestType made;
  wal_recovery recovered;
  auto log = open_log(made.files(), recovered, {.segment_bytes = 256});
  append_records(*log, 0, 40);  // rotates on its own past 256 bytes
  REQUIRE(log->sync().ok());
  const std::uint64_t segments = log->current_segment();
  REQUIRE(segments > 3);
  std::uint64_t fresh = 0;
  REQUIRE(log->rotate(fresh).ok());
  REQUIRE(fresh == segments + 1);
  append_records(*log, 40, 45);
  REQUIRE(log->sync().ok());
  log.reset();

  log = open_log(made.files(), recovered, {.segment_bytes = 256});
  require_records(recovered, 45);
  REQUIRE(recovered.records.front().segment == 1);
  REQUIRE(recovered.records[40].segment == fresh);

  REQUIRE(log->remove_segments_before(fresh).ok());
  log.reset();
  log = open_log(made.files(), recovered, {.segment_bytes = 256});
  REQUIRE(recovered.records.size() == 5);
  REQUIRE(recovered.records.front().payload == payload_of(40));
}

TEST_CASE("wal: an unsynced tail is lost or torn, never reported as damage", "[storage][wal]") {
  std::uint64_t torn_runs = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    sim::sim_disk disk{rng(seed)};
    wal_recovery recovered;
    auto log = open_log(disk.files(), recovered);
    append_records(*log, 0, 10);
    REQUIRE(log->sync().ok());
    append_records(*log, 10, 20);
    disk.crash();
    log = open_log(disk.files(), recovered);
    REQUIRE_FALSE(recovered.damaged);
    REQUIRE(recovered.records.size() >= 10);
    require_records(recovered, static_cast<int>(recovered.records.size()));
    torn_runs += recovered.torn_bytes > 0;
    // Appends continue cleanly after the cut.
    const int kept = static_cast<int>(recovered.records.size());
    append_records(*log, kept, kept + 3);
    REQUIRE(log->sync().ok());
    disk.crash();
    log = open_log(disk.files(), recovered);
    require_records(recovered, kept + 3);
  }
  REQUIRE(torn_runs > 10);
}

TEST_CASE("wal: damaged synced records are detected, reported and remembered", "[storage][wal]") {
  sim::sim_disk disk{rng(5)};
  wal_recovery recovered;
  auto log = open_log(disk.files(), recovered);
  append_records(*log, 0, 10);
  REQUIRE(log->sync().ok());
  log.reset();

  // Somewhere inside record 4 (records 0..3 are 24-byte headers plus payloads).
  std::uint64_t offset = 0;
  for (int i = 0; i < 4; ++i) offset += wal::header_size + payload_of(i).size();
  SECTION("in a payload") { REQUIRE(disk.damage(wal::segment_name(1), offset + wal::header_size + 3)); }
  SECTION("in a header's size field") { REQUIRE(disk.damage(wal::segment_name(1), offset + 1)); }

  log = open_log(disk.files(), recovered);
  REQUIRE(recovered.damaged);
  REQUIRE(log->damaged());
  INFO(recovered.problem);
  REQUIRE(recovered.problem.find("checksum") != std::string::npos);
  require_records(recovered, 4);  // nothing from the damaged record on is applied

  // The marker survives restarts until the node is repaired.
  append_records(*log, 4, 6);
  REQUIRE(log->sync().ok());
  log = open_log(disk.files(), recovered);
  REQUIRE(recovered.damaged);
  require_records(recovered, 6);
  REQUIRE(log->clear_damage().ok());
  log = open_log(disk.files(), recovered);
  REQUIRE_FALSE(recovered.damaged);
}

TEST_CASE("wal: damage in an older segment cuts the later ones", "[storage][wal]") {
  sim::sim_disk disk{rng(9)};
  wal_recovery recovered;
  auto log = open_log(disk.files(), recovered, {.segment_bytes = 200});
  append_records(*log, 0, 30);
  REQUIRE(log->sync().ok());
  REQUIRE(log->current_segment() >= 3);
  log.reset();
  REQUIRE(disk.damage(wal::segment_name(2), 30));
  log = open_log(disk.files(), recovered, {.segment_bytes = 200});
  REQUIRE(recovered.damaged);
  REQUIRE(log->current_segment() == 2);
  REQUIRE(recovered.records.back().segment == 1);
  require_records(recovered, static_cast<int>(recovered.records.size()));
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  REQUIRE(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.ends_with(".log"); }) == 2);
}

TEST_CASE("wal: transient read corruption is re-read, not mistaken for damage", "[storage][wal]") {
  sim::sim_disk disk{rng(21)};
  wal_recovery recovered;
  auto log = open_log(disk.files(), recovered);
  append_records(*log, 0, 200);
  REQUIRE(log->sync().ok());
  log.reset();
  disk.set_faults({.read_corruption = 0.05});
  log = open_log(disk.files(), recovered);
  REQUIRE(disk.stats().corrupted_reads > 0);
  REQUIRE_FALSE(recovered.damaged);
  require_records(recovered, 200);
}

TEST_CASE("wal: an oversize record is refused and nothing is written", "[storage][wal]") {
  sim::sim_disk disk{rng(1)};
  wal_recovery recovered;
  const storage::wal_options options{.max_record_bytes = 100};
  auto log = open_log(disk.files(), recovered, options);
  const std::string huge(101, 'h');
  REQUIRE(log->append(1, huge).code() == error_code::invalid_operation);
  REQUIRE(log->append(1, "small").ok());
  REQUIRE(log->sync().ok());
  log = open_log(disk.files(), recovered, options);
  REQUIRE(recovered.records.size() == 1);
}

TEST_CASE("injected bug wal-accepts-torn: recovery keeps a torn or failing tail record", "[storage][wal][bugs]") {
  const bool bug = GENERATE(false, true);
  sim::sim_disk disk{rng(7)};
  wal_recovery recovered;
  auto log = open_log(disk.files(), recovered);
  append_records(*log, 0, 11);
  REQUIRE(log->sync().ok());
  log.reset();
  std::unique_ptr<storage::file> segment;
  REQUIRE(disk.files().open(wal::segment_name(1), storage::open_mode::existing, segment).ok());
  const std::uint64_t size = segment->size();
  const std::uint64_t last_start = size - wal::header_size - payload_of(10).size();

  std::optional<bugs::scoped_bugs> guard;
  if (bug) guard.emplace(bugs::bit(bugs::bug::wal_accepts_torn));
  SECTION("a payload cut short") {
    REQUIRE(segment->truncate(size - 5).ok());
    REQUIRE(segment->sync().ok());
    segment.reset();
    log = open_log(disk.files(), recovered);
    CHECK_FALSE(recovered.damaged);
    if (bug) {
      REQUIRE(recovered.records.size() == 11);
      CHECK(recovered.records.back().payload == payload_of(10).substr(0, payload_of(10).size() - 5));
      CHECK(recovered.torn_bytes == 0);
    } else {
      require_records(recovered, 10);
      CHECK(recovered.torn_bytes == size - 5 - last_start);
    }
  }
  SECTION("a payload failing its checksum") {
    segment.reset();
    REQUIRE(disk.damage(wal::segment_name(1), size - 2));
    log = open_log(disk.files(), recovered);
    CHECK(recovered.damaged == !bug);
    if (bug) {
      REQUIRE(recovered.records.size() == 11);
      CHECK(recovered.records.back().payload.size() == payload_of(10).size());
      CHECK(recovered.records.back().payload != payload_of(10));
    } else {
      require_records(recovered, 10);
    }
  }
  SECTION("a header cut short") {
    REQUIRE(segment->truncate(last_start + 10).ok());
    REQUIRE(segment->sync().ok());
    segment.reset();
    log = open_log(disk.files(), recovered);
    CHECK_FALSE(recovered.damaged);
    require_records(recovered, 10);
    CHECK(recovered.torn_bytes == (bug ? 0 : 10));  // the bug leaves the torn bytes in place
  }
  if (recovered.damaged) return;
  // What the bug left in the file turns the next appends into damage for the next recovery.
  append_records(*log, 20, 22);
  REQUIRE(log->sync().ok());
  log.reset();
  guard.reset();
  log = open_log(disk.files(), recovered);
  CHECK(recovered.damaged == bug);
  if (!bug) CHECK(recovered.records.size() == 12);
}
