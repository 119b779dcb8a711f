// The WAL under crashes: a scripted sequence crashed at every write boundary
// (and again during recovery), and a RapidCheck property over random
// sequences of appends, syncs, rotations and crashes. The invariant: recovery
// returns a prefix of what was appended that holds every synced record, and
// never reports damage that was not done.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "store/storage/wal.hpp"
#include "tests/storage/crashing_file_system.hpp"

using namespace dkv;
using storage::wal;
using storage::wal_recovery;

namespace {

std::string payload_of(std::size_t i) { return "r" + std::to_string(i) + std::string(i % 11 * 9, '.'); }

const storage::wal_options small_segments{.segment_bytes = 300};

struct script_run {
  std::size_t appended = 0;  // appends that returned ok
  std::size_t synced = 0;    // records covered by a sync that returned ok
};

// 40 appends, a sync after every fourth, a manual rotation at 13; stops at the first failure.
script_run run_script(storage::file_system& fs) {
  script_run run;
  std::unique_ptr<wal> log;
  wal_recovery ignored;
  if (!wal::open(fs, small_segments, log, ignored).ok()) return run;
  for (std::size_t i = 0; i < 40; ++i) {
    if (!log->append(static_cast<std::uint8_t>(i % 3), payload_of(i)).ok()) return run;
    ++run.appended;
    if (i % 4 == 3) {
      if (!log->sync().ok()) return run;
      run.synced = run.appended;
    }
    std::uint64_t segment;
    if (i == 13 && !log->rotate(segment).ok()) return run;
  }
  return run;
}

void require_prefix(const wal_recovery& recovered, std::size_t at_least, std::size_t at_most) {
  INFO("recovered " << recovered.records.size() << ", synced " << at_least << ", appended " << at_most << ": "
                    << recovered.problem);
  REQUIRE_FALSE(recovered.damaged);
  REQUIRE(recovered.records.size() >= at_least);
  REQUIRE(recovered.records.size() <= at_most);
  for (std::size_t i = 0; i < recovered.records.size(); ++i) REQUIRE(recovered.records[i].payload == payload_of(i));
}

}  // namespace

TEST_CASE("wal: a crash at every write boundary loses no synced record", "[storage][wal][crash]") {
  std::size_t boundaries = 0;
  for (std::uint64_t budget = 0;; ++budget) {
    bool finished = false;
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
      sim::sim_disk disk{rng(budget * 3 + seed)};
      test::crashing_file_system crashing(disk, budget);
      const script_run run = run_script(crashing);
      finished = !crashing.crashed();
      if (finished) break;
      // Crash again inside recovery, at each of its first steps, then recover for good.
      for (std::uint64_t recovery_budget = 0; recovery_budget < 3; ++recovery_budget) {
        test::crashing_file_system during_recovery(disk, recovery_budget);
        std::unique_ptr<wal> log;
        wal_recovery partial;
        (void)wal::open(during_recovery, small_segments, log, partial);
      }
      std::unique_ptr<wal> log;
      wal_recovery recovered;
      REQUIRE(wal::open(disk.files(), small_segments, log, recovered).ok());
      require_prefix(recovered, run.synced, run.appended);
    }
    if (finished) break;
    ++boundaries;
  }
  REQUIRE(boundaries > 60);  // the script really has that many write boundaries
}

namespace {

enum class step_kind { append, sync, rotate, crash };

struct step {
  step_kind kind;
  std::size_t payload_bytes;
};

std::ostream& operator<<(std::ostream& os, const step& s) {
  static const char* names[] = {"append", "sync", "rotate", "crash"};
  return os << names[static_cast<int>(s.kind)]
            << (s.kind == step_kind::append ? "(" + std::to_string(s.payload_bytes) + ")" : "");
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<step> {
  static Gen<step> arbitrary() {
    return gen::apply(
        [](int kind, std::size_t bytes) {
          return step{static_cast<step_kind>(kind), bytes};
        },
        gen::weightedElement<int>({{10, 0}, {4, 1}, {1, 2}, {2, 3}}), gen::inRange<std::size_t>(0, 200));
  }
};
}  // namespace rc

TEST_CASE("wal: random appends, syncs, rotations and crashes", "[storage][wal][crash][property]") {
  rc::prop("recovery returns every synced record and only appended ones",
           [](const std::vector<step>& steps, std::uint64_t seed) {
             sim::sim_disk disk{rng(seed)};
             std::vector<std::string> appended;
             std::size_t synced = 0;
             std::unique_ptr<wal> log;
             wal_recovery recovered;
             RC_ASSERT(wal::open(disk.files(), small_segments, log, recovered).ok());
             for (const step& s : steps) {
               switch (s.kind) {
                 case step_kind::append:
                   appended.push_back(std::string(s.payload_bytes, static_cast<char>('a' + appended.size() % 26)));
                   RC_ASSERT(log->append(1, appended.back()).ok());
                   break;
                 case step_kind::sync:
                   RC_ASSERT(log->sync().ok());
                   synced = appended.size();
                   break;
                 case step_kind::rotate: {
                   std::uint64_t segment;
                   RC_ASSERT(log->rotate(segment).ok());
                   synced = appended.size();
                   break;
                 }
                 case step_kind::crash:
                   log.reset();
                   disk.crash();
                   RC_ASSERT(wal::open(disk.files(), small_segments, log, recovered).ok());
                   RC_ASSERT(!recovered.damaged);
                   RC_ASSERT(recovered.records.size() >= synced);
                   RC_ASSERT(recovered.records.size() <= appended.size());
                   for (std::size_t i = 0; i < recovered.records.size(); ++i)
                     RC_ASSERT(recovered.records[i].payload == appended[i]);
                   appended.resize(recovered.records.size());
                   synced = appended.size();  // what survived a crash is on the medium
                   break;
               }
             }
           });
}
