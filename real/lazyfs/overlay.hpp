#pragma once
// The unsynced state of one file, as a page cache holds it: the bytes written
// since the last write-back (dirty extents), a truncation not yet written
// back, and the file's size as the writer sees it. Plain C++, no FUSE and no
// system calls: the backing file is reached through backing_file, so the
// tests drive it against a string.
//
// The file as seen through the overlay ("the view"), byte by byte at offset x:
//   x >= size()            : past the end
//   x inside a dirty extent: the extent's byte
//   x < cut                : the backing file's byte
//   otherwise              : zero (a hole left by a write past the end, or
//                            what a truncation down and up again cleared)
// where cut is the backing file's size lowered by every truncation since the
// last write-back. cut <= size() always holds.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dkv::lazyfs {

// The durable file under an overlay. Each call returns 0 or -errno.
class backing_file {
 public:
  virtual ~backing_file() = default;
  // Fills `length` bytes at `offset`; zeros for what lies past the file's end.
  virtual int read(std::uint64_t offset, char* into, std::size_t length) = 0;
  virtual int write(std::uint64_t offset, std::string_view bytes) = 0;
  virtual int truncate(std::uint64_t size) = 0;
};

class overlay {
 public:
  // Over a backing file of `backing_size` bytes, nothing dirty yet.
  explicit overlay(std::uint64_t backing_size) : backing_size_(backing_size), cut_(backing_size), size_(backing_size) {}

  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t backing_size() const noexcept { return backing_size_; }
  // Whether the view differs from the backing file (a write-back has work).
  bool dirty() const noexcept { return !extents_.empty() || cut_ < backing_size_ || size_ != backing_size_; }
  // Bytes held in dirty extents.
  std::uint64_t dirty_bytes() const noexcept;
  std::size_t extent_count() const noexcept { return extents_.size(); }

  // pwrite(2) into the view: may extend the file, leaving a hole of zeros.
  void write(std::uint64_t offset, std::string_view bytes);
  // ftruncate(2) of the view, down or up.
  void truncate(std::uint64_t size);
  // pread(2) of the view: up to `length` bytes at `offset` (fewer at the end)
  // into `into`; the count, or -errno from the backing file.
  std::int64_t read(std::uint64_t offset, char* into, std::size_t length, backing_file& backing) const;

  // Makes the backing file equal to the view (the truncation, the extents,
  // the size); 0 or the first -errno. Call synced() once it succeeded.
  int write_back(backing_file& backing) const;
  // The backing file now equals the view: nothing is dirty any more.
  void synced();

  // The last write since the last write-back, as far as truncations left it:
  // what a power loss may tear. Empty if there was none (or none is left).
  struct span {
    std::uint64_t offset;
    std::uint64_t length;
  };
  std::optional<span> last_write() const noexcept { return last_write_; }
  // Writes the first `keep` bytes of last_write() (clamped to its length) to
  // the backing file, as a disk that lost power midway through it; 0 or -errno.
  int write_torn_prefix(std::uint64_t keep, backing_file& backing) const;

  // From the first dirty byte to the last (holes between extents included);
  // empty if no byte is dirty.
  std::optional<span> dirty_span() const noexcept;
  // Writes the dirty bytes of the first `keep` bytes of dirty_span() to the
  // backing file, as a disk that wrote the file's dirty pages in offset order
  // and lost power midway (for appends: a prefix of what was appended, a torn
  // tail). Truncations are not applied: they are lost. 0 or -errno.
  int write_dirty_prefix(std::uint64_t keep, backing_file& backing) const;

 private:
  std::uint64_t extent_end(std::map<std::uint64_t, std::string>::const_iterator it) const {
    return it->first + it->second.size();
  }

  std::uint64_t backing_size_;  // the backing file's size at the last write-back
  std::uint64_t cut_;           // backing bytes at or past it are not in the view
  std::uint64_t size_;
  // Offset -> bytes; never overlapping nor touching (a write that touches an
  // extent merges with it), all inside [0, size_).
  std::map<std::uint64_t, std::string> extents_;
  std::optional<span> last_write_;
};

}  // namespace dkv::lazyfs
