#pragma once
// A dkv-lazyfs mount for a test: a backing directory and a mount point in a
// fresh temporary directory, the program started in the foreground, and, in
// the destructor whatever happened, unmounted (fusermount3 -u), the process
// reaped (killed if it does not end within a bound) and the directories
// removed. Where FUSE is not available (no /dev/fuse, a container without
// the right, no fusermount3) mounted() is false and why_not() says why: the
// test then warns and passes.

#include <sys/types.h>

#include <string>

#include "tests/support/temporary_directory.hpp"

namespace dkv::test {

class lazyfs_mount {
 public:
  lazyfs_mount();
  ~lazyfs_mount();
  lazyfs_mount(const lazyfs_mount&) = delete;
  lazyfs_mount& operator=(const lazyfs_mount&) = delete;

  bool mounted() const noexcept { return mounted_; }
  const std::string& why_not() const noexcept { return why_not_; }

  std::string path(const std::string& name) const { return mount_ + "/" + name; }
  std::string backing_path(const std::string& name) const { return backing_ + "/" + name; }
  const std::string& mount_point() const noexcept { return mount_; }

  // Writes `command` to the control file; 0 or the errno of the write.
  int control(const std::string& command);
  // The control file's counters ("name value" lines), and one of them.
  std::string stats();
  std::uint64_t stat(const std::string& name);

  // fusermount3 -u, then waits for the program to end; whether it exited
  // cleanly. The mount is gone afterwards either way.
  bool unmount();
  std::string log() const;

 private:
  temporary_directory dir_{"dkv-lazyfs"};
  std::string backing_;
  std::string mount_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace dkv::test
