#pragma once
// Who this member is, and whom it has met: what lets a cluster tell a member
// that restarted from its disk from one whose disk was lost.
//
// A member draws an incarnation (a random nonzero number) the first time it
// starts on empty storage, and introduces itself to every other voter, which
// records the incarnation before it answers. It neither votes nor counts
// toward a quorum until every other voter has answered. So once a member has
// voted or acknowledged anything, every voter knows its incarnation, and a
// member that comes back empty — with a new incarnation — meets at least one
// voter that knew another: it learns that it forgot, and repairs from a
// leader before it votes again (replica::repairing()). Without this, an empty
// member votes as if it remembered, and with one other member that missed
// the latest writes it elects a leader that never had them (docs/durability.md).
//
// File (rewritten whole, through a new file and a rename, when it changes):
//   "DKVI" | u64 incarnation | u8 introduced | u32 n | n x u64 member met |
//   u32 k | k x (u64 member, u64 its incarnation) | u64 XXH3-64 of the rest

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/error.hpp"
#include "store/raft/types.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::raft {

struct identity {
  std::uint64_t incarnation = 0;     // 0: none yet (a brand-new member, or one whose storage was lost)
  bool introduced = false;           // every other voter has recorded the incarnation
  std::vector<node_id> met;          // the members that have recorded it, sorted
  std::vector<std::pair<node_id, std::uint64_t>> known;  // other members' incarnations, sorted by member

  bool has_met(node_id id) const noexcept;
  void note_met(node_id id);
  // The incarnation recorded for `id` (0: none).
  std::uint64_t known_as(node_id id) const noexcept;
  void note_known(node_id id, std::uint64_t incarnation);
  friend bool operator==(const identity&, const identity&) = default;
};

class identity_file {
 public:
  static constexpr const char* name = "raft-identity";

  // Reads the identity in `fs`: none (incarnation 0) when the file is absent.
  // A file that does not check out is reported in `problem` and read as none:
  // the member then introduces itself anew, and its peers tell it what it lost.
  static error read(dkv::storage::file_system& fs, identity& out, std::string& problem);
  // Replaces the file with `id`, durably, when this returns.
  static error write(dkv::storage::file_system& fs, const identity& id);
};

}  // namespace dkv::raft
