#include "tools/dkv/kv_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "net/client/remote_lock_manager.hpp"
#include "net/client/remote_store.hpp"
#include "tools/dkv/client_flags.hpp"
#include "tools/dkv/kv_perf.hpp"

namespace dkv::tools {

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool unhex(std::string_view text, std::string& out) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi << 4 | lo);
  }
  return true;
}

struct kv_args {
  std::string key, value;
  std::uint64_t expire_in = 0, delete_in = 0;
};

// Runs `body` on a store for the flags' shard; its error, if any, is the
// command's ("Error: …", exit 1).
int with_store(const client_flags& flags, const std::function<error(istore&)>& body) {
  std::shared_ptr<net::remote_client> client;
  if (error e = make_client(flags, client); !e.ok()) return bad_usage(e.message());
  net::remote_store store(client, flags.shard);
  if (error e = body(store); !e.ok()) return fail(e.to_string());
  return 0;
}

void add_store_command(CLI::App& kv, const client_flags& flags, kv_args& args, int& exit_code, const char* name,
                       const char* help, int positionals, std::function<error(istore&, const kv_args&)> body) {
  CLI::App* cmd = kv.add_subcommand(name, help);
  cmd->add_option("key", args.key, "The key")->required();
  if (positionals >= 2) cmd->add_option("value", args.value, "The value")->required();
  if (positionals >= 4) {
    cmd->add_option("expireIn", args.expire_in, "Writes until the value expires (0: never)")->required();
    cmd->add_option("deleteIn", args.delete_in, "Writes until the key is deleted (0: never)")->required();
  }
  cmd->callback([&flags, &args, &exit_code, body] {
    exit_code = with_store(flags, [&](istore& store) { return body(store, args); });
  });
}

error print_write(const write_result& r, const char* done) {
  if (r.err.ok()) std::printf("%s successfully\n", done);
  return r.err;
}

}  // namespace

void add_kv_command(CLI::App& app, int& exit_code) {
  CLI::App* kv = app.add_subcommand("kv", "Key-value operations against a dkv server");
  kv->require_subcommand(1);
  kv->fallthrough();  // the client flags may follow the subcommand, as with dKV
  static client_flags flags;
  static kv_args args;
  add_client_flags(*kv, flags, 100);
  add_store_command(*kv, flags, args, exit_code, "set", "Set a key", 2,
                    [](istore& s, const kv_args& a) { return print_write(s.Set(a.key, a.value), "set"); });
  add_store_command(*kv, flags, args, exit_code, "setE", "Set a key with an expiry and a deletion", 4,
                    [](istore& s, const kv_args& a) {
                      return print_write(s.SetE(a.key, a.value, a.expire_in, a.delete_in), "setE");
                    });
  add_store_command(*kv, flags, args, exit_code, "setEIfUnset", "SetE unless the key holds a live value", 4,
                    [](istore& s, const kv_args& a) {
                      return print_write(s.SetEIfUnset(a.key, a.value, a.expire_in, a.delete_in), "setEIfUnset");
                    });
  add_store_command(*kv, flags, args, exit_code, "expr", "Expire a key's value (Has stays true)", 1,
                    [](istore& s, const kv_args& a) { return print_write(s.Expire(a.key), "expire"); });
  add_store_command(*kv, flags, args, exit_code, "del", "Delete a key", 1,
                    [](istore& s, const kv_args& a) { return print_write(s.Delete(a.key), "delete"); });
  add_store_command(*kv, flags, args, exit_code, "delIfValue", "Delete a key if it holds the value (dkv)", 2,
                    [](istore& s, const kv_args& a) {
                      const delete_if_value_result r = s.DeleteIfValue(a.key, a.value);
                      if (r.err.ok()) std::printf("key=%s, deleted=%s\n", a.key.c_str(), r.deleted ? "true" : "false");
                      return r.err;
                    });
  add_store_command(*kv, flags, args, exit_code, "get", "Get a key's value", 1, [](istore& s, const kv_args& a) {
    const get_result r = s.Get(a.key);
    if (r.err.ok())
      std::printf("key=%s, found=%s, resp=%s\n", a.key.c_str(), r.found ? "true" : "false", r.value.c_str());
    return r.err;
  });
  add_store_command(*kv, flags, args, exit_code, "has", "Whether a key exists", 1, [](istore& s, const kv_args& a) {
    const has_result r = s.Has(a.key);
    if (r.err.ok()) std::printf("key=%s, found=%s\n", a.key.c_str(), r.found ? "true" : "false");
    return r.err;
  });
  CLI::App* info = kv->add_subcommand("info", "The shard's store: engine, size, write index (dkv)");
  info->callback([&exit_code] {
    exit_code = with_store(flags, [](istore& s) {
      const db_info_result r = s.GetDBInfo();
      if (!r.err.ok()) return r.err;
      std::printf("engine=%s, size_bytes=%llu\n", r.info.engine.c_str(),
                  static_cast<unsigned long long>(r.info.size_bytes));
      for (const auto& [name, value] : r.info.metadata) std::printf("%s=%s\n", name.c_str(), value.c_str());
      return error{};
    });
  });
  add_kv_perf_command(*kv, flags, exit_code);
}

void add_lock_command(CLI::App& app, int& exit_code) {
  CLI::App* lock = app.add_subcommand("lock", "Lock operations against a dkv server");
  lock->require_subcommand(1);
  lock->fallthrough();
  static client_flags flags;
  static std::string key, owner_hex;
  static std::uint64_t lock_timeout = 30;
  add_client_flags(*lock, flags, 200);
  const auto with_locks = [](const std::function<error(net::remote_lock_manager&)>& body) {
    std::shared_ptr<net::remote_client> client;
    if (error e = make_client(flags, client); !e.ok()) return bad_usage(e.message());
    net::remote_lock_manager locks(client, flags.shard);
    if (error e = body(locks); !e.ok()) return fail(e.to_string());
    return 0;
  };
  CLI::App* acquire = lock->add_subcommand("acquire", "Acquire a lock; prints the owner id to release it with");
  acquire->add_option("key", key, "The lock's key")->required();
  // dKV's name: on acquire, --timeout is the lock's (in store writes, not seconds).
  acquire->add_option("--timeout", lock_timeout, "Store writes until the lock is dropped (0: never)")
      ->capture_default_str();
  acquire->callback([&exit_code, with_locks] {
    exit_code = with_locks([](net::remote_lock_manager& locks) {
      const lock_acquire_result r = locks.AcquireLock(key, lock_timeout);
      if (!r.err.ok()) return error(r.err.code(), "failed to acquire lock: " + r.err.message());
      if (r.acquired)
        std::printf("acquired=true, ownedId=%s, index=%llu\n", hex(r.owner_id).c_str(),
                    static_cast<unsigned long long>(r.index));
      else
        std::printf("acquired=false\n");
      return error{};
    });
  });
  CLI::App* release = lock->add_subcommand("release", "Release a lock held under an owner id");
  release->add_option("key", key, "The lock's key")->required();
  release->add_option("ownerID", owner_hex, "The owner id acquire printed (hex)")->required();
  release->callback([&exit_code, with_locks] {
    std::string owner;
    if (!unhex(owner_hex, owner)) {
      exit_code = fail("invalid owner ID format: expected hex digits");
      return;
    }
    exit_code = with_locks([&owner](net::remote_lock_manager& locks) {
      const lock_release_result r = locks.ReleaseLock(key, owner);
      if (!r.err.ok()) return error(r.err.code(), "failed to release lock: " + r.err.message());
      std::printf("released=%s\n", r.released ? "true" : "false");
      return error{};
    });
  });
}

}  // namespace dkv::tools
