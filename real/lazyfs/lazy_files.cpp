#include "real/lazyfs/lazy_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace dkv::lazyfs {

namespace {

// A backing file through a descriptor, retrying interrupted and short calls.
class descriptor_file final : public backing_file {
 public:
  explicit descriptor_file(int fd) : fd_(fd) {}

  int read(std::uint64_t offset, char* into, std::size_t length) override {
    std::size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, into + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -errno;
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    std::memset(into + done, 0, length - done);  // past the backing file's end
    return 0;
  }

  int write(std::uint64_t offset, std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -errno;
      offset += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
  }

  int truncate(std::uint64_t size) override {
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return -errno;
    }
    return 0;
  }

 private:
  int fd_;
};

int sync_descriptor(int fd, bool data_only) {
  while ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}

bool writable(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// fstat of a descriptor handed over to lazy_files: on failure it is closed
// (nobody else will) and the error returned as -errno; 0 on success.
int stat_or_close(int fd, struct stat& st) {
  if (::fstat(fd, &st) == 0) return 0;
  const int err = errno;
  ::close(fd);
  return -err;
}

}  // namespace

std::string format_stats(const lazy_stats& s) {
  std::string out;
  auto line = [&](const char* name, std::uint64_t value) {
    out += std::string(name) + " " + std::to_string(value) + "\n";
  };
  line("dirty_files", s.dirty_files);
  line("dirty_bytes", s.dirty_bytes);
  line("open_handles", s.open_handles);
  line("write_backs", s.write_backs);
  line("written_back_bytes", s.written_back_bytes);
  line("power_losses", s.power_losses);
  line("lost_files", s.lost_files);
  line("lost_bytes", s.lost_bytes);
  line("torn_files", s.torn_files);
  line("torn_bytes_kept", s.torn_bytes_kept);
  return out;
}

lazy_files::~lazy_files() {
  for (auto& [id, h] : handles_) ::close(h.fd);
  for (auto& [key, file] : dirty_) ::close(file.fd);
}

int lazy_files::open(int fd, int open_flags, std::uint64_t& id) {
  struct stat st;
  if (const int err = stat_or_close(fd, st); err != 0) return err;
  std::lock_guard<std::mutex> guard(mutex_);
  id = next_id_++;
  const handle& h = handles_.emplace(id, handle{fd, key_of(st), open_flags}).first->second;
  ++open_counts_[h.key];
  if ((open_flags & O_TRUNC) && writable(open_flags)) {
    int err = 0;
    dirty_file* file = dirty_for(h, err);
    if (!file) {
      const file_key key = h.key;
      handles_.erase(id);
      if (--open_counts_[key] == 0) open_counts_.erase(key);
      ::close(fd);
      return err;
    }
    file->view.truncate(0);
    drop_if_clean(h.key);
  }
  return 0;
}

int lazy_files::release(std::uint64_t id) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto it = handles_.find(id);
  if (it == handles_.end()) return -EBADF;
  const handle h = it->second;
  handles_.erase(it);
  ::close(h.fd);
  if (--open_counts_[h.key] == 0) open_counts_.erase(h.key);
  if (const auto file = dirty_.find(h.key); file != dirty_.end() && !has_name_or_handle(h.key, file->second.fd))
    drop(file);
  return 0;
}

std::int64_t lazy_files::read(std::uint64_t id, std::uint64_t offset, char* into, std::size_t length) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto it = handles_.find(id);
  if (it == handles_.end()) return -EBADF;
  const handle& h = it->second;
  descriptor_file backing(h.fd);
  if (const auto file = dirty_.find(h.key); file != dirty_.end())
    return file->second.view.read(offset, into, length, backing);
  // Clean: the backing file is the view, as long as it is.
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(h.fd, into + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<std::int64_t>(done);
}

std::int64_t lazy_files::write(std::uint64_t id, std::uint64_t offset, std::string_view bytes) {
  int fd = -1;
  bool sync_now = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    const auto it = handles_.find(id);
    if (it == handles_.end()) return -EBADF;
    const handle& h = it->second;
    int err = 0;
    dirty_file* file = dirty_for(h, err);
    if (!file) return err;
    // The kernel's offset for an O_APPEND write is its own idea of the size;
    // ours is the truth (libfuse leaves O_APPEND to the file system when the
    // kernel does not cache writes).
    if (h.flags & O_APPEND) offset = file->view.size();
    file->view.write(offset, bytes);
    if (h.flags & (O_SYNC | O_DSYNC)) {
      if (const int e = write_back(dirty_.find(h.key)); e != 0) return e;
      fd = h.fd;
      sync_now = true;
    }
  }
  if (sync_now) {
    if (const int e = sync_descriptor(fd, true); e != 0) return e;
  }
  return static_cast<std::int64_t>(bytes.size());
}

int lazy_files::truncate(std::uint64_t id, std::uint64_t size) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto it = handles_.find(id);
  if (it == handles_.end()) return -EBADF;
  int err = 0;
  dirty_file* file = dirty_for(it->second, err);
  if (!file) return err;
  file->view.truncate(size);
  drop_if_clean(it->second.key);
  return 0;
}

int lazy_files::truncate_descriptor(int fd, std::uint64_t size) {
  struct stat st;
  if (const int err = stat_or_close(fd, st); err != 0) return err;
  std::lock_guard<std::mutex> guard(mutex_);
  auto file = dirty_.find(key_of(st));
  if (file == dirty_.end()) {
    // `fd` becomes the overlay's own descriptor.
    file = dirty_.emplace(key_of(st), dirty_file{overlay(static_cast<std::uint64_t>(st.st_size)), fd, next_order_++})
               .first;
  } else {
    ::close(fd);
  }
  file->second.view.truncate(size);
  drop_if_clean(key_of(st));
  return 0;
}

int lazy_files::sync(std::uint64_t id, bool data_only) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    const auto it = handles_.find(id);
    if (it == handles_.end()) return -EBADF;
    fd = it->second.fd;
    if (const auto file = dirty_.find(it->second.key); file != dirty_.end()) {
      if (const int err = write_back(file); err != 0) return err;
    }
  }
  // The handle's descriptor stays open until its release, which the kernel
  // sends only after this call returned. fsync(2) of a read-only descriptor
  // syncs the file all the same.
  return sync_descriptor(fd, data_only);
}

int lazy_files::stat(std::uint64_t id, struct stat& st) {
  int fd = descriptor(id);
  if (fd < 0) return fd;
  if (::fstat(fd, &st) != 0) return -errno;
  adjust(st);
  return 0;
}

int lazy_files::descriptor(std::uint64_t id) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto it = handles_.find(id);
  return it == handles_.end() ? -EBADF : it->second.fd;
}

void lazy_files::adjust(struct stat& st) {
  if (!S_ISREG(st.st_mode)) return;
  std::lock_guard<std::mutex> guard(mutex_);
  const auto file = dirty_.find(key_of(st));
  if (file == dirty_.end()) return;
  st.st_size = static_cast<off_t>(file->second.view.size());
  // st_blocks only grows: the backing file's blocks plus those the dirty
  // bytes would take (du(1) and the like, no more).
  st.st_blocks = std::max<blkcnt_t>(st.st_blocks, static_cast<blkcnt_t>((file->second.view.size() + 511) / 512));
}

void lazy_files::unlinked(file_key key) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (const auto file = dirty_.find(key); file != dirty_.end() && !has_name_or_handle(key, file->second.fd)) drop(file);
}

int lazy_files::sync_all() {
  std::lock_guard<std::mutex> guard(mutex_);
  int first_error = 0;
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    const int fd = ::fcntl(it->second.fd, F_DUPFD_CLOEXEC, 0);
    const auto next = std::next(it);
    int err = fd < 0 ? -errno : write_back(it);
    if (err == 0) err = sync_descriptor(fd, false);
    if (fd >= 0) ::close(fd);
    if (err != 0 && first_error == 0) first_error = err;
    it = next;
  }
  return first_error;
}

void lazy_files::lose_unsynced(tear_kind tear, std::uint64_t seed, double probability) {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<std::map<file_key, dirty_file>::iterator> files;
  for (auto it = dirty_.begin(); it != dirty_.end(); ++it) files.push_back(it);
  std::sort(files.begin(), files.end(), [](auto a, auto b) { return a->second.order < b->second.order; });
  splitmix64 random(seed);
  for (const auto it : files) {
    dirty_file& file = it->second;
    ++counters_.lost_files;
    counters_.lost_bytes += file.view.dirty_bytes();
    const std::optional<overlay::span> torn = tear == tear_kind::last_write     ? file.view.last_write()
                                              : tear == tear_kind::dirty_prefix ? file.view.dirty_span()
                                                                                : std::nullopt;
    if (torn && random.unit() < probability) {
      const std::uint64_t keep = random.below(torn->length);
      descriptor_file backing(file.fd);
      const int err = tear == tear_kind::last_write ? file.view.write_torn_prefix(keep, backing)
                                                    : file.view.write_dirty_prefix(keep, backing);
      // A failure leaves the backing file as it was, or with a part of the
      // prefix: a tear all the same.
      if (err == 0 && sync_descriptor(file.fd, true) == 0) {
        ++counters_.torn_files;
        counters_.torn_bytes_kept += keep;
      }
    }
    ::close(file.fd);
  }
  dirty_.clear();
  ++counters_.power_losses;
}

int lazy_files::run(const command& c) {
  switch (c.what) {
    case command::kind::lose_unsynced: lose_unsynced(c.tear, c.seed, c.tear_probability); return 0;
    case command::kind::sync_all: return sync_all();
    case command::kind::stats: return 0;
  }
  return -EINVAL;
}

lazy_stats lazy_files::stats() {
  std::lock_guard<std::mutex> guard(mutex_);
  lazy_stats s = counters_;
  s.dirty_files = dirty_.size();
  for (const auto& [key, file] : dirty_) s.dirty_bytes += file.view.dirty_bytes();
  s.open_handles = handles_.size();
  return s;
}

lazy_files::dirty_file* lazy_files::dirty_for(const handle& h, int& err) {
  if (const auto it = dirty_.find(h.key); it != dirty_.end()) return &it->second;
  if (!writable(h.flags)) {
    err = -EBADF;
    return nullptr;
  }
  struct stat st;
  if (::fstat(h.fd, &st) != 0) {
    err = -errno;
    return nullptr;
  }
  const int fd = ::fcntl(h.fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    err = -errno;
    return nullptr;
  }
  return &dirty_.emplace(h.key, dirty_file{overlay(static_cast<std::uint64_t>(st.st_size)), fd, next_order_++})
              .first->second;
}

void lazy_files::drop_if_clean(file_key key) {
  if (const auto it = dirty_.find(key); it != dirty_.end() && !it->second.view.dirty()) drop(it);
}

void lazy_files::drop(std::map<file_key, dirty_file>::iterator it) {
  ::close(it->second.fd);
  dirty_.erase(it);
}

int lazy_files::write_back(std::map<file_key, dirty_file>::iterator it) {
  dirty_file& file = it->second;
  descriptor_file backing(file.fd);
  if (const int err = file.view.write_back(backing); err != 0) return err;
  ++counters_.write_backs;
  counters_.written_back_bytes += file.view.dirty_bytes();
  drop(it);
  return 0;
}

bool lazy_files::has_name_or_handle(file_key key, int fd) {
  if (open_counts_.count(key)) return true;
  struct stat st;
  // If fstat fails, keep the overlay: dropping data on a doubt is worse.
  return ::fstat(fd, &st) != 0 || st.st_nlink > 0;
}

}  // namespace dkv::lazyfs
