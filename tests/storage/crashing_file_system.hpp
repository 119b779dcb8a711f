#pragma once
// A file_system over a simulated disk that crashes the disk when its budget
// of mutating operations (append, sync, truncate, rename, remove, directory
// sync) runs out: every later call fails, as in a dead process. Running a
// script with budgets 0, 1, 2, … crashes it at every write boundary.

#include <cstdint>
#include <memory>

#include "sim/disk/sim_disk.hpp"

namespace dkv::test {

class crashing_file_system final : public storage::file_system {
 public:
  crashing_file_system(sim::sim_disk& disk, std::uint64_t budget) : disk_(disk), budget_(budget) {}

  bool crashed() const noexcept { return crashed_; }

  error open(const std::string& name, storage::open_mode mode, std::unique_ptr<storage::file>& out) override {
    if (crashed_) return dead();
    std::unique_ptr<storage::file> inner;
    if (error e = disk_.files().open(name, mode, inner); !e.ok()) return e;
    out = std::make_unique<crashing_file>(*this, std::move(inner));
    return {};
  }
  error list(std::vector<std::string>& names) override { return crashed_ ? dead() : disk_.files().list(names); }
  error rename(const std::string& from, const std::string& to) override {
    return step() ? disk_.files().rename(from, to) : dead();
  }
  error remove(const std::string& name) override { return step() ? disk_.files().remove(name) : dead(); }
  error sync_directory() override { return step() ? disk_.files().sync_directory() : dead(); }

 private:
  class crashing_file final : public storage::file {
   public:
    crashing_file(crashing_file_system& fs, std::unique_ptr<storage::file> inner) : fs_(fs), inner_(std::move(inner)) {}
    error append(std::string_view bytes) override { return fs_.step() ? inner_->append(bytes) : dead(); }
    error sync() override { return fs_.step() ? inner_->sync() : dead(); }
    error read(std::uint64_t offset, std::size_t length, std::string& out) override {
      return fs_.crashed_ ? dead() : inner_->read(offset, length, out);
    }
    std::uint64_t size() const override { return inner_->size(); }
    error truncate(std::uint64_t size) override { return fs_.step() ? inner_->truncate(size) : dead(); }

   private:
    crashing_file_system& fs_;
    std::unique_ptr<storage::file> inner_;
  };

  static error dead() { return internal_error("crashed"); }

  // Spends one operation of the budget; crashes the disk when none is left.
  bool step() {
    if (crashed_) return false;
    if (budget_ == 0) {
      crashed_ = true;
      disk_.crash();
      return false;
    }
    --budget_;
    return true;
  }

  sim::sim_disk& disk_;
  std::uint64_t budget_;
  bool crashed_ = false;
};

}  // namespace dkv::test
