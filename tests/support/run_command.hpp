#pragma once
// Runs a shell command for a test of a command-line tool: its exit code and
// everything it printed (stdout and stderr together).

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

namespace dkv::test {

struct run_result {
  int exit_code;
  std::string output;
};

inline run_result run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  REQUIRE(pipe);
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) output.append(buffer, n);
  const int status = ::pclose(pipe.release());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace dkv::test
