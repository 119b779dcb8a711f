#pragma once
// How a replica is configured. Time is counted in ticks: the shell calls
// replica::tick() at a fixed period of its choosing (the simulator's virtual
// clock or a real timer).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "store/raft/types.hpp"

namespace dkv::raft {

struct options {
  node_id id = no_node;
  // The founding voters, used only when the durable state holds no
  // membership yet (a brand-new cluster). A node joining a running cluster
  // leaves this empty and learns its membership from the leader.
  std::vector<node_id> initial_voters;

  // A follower that hears no leader for a random number of ticks in
  // [election_ticks, 2 * election_ticks) starts an election.
  std::uint32_t election_ticks = 10;
  std::uint32_t heartbeat_ticks = 1;
  // Ask "would you vote for me?" before bumping the term, so a node that
  // rejoins from a partition does not depose a healthy leader.
  bool pre_vote = true;
  // A leader that has not heard from a quorum within an election timeout
  // steps down; a follower that heard a leader within the minimum election
  // timeout ignores candidates (the leader's lease).
  bool check_quorum = true;

  // Flow control per follower: entries per append message (bytes), appends
  // in flight (messages and bytes) before the leader waits for replies.
  // A small window batches under load: the proposals that arrive while it is
  // full leave in one append when a reply frees a slot. With 4, a saturated
  // simulated cluster sends 4.6 messages per client operation instead of 5.2
  // (bench/sim/cluster_bench), and a follower still has several appends
  // coming while it syncs the last.
  std::size_t max_append_bytes = 1 << 20;
  std::size_t max_inflight_messages = 4;
  std::size_t max_inflight_bytes = 32 << 20;
  // Snapshots travel in chunks of this many bytes.
  std::size_t snapshot_chunk_bytes = 1 << 20;
  // A proposal's payload may not exceed this (the caller gets `too_large`).
  std::size_t max_payload_bytes = 64 << 20;
  // A learner is promoted once its match index is within this many entries
  // of the leader's last index.
  index_t catch_up_entries = 64;
};

}  // namespace dkv::raft
