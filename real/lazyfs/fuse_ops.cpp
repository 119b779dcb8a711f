#define FUSE_USE_VERSION 31
#include "real/lazyfs/fuse_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace dkv::lazyfs {

namespace {

// Control handles are told from file handles (lazy_files' ids, counting
// from 1) by this bit.
constexpr std::uint64_t control_bit = 1ULL << 63;

mount_state& state() { return *static_cast<mount_state*>(fuse_get_context()->private_data); }
int backing() { return state().backing_dir; }

// A mount path ("/a/b") as a path relative to the backing directory.
const char* relative(const char* path) { return path[1] != '\0' ? path + 1 : "."; }

bool is_control(const char* path) { return path && path[0] == '/' && std::strcmp(path + 1, control_name) == 0; }
bool is_control(const fuse_file_info* fi) { return fi && (fi->fh & control_bit); }

struct dir_handle {
  DIR* dir;
  bool root;  // the control file hides in the root's listing
};

// --- the control file ---

void control_stat(struct stat* st) {
  *st = {};
  st->st_mode = S_IFREG | 0600;
  st->st_nlink = 1;
  st->st_uid = ::getuid();
  st->st_gid = ::getgid();
  // Size 0, like /proc's files: readers read to the end (direct I/O), and
  // the text is made at each open.
  st->st_size = 0;
}

int control_open(fuse_file_info* fi) {
  mount_state& s = state();
  std::string text = format_stats(s.files.stats());
  std::lock_guard<std::mutex> guard(s.control_mutex);
  const std::uint64_t id = control_bit | s.next_control++;
  s.control_reads[id] = std::move(text);
  fi->fh = id;
  fi->direct_io = 1;
  return 0;
}

int control_read(char* buf, std::size_t size, off_t offset, fuse_file_info* fi) {
  mount_state& s = state();
  std::lock_guard<std::mutex> guard(s.control_mutex);
  const std::string& text = s.control_reads[fi->fh];
  if (offset < 0 || static_cast<std::size_t>(offset) >= text.size()) return 0;
  const std::size_t n = std::min(size, text.size() - static_cast<std::size_t>(offset));
  std::memcpy(buf, text.data() + offset, n);
  return static_cast<int>(n);
}

int control_write(const char* buf, std::size_t size) {
  mount_state& s = state();
  std::string error;
  const auto commands = parse_commands(std::string_view(buf, size), error);
  if (!commands) {
    std::fprintf(stderr, "dkv-lazyfs: %s\n", error.c_str());
    return -EINVAL;
  }
  for (const command& c : *commands) {
    const lazy_stats before = s.files.stats();
    if (const int err = s.files.run(c); err != 0) {
      std::fprintf(stderr, "dkv-lazyfs: command failed: %s\n", std::strerror(-err));
      return err;
    }
    if (c.what == command::kind::lose_unsynced) {
      const lazy_stats after = s.files.stats();
      std::fprintf(stderr, "dkv-lazyfs: power loss: dropped %llu unsynced bytes of %llu files, %llu files torn\n",
                   static_cast<unsigned long long>(after.lost_bytes - before.lost_bytes),
                   static_cast<unsigned long long>(after.lost_files - before.lost_files),
                   static_cast<unsigned long long>(after.torn_files - before.torn_files));
    }
  }
  return static_cast<int>(size);
}

// --- the operations ---

void* op_init(fuse_conn_info* conn, fuse_config* cfg) {
  // Inode numbers from the backing file system (stat shows the real ones).
  cfg->use_ino = 1;
  cfg->readdir_ino = 1;
  // Unlink removes the backing file at once, instead of libfuse's rename to
  // .fuse_hiddenNNN while it is open: such a file would outlive a power
  // loss (a kill) and show up in dkv's directory. Ops on open, unlinked
  // files then come without a path, through the handle.
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  // No kernel caching of names, attributes or data: a power loss changes
  // sizes and contents behind the kernel's back, and the next stat or read
  // must see that. Every read and write comes here (direct I/O).
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  // One request at a time per direct write, in order: an O_APPEND write cut
  // into several requests must not have them overtake each other.
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_ASYNC_DIO);
  return fuse_get_context()->private_data;
}

void op_destroy(void* data) {
  // A clean unmount: everything written reaches the backing files.
  if (const int err = static_cast<mount_state*>(data)->files.sync_all(); err != 0)
    std::fprintf(stderr, "dkv-lazyfs: writing back at unmount failed: %s\n", std::strerror(-err));
}

int op_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (is_control(fi) || (!fi && is_control(path))) {
    control_stat(st);
    return 0;
  }
  mount_state& s = state();
  if (fi) return s.files.stat(fi->fh, *st);
  if (::fstatat(s.backing_dir, relative(path), st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  s.files.adjust(*st);
  return 0;
}

int op_readlink(const char* path, char* buf, std::size_t size) {
  if (size == 0) return -EINVAL;
  const ssize_t n = ::readlinkat(backing(), relative(path), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int op_mknod(const char* path, mode_t mode, dev_t rdev) {
  if (is_control(path)) return -EEXIST;
  return ::mknodat(backing(), relative(path), mode, rdev) == 0 ? 0 : -errno;
}

int op_mkdir(const char* path, mode_t mode) {
  if (is_control(path)) return -EEXIST;
  return ::mkdirat(backing(), relative(path), mode) == 0 ? 0 : -errno;
}

int op_unlink(const char* path) {
  if (is_control(path)) return -EPERM;
  struct stat st;
  const bool known = ::fstatat(backing(), relative(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (::unlinkat(backing(), relative(path), 0) != 0) return -errno;
  if (known) state().files.unlinked(key_of(st));
  return 0;
}

int op_rmdir(const char* path) { return ::unlinkat(backing(), relative(path), AT_REMOVEDIR) == 0 ? 0 : -errno; }

int op_symlink(const char* target, const char* path) {
  if (is_control(path)) return -EEXIST;
  return ::symlinkat(target, backing(), relative(path)) == 0 ? 0 : -errno;
}

int op_rename(const char* from, const char* to, unsigned int flags) {
  if (is_control(from) || is_control(to)) return -EPERM;
  // A file the rename replaces loses a name; an exchange keeps both files.
  struct stat replaced;
  const bool replaces =
      !(flags & RENAME_EXCHANGE) && ::fstatat(backing(), relative(to), &replaced, AT_SYMLINK_NOFOLLOW) == 0;
  if (::renameat2(backing(), relative(from), backing(), relative(to), flags) != 0) return -errno;
  if (replaces) state().files.unlinked(key_of(replaced));
  return 0;
}

int op_link(const char* from, const char* to) {
  if (is_control(from) || is_control(to)) return -EPERM;
  return ::linkat(backing(), relative(from), backing(), relative(to), 0) == 0 ? 0 : -errno;
}

// The handle's backing descriptor if the call came with one, else -1.
int descriptor_of(fuse_file_info* fi) {
  if (!fi || is_control(fi)) return -1;
  const int fd = state().files.descriptor(fi->fh);
  return fd >= 0 ? fd : -1;
}

int op_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  if (is_control(fi) || is_control(path)) return -EPERM;
  if (const int fd = descriptor_of(fi); fd >= 0) return ::fchmod(fd, mode) == 0 ? 0 : -errno;
  if (!path) return -EBADF;
  return ::fchmodat(backing(), relative(path), mode, 0) == 0 ? 0 : -errno;
}

int op_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  if (is_control(fi) || is_control(path)) return -EPERM;
  if (const int fd = descriptor_of(fi); fd >= 0) return ::fchown(fd, uid, gid) == 0 ? 0 : -errno;
  if (!path) return -EBADF;
  return ::fchownat(backing(), relative(path), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

int op_truncate(const char* path, off_t size, fuse_file_info* fi) {
  // `echo cmd > .lazyfs` may truncate it first.
  if (is_control(fi) || (!fi && is_control(path))) return 0;
  if (size < 0) return -EINVAL;
  mount_state& s = state();
  if (fi) return s.files.truncate(fi->fh, static_cast<std::uint64_t>(size));
  const int fd = ::openat(s.backing_dir, relative(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  return s.files.truncate_descriptor(fd, static_cast<std::uint64_t>(size));
}

// The backing file is opened with the access mode only: O_APPEND would make
// the write-back's pwrite(2) append, and O_TRUNC is lazy (lazy_files::open).
// O_CREAT and O_EXCL matter at create only.
int backing_flags(int flags) { return (flags & O_ACCMODE) | O_CLOEXEC; }

int open_handle(int fd, fuse_file_info* fi) {
  if (fd < 0) return -errno;
  std::uint64_t id = 0;
  if (const int err = state().files.open(fd, fi->flags, id); err != 0) return err;
  fi->fh = id;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  return 0;
}

int op_open(const char* path, fuse_file_info* fi) {
  if (is_control(path)) return control_open(fi);
  return open_handle(::openat(backing(), relative(path), backing_flags(fi->flags)), fi);
}

int op_create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (is_control(path)) return control_open(fi);
  const int flags = backing_flags(fi->flags) | O_CREAT | (fi->flags & O_EXCL);
  return open_handle(::openat(backing(), relative(path), flags, mode), fi);
}

int op_read(const char*, char* buf, std::size_t size, off_t offset, fuse_file_info* fi) {
  if (is_control(fi)) return control_read(buf, size, offset, fi);
  if (offset < 0) return -EINVAL;
  return static_cast<int>(state().files.read(fi->fh, static_cast<std::uint64_t>(offset), buf, size));
}

int op_write(const char*, const char* buf, std::size_t size, off_t offset, fuse_file_info* fi) {
  if (is_control(fi)) return control_write(buf, size);
  if (offset < 0) return -EINVAL;
  return static_cast<int>(state().files.write(fi->fh, static_cast<std::uint64_t>(offset), std::string_view(buf, size)));
}

int op_statfs(const char*, struct statvfs* st) { return ::fstatvfs(backing(), st) == 0 ? 0 : -errno; }

// close(2): nothing to do; durability is fsync's business.
int op_flush(const char*, fuse_file_info*) { return 0; }

int op_release(const char*, fuse_file_info* fi) {
  mount_state& s = state();
  if (is_control(fi)) {
    std::lock_guard<std::mutex> guard(s.control_mutex);
    s.control_reads.erase(fi->fh);
    return 0;
  }
  return s.files.release(fi->fh);
}

int op_fsync(const char*, int datasync, fuse_file_info* fi) {
  if (is_control(fi)) return 0;
  return state().files.sync(fi->fh, datasync != 0);
}

int op_opendir(const char* path, fuse_file_info* fi) {
  const int fd = ::openat(backing(), relative(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  fi->fh = reinterpret_cast<std::uint64_t>(new dir_handle{dir, std::strcmp(path, "/") == 0});
  return 0;
}

int op_readdir(const char*, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info* fi, fuse_readdir_flags) {
  auto* handle = reinterpret_cast<dir_handle*>(fi->fh);
  // The whole listing in one call (offsets 0): libfuse buffers it.
  ::rewinddir(handle->dir);
  errno = 0;
  while (const dirent* entry = ::readdir(handle->dir)) {
    if (handle->root && std::strcmp(entry->d_name, control_name) == 0) continue;
    struct stat st = {};
    st.st_ino = entry->d_ino;
    st.st_mode = DTTOIF(entry->d_type);
    if (filler(buf, entry->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) return 0;
  }
  return errno == 0 ? 0 : -errno;
}

int op_releasedir(const char*, fuse_file_info* fi) {
  auto* handle = reinterpret_cast<dir_handle*>(fi->fh);
  ::closedir(handle->dir);
  delete handle;
  return 0;
}

// Names reach the backing directory at once (data-only laziness): there is
// nothing to make durable.
int op_fsyncdir(const char*, int, fuse_file_info*) { return 0; }

int op_access(const char* path, int mask) {
  if (is_control(path)) return 0;
  return ::faccessat(backing(), relative(path), mask, 0) == 0 ? 0 : -errno;
}

int op_utimens(const char* path, const struct timespec times[2], fuse_file_info* fi) {
  if (is_control(fi) || is_control(path)) return 0;
  if (const int fd = descriptor_of(fi); fd >= 0) return ::futimens(fd, times) == 0 ? 0 : -errno;
  if (!path) return -EBADF;
  return ::utimensat(backing(), relative(path), times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

fuse_operations make_operations() {
  fuse_operations ops = {};
  ops.init = op_init;
  ops.destroy = op_destroy;
  ops.getattr = op_getattr;
  ops.readlink = op_readlink;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.symlink = op_symlink;
  ops.rename = op_rename;
  ops.link = op_link;
  ops.chmod = op_chmod;
  ops.chown = op_chown;
  ops.truncate = op_truncate;
  ops.open = op_open;
  ops.create = op_create;
  ops.read = op_read;
  ops.write = op_write;
  ops.statfs = op_statfs;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.releasedir = op_releasedir;
  ops.fsyncdir = op_fsyncdir;
  ops.access = op_access;
  ops.utimens = op_utimens;
  // No flock/lock: the kernel then keeps file locks locally, which is what
  // dkv serve's lock on its data directory needs. No fallocate, no
  // copy_file_range: callers fall back to writes.
  return ops;
}

}  // namespace

const fuse_operations& operations() {
  static const fuse_operations ops = make_operations();
  return ops;
}

}  // namespace dkv::lazyfs
