#pragma once
// The flags `dkv kv` and `dkv lock` share (dKV's client flags), each also
// read from DKV_<FLAG>, and the network client they describe.

#include <cstdint>
#include <memory>
#include <string>

#include "net/client/remote_client.hpp"
#include "store/error.hpp"

namespace CLI {
class App;
}

namespace dkv::tools {

struct client_flags {
  std::string endpoints = "localhost:8080";  // comma-separated HOST:PORT or unix:PATH
  std::uint64_t shard = 100;
  std::int64_t timeout_s = 10;
  unsigned connections_per_endpoint = 1;
  unsigned retries = 3;
  std::string transport = "tcp";
  std::string serializer = "binary";
};

// Adds the flags to `cmd` (a subcommand group: they apply to all its subcommands).
void add_client_flags(CLI::App& cmd, client_flags& flags, std::uint64_t default_shard);

// The client the flags describe, or an error naming the flag.
error make_client(const client_flags& flags, std::shared_ptr<net::remote_client>& out);

// Prints "Error: <text>" to stderr (dKV's form) and returns the exit code 1.
int fail(const std::string& text);
// The same for a flag that makes no sense, with the exit code of bad usage, 2.
int bad_usage(const std::string& text);

}  // namespace dkv::tools
