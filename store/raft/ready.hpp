#pragma once
// What a replica hands its shell: work to do, in this order.
//
// 1. If `lost` says why, set the repair-needed marker (durably, first); then
//    persist `identity` when it changed, `snapshot`, then `entries` (which replace any stored entries
//    from entries.front().index on), then `state`, durably; then call
//    replica::persisted(sequence). Readies are persisted in order. The
//    state goes last because its commit index may cover the new entries: a
//    crash between the two must not leave a commit index over old ones.
//    A `state` without a sequence moved only the commit index: write it,
//    but it needs no sync of its own and no persisted() — nothing relies on
//    the commit index being durable (a restarted node learns it again from
//    the leader), so it becomes durable with the next sync. (etcd's raft
//    does not sync for it either: raft.MustSync.) Under load every commit
//    would otherwise cost each member a sync.
// 2. Send `messages` — at once: the replica holds back any message that
//    depends on state not yet durable and releases it after persisted().
// 3. Install `snapshot` into the state machine (it is committed), then
//    apply `committed` in order. These never run ahead of the local disk.
// 4. Serve each read in `reads` once the state machine has applied its
//    index; answer each of `failed_reads` "not served, try the leader".

#include <cstdint>
#include <optional>
#include <vector>

#include <string>

#include "store/raft/identity.hpp"
#include "store/raft/message.hpp"
#include "store/raft/types.hpp"

namespace dkv::raft {

struct read_state {
  std::uint64_t id = 0;  // the caller's request id
  index_t index = 0;     // serve once applied >= index
};

struct ready {
  std::uint64_t sequence = 0;  // 0: nothing to persist
  std::optional<raft::snapshot> snapshot;
  std::optional<hard_state> state;
  std::vector<entry> entries;
  // Non-empty: a peer knew this member by another incarnation, so its
  // storage was lost, and it must repair before it votes (identity.hpp).
  // The marker stays until `repaired`.
  std::string lost;
  std::optional<raft::identity> identity;

  std::vector<message> messages;
  std::vector<entry> committed;
  std::vector<read_state> reads;
  std::vector<std::uint64_t> failed_reads;
  // The replica has caught up after damaged storage: the shell may clear
  // its repair-needed marker (a crash before that repairs again, harmlessly).
  bool repaired = false;

  bool must_persist() const noexcept { return sequence != 0; }
  bool empty() const noexcept {
    return sequence == 0 && !state && messages.empty() && committed.empty() && reads.empty() && failed_reads.empty() &&
           !repaired;
  }
};

}  // namespace dkv::raft
