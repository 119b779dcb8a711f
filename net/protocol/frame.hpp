#pragma once
// The protocol's frame (docs/protocol.md): shard id (u64), request id
// (u64), payload length (u32), all big-endian, then the payload. The same in
// both directions. frame_reader cuts frames out of a byte stream as it
// arrives, refusing a payload over its limit before buffering it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dkv::net {

inline constexpr std::size_t frame_header_bytes = 20;

struct frame_header {
  std::uint64_t shard = 0;
  std::uint64_t request = 0;
  std::uint32_t length = 0;
};

// Appends a frame's header and payload to `out`.
void append_frame(std::string& out, std::uint64_t shard, std::uint64_t request, std::string_view payload);
// Appends just the header (for a payload appended after it).
void append_frame_header(std::string& out, const frame_header& header);
// Reads a header from exactly frame_header_bytes bytes.
frame_header read_frame_header(const char* bytes) noexcept;

// Cuts a byte stream into frames. Feed it what the socket read; then take
// whole frames with next() until it returns false.
class frame_reader {
 public:
  explicit frame_reader(std::size_t max_payload_bytes) : max_payload_(max_payload_bytes) {}

  void feed(std::string_view bytes);

  enum class status : std::uint8_t {
    frame,      // `header` and `payload` hold the next frame
    need_more,  // no whole frame buffered yet
    oversize,   // the next frame's length exceeds the limit: `header` says whose; the stream cannot go on
  };
  // `payload` stays valid until the next call of feed() or next(). After
  // oversize, next() keeps saying so and feed() discards what it is given.
  status next(frame_header& header, std::string_view& payload);

  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }
  // What the buffer holds: buffered() plus consumed bytes not yet dropped.
  // feed() drops them once they are half of it, so this stays within about
  // twice buffered() plus the last chunk fed.
  std::size_t held() const noexcept { return buffer_.size(); }

 private:
  std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace dkv::net
