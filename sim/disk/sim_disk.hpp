#pragma once
// The simulated disk of one node: an in-memory file_system that misbehaves on
// purpose, driven by a seeded rng so every run replays bit for bit.
//
//   - crash(): what was not synced is lost, kept, or torn at a random byte
//     boundary; directory changes (create, rename, remove) not followed by
//     sync_directory() are undone; handles opened before the crash fail.
//   - sync() fails with probability `sync_failure` (durability unknown).
//   - a read returns one flipped byte with probability `read_corruption`
//     (transient: the medium is intact, a re-read may succeed).
//   - damage() flips a byte of synced content (persistent), for the fault
//     generator that damages the storage of at most f nodes.
//   - a background sync (file_system::sync_in_background) completes after
//     latency() on the simulated clock, through the scheduler the simulated
//     cluster gives it (without one, at once): a crash may fall between its
//     issue and its end.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sim/simulator/instant_random.hpp"
#include "store/rng.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::sim {

struct disk_faults {
  double sync_failure = 0;
  double read_corruption = 0;
  std::uint64_t min_latency_ns = 50'000;
  std::uint64_t max_latency_ns = 2'000'000;
};

struct disk_stats {
  std::uint64_t appended_bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t failed_syncs = 0;
  std::uint64_t corrupted_reads = 0;
  std::uint64_t crashes = 0;
  std::uint64_t unsynced_files = 0;  // files holding unsynced bytes when a crash came
  std::uint64_t torn_files = 0;      // of those, the ones whose tail was cut at a random boundary
};

class sim_disk {
 public:
  explicit sim_disk(dkv::rng random, disk_faults faults = {});
  ~sim_disk();
  sim_disk(const sim_disk&) = delete;
  sim_disk& operator=(const sim_disk&) = delete;

  // The node's view of its files; the same object across crashes.
  storage::file_system& files() noexcept;

  void crash();
  // The disk is replaced: a crash, and every file is gone.
  void lose_everything();
  // After a crash: the newest (by name) file named `prefix`…`suffix` loses a
  // random part of its synced tail, from one byte to all of it, or, one time
  // in four, is gone. False if there is no such file.
  bool cut_newest(std::string_view prefix, std::string_view suffix);
  // Flips the byte at `offset` of a file's synced content; false if there is none.
  bool damage(const std::string& name, std::uint64_t offset);
  // Flips one random byte of one random file's synced content; false if all are empty.
  bool damage_random();

  // How long a disk operation takes: drawn between the faults' bounds.
  std::uint64_t latency();
  // Runs an action after a delay in simulated nanoseconds.
  using scheduler = std::function<void(std::uint64_t delay_ns, std::function<void()> action)>;
  void complete_syncs_with(scheduler later) { later_ = std::move(later); }
  // The simulated time, which keys the disk's random draws (instant_random:
  // a sync at the same instant fares the same in a run with fewer writes).
  // Without it every draw is at time 0: one stream, draw after draw.
  void use_clock(std::function<std::uint64_t()> now) { now_ = std::move(now); }
  void set_faults(const disk_faults& faults) noexcept { faults_ = faults; }
  const disk_stats& stats() const noexcept { return stats_; }

  struct inode;
  class sim_file;
  class sim_file_system;

 private:
  friend class sim_file;
  friend class sim_file_system;

  dkv::rng draw() { return random_.at(now_ ? now_() : 0); }

  instant_random random_;
  std::function<std::uint64_t()> now_;
  disk_faults faults_;
  disk_stats stats_;
  std::uint64_t generation_ = 0;                                 // bumped by crash(): older handles are dead
  std::map<std::string, std::shared_ptr<inode>> names_;          // as the running node sees them
  std::map<std::string, std::shared_ptr<inode>> durable_names_;  // as of the last sync_directory()
  std::unique_ptr<sim_file_system> view_;
  scheduler later_;
};

}  // namespace dkv::sim
