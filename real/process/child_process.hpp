#pragma once
// A child process of ours — a `dkv serve` of a real run or of a
// multi-process test: started with its output appended to a log file,
// paused and resumed (SIGSTOP, SIGCONT), stopped with a signal and reaped
// within a bound, and killed (SIGKILL) by the destructor if it still runs.
// The child also dies with the thread that started it (PR_SET_PDEATHSIG):
// a run stopped by Ctrl-C or a crash leaves no server behind.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dkv::real {

class child_process {
 public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() { kill_now(); }

  // Starts `binary` with `args`; stdout and stderr are appended to
  // `log_path`. `environment`: NAME=VALUE entries added to the child's.
  void start(const std::string& binary, const std::vector<std::string>& args, const std::string& log_path,
             const std::vector<std::string>& environment = {});
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }  // -1 when not running

  // Sends `signal` and waits up to `bound` for the exit; the exit status
  // (as exit code, or 128 + signal) or nothing if it did not end in time (it
  // is then killed).
  std::optional<int> stop(int signal, std::chrono::milliseconds bound);
  // Waits up to `bound` for the process to end by itself.
  std::optional<int> wait(std::chrono::milliseconds bound);
  // SIGKILL, and reaped: what a crash or a power cut does to a process.
  void kill_now();
  void send_signal(int number);  // if it runs; a SIGUSR1 waits until the child unblocks it
  void pause();                  // SIGSTOP
  void resume();  // SIGCONT
  // Whether it has ended (reaped then); false while it runs or is stopped.
  bool ended();

 private:
  pid_t pid_ = -1;
};

}  // namespace dkv::real
