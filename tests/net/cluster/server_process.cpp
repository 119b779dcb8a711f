#include "server_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dkv::test {

std::string dkv_binary() {
  const char* other = std::getenv("DKV_TEST_BINARY");
  return other && *other ? other : DKV_BINARY;
}

void server_process::start(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& log_path) {
  kill_now();
  std::vector<std::string> argv_storage{binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
    // The test's own blocked signals must not be inherited.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(log);
  pid_ = pid;
}

std::optional<int> server_process::wait(std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling a child's exit: waitpid has no timeout of its own.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::optional<int> server_process::stop(int signal, std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  std::optional<int> status = wait(bound);
  if (!status) kill_now();
  return status;
}

void server_process::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string member_name(std::size_t i) { return "node-" + std::to_string(i + 1); }

std::string member_entry(std::size_t i, std::uint16_t peer_port) {
  return member_name(i) + "=127.0.0.1:" + std::to_string(peer_port);
}

std::string loopback_members(const std::vector<std::uint16_t>& peer_ports) {
  std::string members;
  for (std::size_t i = 0; i < peer_ports.size(); ++i) members += (i ? "," : "") + member_entry(i, peer_ports[i]);
  return members;
}

void flip_middle_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const std::streamoff middle = f.tellg() / 2;
  f.seekg(middle);
  const char byte = static_cast<char>(f.get());
  f.seekp(middle);
  f.put(static_cast<char>(byte ^ 0x5a));
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string tail_of(const std::string& path, std::size_t bytes) {
  const std::string text = text_of(path);
  return text.size() > bytes ? "…" + text.substr(text.size() - bytes) : text;
}

}  // namespace dkv::test
