#include "tools/dkv/status_command.hpp"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "net/client/remote_store.hpp"
#include "tools/dkv/client_flags.hpp"

namespace dkv::tools {

namespace {

// Prints one server's answer as key=value lines (empty texts left out);
// false if it has none or names a problem.
bool print_status(const net::message& response) {
  if (error e = net::error_of(response); !e.ok()) {
    std::printf("error=%s\n", e.to_string().c_str());
    return false;
  }
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(response.value, nullptr, false);
  if (!doc.is_object()) {
    std::printf("error=the server's status is not a JSON object\n");
    return false;
  }
  for (const auto& [name, value] : doc.items()) {
    if (value.is_string() && value.get<std::string>().empty()) continue;
    std::printf("%s=%s\n", name.c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
  }
  const auto said = [&doc](const char* name) {
    const auto found = doc.find(name);
    return found != doc.end() &&
           ((found->is_boolean() && found->get<bool>()) || (found->is_string() && !found->get<std::string>().empty()));
  };
  return !said("repairing") && !said("unavailable") && !said("stopped");
}

}  // namespace

void add_status_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "status", "How each server sees a shard: role, term, leader, commit, repairs, why it refuses clients (dkv)");
  static client_flags flags;
  add_client_flags(*cmd, flags, 100);
  cmd->callback([&exit_code] {
    std::shared_ptr<net::remote_client> all;
    if (error e = make_client(flags, all); !e.ok()) {
      exit_code = bad_usage(e.message());
      return;
    }
    // Each server on its own: the client would send the request to any one.
    bool healthy = true;
    for (const std::string& endpoint : all->options().endpoints) {
      net::remote_client_options one = all->options();
      one.endpoints = {endpoint};
      net::remote_client client(one);
      net::message request;
      request.type = net::message_type::status;
      std::printf("endpoint=%s\n", endpoint.c_str());
      healthy = print_status(client.call_sync(flags.shard, std::move(request))) && healthy;
      std::printf("\n");
    }
    exit_code = healthy ? 0 : 1;
  });
}

}  // namespace dkv::tools
