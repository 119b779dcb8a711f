// The overlay against a string backing file: examples, then random
// operations against a model (the view and the durable file as strings).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <string>
#include <vector>

#include "real/lazyfs/overlay.hpp"
#include "tests/real/lazyfs/string_backing.hpp"

using dkv::lazyfs::overlay;
using dkv::test::string_backing;
using dkv::test::view_of;

namespace {

std::string read_at(const overlay& o, string_backing& backing, std::uint64_t offset, std::size_t length) {
  std::string out(length, '?');
  const std::int64_t n = o.read(offset, out.data(), length, backing);
  REQUIRE(n >= 0);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void write_back(overlay& o, string_backing& backing) {
  REQUIRE(o.write_back(backing) == 0);
  o.synced();
}

}  // namespace

TEST_CASE("overlay: writes stay out of the backing file until written back", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "0123456789";
  overlay o(backing.bytes.size());
  REQUIRE_FALSE(o.dirty());

  o.write(2, "ab");
  REQUIRE(o.dirty());
  REQUIRE(o.size() == 10);
  REQUIRE(view_of(o, backing) == "01ab456789");
  REQUIRE(backing.bytes == "0123456789");

  write_back(o, backing);
  REQUIRE(backing.bytes == "01ab456789");
  REQUIRE_FALSE(o.dirty());
  REQUIRE(o.dirty_bytes() == 0);
}

TEST_CASE("overlay: a write past the end leaves a hole of zeros", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "abc";
  overlay o(3);
  o.write(6, "xy");
  REQUIRE(o.size() == 8);
  REQUIRE(view_of(o, backing) == std::string("abc\0\0\0xy", 8));
  write_back(o, backing);
  REQUIRE(backing.bytes == std::string("abc\0\0\0xy", 8));
}

TEST_CASE("overlay: overlapping and touching writes merge, the latest byte wins", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = std::string(20, '.');
  overlay o(20);
  o.write(2, "aaaa");   // [2, 6)
  o.write(10, "bbbb");  // [10, 14)
  REQUIRE(o.extent_count() == 2);
  o.write(5, "CCCCCC");  // [5, 11): bridges both
  REQUIRE(o.extent_count() == 1);
  REQUIRE(view_of(o, backing) == "..aaaCCCCCCbbb......");
  o.write(14, "d");  // touches the end: appended in place
  o.write(1, "e");   // touches the start
  REQUIRE(o.extent_count() == 1);
  REQUIRE(view_of(o, backing) == ".eaaaCCCCCCbbbd.....");
  REQUIRE(o.dirty_bytes() == 14);
}

TEST_CASE("overlay: reads spanning clean and dirty bytes", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "0123456789";
  overlay o(10);
  o.write(3, "xx");
  o.write(7, "y");
  REQUIRE(read_at(o, backing, 2, 7) == "2xx56y8");
  REQUIRE(read_at(o, backing, 8, 100) == "89");
  REQUIRE(read_at(o, backing, 10, 5).empty());
  REQUIRE(read_at(o, backing, 50, 5).empty());
}

TEST_CASE("overlay: truncation down then up reads zeros where the backing bytes were", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "0123456789";
  overlay o(10);
  o.truncate(4);
  REQUIRE(o.size() == 4);
  REQUIRE(view_of(o, backing) == "0123");
  o.truncate(8);
  REQUIRE(view_of(o, backing) == std::string("0123\0\0\0\0", 8));
  REQUIRE(backing.bytes == "0123456789");
  write_back(o, backing);
  REQUIRE(backing.bytes == std::string("0123\0\0\0\0", 8));
}

TEST_CASE("overlay: truncation cuts dirty extents and the last write", "[lazyfs][overlay]") {
  string_backing backing;
  overlay o(0);
  o.write(0, "abcdef");
  o.write(10, "ghij");
  REQUIRE(o.last_write()->offset == 10);
  o.truncate(12);
  REQUIRE(o.last_write()->length == 2);
  o.truncate(3);
  REQUIRE_FALSE(o.last_write());
  REQUIRE(view_of(o, backing) == "abc");
  REQUIRE(o.dirty_bytes() == 3);
  write_back(o, backing);
  REQUIRE(backing.bytes == "abc");
}

TEST_CASE("overlay: a write of nothing changes nothing", "[lazyfs][overlay]") {
  overlay o(5);
  o.write(100, "");
  REQUIRE(o.size() == 5);
  REQUIRE_FALSE(o.dirty());
}

TEST_CASE("overlay: a truncation to the same size leaves it clean", "[lazyfs][overlay]") {
  overlay o(5);
  o.truncate(5);
  REQUIRE_FALSE(o.dirty());
  o.truncate(7);
  REQUIRE(o.dirty());
}

TEST_CASE("overlay: a torn write keeps a prefix of the last write only", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "synced";
  overlay o(6);
  o.write(6, "first");
  o.write(11, "second");
  REQUIRE(o.write_torn_prefix(3, backing) == 0);
  // The first write is lost (not in the backing file); the hole before the
  // kept prefix would be zeros, but here the writes are contiguous.
  REQUIRE(backing.bytes == std::string("synced\0\0\0\0\0sec", 14));
  string_backing other;
  other.bytes = "synced";
  REQUIRE(o.write_torn_prefix(100, other) == 0);  // clamped to the write's length
  REQUIRE(other.bytes == std::string("synced\0\0\0\0\0second", 17));
}

TEST_CASE("overlay: a dirty prefix keeps the unsynced bytes in offset order up to a point", "[lazyfs][overlay]") {
  string_backing backing;
  backing.bytes = "0123456789";
  overlay o(10);
  o.write(2, "ab");
  o.write(10, "tail");
  o.write(20, "far");
  REQUIRE(o.dirty_span()->offset == 2);
  REQUIRE(o.dirty_span()->length == 21);
  REQUIRE(o.write_dirty_prefix(10, backing) == 0);  // up to offset 12
  REQUIRE(backing.bytes == "01ab456789ta");
  string_backing all;
  all.bytes = "0123456789";
  REQUIRE(o.write_dirty_prefix(1000, all) == 0);
  REQUIRE(all.bytes == view_of(o, all));
  REQUIRE_FALSE(overlay(3).dirty_span());
}

TEST_CASE("overlay: appends to one extent are not quadratic", "[lazyfs][overlay]") {
  // 100000 appends of 100 bytes: each would copy the whole extent if the
  // common case rebuilt it (10 GB of copying); in place it is 10 MB.
  overlay o(0);
  const std::string record(100, 'r');
  for (int i = 0; i < 100000; ++i) o.write(o.size(), record);
  REQUIRE(o.extent_count() == 1);
  REQUIRE(o.dirty_bytes() == 10000000);
}

// --- random operations against a model ---

namespace {

enum class op_kind { write, truncate, write_back, lose, tear, keep_prefix, read };

struct op {
  op_kind kind;
  std::uint64_t offset;
  std::uint64_t length;
};

}  // namespace

namespace rc {
template <>
struct Arbitrary<op> {
  static Gen<op> arbitrary() {
    return gen::apply(
        [](op_kind kind, std::uint64_t offset, std::uint64_t length) {
          return op{kind, offset, length};
        },
        gen::weightedElement<op_kind>({{12, op_kind::write},
                                       {2, op_kind::truncate},
                                       {2, op_kind::write_back},
                                       {1, op_kind::lose},
                                       {1, op_kind::tear},
                                       {1, op_kind::keep_prefix},
                                       {3, op_kind::read}}),
        gen::inRange<std::uint64_t>(0, 300), gen::inRange<std::uint64_t>(0, 80));
  }
};
}  // namespace rc

TEST_CASE("overlay: random operations match a model", "[lazyfs][overlay][property]") {
  rc::prop("the view, the backing file and the last write follow POSIX and the power loss",
           [](const std::string& initial, const std::vector<op>& ops) {
             string_backing backing;
             backing.bytes = initial;
             overlay o(initial.size());
             std::string view = initial;     // what a reader sees
             std::string durable = initial;  // what a power loss keeps
             // The last write since the last write-back, as truncations left
             // it (plain members, not an optional pair: GCC 12 then sees no
             // maybe-uninitialized read).
             bool has_last = false;
             std::uint64_t last_offset = 0;
             std::string last_bytes;
             std::vector<bool> written;  // the bytes written since the last write-back
             int step = 0;
             for (const op& p : ops) {
               ++step;
               switch (p.kind) {
                 case op_kind::write: {
                   std::string bytes(p.length, '\0');
                   for (std::size_t i = 0; i < bytes.size(); ++i)
                     bytes[i] = static_cast<char>('A' + (step * 7 + i) % 58);
                   o.write(p.offset, bytes);
                   if (!bytes.empty()) {
                     if (view.size() < p.offset + bytes.size()) view.resize(p.offset + bytes.size(), '\0');
                     view.replace(p.offset, bytes.size(), bytes);
                     if (written.size() < view.size()) written.resize(view.size(), false);
                     for (std::uint64_t i = 0; i < bytes.size(); ++i) written[p.offset + i] = true;
                     has_last = true;
                     last_offset = p.offset;
                     last_bytes = bytes;
                   }
                   break;
                 }
                 case op_kind::truncate:
                   o.truncate(p.offset);
                   view.resize(p.offset, '\0');
                   if (written.size() > p.offset) written.resize(p.offset);
                   if (has_last && last_offset >= p.offset) has_last = false;
                   if (has_last) last_bytes.resize(std::min<std::uint64_t>(last_bytes.size(), p.offset - last_offset));
                   break;
                 case op_kind::write_back:
                   RC_ASSERT(o.write_back(backing) == 0);
                   o.synced();
                   durable = view;
                   has_last = false;
                   written.clear();
                   break;
                 case op_kind::lose:
                   o = overlay(backing.bytes.size());
                   view = durable;
                   has_last = false;
                   written.clear();
                   break;
                 case op_kind::tear: {
                   RC_ASSERT(o.last_write().has_value() == has_last);
                   if (has_last) {
                     RC_ASSERT(o.last_write()->offset == last_offset);
                     RC_ASSERT(o.last_write()->length == last_bytes.size());
                     const std::string kept = last_bytes.substr(0, p.length);
                     if (!kept.empty()) {
                       if (durable.size() < last_offset + kept.size()) durable.resize(last_offset + kept.size(), '\0');
                       durable.replace(last_offset, kept.size(), kept);
                     }
                   }
                   RC_ASSERT(o.write_torn_prefix(p.length, backing) == 0);
                   o = overlay(backing.bytes.size());
                   view = durable;
                   has_last = false;
                   written.clear();
                   break;
                 }
                 case op_kind::keep_prefix: {
                   // Every byte written since the last write-back (and not
                   // cut by a truncation since) is dirty; a prefix of their
                   // span reaches the durable file, the holes in it do not.
                   std::uint64_t first = written.size(), last_end = 0;
                   for (std::uint64_t i = 0; i < written.size(); ++i)
                     if (written[i]) first = std::min(first, i), last_end = i + 1;
                   RC_ASSERT(o.dirty_span().has_value() == (last_end > 0));
                   if (last_end > 0) {
                     RC_ASSERT(o.dirty_span()->offset == first);
                     RC_ASSERT(o.dirty_span()->length == last_end - first);
                     const std::uint64_t end = first + std::min<std::uint64_t>(p.length, last_end - first);
                     for (std::uint64_t i = first; i < end; ++i) {
                       if (!written[i]) continue;
                       if (durable.size() <= i) durable.resize(i + 1, '\0');
                       durable[i] = view[i];
                     }
                   }
                   RC_ASSERT(o.write_dirty_prefix(p.length, backing) == 0);
                   o = overlay(backing.bytes.size());
                   view = durable;
                   has_last = false;
                   written.clear();
                   break;
                 }
                 case op_kind::read: {
                   std::string out(p.length, '?');
                   const std::int64_t n = o.read(p.offset, out.data(), out.size(), backing);
                   RC_ASSERT(n >= 0);
                   out.resize(static_cast<std::size_t>(n));
                   const std::string expected = p.offset < view.size() ? view.substr(p.offset, p.length) : "";
                   RC_ASSERT(out == expected);
                   break;
                 }
               }
               RC_ASSERT(o.size() == view.size());
               RC_ASSERT(view_of(o, backing) == view);
               RC_ASSERT(backing.bytes == durable);
               if (view != durable) RC_ASSERT(o.dirty());
             }
           });
}
