// lazy_files on a temporary directory, without FUSE: the descriptors a
// mount would hand it, the names changed behind it as the mount's metadata
// calls change them.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "real/lazyfs/lazy_files.hpp"
#include "tests/support/temporary_directory.hpp"

using dkv::lazyfs::lazy_files;
using dkv::lazyfs::tear_kind;

namespace {

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

struct fixture {
  dkv::test::temporary_directory dir{"dkv-lazyfs"};
  lazy_files files;

  std::string path(const std::string& name) const { return dir.path() + "/" + name; }

  // Opens `name` as the mount would: the backing descriptor with the access
  // mode only, the full flags to lazy_files.
  std::uint64_t open(const std::string& name, int flags) {
    const int fd = ::open(path(name).c_str(), (flags & O_ACCMODE) | O_CLOEXEC | (flags & O_CREAT), 0644);
    REQUIRE(fd >= 0);
    std::uint64_t id = 0;
    REQUIRE(files.open(fd, flags, id) == 0);
    return id;
  }
  void write(std::uint64_t id, std::uint64_t offset, std::string_view bytes) {
    REQUIRE(files.write(id, offset, bytes) == static_cast<std::int64_t>(bytes.size()));
  }
  std::string read(std::uint64_t id, std::uint64_t offset = 0, std::size_t length = 1000) {
    std::string out(length, '?');
    const std::int64_t n = files.read(id, offset, out.data(), length);
    REQUIRE(n >= 0);
    out.resize(static_cast<std::size_t>(n));
    return out;
  }
  std::uint64_t size_of(const std::string& name) {
    struct stat st;
    REQUIRE(::stat(path(name).c_str(), &st) == 0);
    files.adjust(st);
    return static_cast<std::uint64_t>(st.st_size);
  }
  dkv::lazyfs::file_key key_of(const std::string& name) {
    struct stat st;
    REQUIRE(::stat(path(name).c_str(), &st) == 0);
    return dkv::lazyfs::key_of(st);
  }
};

}  // namespace

TEST_CASE("lazy_files: data reaches the backing file at fsync, not before", "[lazyfs][lazy_files]") {
  fixture f;
  const auto id = f.open("a", O_RDWR | O_CREAT);
  f.write(id, 0, "hello");
  REQUIRE(f.read(id) == "hello");
  REQUIRE(contents(f.path("a")).empty());
  REQUIRE(f.size_of("a") == 5);
  REQUIRE(f.files.stats().dirty_files == 1);
  REQUIRE(f.files.stats().dirty_bytes == 5);

  REQUIRE(f.files.sync(id, false) == 0);
  REQUIRE(contents(f.path("a")) == "hello");
  REQUIRE(f.files.stats().dirty_files == 0);

  f.write(id, 5, " world");
  REQUIRE(f.files.sync(id, true) == 0);  // fdatasync the same
  REQUIRE(contents(f.path("a")) == "hello world");
  REQUIRE(f.files.release(id) == 0);
}

TEST_CASE("lazy_files: a power loss drops what was not synced, of every file", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("a", O_RDWR | O_CREAT);
  f.write(a, 0, "synced");
  REQUIRE(f.files.sync(a, false) == 0);
  f.write(a, 6, "+lost");
  const auto b = f.open("b", O_WRONLY | O_CREAT);
  f.write(b, 0, "all lost");
  REQUIRE(f.files.release(b) == 0);  // closed, still dirty
  REQUIRE(f.files.stats().dirty_files == 2);

  f.files.lose_unsynced(tear_kind::none, 0, 1.0);
  REQUIRE(contents(f.path("a")) == "synced");
  REQUIRE(contents(f.path("b")).empty());
  REQUIRE(f.read(a) == "synced");  // an open handle sees the durable file
  REQUIRE(f.size_of("b") == 0);
  const auto s = f.files.stats();
  REQUIRE(s.power_losses == 1);
  REQUIRE(s.lost_files == 2);
  REQUIRE(s.lost_bytes == 5 + 8);
  REQUIRE(s.dirty_files == 0);
  REQUIRE(f.files.release(a) == 0);
}

TEST_CASE("lazy_files: a file's unsynced data is shared by its handles, synced by any", "[lazyfs][lazy_files]") {
  fixture f;
  const auto writer = f.open("a", O_WRONLY | O_CREAT);
  const auto reader = f.open("a", O_RDONLY);
  f.write(writer, 0, "abc");
  REQUIRE(f.read(reader) == "abc");
  REQUIRE(f.files.release(writer) == 0);
  REQUIRE(f.read(reader) == "abc");
  REQUIRE(f.files.sync(reader, false) == 0);  // fsync of a read-only handle
  REQUIRE(contents(f.path("a")) == "abc");
  REQUIRE(f.files.release(reader) == 0);
}

TEST_CASE("lazy_files: O_APPEND writes at the view's end, O_TRUNC empties the view lazily", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("a", O_RDWR | O_CREAT);
  f.write(a, 0, "0123456789");
  REQUIRE(f.files.sync(a, false) == 0);
  REQUIRE(f.files.release(a) == 0);

  const auto appender = f.open("a", O_WRONLY | O_APPEND);
  f.write(appender, 0, "xy");  // the offset the kernel sent does not matter
  const auto reader = f.open("a", O_RDONLY);
  REQUIRE(f.read(reader) == "0123456789xy");
  REQUIRE(f.files.release(appender) == 0);

  const auto truncating = f.open("a", O_RDWR | O_TRUNC);
  REQUIRE(f.read(reader).empty());
  REQUIRE(contents(f.path("a")) == "0123456789");  // not yet durable
  f.write(truncating, 2, "z");
  REQUIRE(f.read(reader) == std::string("\0\0z", 3));
  REQUIRE(f.files.sync(truncating, false) == 0);
  REQUIRE(contents(f.path("a")) == std::string("\0\0z", 3));
  REQUIRE(f.files.release(truncating) == 0);
  REQUIRE(f.files.release(reader) == 0);
}

TEST_CASE("lazy_files: truncate, by handle and by name, is lazy", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("a", O_RDWR | O_CREAT);
  f.write(a, 0, "0123456789");
  REQUIRE(f.files.sync(a, false) == 0);
  REQUIRE(f.files.truncate(a, 4) == 0);
  REQUIRE(f.read(a) == "0123");
  REQUIRE(contents(f.path("a")) == "0123456789");
  REQUIRE(f.files.release(a) == 0);

  const int fd = ::open(f.path("a").c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(f.files.truncate_descriptor(fd, 6) == 0);
  const auto reader = f.open("a", O_RDONLY);
  REQUIRE(f.read(reader) == std::string("0123\0\0", 6));
  REQUIRE(f.files.sync(reader, false) == 0);
  REQUIRE(contents(f.path("a")) == std::string("0123\0\0", 6));
  REQUIRE(f.files.release(reader) == 0);

  // By name on a clean file, then a power loss: the truncation is lost.
  const int fd2 = ::open(f.path("a").c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(f.files.truncate_descriptor(fd2, 1) == 0);
  REQUIRE(f.size_of("a") == 1);
  f.files.lose_unsynced(tear_kind::none, 0, 1.0);
  REQUIRE(f.size_of("a") == 6);
}

TEST_CASE("lazy_files: a rename carries the unsynced data along", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("tmp", O_RDWR | O_CREAT);
  f.write(a, 0, "payload");
  REQUIRE(f.files.release(a) == 0);
  REQUIRE(::rename(f.path("tmp").c_str(), f.path("final").c_str()) == 0);
  REQUIRE(f.size_of("final") == 7);
  const auto reader = f.open("final", O_RDONLY);
  REQUIRE(f.read(reader) == "payload");
  REQUIRE(f.files.sync(reader, false) == 0);
  REQUIRE(contents(f.path("final")) == "payload");
  REQUIRE(f.files.release(reader) == 0);
}

TEST_CASE("lazy_files: a rename over a dirty file drops the replaced file's data", "[lazyfs][lazy_files]") {
  fixture f;
  const auto old_file = f.open("target", O_RDWR | O_CREAT);
  f.write(old_file, 0, "old, unsynced");
  REQUIRE(f.files.release(old_file) == 0);
  const auto replaced = f.key_of("target");
  const auto fresh = f.open("tmp", O_RDWR | O_CREAT);
  f.write(fresh, 0, "new");
  REQUIRE(f.files.sync(fresh, false) == 0);
  REQUIRE(f.files.release(fresh) == 0);
  REQUIRE(::rename(f.path("tmp").c_str(), f.path("target").c_str()) == 0);
  f.files.unlinked(replaced);
  REQUIRE(f.files.stats().dirty_files == 0);
  REQUIRE(f.size_of("target") == 3);
}

TEST_CASE("lazy_files: unlink drops a closed file's data, an open one keeps it for its handle",
          "[lazyfs][lazy_files]") {
  fixture f;
  const auto closed = f.open("closed", O_RDWR | O_CREAT);
  f.write(closed, 0, "gone");
  REQUIRE(f.files.release(closed) == 0);
  const auto closed_key = f.key_of("closed");
  REQUIRE(::unlink(f.path("closed").c_str()) == 0);
  f.files.unlinked(closed_key);
  REQUIRE(f.files.stats().dirty_files == 0);

  const auto open_file = f.open("open", O_RDWR | O_CREAT);
  f.write(open_file, 0, "still here");
  const auto open_key = f.key_of("open");
  REQUIRE(::unlink(f.path("open").c_str()) == 0);
  f.files.unlinked(open_key);
  REQUIRE(f.read(open_file) == "still here");
  REQUIRE(f.files.sync(open_file, false) == 0);  // into the unlinked inode: harmless
  f.write(open_file, 0, "S");
  REQUIRE(f.files.stats().dirty_files == 1);
  REQUIRE(f.files.release(open_file) == 0);  // the last handle of a nameless file
  REQUIRE(f.files.stats().dirty_files == 0);
}

TEST_CASE("lazy_files: a hard link shares the unsynced data, one name going keeps it", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("a", O_RDWR | O_CREAT);
  f.write(a, 0, "shared");
  REQUIRE(f.files.release(a) == 0);
  REQUIRE(::link(f.path("a").c_str(), f.path("b").c_str()) == 0);
  REQUIRE(f.size_of("b") == 6);
  const auto key = f.key_of("a");
  REQUIRE(::unlink(f.path("a").c_str()) == 0);
  f.files.unlinked(key);
  REQUIRE(f.files.stats().dirty_files == 1);
  REQUIRE(f.size_of("b") == 6);
}

TEST_CASE("lazy_files: O_SYNC writes are durable when they return", "[lazyfs][lazy_files]") {
  fixture f;
  const auto a = f.open("a", O_RDWR | O_CREAT | O_DSYNC);
  f.write(a, 0, "durable");
  REQUIRE(contents(f.path("a")) == "durable");
  REQUIRE(f.files.stats().dirty_files == 0);
  REQUIRE(f.files.release(a) == 0);
}

TEST_CASE("lazy_files: sync-all writes every file back", "[lazyfs][lazy_files]") {
  fixture f;
  for (const char* name : {"a", "b", "c"}) {
    const auto id = f.open(name, O_WRONLY | O_CREAT);
    f.write(id, 0, name);
    if (std::string(name) != "c") REQUIRE(f.files.release(id) == 0);
  }
  REQUIRE(f.files.run({dkv::lazyfs::command::kind::sync_all}) == 0);
  REQUIRE(contents(f.path("a")) == "a");
  REQUIRE(contents(f.path("b")) == "b");
  REQUIRE(contents(f.path("c")) == "c");
  REQUIRE(f.files.stats().dirty_files == 0);
  REQUIRE(f.files.stats().write_backs == 3);
}

TEST_CASE("lazy_files: a tear keeps a prefix of each file's last unsynced write, the same for the same seed",
          "[lazyfs][lazy_files]") {
  auto run = [](std::uint64_t seed, double probability, tear_kind tear = tear_kind::last_write) {
    fixture f;
    std::vector<std::string> out;
    for (int file = 0; file < 8; ++file) {
      const std::string name = "f" + std::to_string(file);
      const auto id = f.open(name, O_RDWR | O_CREAT);
      f.write(id, 0, "head");
      REQUIRE(f.files.sync(id, false) == 0);
      f.write(id, 4, "lost write");
      f.write(id, 14, std::string(1000, static_cast<char>('a' + file)));
      REQUIRE(f.files.release(id) == 0);
    }
    f.files.lose_unsynced(tear, seed, probability);
    for (int file = 0; file < 8; ++file) out.push_back(contents(f.path("f" + std::to_string(file))));
    return std::make_pair(out, f.files.stats());
  };

  const auto [files, stats] = run(42, 1.0);
  REQUIRE(stats.torn_files == 8);
  REQUIRE(stats.lost_files == 8);
  for (int file = 0; file < 8; ++file) {
    const std::string& c = files[file];
    INFO("file " << file << " is " << c.size() << " bytes");
    REQUIRE(c.substr(0, 4) == "head");
    if (c.size() > 4) {
      // The earlier unsynced write is lost: a hole of zeros up to the torn one.
      REQUIRE(c.size() > 14);
      REQUIRE(c.size() < 14 + 1000);
      REQUIRE(c.substr(4, 10) == std::string(10, '\0'));
      REQUIRE(c.substr(14) == std::string(c.size() - 14, static_cast<char>('a' + file)));
    }
  }
  REQUIRE(run(42, 1.0).first == files);
  REQUIRE(run(43, 1.0).first != files);

  const auto [untorn, untorn_stats] = run(42, 0.0);
  REQUIRE(untorn_stats.torn_files == 0);
  for (const std::string& c : untorn) REQUIRE(c == "head");

  // keep-prefix: a prefix of everything unsynced, in offset order, no hole.
  const auto [prefixes, prefix_stats] = run(42, 1.0, tear_kind::dirty_prefix);
  REQUIRE(prefix_stats.torn_files == 8);
  for (int file = 0; file < 8; ++file) {
    const std::string whole = "headlost write" + std::string(1000, static_cast<char>('a' + file));
    const std::string& c = prefixes[file];
    REQUIRE(c.size() >= 4);
    REQUIRE(c.size() < whole.size());
    REQUIRE(c == whole.substr(0, c.size()));
  }
}
