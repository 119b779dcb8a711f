#pragma once
// The two file_system implementations, made fresh for a test: the simulated
// disk, and POSIX in a temporary directory removed afterwards.

#include <memory>
#include <stdexcept>

#include "actors/storage/posix_file_system.hpp"
#include "sim/disk/sim_disk.hpp"
#include "tests/support/temporary_directory.hpp"

namespace dkv::test {

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
