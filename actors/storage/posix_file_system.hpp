#pragma once
// The real file interface: one directory on a POSIX file system. sync() is
// fsync(2) of the file, sync_directory() fsync(2) of the directory, rename is
// rename(2) — the sequence that makes appends and name changes durable.
// sync_in_background fsyncs on a thread of the file system's own, started
// with the first such sync.

#include <memory>
#include <mutex>
#include <string>

#include "actors/storage/sync_thread.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::actors {

class posix_file_system final : public storage::file_system {
 public:
  // Uses (and creates, if missing) the directory `root`.
  static error open_directory(const std::string& root, std::unique_ptr<posix_file_system>& out);

  error open(const std::string& name, storage::open_mode mode, std::unique_ptr<storage::file>& out) override;
  error list(std::vector<std::string>& names) override;
  error rename(const std::string& from, const std::string& to) override;
  error remove(const std::string& name) override;
  error sync_directory() override;
  void sync_in_background(shared_files files, sync_done done) override;

  const std::string& root() const noexcept { return root_; }

 private:
  explicit posix_file_system(std::string root) : root_(std::move(root)) {}
  std::string path(const std::string& name) const { return root_ + "/" + name; }

  std::string root_;
  std::once_flag sync_thread_started_;
  std::unique_ptr<sync_thread> sync_thread_;
};

}  // namespace dkv::actors
