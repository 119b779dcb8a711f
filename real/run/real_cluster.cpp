#include "real/run/real_cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "real/process/loopback_ports.hpp"
#include "real/proxy/link_proxy.hpp"

namespace dkv::real {

namespace fs = std::filesystem;

namespace {

std::string name_of(node_id id) { return "node-" + std::to_string(id); }
std::string loopback(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

real_cluster::real_cluster(real_cluster_options options)
    : options_(std::move(options)), proxy_(std::make_unique<link_proxy>(options_.seed)), random_(options_.seed) {
  const std::size_t n = options_.nodes;
  const std::vector<std::uint16_t> ports = free_ports(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    auto made = std::make_unique<node>();
    made->peer_port = ports[i];
    made->client_port = ports[n + i];
    nodes_.push_back(std::move(made));
  }
  for (node_id from : node_ids())
    for (node_id to : node_ids())
      if (from != to) at(from).via[to] = proxy_->add_link(from, to, at(to).peer_port);
  set_link_faults(options_.links);
  fs::create_directories(options_.dir);
  if (lazy()) try {
      for (node_id id : node_ids()) mount(id);
    } catch (const std::runtime_error& e) {
      // No lazy disks then: said in the report, not fatal (a machine without FUSE rights).
      unmount_all();
      options_.lazyfs.clear();
      ++not_made_["power loss at a crash (" + std::string(e.what()) + ")"];
    }
}

fs::path real_cluster::disk_dir(node_id id) const {
  return lazy() ? options_.dir / (name_of(id) + ".disk") / "data" : data_dir(id);
}

// The mount is node-N.mnt over node-N.disk; the data directory is a folder on it.
void real_cluster::mount(node_id id) {
  const fs::path backing = options_.dir / (name_of(id) + ".disk");
  const fs::path mountpoint = options_.dir / (name_of(id) + ".mnt");
  fs::create_directories(backing / "data");
  fs::create_directories(mountpoint);
  at(id).lazyfs.start(options_.lazyfs, {backing.string(), mountpoint.string(), "--foreground"},
                      (options_.dir / (name_of(id) + ".lazyfs.log")).string());
  // Mounted once its control file answers (bounded; a failure shows when dkv serve cannot use the directory).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until && at(id).lazyfs.running()) {
    if (std::ifstream(mountpoint / ".lazyfs")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a mount: no event to wait on
  }
  throw std::runtime_error("dkv-lazyfs did not mount " + mountpoint.string() + " (see " + name_of(id) + ".lazyfs.log)");
}

void real_cluster::lose_power(node_id id) {
  if (!lazy()) return;
  std::ofstream control(options_.dir / (name_of(id) + ".mnt") / ".lazyfs");
  control << "lose-unsynced keep-prefix " << random_.next() << "\n" << std::flush;
}

real_cluster::~real_cluster() { stop_all(); }

std::vector<node_id> real_cluster::node_ids() const {
  std::vector<node_id> ids;
  for (node_id id = 1; id <= nodes_.size(); ++id) ids.push_back(id);
  return ids;
}

std::string real_cluster::members() const {
  std::string list;
  for (node_id id : node_ids()) list += (list.empty() ? "" : ",") + name_of(id) + "=" + loopback(at(id).peer_port);
  return list;
}

std::vector<std::string> real_cluster::serve_args(node_id id) const {
  const node& n = at(id);
  const bool alone = alone_.count(id) != 0;
  std::string via;
  for (const auto& [to, port] : n.via) via += (via.empty() ? "" : ",") + name_of(to) + "=" + loopback(port);
  std::vector<std::string> args{"serve",
                                "--shards",
                                std::to_string(options_.shard) + "=dstore",
                                "--replica-id",
                                name_of(id),
                                "--cluster-members",
                                alone ? name_of(id) + "=" + loopback(n.peer_port) : members(),
                                "--data-dir",
                                data_dir(id).string(),
                                "--transport-endpoint",
                                client_endpoint(id),
                                "--rtt-millisecond",
                                std::to_string(options_.tick_ms),
                                "--election-rtt-factor",
                                std::to_string(options_.election_ticks),
                                "--heartbeat-rtt-factor",
                                std::to_string(options_.heartbeat_ticks),
                                "--snapshot-entries",
                                std::to_string(options_.snapshot_entries),
                                "--clock-file",
                                clock_file(id).string(),
                                "--log-level",
                                "info"};
  if (!alone) args.insert(args.end(), {"--peer-via", via});
  for (const std::string& bug : options_.bugs) args.insert(args.end(), {"--bug", bug});
  return args;
}

void real_cluster::start_all() {
  for (node_id id : node_ids()) restart(id);
}

void real_cluster::stop_all() {
  for (node_id id : node_ids()) at(id).process.stop(SIGTERM, std::chrono::seconds(5));
  unmount_all();
  if (proxy_) proxy_->stop();
}

void real_cluster::unmount_all() {
  // SIGTERM unmounts cleanly; a lazy file system that does not end in time is killed and its mount cleared.
  for (node_id id : node_ids()) {
    node& n = at(id);
    if (!n.lazyfs.running()) continue;
    if (!n.lazyfs.stop(SIGTERM, std::chrono::seconds(5))) {
      const std::string mount = (options_.dir / (name_of(id) + ".mnt")).string();
      child_process unmount;
      unmount.start("/bin/fusermount3", {"-u", "-z", mount}, (options_.dir / "unmount.log").string());
      unmount.wait(std::chrono::seconds(5));
    }
  }
}

std::string real_cluster::client_endpoint(node_id id) const { return loopback(at(id).client_port); }

std::vector<std::string> real_cluster::client_endpoints() const {
  std::vector<std::string> all;
  for (node_id id : node_ids()) all.push_back(client_endpoint(id));
  return all;
}

fs::path real_cluster::clock_file(node_id id) const { return options_.dir / (name_of(id) + ".clock"); }
std::string real_cluster::log_path(node_id id) const { return (options_.dir / (name_of(id) + ".log")).string(); }
fs::path real_cluster::data_dir(node_id id) const {
  return lazy() ? options_.dir / (name_of(id) + ".mnt") / "data" : options_.dir / name_of(id);
}
bool real_cluster::up(node_id id) const { return at(id).process.running(); }
bool real_cluster::paused(node_id id) const { return up(id) && at(id).paused; }

void real_cluster::reap() {
  for (node_id id : node_ids()) at(id).process.ended();
}

void real_cluster::sync_links() {
  for (node_id from : node_ids())
    for (node_id to : node_ids())
      if (from != to) proxy_->set_cut(from, to, cuts_.blocked(from, to));
}

void real_cluster::set_link_faults(const sim::link_faults& f) {
  proxy_->set_faults({.min_latency_ns = f.min_latency_ns,
                      .max_latency_ns = f.max_latency_ns,
                      .drop = f.drop,
                      .duplicate = f.duplicate});
}

void real_cluster::crash(node_id id) {
  if (!at(id).process.running()) return;
  at(id).process.kill_now();
  at(id).paused = false;
  lose_power(id);
}

void real_cluster::restart(node_id id) {
  node& n = at(id);
  if (n.process.running()) return;
  n.paused = false;
  n.process.start(options_.dkv_binary, serve_args(id), log_path(id));
}

void real_cluster::pause(node_id id) {
  if (!up(id)) return;
  at(id).process.pause();
  at(id).paused = true;
}

void real_cluster::resume(node_id id) {
  if (!up(id)) return;
  at(id).process.resume();
  at(id).paused = false;
}

// The node's clock file, then SIGUSR1: dkv serve re-reads it (a restarted process reads it at start).
void real_cluster::set_clock(node_id id, const sim::node_clock& clock) {
  std::ofstream(clock_file(id)) << clock.skew_ns << " " << clock.drift_ppm << "\n" << std::flush;
  at(id).process.send_signal(SIGUSR1);
}

void real_cluster::change_membership(sim::fault_kind change, node_id) {
  ++not_made_[std::string(sim::kind_name(change))];
}

std::vector<fs::path> real_cluster::wal_segments(node_id id) const {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(disk_dir(id), ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && name.starts_with("wal-") && name.ends_with(".log")) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// A byte of a synced file flips, as bit rot would: a byte in the middle of
// a WAL segment, while the process runs (it finds out when it next reads).
void real_cluster::damage_disk(node_id id) {
  const std::vector<fs::path> segments = wal_segments(id);
  if (segments.empty()) return;
  const fs::path& victim = segments[random_.below(segments.size())];
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(victim, ec);
  if (ec || size == 0) return;
  std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
  const auto offset = static_cast<std::streamoff>(random_.below(size));
  f.seekg(offset);
  const char byte = static_cast<char>(f.get());
  f.seekp(offset);
  f.put(static_cast<char>(byte ^ 0x5a));
}

void real_cluster::lose_disk(node_id id) {
  crash(id);
  std::error_code ignored;
  fs::remove_all(data_dir(id), ignored);  // through the mount, if lazy: its file system knows
}

// The newest segment cut to a random length short of its end, or removed.
void real_cluster::cut_log(node_id id) {
  crash(id);
  const std::vector<fs::path> segments = wal_segments(id);
  if (segments.empty()) return;
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(segments.back(), ec);
  if (ec || size == 0 || random_.chance(0.25)) {
    fs::remove(segments.back(), ec);
    return;
  }
  fs::resize_file(segments.back(), random_.below(size), ec);
}

void real_cluster::misconfigure(node_id id) {
  lose_disk(id);
  alone_.insert(id);
}

}  // namespace dkv::real
