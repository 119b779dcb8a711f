#pragma once
// The two file_system implementations, made fresh for a test: the simulated
// disk, and POSIX in a temporary directory removed afterwards.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <memory>
#include <string>

#include "actors/storage/posix_file_system.hpp"
#include "sim/disk/sim_disk.hpp"

namespace dkv::test {

class temporary_directory {
 public:
  temporary_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dkv-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temporary_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

struct posix_files {
  temporary_directory dir;
  std::unique_ptr<actors::posix_file_system> fs;
  posix_files() {
    if (!actors::posix_file_system::open_directory(dir.path(), fs).ok()) throw std::runtime_error("open_directory");
  }
  storage::file_system& files() { return *fs; }
};

struct simulated_files {
  sim::sim_disk disk{dkv::rng(1)};
  storage::file_system& files() { return disk.files(); }
};

}  // namespace dkv::test
