#pragma once
// The messages replicas exchange. One flat struct keeps the core simple and
// copying cheap: fields a type does not use stay at their defaults (the
// entries vector and the payload allocate nothing when empty).

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/raft/types.hpp"

namespace dkv::raft {

enum class rpc_type : std::uint8_t {
  pre_vote,  // "would you vote for me at term+1?" — changes no one's term
  pre_vote_reply,
  vote,  // a real election at `term`
  vote_reply,
  append,        // entries after (log_index, log_term), and the leader's commit
  append_reply,  // success: `log_index` is the match; reject: hint_index/hint_term
  heartbeat,     // commit index and a read-index round (`context`)
  heartbeat_reply,
  snapshot_chunk,  // bytes [offset, offset + data.size()) of snapshot `snap`
  snapshot_reply,  // `offset`: bytes received so far; reject: the follower gave up
  timeout_now,     // leadership transfer: campaign now, skipping pre-vote
  introduce,       // "I am `context`" (an incarnation: identity.hpp); any term
  introduce_reply, // recorded; `offset`: the incarnation known before (0: none), `reject` when it differs
};

std::string_view rpc_name(rpc_type type) noexcept;

struct message {
  rpc_type type = rpc_type::heartbeat;
  node_id from = no_node;
  node_id to = no_node;
  term_t term = 0;

  // vote, pre_vote: the candidate's last log entry. append: the entry the new
  // ones follow. append_reply: the follower's match on success.
  index_t log_index = 0;
  term_t log_term = 0;
  index_t commit = 0;
  std::vector<entry> entries;

  bool reject = false;
  // append, heartbeat, snapshot_chunk: the leader's last index — how far a
  // follower repairing damaged storage must catch up.
  index_t leader_last = 0;
  // append_reply on reject: the follower's conflicting term and the first index
  // it holds of that term (hint_term 0: its log ends before hint_index).
  index_t hint_index = 0;
  term_t hint_term = 0;

  // vote: the election was started by a leadership transfer (bypasses leases).
  bool transfer = false;
  // Repair after damaged storage. append_reply / heartbeat_reply: nonzero
  // while the sender repairs (it must not count toward a quorum), naming
  // this repair. append / heartbeat / snapshot_chunk: the leader echoes the
  // name it last heard, so the follower knows the message was sent after
  // its restart and its leader_last covers all it may have acknowledged.
  std::uint64_t repair_epoch = 0;
  // heartbeat / heartbeat_reply: the read-index round being confirmed.
  // introduce / introduce_reply: the incarnation introduced.
  std::uint64_t context = 0;

  // snapshot_chunk / snapshot_reply
  snapshot_meta snap;
  std::uint64_t offset = 0;
  payload data;
  bool done = false;
};

}  // namespace dkv::raft
