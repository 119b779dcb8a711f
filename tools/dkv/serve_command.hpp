#pragma once
// `dkv serve`: runs a dkv server (net/server/server.hpp) until SIGTERM or
// SIGINT, with dKV's flags, each also read from DKV_<FLAG> (an explicit
// flag wins over the environment).

namespace CLI {
class App;
}

namespace dkv::tools {

void add_serve_command(CLI::App& app, int& exit_code);

}  // namespace dkv::tools
