#include "store/raft/message_codec.hpp"

#include "store/byte_io.hpp"
#include "store/raft/entry_codec.hpp"
#include "store/raft/membership.hpp"

namespace dkv::raft {

namespace {

enum flag : std::uint8_t { reject_flag = 1, transfer_flag = 2, done_flag = 4 };

}  // namespace

void encode_message(const message& m, std::string& out) {
  out.clear();
  byte_writer w(out);
  w.u8(message_codec_version);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.u8(static_cast<std::uint8_t>((m.reject ? reject_flag : 0) | (m.transfer ? transfer_flag : 0) |
                                 (m.done ? done_flag : 0)));
  for (std::uint64_t v : {m.from, m.to, m.term, m.log_index, m.log_term, m.commit, m.hint_index, m.hint_term,
                          m.leader_last, m.repair_epoch, m.context, m.offset})
    w.u64(v);
  w.u64(m.snap.index);
  w.u64(m.snap.term);
  w.bytes(m.snap.index == 0 ? std::string() : encode_membership(m.snap.config));
  w.bytes(m.data.view());
  put_entries(w, m.entries);
}

bool decode_message(std::string_view bytes, message& m) {
  byte_reader r(bytes);
  std::uint8_t version = 0, type = 0, flags = 0;
  if (!r.u8(version) || version != message_codec_version || !r.u8(type) ||
      type > static_cast<std::uint8_t>(rpc_type::introduce_reply) || !r.u8(flags))
    return false;
  m = message{};
  m.type = static_cast<rpc_type>(type);
  m.reject = flags & reject_flag;
  m.transfer = flags & transfer_flag;
  m.done = flags & done_flag;
  for (std::uint64_t* v : {&m.from, &m.to, &m.term, &m.log_index, &m.log_term, &m.commit, &m.hint_index, &m.hint_term,
                           &m.leader_last, &m.repair_epoch, &m.context, &m.offset})
    if (!r.u64(*v)) return false;
  std::string_view config, data;
  if (!r.u64(m.snap.index) || !r.u64(m.snap.term) || !r.bytes(config) || !r.bytes(data)) return false;
  if (m.snap.index != 0) {
    auto decoded = decode_membership(config);
    if (!decoded) return false;
    m.snap.config = std::move(*decoded);
  }
  m.data = payload::copy_of(data);
  return get_entries(r, m.log_index + 1, m.entries) && r.remaining() == 0;
}

}  // namespace dkv::raft
