#pragma once
// The FUSE side of dkv-lazyfs: libfuse's high-level operations over a
// backing directory, every data call going through lazy_files, the metadata
// calls straight to the backing directory, and the control file.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "real/lazyfs/lazy_files.hpp"

struct fuse_operations;

namespace dkv::lazyfs {

// The control file, in the mount's root only; hidden from readdir, so that
// a program listing its data directory at the root of the mount does not
// meet it. It shadows a backing file of the same name.
inline constexpr const char* control_name = ".lazyfs";

struct mount_state {
  // The backing directory, opened before the mount: every backing path is
  // relative to it, so the mount may even sit on top of the backing
  // directory itself.
  explicit mount_state(int dir) : backing_dir(dir) {}
  int backing_dir;
  lazy_files files;

  // What each open of the control file reads: the counters at its open.
  std::mutex control_mutex;
  std::map<std::uint64_t, std::string> control_reads;
  std::uint64_t next_control = 0;
};

// The operations; fuse_main's user_data must be a mount_state.
const fuse_operations& operations();

}  // namespace dkv::lazyfs
