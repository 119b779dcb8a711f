#pragma once
// A `dkv serve` child process for the multi-process tests: started with its
// output going to a log file, stopped with a signal and reaped within a
// bound, and killed (SIGKILL) by the destructor if it still runs — a test
// never leaves a server behind.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dkv::test {

class server_process {
 public:
  server_process() = default;
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  ~server_process() { kill_now(); }

  // Starts `binary` with `args`; stdout and stderr are appended to `log_path`.
  void start(const std::string& binary, const std::vector<std::string>& args, const std::string& log_path);
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }  // -1 when not running

  // Sends `signal` and waits up to `bound` for the exit; the exit status
  // (as exit code, or 128 + signal) or nothing if it did not end in time (it
  // is then killed).
  std::optional<int> stop(int signal, std::chrono::milliseconds bound);
  // Waits up to `bound` for the process to end by itself.
  std::optional<int> wait(std::chrono::milliseconds bound);
  void kill_now();

 private:
  pid_t pid_ = -1;
};

// The dkv the tests run: DKV_TEST_BINARY if set (to check that a test fails
// against an older dkv), else this build's.
std::string dkv_binary();

// The tests' loopback clusters: member i (0-based) is named "node-<i+1>",
// and its peer port is peer_ports[i] on 127.0.0.1.
std::string member_name(std::size_t i);
std::string member_entry(std::size_t i, std::uint16_t peer_port);  // "node-2=127.0.0.1:PORT"
std::string loopback_members(const std::vector<std::uint16_t>& peer_ports);  // --cluster-members

// Flips one byte in the middle of a file (damage a checksum must catch).
void flip_middle_byte(const std::string& path);

// The whole of a (log) file; empty if it cannot be read.
std::string text_of(const std::string& path);

// The tail of a log file, for failure messages.
std::string tail_of(const std::string& path, std::size_t bytes = 2000);

}  // namespace dkv::test
