#include "tests/real/lazyfs/lazyfs_mount.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace dkv::test {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Starts `args` with stdout and stderr appended to `log_path`; -1 on failure.
pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  ::close(log);
  return pid;
}

// Waits up to `bound` for `pid` to end: its wait status, or nothing.
std::optional<int> wait_for(pid_t pid, milliseconds bound) {
  const auto deadline = steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    if (steady_clock::now() >= deadline) return std::nullopt;
    // waitpid has no timeout of its own: poll.
    std::this_thread::sleep_for(milliseconds(2));
  }
}

// Runs a command to its end within `bound` (killed otherwise); whether it
// exited with 0.
bool run_bounded(const std::vector<std::string>& args, const std::string& log_path, milliseconds bound) {
  const pid_t pid = spawn(args, log_path);
  if (pid < 0) return false;
  const std::optional<int> status = wait_for(pid, bound);
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  return WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

constexpr milliseconds bound{10000};

}  // namespace

lazyfs_mount::lazyfs_mount() {
  backing_ = dir_.path() + "/backing";
  mount_ = dir_.path() + "/mount";
  log_path_ = dir_.path() + "/lazyfs.log";
  std::filesystem::create_directories(backing_);
  std::filesystem::create_directories(mount_);
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    why_not_ = "/dev/fuse is not available";
    return;
  }
  pid_ = spawn({DKV_LAZYFS_BINARY, backing_, mount_, "--foreground"}, log_path_);
  if (pid_ < 0) {
    why_not_ = "cannot start " DKV_LAZYFS_BINARY;
    return;
  }
  // Mounted once the control file shows: it exists only through the mount.
  const std::string control = path(".lazyfs");
  const auto deadline = steady_clock::now() + bound;
  for (;;) {
    struct stat st;
    if (::stat(control.c_str(), &st) == 0) {
      mounted_ = true;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why_not_ = "the mount failed: " + log();
      return;
    }
    if (steady_clock::now() >= deadline) {
      why_not_ = "not mounted within 10 s: " + log();
      return;  // the destructor kills it
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
}

lazyfs_mount::~lazyfs_mount() {
  unmount();
  // The temporary directory is removed after this body: the mount must be
  // gone by then, or remove_all would go through it.
}

bool lazyfs_mount::unmount() {
  if (pid_ < 0) return false;
  bool clean = run_bounded({"fusermount3", "-u", mount_}, log_path_, bound);
  std::optional<int> status = wait_for(pid_, bound);
  if (!status) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    clean = false;
  } else {
    clean = clean && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
  }
  pid_ = -1;
  mounted_ = false;
  // A dead program leaves its mount behind ("transport endpoint is not
  // connected"); a lazy unmount clears it.
  if (!clean) run_bounded({"fusermount3", "-u", "-z", mount_}, log_path_, bound);
  return clean;
}

int lazyfs_mount::control(const std::string& command) {
  const int fd = ::open(path(".lazyfs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, command.data(), command.size());
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

std::string lazyfs_mount::stats() {
  std::ifstream in(path(".lazyfs"));
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::uint64_t lazyfs_mount::stat(const std::string& name) {
  std::istringstream lines(stats());
  std::string key;
  std::uint64_t value = 0;
  while (lines >> key >> value)
    if (key == name) return value;
  return ~std::uint64_t{0};
}

std::string lazyfs_mount::log() const {
  std::ifstream in(log_path_);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

}  // namespace dkv::test
