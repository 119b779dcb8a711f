#pragma once
// The write-ahead log: typed, checksummed records appended to numbered
// segment files ("wal-<number>.log") on a file_system. It knows nothing of
// Raft; the replica's storage decides what the record types mean.
//
// Record layout (little-endian):
//   u32 payload size | u8 type | 3 zero bytes | u64 payload checksum | u64 header checksum | payload
// Both checksums are XXH3-64 seeded with the segment number, so a record
// copied into the wrong segment does not verify either.
//
// Recovery reads the segments in order and tells two failures apart:
//   - a torn tail: the last segment ends inside a record (a header or payload
//     cut short). Those bytes were never synced; they are cut off and
//     recovery succeeds.
//   - damage: a complete record whose checksum does not verify (after
//     re-reading, since a read can fail transiently), or any defect before the
//     last segment's end. Synced data may be gone, so the log reports it and
//     leaves a "repair-needed" marker that persists until clear_damage():
//     the node must not vote or count toward a quorum before its peers have
//     repaired it. The damaged tail is cut so that appends continue cleanly.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/storage/file_system.hpp"

namespace dkv::storage {

struct wal_record {
  std::uint64_t segment = 0;
  std::uint8_t type = 0;
  std::string payload;
};

struct wal_recovery {
  std::vector<wal_record> records;  // every valid record, in append order
  bool damaged = false;             // synced data may be lost: repair before voting
  std::string problem;              // what was found, for the log and the operator
  std::uint64_t torn_bytes = 0;     // cut off the last segment's tail
};

struct wal_options {
  std::uint64_t segment_bytes = 64 << 20;     // rotate once a segment grows past this
  std::uint32_t max_record_bytes = 1u << 30;  // a larger payload is refused (and on recovery, damage)
};

class wal {
 public:
  static constexpr std::size_t header_size = 24;

  // Recovers the log in `fs` and opens it for appending after the last valid record.
  static error open(file_system& fs, const wal_options& options, std::unique_ptr<wal>& out, wal_recovery& recovered);

  // Appends a record; durable only after sync(). May rotate to a new segment
  // (syncing the old one first).
  error append(std::uint8_t type, std::string_view payload);
  error sync();

  // Syncs, then continues in a new, empty segment; returns its number.
  error rotate(std::uint64_t& new_segment);
  std::uint64_t current_segment() const noexcept { return segment_; }
  // Every live segment, ascending (the first one the oldest).
  const std::vector<std::uint64_t>& segments() const noexcept { return segments_; }
  // The segment appends go to now. Its sync makes every record appended
  // before the sync began durable (rotation syncs a segment before leaving
  // it), so a shell may sync it on a thread of its own while appends go on.
  std::shared_ptr<file> current_file() const noexcept { return file_; }
  // Drops whole segments numbered below `segment` (after a snapshot covers them).
  error remove_segments_before(std::uint64_t segment);

  // Whether the repair-needed marker is set, and clearing it once the node's
  // peers have brought it back to a state it can vouch for.
  bool damaged() const noexcept { return damaged_; }
  error clear_damage();
  // Sets the marker (durably, when this returns): the node must repair.
  error mark_damaged();

  static std::string segment_name(std::uint64_t segment);

 private:
  wal(file_system& fs, wal_options options) : fs_(fs), options_(options) {}
  error start_segment(std::uint64_t segment);

  file_system& fs_;
  wal_options options_;
  std::shared_ptr<file> file_;  // shared with a sync under way elsewhere
  std::uint64_t segment_ = 0;
  std::vector<std::uint64_t> segments_;  // every live segment, ascending
  bool damaged_ = false;
  std::string pending_;  // reused record buffer
};

}  // namespace dkv::storage
