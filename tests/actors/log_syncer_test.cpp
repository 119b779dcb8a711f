// log_syncer: the sync runs on its own thread and its outcome reaches the
// node as log_synced, for the ready it was started for.

#include "actors/raft/log_syncer.hpp"

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <atomic>
#include <chrono>
#include <optional>

#include "actors/messages.hpp"

namespace dkv::actors {
namespace {

using namespace std::chrono_literals;

// A log file whose sync only counts, or fails.
class counting_file final : public storage::file {
 public:
  explicit counting_file(bool fails = false) : fails_(fails) {}
  error append(std::string_view) override { return {}; }
  error sync() override {
    ++syncs;
    return fails_ ? error(error_code::internal_error, "the disk is gone") : error{};
  }
  error read(std::uint64_t, std::size_t, std::string&) override { return {}; }
  std::uint64_t size() const override { return 0; }
  error truncate(std::uint64_t) override { return {}; }
  std::atomic<int> syncs{0};

 private:
  bool fails_;
};

struct system_for_test {
  system_for_test() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    register_message_types(cfg);
    system.emplace(cfg);
  }
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> system;
};

std::optional<log_synced> next_synced(caf::scoped_actor& self) {
  std::optional<log_synced> got;
  self->receive([&](log_synced& m) { got = std::move(m); }, caf::after(std::chrono::seconds(10)) >> [] {});
  return got;
}

TEST_CASE("log_syncer syncs the file it is given and names the ready it was for") {
  system_for_test sys;
  caf::scoped_actor self{*sys.system};
  auto file = std::make_shared<counting_file>();
  log_syncer syncer(self->address());
  for (std::uint64_t sequence : {3u, 4u, 9u}) {
    syncer.start(file, sequence);
    const std::optional<log_synced> done = next_synced(self);
    REQUIRE(done);
    CHECK(done->sequence == sequence);
    CHECK(done->failure.empty());
  }
  CHECK(file->syncs == 3);
}

TEST_CASE("log_syncer reports a failed sync, and a ready with nothing to sync at once") {
  system_for_test sys;
  caf::scoped_actor self{*sys.system};
  log_syncer syncer(self->address());
  syncer.start(std::make_shared<counting_file>(true), 5);
  std::optional<log_synced> done = next_synced(self);
  REQUIRE(done);
  CHECK(done->sequence == 5);
  CHECK(done->failure.find("the disk is gone") != std::string::npos);

  syncer.start(nullptr, 6);  // the storage needs no sync (an injected bug skips them)
  done = next_synced(self);
  REQUIRE(done);
  CHECK(done->sequence == 6);
  CHECK(done->failure.empty());
}

TEST_CASE("log_syncer finishes a sync under way when it goes, even with its owner gone") {
  system_for_test sys;
  auto file = std::make_shared<counting_file>();
  {
    caf::actor_addr gone;
    {
      caf::scoped_actor owner{*sys.system};
      gone = owner->address();
    }
    log_syncer syncer(gone);
    syncer.start(file, 1);
  }  // joins: the sync ran, its news went nowhere
  CHECK(file->syncs == 1);
}

}  // namespace
}  // namespace dkv::actors
