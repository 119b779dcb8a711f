#pragma once
// The file interface the durable state is written through. Two
// implementations pass the same tests: POSIX (actors/storage) for real runs
// and the simulated disk (sim/disk) that loses, tears and corrupts on purpose.
// The WAL and snapshot files are written against this interface only, so the
// simulator exercises the real durability code.
//
// A file_system is one node's directory of flat names. Durability follows
// POSIX at its strictest: appended bytes survive a crash only once sync()
// returned ok, and creating, renaming or removing a name only once
// sync_directory() returned ok.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/error.hpp"

namespace dkv::storage {

class file {
 public:
  virtual ~file() = default;
  virtual error append(std::string_view bytes) = 0;
  // Makes every byte appended so far durable. A failure leaves durability
  // unknown: the caller must stop using the storage (no retry; see fsyncgate).
  virtual error sync() = 0;
  // Reads up to `length` bytes at `offset` into `out` (shorter at the end).
  virtual error read(std::uint64_t offset, std::size_t length, std::string& out) = 0;
  virtual std::uint64_t size() const = 0;
  // Cuts the file to `size` bytes (recovery drops a torn tail this way).
  virtual error truncate(std::uint64_t size) = 0;
};

enum class open_mode { create, existing };

class file_system {
 public:
  virtual ~file_system() = default;
  // Opens `name` for reading and appending; `create` makes it empty if
  // missing, `existing` fails then.
  virtual error open(const std::string& name, open_mode mode, std::unique_ptr<file>& out) = 0;
  // Every name, sorted.
  virtual error list(std::vector<std::string>& names) = 0;
  // Atomically replaces `to` (if any) by `from`.
  virtual error rename(const std::string& from, const std::string& to) = 0;
  virtual error remove(const std::string& name) = 0;
  virtual error sync_directory() = 0;
  // Syncs `files` while their owner goes on appending to them, and calls
  // `done` with the outcome (the first failure) once every byte appended
  // before the call is durable; with no files, done is called all the same.
  // POSIX syncs on a thread of the file system's own and calls `done` there;
  // the simulated disk completes the syncs after a seeded latency on the
  // simulated clock, so that a crash can fall between their issue and their
  // end. This base syncs at once and calls `done` before it returns.
  using sync_done = std::function<void(error)>;
  using shared_files = std::vector<std::shared_ptr<file>>;
  virtual void sync_in_background(shared_files files, sync_done done);
};

// Syncs each of `files` in turn; the first failure.
error sync_all(const file_system::shared_files& files);

// Reads a whole file into `out`.
error read_file(file_system& fs, const std::string& name, std::string& out);
// Reads `length` bytes at `offset`, re-reading while `check` rejects them
// (reads may fail transiently), at most three times; `valid` says whether an
// attempt passed.
template <typename Check>
error read_verified(file& f, std::uint64_t offset, std::size_t length, std::string& out, bool& valid, Check check) {
  valid = false;
  for (int attempt = 0; attempt < 3 && !valid; ++attempt) {
    if (error e = f.read(offset, length, out); !e.ok()) return e;
    valid = out.size() == length && check(out);
  }
  return {};
}

// Replaces `name` with `bytes` so that a crash leaves the old file or the new
// one, whole: writes "<name>.tmp", syncs it, renames it over `name`, syncs the
// directory. `written`, if given, gets the new file, open for appending.
error replace_file(file_system& fs, const std::string& name, std::string_view bytes,
                   std::unique_ptr<file>* written = nullptr);

// Names are flat: no separators, no "." or "..", not empty.
bool valid_file_name(std::string_view name) noexcept;

}  // namespace dkv::storage
