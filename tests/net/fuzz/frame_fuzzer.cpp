// libFuzzer target: a byte stream cut into arbitrary reads. The input is a
// sequence of [chunk length u8][chunk bytes]; the chunks, concatenated, are
// the stream, fed to a frame_reader with a small limit, each payload decoded.
// The oracle: a second reader fed the whole stream at once yields the same
// frames and the same ending (need_more or oversize).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/protocol/frame.hpp"
#include "net/protocol/message.hpp"

namespace {

using namespace dkv::net;

constexpr std::size_t max_payload = 64;

struct cut_frame {
  frame_header header;
  std::string payload;
};

void fail(const char* what) {
  std::fprintf(stderr, "frame_fuzzer: %s\n", what);
  std::abort();
}

// Takes every frame the reader has; returns how it stopped.
frame_reader::status drain(frame_reader& reader, std::vector<cut_frame>& out) {
  frame_header header;
  std::string_view payload;
  for (;;) {
    const auto status = reader.next(header, payload);
    if (status != frame_reader::status::frame) return status;
    if (header.length != payload.size()) fail("payload size differs from the header's length");
    if (payload.size() > max_payload) fail("payload over the limit");
    message m;
    std::string why;
    (void)decode(payload, m, why);
    out.push_back({header, std::string(payload)});
  }
}

bool same(const std::vector<cut_frame>& a, const std::vector<cut_frame>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].header.shard != b[i].header.shard || a[i].header.request != b[i].header.request ||
        a[i].payload != b[i].payload)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string stream;
  frame_reader chunked(max_payload);
  std::vector<cut_frame> chunked_frames;
  auto chunked_end = frame_reader::status::need_more;
  std::size_t at = 0;
  while (at < size) {
    const std::size_t length = std::min<std::size_t>(data[at], size - at - 1);
    const std::string_view chunk(reinterpret_cast<const char*>(data) + at + 1, length);
    at += 1 + length;
    stream.append(chunk);
    chunked.feed(chunk);
    chunked_end = drain(chunked, chunked_frames);
    // Bounded memory: after a drain less than one frame is pending, and
    // compaction keeps the buffer within twice that plus the last read.
    if (chunked_end == frame_reader::status::need_more && chunked.buffered() >= frame_header_bytes + max_payload)
      fail("a whole frame is pending after a drain");
    if (chunked.held() > 2 * (frame_header_bytes + max_payload) + 255) fail("consumed bytes pile up");
  }

  frame_reader whole(max_payload);
  whole.feed(stream);
  std::vector<cut_frame> whole_frames;
  const auto whole_end = drain(whole, whole_frames);
  if (!same(chunked_frames, whole_frames)) fail("chunked and whole streams give different frames");
  if (chunked_end != whole_end) fail("chunked and whole streams end differently");
  return 0;
}
