// sync_thread: the POSIX file system's background syncs run on a thread of
// their own, in the order asked, and each one's outcome reaches its caller.

#include "actors/storage/sync_thread.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

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

TEST_CASE("sync_thread syncs each file on its own thread and reports in the order asked") {
  sync_thread syncs;
  auto file = std::make_shared<counting_file>();
  std::mutex mutex;
  std::vector<int> reported;
  std::promise<std::thread::id> last;
  for (int i = 0; i < 3; ++i)
    syncs.start({file}, [&, i](error outcome) {
      CHECK(outcome.ok());
      std::lock_guard<std::mutex> guard(mutex);
      reported.push_back(i);
      if (i == 2) last.set_value(std::this_thread::get_id());
    });
  std::future<std::thread::id> done = last.get_future();
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  CHECK(done.get() != std::this_thread::get_id());
  CHECK(file->syncs == 3);
  std::lock_guard<std::mutex> guard(mutex);
  CHECK(reported == std::vector<int>{0, 1, 2});
}

TEST_CASE("sync_thread reports a failed sync, and a sync of nothing as done") {
  sync_thread syncs;
  std::promise<error> failed, nothing;
  syncs.start({std::make_shared<counting_file>(true)}, [&](error outcome) { failed.set_value(outcome); });
  syncs.start({}, [&](error outcome) { nothing.set_value(outcome); });
  std::future<error> first = failed.get_future(), second = nothing.get_future();
  REQUIRE(first.wait_for(10s) == std::future_status::ready);
  REQUIRE(second.wait_for(10s) == std::future_status::ready);
  CHECK(first.get().message().find("the disk is gone") != std::string::npos);
  CHECK(second.get().ok());
}

TEST_CASE("sync_thread finishes every sync asked for before it goes") {
  auto file = std::make_shared<counting_file>();
  std::atomic<int> reported{0};
  {
    sync_thread syncs;
    for (int i = 0; i < 5; ++i) syncs.start({file}, [&](error) { ++reported; });
  }  // joins
  CHECK(file->syncs == 5);
  CHECK(reported == 5);
}

}  // namespace
}  // namespace dkv::actors
