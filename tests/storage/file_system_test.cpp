// The file_system contract, checked on both implementations.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <set>

#include "tests/storage/file_systems.hpp"

using namespace dkv;
using storage::open_mode;

TEMPLATE_TEST_CASE("file_system contract", "[storage]", test::posix_files, test::simulated_files) {
  TestType made;
  storage::file_system& fs = made.files();
  std::unique_ptr<storage::file> f;

  SECTION("a missing file opens only with create") {
    REQUIRE_FALSE(fs.open("absent", open_mode::existing, f).ok());
    REQUIRE(fs.open("absent", open_mode::create, f).ok());
    REQUIRE(f->size() == 0);
  }

  SECTION("appends are read back, short at the end") {
    REQUIRE(fs.open("a", open_mode::create, f).ok());
    REQUIRE(f->append("hello ").ok());
    REQUIRE(f->append("world").ok());
    REQUIRE(f->sync().ok());
    REQUIRE(f->size() == 11);
    std::string out;
    REQUIRE(f->read(6, 100, out).ok());
    REQUIRE(out == "world");
    REQUIRE(f->read(50, 10, out).ok());
    REQUIRE(out.empty());
    std::string whole;
    REQUIRE(storage::read_file(fs, "a", whole).ok());
    REQUIRE(whole == "hello world");
  }

  SECTION("truncate cuts, appends continue at the new end") {
    REQUIRE(fs.open("t", open_mode::create, f).ok());
    REQUIRE(f->append("abcdef").ok());
    REQUIRE(f->truncate(2).ok());
    REQUIRE(f->append("Z").ok());
    std::string out;
    REQUIRE(storage::read_file(fs, "t", out).ok());
    REQUIRE(out == "abZ");
  }

  SECTION("rename replaces, remove deletes, list is sorted") {
    REQUIRE(fs.open("b", open_mode::create, f).ok());
    REQUIRE(f->append("new").ok());
    std::unique_ptr<storage::file> g;
    REQUIRE(fs.open("a", open_mode::create, g).ok());
    REQUIRE(g->append("old").ok());
    REQUIRE(fs.rename("b", "a").ok());
    std::string out;
    REQUIRE(storage::read_file(fs, "a", out).ok());
    REQUIRE(out == "new");
    REQUIRE(fs.open("c", open_mode::create, g).ok());
    std::vector<std::string> names;
    REQUIRE(fs.list(names).ok());
    REQUIRE(names == std::vector<std::string>{"a", "c"});
    REQUIRE(fs.remove("c").ok());
    REQUIRE_FALSE(fs.remove("c").ok());
    REQUIRE(fs.list(names).ok());
    REQUIRE(names == std::vector<std::string>{"a"});
    REQUIRE(fs.sync_directory().ok());
  }

  SECTION("a background sync reports its outcome once, and a sync of nothing is done too") {
    REQUIRE(fs.open("log", open_mode::create, f).ok());
    REQUIRE(f->append("record").ok());
    std::shared_ptr<storage::file> log = std::move(f);
    std::promise<error> synced, nothing;
    fs.sync_in_background({log}, [&](error outcome) { synced.set_value(outcome); });
    fs.sync_in_background({}, [&](error outcome) { nothing.set_value(outcome); });
    std::future<error> first = synced.get_future(), second = nothing.get_future();
    REQUIRE(first.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    REQUIRE(second.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(first.get().ok());
    CHECK(second.get().ok());
    REQUIRE(log->append("-more").ok());  // the file is still the caller's
    std::string out;
    REQUIRE(storage::read_file(fs, "log", out).ok());
    CHECK(out == "record-more");
  }

  SECTION("names must be flat") {
    for (const char* bad : {"", ".", "..", "x/y", "/etc/passwd"}) {
      const error e = fs.open(bad, open_mode::create, f);
      REQUIRE(e.code() == error_code::invalid_operation);
    }
    REQUIRE(fs.open("ok", open_mode::create, f).ok());
    REQUIRE(fs.rename("ok", "../escape").code() == error_code::invalid_operation);
  }
}

TEST_CASE("simulated disk: a crash keeps what was synced", "[storage][sim]") {
  sim::sim_disk disk{rng(7)};
  auto& fs = disk.files();
  std::unique_ptr<storage::file> f;
  REQUIRE(fs.open("kept", open_mode::create, f).ok());
  REQUIRE(f->append("synced").ok());
  REQUIRE(f->sync().ok());
  REQUIRE(fs.sync_directory().ok());
  REQUIRE(f->append("-unsynced").ok());
  std::unique_ptr<storage::file> lost;
  REQUIRE(fs.open("not-in-directory", open_mode::create, lost).ok());
  REQUIRE(lost->sync().ok());

  disk.crash();
  REQUIRE_FALSE(f->append("x").ok());  // handles die with the process
  std::vector<std::string> names;
  REQUIRE(fs.list(names).ok());
  REQUIRE(names == std::vector<std::string>{"kept"});
  std::string out;
  REQUIRE(storage::read_file(fs, "kept", out).ok());
  REQUIRE(out.starts_with("synced"));
  REQUIRE(std::string("synced-unsynced").starts_with(out));
}

TEST_CASE("simulated disk: a background sync happens when its latency has passed, not before", "[storage][sim]") {
  sim::sim_disk disk{rng(7), {.min_latency_ns = 1000, .max_latency_ns = 1000}};
  std::vector<std::pair<std::uint64_t, std::function<void()>>> due;
  disk.complete_syncs_with(
      [&](std::uint64_t delay_ns, std::function<void()> action) { due.emplace_back(delay_ns, std::move(action)); });
  auto& fs = disk.files();
  std::unique_ptr<storage::file> opened;
  REQUIRE(fs.open("log", open_mode::create, opened).ok());
  REQUIRE(fs.sync_directory().ok());
  std::shared_ptr<storage::file> log = std::move(opened);
  REQUIRE(log->append("first").ok());
  std::vector<error> outcomes;
  const auto report = [&](error outcome) { outcomes.push_back(outcome); };

  SECTION("completed: what was appended survives a crash") {
    fs.sync_in_background({log}, report);
    REQUIRE(due.size() == 1);
    CHECK(due[0].first == 1000);
    CHECK(outcomes.empty());
    due[0].second();
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].ok());
    disk.crash();
    std::string out;
    REQUIRE(storage::read_file(fs, "log", out).ok());
    CHECK(out == "first");
  }

  SECTION("a crash before it completes: the bytes were never synced, and the sync fails") {
    fs.sync_in_background({log}, report);
    disk.crash();
    due.at(0).second();
    REQUIRE(outcomes.size() == 1);
    CHECK_FALSE(outcomes[0].ok());
    CHECK(disk.stats().unsynced_files == 1);
  }
}

TEST_CASE("simulated disk: crashes tear unsynced tails at every boundary over seeds", "[storage][sim]") {
  std::set<std::size_t> lengths;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    sim::sim_disk disk{rng(seed)};
    std::unique_ptr<storage::file> f;
    REQUIRE(disk.files().open("f", open_mode::create, f).ok());
    REQUIRE(disk.files().sync_directory().ok());
    REQUIRE(f->append("0123").ok());
    REQUIRE(f->sync().ok());
    REQUIRE(f->append("456789").ok());
    disk.crash();
    std::string out;
    REQUIRE(storage::read_file(disk.files(), "f", out).ok());
    REQUIRE(std::string("0123456789").starts_with(out));
    REQUIRE(out.size() >= 4);
    lengths.insert(out.size());
  }
  REQUIRE(lengths.size() == 7);  // every boundary from 4 to 10 happened
}

TEST_CASE("simulated disk: a cut below the synced length is kept or undone by a crash", "[storage][sim]") {
  bool kept = false, undone = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sim::sim_disk disk{rng(seed)};
    std::unique_ptr<storage::file> f;
    REQUIRE(disk.files().open("f", open_mode::create, f).ok());
    REQUIRE(disk.files().sync_directory().ok());
    REQUIRE(f->append("abcdef").ok());
    REQUIRE(f->sync().ok());
    REQUIRE(f->truncate(2).ok());
    REQUIRE(f->append("Z").ok());
    REQUIRE(disk.damage("f", 4));  // the medium still holds "abcdef"
    disk.crash();
    std::string out;
    REQUIRE(storage::read_file(disk.files(), "f", out).ok());
    if (out == "abZ") {
      kept = true;
    } else {
      // The synced bytes, with the damage done to them.
      REQUIRE(out.size() == 6);
      REQUIRE(out.starts_with("abcd"));
      REQUIRE(out[4] != 'e');
      REQUIRE(out[5] == 'f');
      undone = true;
    }
  }
  REQUIRE(kept);
  REQUIRE(undone);
}

TEST_CASE("simulated disk: large files read back across chunk boundaries", "[storage][sim]") {
  sim::sim_disk disk{rng(5)};
  std::unique_ptr<storage::file> f;
  REQUIRE(disk.files().open("big", open_mode::create, f).ok());
  REQUIRE(disk.files().sync_directory().ok());
  std::string expected;
  for (std::size_t i = 0; expected.size() < 300'000; ++i) {
    const std::string piece(1 + i * 7919 % 20'000, static_cast<char>('a' + i % 26));
    REQUIRE(f->append(piece).ok());
    expected += piece;
  }
  REQUIRE(f->size() == expected.size());
  std::string out;
  for (std::uint64_t offset : {0UL, 65'535UL, 65'536UL, 100'000UL, 131'071UL}) {
    REQUIRE(f->read(offset, 70'000, out).ok());
    REQUIRE(out == expected.substr(offset, 70'000));
  }
  REQUIRE(f->sync().ok());
  REQUIRE(f->truncate(131'072).ok());
  REQUIRE(f->append("tail").ok());
  REQUIRE(storage::read_file(disk.files(), "big", out).ok());
  REQUIRE(out == expected.substr(0, 131'072) + "tail");
  REQUIRE(f->sync().ok());
  REQUIRE(f->append(std::string(70'000, '!')).ok());
  disk.crash();
  REQUIRE(storage::read_file(disk.files(), "big", out).ok());
  REQUIRE(out.starts_with(expected.substr(0, 131'072) + "tail"));
  REQUIRE(out.size() <= 131'076 + 70'000);
}

TEST_CASE("simulated disk: faults are injected and counted", "[storage][sim]") {
  sim::sim_disk disk{rng(3), {.sync_failure = 1.0, .read_corruption = 1.0}};
  std::unique_ptr<storage::file> f;
  REQUIRE(disk.files().open("f", open_mode::create, f).ok());
  REQUIRE(f->append("payload").ok());
  REQUIRE_FALSE(f->sync().ok());
  REQUIRE_FALSE(disk.files().sync_directory().ok());
  std::string out;
  REQUIRE(f->read(0, 7, out).ok());
  REQUIRE(out != "payload");
  REQUIRE(disk.stats().failed_syncs == 2);
  REQUIRE(disk.stats().corrupted_reads == 1);
  disk.crash();  // nothing was ever durable
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  REQUIRE(names.empty());
}

TEST_CASE("simulated disk: the same seed gives the same disk", "[storage][sim]") {
  auto run = [](std::uint64_t seed) {
    sim::sim_disk disk{rng(seed)};
    std::unique_ptr<storage::file> f;
    (void)disk.files().open("f", open_mode::create, f);
    (void)disk.files().sync_directory();
    std::string trace;
    for (int round = 0; round < 20; ++round) {
      (void)disk.files().open("f", open_mode::existing, f);
      (void)f->append(std::string(37, static_cast<char>('a' + round)));
      if (round % 3 == 0) (void)f->sync();
      if (round % 4 == 0) disk.crash();
      trace += std::to_string(disk.latency()) + ",";
    }
    std::string out;
    (void)storage::read_file(disk.files(), "f", out);
    return trace + out;
  };
  REQUIRE(run(11) == run(11));
  REQUIRE(run(11) != run(12));
}
