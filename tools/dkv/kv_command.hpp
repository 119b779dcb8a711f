#pragma once
// `dkv kv` (set, setE, setEIfUnset, get, expr, del, has, info, perf) and
// `dkv lock` (acquire, release): dKV's client commands against a server,
// with its output lines ("set successfully", "key=k, found=true, resp=v").

namespace CLI {
class App;
}

namespace dkv::tools {

void add_kv_command(CLI::App& app, int& exit_code);
void add_lock_command(CLI::App& app, int& exit_code);

}  // namespace dkv::tools
