#pragma once
// Membership: who votes, who only listens, and how a configuration travels
// in the log. Every config entry carries the whole resulting membership, so
// the configuration at any point is simply the latest one in the log (or the
// snapshot's). The leader changes one server at a time (Raft thesis §4.1).

#include <optional>
#include <string>
#include <string_view>

#include "store/raft/types.hpp"

namespace dkv::raft {

std::string encode_membership(const membership& config);
// None when the bytes are not a well-formed membership.
std::optional<membership> decode_membership(std::string_view bytes);

enum class change_kind : std::uint8_t {
  add_server,   // joins as a learner; promoted to voter once caught up
  add_learner,  // joins and stays a learner
  remove,       // leaves (a voter or a learner)
};

// The membership after one change, or none when the change does not apply
// (adding a member, removing a stranger, removing the last voter).
std::optional<membership> apply_change(const membership& config, change_kind kind, node_id id);
// The learner `id` becomes a voter.
membership promote(const membership& config, node_id id);

}  // namespace dkv::raft
