// Frames against docs/protocol.md, and the frame reader: however the
// stream is cut into reads, the same frames come out; an oversize frame is
// caught from its header alone; consumed bytes do not pile up.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <vector>

#include "net/protocol/frame.hpp"
#include "tests/net/protocol/hex.hpp"

using namespace dkv::net;
using dkv::test::from_hex;

namespace {

struct frame {
  std::uint64_t shard = 0;
  std::uint64_t request = 0;
  std::string payload;
  friend bool operator==(const frame&, const frame&) = default;
  friend std::ostream& operator<<(std::ostream& os, const frame& f) {
    return os << "frame{" << f.shard << ", " << f.request << ", " << f.payload.size() << " bytes}";
  }
};

std::string stream_of(const std::vector<frame>& frames) {
  std::string bytes;
  for (const auto& f : frames) append_frame(bytes, f.shard, f.request, f.payload);
  return bytes;
}

// Takes every whole frame the reader has; fails the test on oversize.
void drain(frame_reader& reader, std::vector<frame>& out) {
  frame_header header;
  std::string_view payload;
  for (;;) {
    const auto status = reader.next(header, payload);
    REQUIRE(status != frame_reader::status::oversize);
    if (status == frame_reader::status::need_more) return;
    out.push_back({header.shard, header.request, std::string(payload)});
  }
}

rc::Gen<std::vector<frame>> gen_frames() {
  return rc::gen::container<std::vector<frame>>(rc::gen::exec([] {
    return frame{*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>(),
                 *rc::gen::arbitrary<std::string>()};
  }));
}

}  // namespace

TEST_CASE("frame: header and payload have the bytes docs/protocol.md gives") {
  std::string bytes;
  append_frame(bytes, 100, 0x0102030405060708, "xy");
  CHECK(bytes == from_hex("0000000000000064 0102030405060708 00000002 7879"));
  const frame_header header = read_frame_header(bytes.data());
  CHECK(header.shard == 100);
  CHECK(header.request == 0x0102030405060708);
  CHECK(header.length == 2);

  std::string just_header = "p";
  append_frame_header(just_header, {~std::uint64_t{0}, 1, 0xfffffffe});
  CHECK(just_header == "p" + from_hex("ffffffffffffffff 0000000000000001 fffffffe"));
}

TEST_CASE("frame reader: a length of 0 is a frame with an empty payload") {
  frame_reader reader(16);
  std::string bytes;
  append_frame(bytes, 200, 9, "");
  reader.feed(bytes);
  frame_header header;
  std::string_view payload = "stale";
  REQUIRE(reader.next(header, payload) == frame_reader::status::frame);
  CHECK(header.shard == 200);
  CHECK(header.request == 9);
  CHECK(payload.empty());
  CHECK(reader.next(header, payload) == frame_reader::status::need_more);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("frame reader: fed byte by byte it gives the frames fed whole") {
  const std::vector<frame> frames = {{100, 1, "a"}, {200, 2, ""}, {100, 3, std::string(300, 'z')}, {7, 4, "end"}};
  const std::string bytes = stream_of(frames);
  frame_reader reader(1024);
  std::vector<frame> got;
  for (const char c : bytes) {
    reader.feed(std::string_view(&c, 1));
    drain(reader, got);
  }
  CHECK(got == frames);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("frame reader: fed in random chunks it gives the same frames") {
  rc::prop("chunking does not matter", [] {
    const auto frames = *gen_frames();
    const std::string bytes = stream_of(frames);
    frame_reader reader(1 << 20);
    std::vector<frame> got;
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto chunk = *rc::gen::inRange<std::size_t>(1, bytes.size() - at + 1);
      reader.feed(std::string_view(bytes).substr(at, chunk));
      at += chunk;
      drain(reader, got);
    }
    RC_ASSERT(got == frames);
    RC_ASSERT(reader.buffered() == 0U);
  });
}

TEST_CASE("frame reader: an oversize frame is caught from its header alone") {
  frame_reader reader(100);
  std::string header;
  append_frame_header(header, {100, 42, 101});
  frame_header got;
  std::string_view payload;
  reader.feed(std::string_view(header).substr(0, frame_header_bytes - 1));
  CHECK(reader.next(got, payload) == frame_reader::status::need_more);
  reader.feed(std::string_view(header).substr(frame_header_bytes - 1));
  REQUIRE(reader.next(got, payload) == frame_reader::status::oversize);
  CHECK(got.shard == 100);
  CHECK(got.request == 42);
  CHECK(got.length == 101);

  // The stream cannot go on: the reader keeps saying so and buffers no more.
  const std::size_t held = reader.held();
  reader.feed(std::string(1000, 'x'));
  CHECK(reader.held() == held);
  CHECK(reader.next(got, payload) == frame_reader::status::oversize);
}

TEST_CASE("frame reader: a frame of exactly the limit passes") {
  frame_reader reader(100);
  reader.feed(stream_of({{1, 2, std::string(100, 'a')}}));
  frame_header header;
  std::string_view payload;
  REQUIRE(reader.next(header, payload) == frame_reader::status::frame);
  CHECK(payload.size() == 100);
}

TEST_CASE("frame reader: oversize after good frames comes out after them") {
  std::string bytes = stream_of({{1, 1, "ok"}});
  append_frame_header(bytes, {1, 2, 1'000'000});
  frame_reader reader(10);
  reader.feed(bytes);
  frame_header header;
  std::string_view payload;
  REQUIRE(reader.next(header, payload) == frame_reader::status::frame);
  CHECK(payload == "ok");
  REQUIRE(reader.next(header, payload) == frame_reader::status::oversize);
  CHECK(header.request == 2);
}

TEST_CASE("frame reader: consumed bytes are dropped, so a long stream does not grow the buffer") {
  // Reads that end mid-frame keep the buffer from ever emptying completely.
  std::string one = stream_of({{1, 1, std::string(50, 'p')}});
  frame_reader reader(64);
  std::vector<frame> got;
  std::size_t most_held = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::string_view bytes(one);
    reader.feed(bytes.substr(0, 33));
    reader.feed(bytes.substr(33));
    drain(reader, got);
    most_held = std::max(most_held, reader.held());
  }
  CHECK(got.size() == 10'000);
  CHECK(most_held <= 3 * one.size());
}
