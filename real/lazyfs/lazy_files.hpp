#pragma once
// Every open handle and every file's overlay: what dkv-lazyfs keeps between
// a write and the fsync that makes it durable, and the power loss that drops
// it. Works on backing descriptors only (no paths, no FUSE), so the tests
// drive it on a temporary directory.
//
// Files are known by their backing inode (device, inode number), not by
// name: a rename carries the unsynced bytes along for nothing, hard links
// share them, and a file unlinked while open keeps them for its handles.
// Each overlay holds a writable descriptor of its own (a dup of the handle
// that first dirtied it): the write-back needs one even after that handle
// closed, and holding it keeps the inode from being freed and its number
// reused while the overlay names it.
//
// One mutex guards everything, held for the whole of each call, except
// across the backing file's fsync(2): a sync writes the overlay back under
// the lock (the data then is in the backing file), and fsyncs after it, so
// writes to other files go on meanwhile.

#include <sys/stat.h>
#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "real/lazyfs/control.hpp"
#include "real/lazyfs/overlay.hpp"

namespace dkv::lazyfs {

struct file_key {
  dev_t device;
  ino_t inode;
  auto operator<=>(const file_key&) const = default;
};
inline file_key key_of(const struct stat& st) { return {st.st_dev, st.st_ino}; }

struct lazy_stats {
  std::uint64_t dirty_files = 0;  // files whose view differs from the backing file
  std::uint64_t dirty_bytes = 0;  // bytes held in their dirty extents
  std::uint64_t open_handles = 0;
  std::uint64_t write_backs = 0;  // overlays written to their backing file (fsync, sync-all, unmount)
  std::uint64_t written_back_bytes = 0;
  std::uint64_t power_losses = 0;
  std::uint64_t lost_files = 0;       // files that had unsynced data at a power loss
  std::uint64_t lost_bytes = 0;       // the dirty bytes they held (a torn write's kept prefix included)
  std::uint64_t torn_files = 0;       // of those, the ones a tear wrote a part of
  std::uint64_t torn_bytes_kept = 0;  // what the tears wrote
};
// "name value" lines, the control file's read.
std::string format_stats(const lazy_stats& stats);

class lazy_files {
 public:
  lazy_files() = default;
  // Closes every descriptor. Writes nothing back: the owner calls sync_all()
  // for a clean unmount.
  ~lazy_files();
  lazy_files(const lazy_files&) = delete;
  lazy_files& operator=(const lazy_files&) = delete;

  // Each call returns 0 (or a count) on success, -errno on failure.

  // A new handle on backing descriptor `fd` (taken: closed at release, or
  // now on failure), opened with the access mode of `open_flags` but without
  // O_APPEND (appends go to the view's end, not the backing file's) and
  // without O_TRUNC (applied here, to the view: lazily, like a write).
  // O_APPEND, O_SYNC and O_DSYNC in `open_flags` govern the handle's writes.
  int open(int fd, int open_flags, std::uint64_t& id);
  int release(std::uint64_t id);
  std::int64_t read(std::uint64_t id, std::uint64_t offset, char* into, std::size_t length);
  std::int64_t write(std::uint64_t id, std::uint64_t offset, std::string_view bytes);
  int truncate(std::uint64_t id, std::uint64_t size);
  // truncate(2) by name: `fd` is a writable descriptor of the file, taken.
  int truncate_descriptor(int fd, std::uint64_t size);
  // fsync(2) / fdatasync(2) of the handle's file: the overlay (whichever
  // handle wrote it) reaches the backing file, which is then synced.
  int sync(std::uint64_t id, bool data_only);
  // fstat(2) of the handle's file, its size the view's.
  int stat(std::uint64_t id, struct stat& st);
  // The handle's backing descriptor (for fchmod and the like), or -EBADF.
  int descriptor(std::uint64_t id);
  // Sets a backing file's stat to its view's size.
  void adjust(struct stat& st);
  // A name of the file went (unlink, or a rename over it): if it has no name
  // and no handle left, nobody can see its overlay any more; it is dropped.
  void unlinked(file_key key);

  // Writes every overlay back and fsyncs it; the first failure.
  int sync_all();
  // Power loss: every overlay is dropped, after (unless `tear` is none) each
  // file had, with `probability`, a random prefix of its last unsynced write
  // or of its dirty bytes written back (control.hpp). Files are taken in the
  // order they became dirty, so the same seed tears the same way for the
  // same sequence of writes.
  void lose_unsynced(tear_kind tear, std::uint64_t seed, double probability);
  // Runs a control command; 0 or -errno.
  int run(const command& c);
  lazy_stats stats();

 private:
  struct handle {
    int fd;
    file_key key;
    int flags;  // as opened
  };
  struct dirty_file {
    overlay view;
    int fd;               // writable, owned
    std::uint64_t order;  // when it became dirty, for a reproducible tear
  };

  // The handle's overlay, made on first need; nullptr with `err` set if the
  // handle cannot write (a write-back would need it to).
  dirty_file* dirty_for(const handle& h, int& err);
  // Forgets a clean overlay (nothing left to write back).
  void drop_if_clean(file_key key);
  void drop(std::map<file_key, dirty_file>::iterator it);
  // Writes the overlay back; on success forgets it (the caller syncs).
  int write_back(std::map<file_key, dirty_file>::iterator it);
  bool has_name_or_handle(file_key key, int fd);

  std::mutex mutex_;
  std::map<std::uint64_t, handle> handles_;
  std::map<file_key, int> open_counts_;
  std::map<file_key, dirty_file> dirty_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_order_ = 0;
  lazy_stats counters_;  // the cumulative ones; the rest is computed
};

}  // namespace dkv::lazyfs
