#include "tools/dkv/client_flags.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>

namespace dkv::tools {

namespace {

std::string env_name(const std::string& flag) {
  std::string env = "DKV_" + flag;
  for (char& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

}  // namespace

void add_client_flags(CLI::App& cmd, client_flags& f, std::uint64_t default_shard) {
  f.shard = default_shard;
  const auto flag = [&cmd](const std::string& name, auto& value, const std::string& help) {
    return cmd.add_option("--" + name, value, help)->envname(env_name(name))->capture_default_str();
  };
  flag("transport-endpoints", f.endpoints, "Servers, comma-separated: HOST:PORT, or unix:PATH");
  flag("shard", f.shard, "The shard to address");
  flag("timeout", f.timeout_s, "A call's deadline in seconds")->check(CLI::Range(1ll, 3600ll));
  flag("transport-conn-per-endpoint", f.connections_per_endpoint, "Connections per endpoint")
      ->check(CLI::Range(1u, 1024u));
  flag("transport-retries", f.retries, "Accepted for dKV compatibility; calls retry until --timeout");
  flag("transport", f.transport, "tcp or unix");
  flag("serializer", f.serializer, "binary (the only encoding dkv speaks)");
}

error make_client(const client_flags& f, std::shared_ptr<net::remote_client>& out) {
  if (f.serializer != "binary")
    return invalid_operation("--serializer " + f.serializer + ": dkv speaks the binary encoding only");
  if (f.transport != "tcp" && f.transport != "unix")
    return invalid_operation("--transport " + f.transport + ": tcp or unix");
  net::remote_client_options o;
  std::string item;
  for (std::size_t i = 0; i <= f.endpoints.size(); ++i) {
    if (i == f.endpoints.size() || f.endpoints[i] == ',') {
      if (!item.empty()) {
        // With --transport unix, a bare path is a socket path.
        if (f.transport == "unix" && !item.starts_with("unix:")) item = "unix:" + item;
        o.endpoints.push_back(item);
      }
      item.clear();
    } else if (f.endpoints[i] != ' ') {
      item += f.endpoints[i];
    }
  }
  if (o.endpoints.empty()) return invalid_operation("--transport-endpoints names no endpoint");
  o.call_timeout = std::chrono::seconds(f.timeout_s);
  o.connections_per_endpoint = f.connections_per_endpoint;
  out = std::make_shared<net::remote_client>(o);
  return {};
}

int fail(const std::string& text) {
  std::fprintf(stderr, "Error: %s\n", text.c_str());
  return 1;
}

int bad_usage(const std::string& text) {
  fail(text);
  return 2;
}

}  // namespace dkv::tools
