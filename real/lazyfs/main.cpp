// dkv-lazyfs BACKING_DIR MOUNTPOINT [--foreground] [fuse options]
//
// Mounts a view of BACKING_DIR at MOUNTPOINT that keeps written file data in
// memory until the file is fsynced, and drops it on command ("power loss"):
// the file system under a node's data directory in the real-process fault
// runs (real/README.md).

#define FUSE_USE_VERSION 31
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "real/lazyfs/fuse_ops.hpp"

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: dkv-lazyfs BACKING_DIR MOUNTPOINT [--foreground] [-s] [-d] [-o OPTIONS]\n"
               "\n"
               "A pass-through of BACKING_DIR whose file data reaches BACKING_DIR only at fsync\n"
               "(or fdatasync, or unmount). Names (create, rename, unlink, mkdir) reach it at once.\n"
               "\n"
               "  --foreground   stay in the foreground (fuse's -f)\n"
               "  -s             serve one request at a time (default: several threads)\n"
               "  -d             debug: log every request (implies --foreground)\n"
               "  -o OPTIONS     mount options, for fuse (e.g. allow_other)\n"
               "\n"
               "Control: write to MOUNTPOINT/.lazyfs (hidden from listings)\n"
               "  lose-unsynced                 power loss: drop every unsynced byte of every file\n"
               "  lose-unsynced tear SEED [P]   the same, but first tear each file's last unsynced\n"
               "                                write with probability P (default 1): a random prefix\n"
               "                                of it reaches the backing file\n"
               "  lose-unsynced keep-prefix SEED [P]\n"
               "                                the same, but what reaches it is a random prefix of\n"
               "                                the file's unsynced bytes in offset order\n"
               "  sync-all                      write everything back and fsync it\n"
               "read it for the counters (dirty files and bytes, losses so far).\n"
               "Unmount with fusermount3 -u MOUNTPOINT (writes everything back).\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  // Our defaults first: a later -o of the caller's overrides them.
  // max_idle_threads: libfuse 3.14.0 warns of its own default ("Ignoring
  // invalid max threads value") unless it is set (fixed in 3.14.1).
  std::vector<std::string> fuse_args{argv[0], "-o", "fsname=dkv-lazyfs,subtype=lazyfs,max_idle_threads=10"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    }
    if (arg == "--foreground") {
      fuse_args.push_back("-f");
    } else if (arg == "-o") {
      if (i + 1 >= argc) {
        usage(stderr);
        return 2;
      }
      fuse_args.push_back(arg);
      fuse_args.push_back(argv[++i]);
    } else if (!arg.empty() && arg[0] == '-') {
      fuse_args.push_back(arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) {
    usage(stderr);
    return 2;
  }
  const std::string& backing = positional[0];
  fuse_args.push_back(positional[1]);

  // Opened before the mount (which may cover it) and before fuse daemonizes
  // (and changes to /): every backing path is taken relative to it.
  const int dir = ::open(backing.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    std::fprintf(stderr, "dkv-lazyfs: cannot open backing directory %s: %s\n", backing.c_str(), std::strerror(errno));
    return 1;
  }
  // The kernel applied the caller's umask to the modes it sends; ours must
  // not apply a second one.
  ::umask(0);

  std::vector<char*> args;
  for (std::string& a : fuse_args) args.push_back(a.data());
  args.push_back(nullptr);
  dkv::lazyfs::mount_state state(dir);
  const int status = fuse_main(static_cast<int>(args.size() - 1), args.data(), &dkv::lazyfs::operations(), &state);
  ::close(dir);
  return status;
}
