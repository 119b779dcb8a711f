#include "actors/storage/posix_file_system.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dkv::actors {

namespace {

error system_error(const std::string& what, const std::string& path, int err = errno) {
  return internal_error(what + " " + path + ": " + std::strerror(err));
}

// Retries a call interrupted by a signal.
template <typename Call>
auto retry(Call call) {
  for (;;) {
    auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

class posix_file final : public storage::file {
 public:
  posix_file(int fd, std::string path, std::uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~posix_file() override { ::close(fd_); }
  posix_file(const posix_file&) = delete;
  posix_file& operator=(const posix_file&) = delete;

  error append(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = retry([&] { return ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_)); });
      if (n < 0) return system_error("cannot write", path_);
      size_ += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }

  error sync() override {
    if (retry([&] { return ::fsync(fd_); }) != 0) return system_error("cannot fsync", path_);
    return {};
  }

  error read(std::uint64_t offset, std::size_t length, std::string& out) override {
    out.resize(offset < size_ ? std::min<std::uint64_t>(length, size_ - offset) : 0);
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          retry([&] { return ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done)); });
      if (n < 0) return system_error("cannot read", path_);
      if (n == 0) break;  // shorter than we knew: another writer cut it
      done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return {};
  }

  std::uint64_t size() const override { return size_; }

  error truncate(std::uint64_t size) override {
    if (size >= size_) return {};
    if (retry([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0)
      return system_error("cannot truncate", path_);
    size_ = size;
    return {};
  }

 private:
  int fd_;
  std::string path_;
  std::uint64_t size_;
};

}  // namespace

error posix_file_system::open_directory(const std::string& root, std::unique_ptr<posix_file_system>& out) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return internal_error("cannot create directory " + root + ": " + ec.message());
  out.reset(new posix_file_system(root));
  return {};
}

error posix_file_system::open(const std::string& name, storage::open_mode mode, std::unique_ptr<storage::file>& out) {
  if (!storage::valid_file_name(name)) return invalid_operation("invalid file name '" + name + "'");
  const std::string p = path(name);
  const int flags = O_RDWR | O_CLOEXEC | (mode == storage::open_mode::create ? O_CREAT : 0);
  const int fd = retry([&] { return ::open(p.c_str(), flags, 0644); });
  if (fd < 0) return system_error(errno == ENOENT ? "no such file" : "cannot open", p);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int err = errno;
    ::close(fd);
    return system_error("cannot stat", p, err);
  }
  out = std::make_unique<posix_file>(fd, p, static_cast<std::uint64_t>(info.st_size));
  return {};
}

error posix_file_system::list(std::vector<std::string>& names) {
  names.clear();
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(root_, ec)) names.push_back(item.path().filename());
  if (ec) return internal_error("cannot list " + root_ + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return {};
}

error posix_file_system::rename(const std::string& from, const std::string& to) {
  if (!storage::valid_file_name(from) || !storage::valid_file_name(to))
    return invalid_operation("invalid file name in rename of '" + from + "' to '" + to + "'");
  if (::rename(path(from).c_str(), path(to).c_str()) != 0) return system_error("cannot rename", path(from));
  return {};
}

error posix_file_system::remove(const std::string& name) {
  if (!storage::valid_file_name(name)) return invalid_operation("invalid file name '" + name + "'");
  if (::unlink(path(name).c_str()) != 0) return system_error("cannot remove", path(name));
  return {};
}

error posix_file_system::sync_directory() {
  const int fd = retry([&] { return ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return system_error("cannot open directory", root_);
  const int rc = retry([&] { return ::fsync(fd); });
  const int err = errno;
  ::close(fd);
  if (rc != 0) return system_error("cannot fsync directory", root_, err);
  return {};
}

void posix_file_system::sync_in_background(shared_files files, sync_done done) {
  std::call_once(sync_thread_started_, [this] { sync_thread_ = std::make_unique<sync_thread>(); });
  sync_thread_->start(std::move(files), std::move(done));
}

}  // namespace dkv::actors
