#include "real/process/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace dkv::real {

namespace {

// After fork: only async-signal-safe calls (`most`, for a kernel older than
// 5.9 without close_range, is asked before).
void close_all_from(int first, long most) {
  if (::close_range(static_cast<unsigned>(first), ~0u, 0) == 0) return;
  for (long fd = first; fd < most; ++fd) ::close(static_cast<int>(fd));
}

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

void child_process::start(const std::string& binary, const std::vector<std::string>& args, const std::string& log_path,
                          const std::vector<std::string>& environment) {
  kill_now();
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> argv_storage{binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  env_storage.insert(env_storage.end(), environment.begin(), environment.end());
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path);
  const long open_max = std::max(::sysconf(_SC_OPEN_MAX), 1024L);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);  // the parent died before prctl took effect
    ::dup2(log, 1);
    ::dup2(log, 2);
    // Nothing else of ours goes with it: a socket the child held open (the
    // proxy's, a client's) would outlive our close of it, and the far end
    // would never see the connection end.
    close_all_from(3, open_max);
    // The parent's blocked signals must not be inherited; SIGUSR1 starts
    // blocked: dkv serve takes it with sigwait (to re-read its clock file), and
    // one sent before the server gets there must wait, not kill it.
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_SETMASK, &usr1, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(log);
  pid_ = pid;
}

std::optional<int> child_process::wait(std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return exit_status(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling a child's exit: waitpid has no timeout of its own.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::optional<int> child_process::stop(int signal, std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGCONT);  // a paused process would not act on the signal
  ::kill(pid_, signal);
  std::optional<int> status = wait(bound);
  if (!status) kill_now();
  return status;
}

void child_process::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void child_process::send_signal(int number) {
  if (pid_ > 0) ::kill(pid_, number);
}

void child_process::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void child_process::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

bool child_process::ended() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

}  // namespace dkv::real
