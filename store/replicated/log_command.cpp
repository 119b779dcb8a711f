#include "store/replicated/log_command.hpp"

#include "store/byte_io.hpp"

namespace dkv::replicated {

void encode_open_session(std::string& out) {
  out.clear();
  byte_writer w(out);
  w.u8(log_command_version);
  w.u8(static_cast<std::uint8_t>(log_command_type::open_session));
}

void encode_client_write(const client_write& write, std::string& out) {
  out.clear();
  out.reserve(2 + 3 * 8 + 1 + 2 * 8 + 8 + write.command.key.size() + write.command.value.size());
  byte_writer w(out);
  w.u8(log_command_version);
  w.u8(static_cast<std::uint8_t>(log_command_type::client_write));
  w.u64(write.session);
  w.u64(write.sequence);
  w.u64(write.lowest_unanswered);
  w.u8(static_cast<std::uint8_t>(write.command.kind));
  w.u64(write.command.expire_in);
  w.u64(write.command.delete_in);
  w.bytes(write.command.key);
  w.bytes(write.command.value);
}

error decode_log_command(std::string_view bytes, log_command& out) {
  auto malformed = [](const char* why) { return invalid_operation(std::string("malformed log command: ") + why); };
  byte_reader r(bytes);
  std::uint8_t version, type;
  if (!r.u8(version) || !r.u8(type)) return malformed("truncated header");
  if (version != log_command_version) return malformed("unknown version");
  if (type == static_cast<std::uint8_t>(log_command_type::open_session)) {
    if (!r.done()) return malformed("trailing bytes");
    out.type = log_command_type::open_session;
    return {};
  }
  if (type != static_cast<std::uint8_t>(log_command_type::client_write)) return malformed("unknown type");
  client_write& w = out.write;
  std::uint8_t kind;
  if (!r.u64(w.session) || !r.u64(w.sequence) || !r.u64(w.lowest_unanswered) || !r.u8(kind) ||
      !r.u64(w.command.expire_in) || !r.u64(w.command.delete_in) || !r.bytes(w.command.key) ||
      !r.bytes(w.command.value))
    return malformed("truncated client write");
  if (!is_write_code(kind)) return malformed("unknown write kind");
  if (!r.done()) return malformed("trailing bytes");
  w.command.kind = static_cast<operation_kind>(kind);
  out.type = log_command_type::client_write;
  return {};
}

}  // namespace dkv::replicated
