#include "check/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dkv::check {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Closes the descriptor on every way out.
class descriptor {
 public:
  explicit descriptor(int fd) : fd_(fd) {}
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string system_reason(const char* doing) { return std::string(doing) + ": " + std::strerror(errno); }

// Reads `fd` to its end, appending to `text`, or (stop_at_content) only
// until a non-blank byte is seen. Sets `why` on a read error or when nothing
// but blank space was there.
bool read_all(int fd, std::string& text, bool stop_at_content, std::string& why) {
  bool content = false, any = false;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      why = errno == EISDIR ? "is a directory" : system_reason("cannot read");
      return false;
    }
    if (n == 0) break;
    any = true;
    for (ssize_t i = 0; i < n && !content; ++i) content = !is_blank(buffer[i]);
    if (!stop_at_content) text.append(buffer, static_cast<std::size_t>(n));
    if (content && stop_at_content) break;
  }
  if (!content) {
    why = any ? "holds nothing but blank space" : "is empty";
    return false;
  }
  return true;
}

}  // namespace

bool read_input_file(const std::string& path, std::string& text, std::string& why) {
  text.clear();
  const descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    why = system_reason("cannot open");
    return false;
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      why = "is a directory";
      return false;
    }
    if (S_ISREG(info.st_mode)) text.reserve(static_cast<std::size_t>(info.st_size));
  }
  if (!read_all(fd.get(), text, false, why)) {
    text.clear();
    return false;
  }
  return true;
}

std::string input_problem(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return system_reason("cannot open");
  if (S_ISDIR(info.st_mode)) return "is a directory";
  if (!S_ISREG(info.st_mode)) return {};
  const descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return system_reason("cannot open");
  std::string ignored, why;
  return read_all(fd.get(), ignored, true, why) ? std::string() : why;
}

}  // namespace dkv::check
