#pragma once
// What this node has promised, kept apart from the log so that losing the
// log cannot take it along: the highest log index that was both committed
// and durable here, and the WAL segments that held the log then.
//
// A crash cuts only bytes that were never synced, and a record claims only
// what an earlier sync made durable (a committed entry is never truncated,
// by Raft, so the claim stands whatever a new leader does). So a log that
// recovers shorter than the claim, or a claimed segment that is gone, is
// data lost after it was promised — a truncated, deleted or replaced WAL —
// and never a crash. Records are appended lazily (every few syncs, at each
// snapshot, when a loss is accepted), so what the last few syncs made
// durable is not told from a crash: the promise lags, it never lies.
//
// Record (fixed size, appended): "DKVP" | u64 index | u64 first segment |
// u64 last segment | u64 XXH3-64 of the 28 bytes before. A torn or damaged
// record is not believed; the latest one that checks out counts.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/error.hpp"
#include "store/raft/types.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::raft {

struct promise {
  index_t index = 0;                // committed and durable here
  std::uint64_t first_segment = 0;  // the WAL's oldest live segment then
  std::uint64_t last_segment = 0;   // the segment the log was written to then
  bool operator==(const promise&) const = default;
};

class promise_file {
 public:
  static constexpr const char* name = "raft-promise";
  static constexpr std::size_t record_bytes = 4 + 8 + 8 + 8 + 8;
  // Past this size the file is rewritten with its latest record on open.
  static constexpr std::uint64_t rewrite_bytes = 64 << 10;

  // Opens the file (creating it) and reads the latest promise in it.
  static error open(dkv::storage::file_system& fs, std::unique_ptr<promise_file>& out);

  const promise& latest() const noexcept { return latest_; }
  // Appends `p`, durable once file() is synced. Claims never go back.
  error append(const promise& p);
  // Starts the file again from `p` alone (synced when it returns): after an
  // operator accepted that promised entries are lost, the smaller claim.
  error reset(dkv::storage::file_system& fs, const promise& p);
  std::shared_ptr<dkv::storage::file> file() const noexcept { return file_; }

 private:
  promise_file(std::shared_ptr<dkv::storage::file> f, promise latest) : file_(std::move(f)), latest_(latest) {}
  std::shared_ptr<dkv::storage::file> file_;
  promise latest_;
};

// What a recovered log breaks of promise `p`, for the operator: empty when
// it keeps it. `log_end`: the highest index the log (or its snapshot) holds;
// `segments`: the WAL's segments found, ascending.
std::string broken_promise(const promise& p, index_t log_end, const std::vector<std::uint64_t>& segments);

}  // namespace dkv::raft
