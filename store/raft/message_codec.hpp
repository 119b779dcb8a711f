#pragma once
// Raft messages as bytes: what travels between nodes, over the simulated
// network (which round-trips it through CAF's serializer) or a real socket.
// A small versioned format of our own keeps the core free of CAF and gives
// the transport, the trace hash and flow control real byte counts.
//
//   u8 version | u8 type | u8 flags | u64 from, to, term, log_index, log_term,
//   commit, hint_index, hint_term, leader_last, repair_epoch, context, offset |
//   snapshot: u64 index, u64 term, u32-prefixed membership |
//   u32-prefixed data | entries (entry_codec.hpp; they follow log_index)

#include <string>
#include <string_view>

#include "store/raft/message.hpp"

namespace dkv::raft {

inline constexpr std::uint8_t message_codec_version = 1;

void encode_message(const message& m, std::string& out);
// False when the bytes are not a well-formed message (the replica then also
// checks the message's sense: replica::step ignores malformed ones).
bool decode_message(std::string_view bytes, message& out);

}  // namespace dkv::raft
