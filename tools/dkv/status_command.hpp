#pragma once
// `dkv status` (ext): how each server given sees a shard — for a dstore
// shard its replica's role, term, leader, commit index, whether it repairs
// damaged storage or refuses clients, and why — from the server's own state,
// so it answers when the shard has no leader. Exit 0 when every server
// answered and none reports a problem, else 1: usable as a health check.

namespace CLI {
class App;
}

namespace dkv::tools {

void add_status_command(CLI::App& app, int& exit_code);

}  // namespace dkv::tools
