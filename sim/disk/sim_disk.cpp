#include "sim/disk/sim_disk.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "sim/disk/chunked_bytes.hpp"

namespace dkv::sim {

using storage::file;
using storage::open_mode;

struct sim_disk::inode {
  chunked_bytes data;      // what reads see
  std::size_t synced = 0;  // data's first `synced` bytes are on the medium, as of the last successful sync
  // Only after a truncate below `synced` and before the next sync does the
  // medium hold other bytes than a prefix of `data`: then they are kept here.
  std::optional<std::string> synced_before_cut;

  std::size_t durable_size() const { return synced_before_cut ? synced_before_cut->size() : synced; }
};

namespace {

error stale_handle() { return internal_error("simulated disk: file handle used after a crash"); }

}  // namespace

class sim_disk::sim_file final : public file {
 public:
  sim_file(sim_disk& disk, std::shared_ptr<inode> node)
      : disk_(disk), node_(std::move(node)), generation_(disk.generation_) {}

  error append(std::string_view bytes) override {
    if (stale()) return stale_handle();
    node_->data.append(bytes);
    disk_.stats_.appended_bytes += bytes.size();
    return {};
  }

  error sync() override {
    if (stale()) return stale_handle();
    ++disk_.stats_.syncs;
    if (disk_.draw().chance(disk_.faults_.sync_failure)) {
      ++disk_.stats_.failed_syncs;
      return internal_error("simulated disk: fsync failed");
    }
    node_->synced = node_->data.size();
    node_->synced_before_cut.reset();
    return {};
  }

  error read(std::uint64_t offset, std::size_t length, std::string& out) override {
    if (stale()) return stale_handle();
    out.clear();
    node_->data.read(offset, length, out);
    dkv::rng random = disk_.draw();
    if (!out.empty() && random.chance(disk_.faults_.read_corruption)) {
      ++disk_.stats_.corrupted_reads;
      out[random.below(out.size())] ^= static_cast<char>(1 + random.below(255));
    }
    return {};
  }

  std::uint64_t size() const override { return stale() ? 0 : node_->data.size(); }

  error truncate(std::uint64_t size) override {
    if (stale()) return stale_handle();
    if (size < node_->synced && !node_->synced_before_cut)
      node_->synced_before_cut = node_->data.copy_prefix(node_->synced);
    node_->data.truncate(size);
    return {};
  }

 private:
  bool stale() const noexcept { return generation_ != disk_.generation_; }

  sim_disk& disk_;
  std::shared_ptr<inode> node_;
  std::uint64_t generation_;
};

class sim_disk::sim_file_system final : public storage::file_system {
 public:
  explicit sim_file_system(sim_disk& disk) : disk_(disk) {}

  error open(const std::string& name, open_mode mode, std::unique_ptr<file>& out) override {
    if (!storage::valid_file_name(name)) return invalid_operation("invalid file name '" + name + "'");
    auto it = disk_.names_.find(name);
    if (it == disk_.names_.end()) {
      if (mode == open_mode::existing) return internal_error("no such file: " + name);
      it = disk_.names_.emplace(name, std::make_shared<inode>()).first;
    }
    out = std::make_unique<sim_file>(disk_, it->second);
    return {};
  }

  error list(std::vector<std::string>& names) override {
    names.clear();
    for (const auto& [name, node] : disk_.names_) names.push_back(name);  // std::map: sorted
    return {};
  }

  error rename(const std::string& from, const std::string& to) override {
    if (!storage::valid_file_name(to)) return invalid_operation("invalid file name '" + to + "'");
    auto it = disk_.names_.find(from);
    if (it == disk_.names_.end()) return internal_error("no such file: " + from);
    std::shared_ptr<inode> node = it->second;
    disk_.names_.erase(it);
    disk_.names_[to] = std::move(node);
    return {};
  }

  error remove(const std::string& name) override {
    if (disk_.names_.erase(name) == 0) return internal_error("no such file: " + name);
    return {};
  }

  error sync_directory() override {
    ++disk_.stats_.syncs;
    if (disk_.draw().chance(disk_.faults_.sync_failure)) {
      ++disk_.stats_.failed_syncs;
      return internal_error("simulated disk: directory fsync failed");
    }
    disk_.durable_names_ = disk_.names_;
    return {};
  }

  void sync_in_background(shared_files files, sync_done done) override {
    if (!disk_.later_) return file_system::sync_in_background(std::move(files), std::move(done));
    // The syncs themselves happen when they complete: until then the bytes
    // are unsynced, and a crash treats them so (a handle from before a
    // crash fails its sync).
    disk_.later_(disk_.latency(),
                 [files = std::move(files), done = std::move(done)] { done(storage::sync_all(files)); });
  }

 private:
  sim_disk& disk_;
};

sim_disk::sim_disk(dkv::rng random, disk_faults faults)
    : random_(random.next()), faults_(faults), view_(std::make_unique<sim_file_system>(*this)) {}

sim_disk::~sim_disk() = default;

storage::file_system& sim_disk::files() noexcept { return *view_; }

void sim_disk::crash() {
  ++stats_.crashes;
  ++generation_;
  names_ = durable_names_;
  // Each surviving file keeps its synced bytes and, of what was written
  // since, nothing, everything, or a prefix cut at a random byte.
  dkv::rng random = draw();
  std::vector<inode*> seen;
  for (auto& [name, node] : names_) {
    if (std::find(seen.begin(), seen.end(), node.get()) != seen.end()) continue;
    seen.push_back(node.get());
    chunked_bytes& data = node->data;
    if (node->synced_before_cut) {
      // Truncated (and maybe rewritten) since the last sync: the cut either reached the disk or not.
      if (random.chance(0.5)) data.assign(*node->synced_before_cut);
      node->synced_before_cut.reset();
    } else if (data.size() > node->synced) {
      ++stats_.unsynced_files;
      switch (random.below(3)) {
        case 0: data.truncate(node->synced); break;
        case 1: break;
        default: data.truncate(node->synced + random.below(data.size() - node->synced + 1)); ++stats_.torn_files;
      }
    }
    node->synced = data.size();  // what is on the medium now
  }
}

void sim_disk::lose_everything() {
  ++generation_;  // any handle still open belongs to the old disk
  names_.clear();
  durable_names_.clear();
}

bool sim_disk::cut_newest(std::string_view prefix, std::string_view suffix) {
  // Names of one width sort by number: the newest is the last.
  auto newest = durable_names_.end();
  for (auto it = durable_names_.begin(); it != durable_names_.end(); ++it) {
    const std::string_view base = std::string_view(it->first).substr(it->first.rfind('/') + 1);
    if (base.starts_with(prefix) && base.ends_with(suffix)) newest = it;
  }
  if (newest == durable_names_.end()) return false;
  dkv::rng random = draw();
  inode& node = *newest->second;
  if (random.below(4) == 0 || node.durable_size() == 0) {
    names_.erase(newest->first);
    durable_names_.erase(newest);
    return true;
  }
  node.synced_before_cut.reset();
  node.data.truncate(random.below(node.synced));
  node.synced = node.data.size();
  return true;
}

bool sim_disk::damage(const std::string& name, std::uint64_t offset) {
  auto it = durable_names_.find(name);
  if (it == durable_names_.end() || offset >= it->second->durable_size()) return false;
  inode& node = *it->second;
  const char flip = static_cast<char>(1 + draw().below(255));
  if (node.synced_before_cut) (*node.synced_before_cut)[offset] ^= flip;
  if (offset < node.data.size()) node.data.flip(offset, flip);
  return true;
}

bool sim_disk::damage_random() {
  std::vector<const std::string*> candidates;
  for (const auto& [name, node] : durable_names_)
    if (node->durable_size() != 0) candidates.push_back(&name);
  if (candidates.empty()) return false;
  dkv::rng random = draw();
  const std::string& name = *candidates[random.below(candidates.size())];
  return damage(name, random.below(durable_names_.at(name)->durable_size()));
}

std::uint64_t sim_disk::latency() { return draw().between(faults_.min_latency_ns, faults_.max_latency_ns); }

}  // namespace dkv::sim
