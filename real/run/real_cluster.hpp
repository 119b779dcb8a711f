#pragma once
// A scenario's cluster as `dkv serve` processes on loopback, and the faults
// of sim/faults made by real mechanisms: a crash is SIGKILL, a restart
// starts the process again on its data directory, a pause is SIGSTOP,
// partitions cut the links of the fault proxy that every peer link goes
// through (each process dials its peers at the proxy: `--peer-via`), disk
// damage flips a byte of a file on disk, a lost disk is an emptied data
// directory, a cut log a truncated WAL segment, a node alone a process
// started with a member list of only itself.
//
// With `lazyfs` (dkv-lazyfs, real/lazyfs) each node's data directory sits
// on a lazy file system of its own, and a crash is a power loss: what the
// process wrote and did not fsync is lost (a random prefix of it kept, the
// simulator's torn tail). Without it a crash is a kill -9 that the page
// cache survives.
//
// A clock jump rewrites the node's --clock-file and sends it SIGUSR1.
//
// Faults the real world cannot make here (membership changes) are not
// dropped silently: each is counted in not_made().

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "real/process/child_process.hpp"
#include "sim/faults/fault.hpp"
#include "sim/network/link_faults.hpp"
#include "store/rng.hpp"

namespace dkv::real {

using sim::node_id;

class link_proxy;

struct real_cluster_options {
  std::string dkv_binary;     // the dkv that serves
  std::filesystem::path dir;  // node-N/ data directories and node-N.log logs
  std::size_t nodes = 3;
  std::uint64_t shard = 200;  // the one dstore shard
  // Raft timings as dkv serve takes them: a tick, and the election and heartbeat in ticks.
  std::uint64_t tick_ms = 10;
  std::uint32_t election_ticks = 10;
  std::uint32_t heartbeat_ticks = 1;
  std::uint64_t snapshot_entries = 100'000;
  std::vector<std::string> bugs;  // injected bugs, by name (dkv serve --bug)
  sim::link_faults links;         // the proxy's latency, drops and duplicates
  std::uint64_t seed = 1;         // the proxy's and the disk faults' draws
  std::string lazyfs;             // the dkv-lazyfs to mount under each node (empty: none, crashes keep the page cache)
};

class real_cluster final : public sim::fault_target {
 public:
  explicit real_cluster(real_cluster_options options);
  ~real_cluster() override;  // stop_all()
  real_cluster(const real_cluster&) = delete;
  real_cluster& operator=(const real_cluster&) = delete;

  std::vector<node_id> node_ids() const;
  void start_all();
  // Every process stopped: SIGTERM with a bound, then SIGKILL. Idempotent.
  void stop_all();

  std::string client_endpoint(node_id id) const;  // "127.0.0.1:PORT"
  std::vector<std::string> client_endpoints() const;
  std::string log_path(node_id id) const;
  std::filesystem::path data_dir(node_id id) const;  // where the process keeps its data (on the mount, if lazy)
  bool lazy() const noexcept { return !options_.lazyfs.empty(); }
  bool up(node_id id) const;  // started, not crashed (a paused one is up)
  bool paused(node_id id) const;
  // A node found to have exited by itself (a fatal error) is marked down.
  void reap();

  // After a fault changed cuts(): the proxy's links follow them.
  void sync_links();
  // The proxy's latency, drops and duplicates (the network's link faults).
  void set_link_faults(const sim::link_faults& faults);
  // Faults asked for that real processes could not be given, by kind.
  const std::map<std::string, std::size_t>& not_made() const noexcept { return not_made_; }
  bool misconfigured(node_id id) const { return alone_.count(id) != 0; }
  void restore_members(node_id id) { alone_.erase(id); }

  // sim::fault_target
  sim::partition& cuts() override { return cuts_; }
  void crash(node_id id) override;
  void restart(node_id id) override;
  void pause(node_id id) override;
  void resume(node_id id) override;
  void set_clock(node_id id, const sim::node_clock& clock) override;
  void damage_disk(node_id id) override;
  void lose_disk(node_id id) override;
  void cut_log(node_id id) override;
  void misconfigure(node_id id) override;
  void change_membership(sim::fault_kind change, node_id id) override;

 private:
  struct node {
    std::uint16_t peer_port = 0;
    std::uint16_t client_port = 0;
    std::map<node_id, std::uint16_t> via;  // the proxy's port for this node's link to each other node
    child_process process;
    child_process lazyfs;  // the node's lazy file system, when there is one
    bool paused = false;
  };
  node& at(node_id id) { return *nodes_.at(id - 1); }
  const node& at(node_id id) const { return *nodes_.at(id - 1); }
  std::vector<std::string> serve_args(node_id id) const;
  std::string members() const;
  std::filesystem::path clock_file(node_id id) const;  // dkv serve --clock-file: "SKEW_NS DRIFT_PPM"
  // Where a node's bytes are at rest: the lazy file system's backing directory, or the data directory.
  std::filesystem::path disk_dir(node_id id) const;
  void mount(node_id id);
  void unmount_all();  // every node's lazy file system, cleanly (else by fusermount3 -u -z)
  // Tells the node's lazy file system that power was lost (the process is down).
  void lose_power(node_id id);
  // The WAL segments of a node's data directory, oldest first.
  std::vector<std::filesystem::path> wal_segments(node_id id) const;

  real_cluster_options options_;
  std::vector<std::unique_ptr<node>> nodes_;
  std::unique_ptr<link_proxy> proxy_;
  sim::partition cuts_;
  std::set<node_id> alone_;  // started with only themselves as members, until restored
  std::map<std::string, std::size_t> not_made_;
  dkv::rng random_;
};

}  // namespace dkv::real
