#pragma once
// What dstore puts in the replicated log: commands of the state machine.
//
//   u8 version (1) | u8 type
//   open_session:  nothing more; the session id is the entry's log index
//   client_write:  u64 session | u64 sequence | u64 lowest unanswered |
//                  u8 write kind | u64 expireIn | u64 deleteIn | u32+key | u32+value
//
// Raft's own entries (leader no-ops, membership changes) never reach this
// codec. Decoding checks every length and value: a malformed entry is an
// error, never a crash.

#include <cstdint>
#include <string>
#include <string_view>

#include "store/command.hpp"

namespace dkv::replicated {

inline constexpr std::uint8_t log_command_version = 1;

enum class log_command_type : std::uint8_t { open_session = 1, client_write = 2 };

struct client_write {
  std::uint64_t session = 0;
  std::uint64_t sequence = 0;
  // The client's lowest sequence number still waiting for an answer: results
  // below it can be forgotten and nothing below it is ever applied.
  std::uint64_t lowest_unanswered = 0;
  write_command command;
};

struct log_command {
  log_command_type type = log_command_type::open_session;
  client_write write;  // for client_write; views into the decoded bytes
};

void encode_open_session(std::string& out);
void encode_client_write(const client_write& write, std::string& out);
error decode_log_command(std::string_view bytes, log_command& out);

}  // namespace dkv::replicated
