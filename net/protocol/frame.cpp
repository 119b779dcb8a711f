// Frames and the frame reader.

#include "net/protocol/frame.hpp"

#include <limits>
#include <stdexcept>

#include "net/protocol/big_endian.hpp"

namespace dkv::net {

void append_frame_header(std::string& out, const frame_header& header) {
  put_u64(out, header.shard);
  put_u64(out, header.request);
  put_u32(out, header.length);
}

void append_frame(std::string& out, std::uint64_t shard, std::uint64_t request, std::string_view payload) {
  if (payload.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("dkv::net::append_frame: payload is longer than a u32 length can say");
  out.reserve(out.size() + frame_header_bytes + payload.size());
  append_frame_header(out, {shard, request, static_cast<std::uint32_t>(payload.size())});
  out.append(payload);
}

frame_header read_frame_header(const char* bytes) noexcept {
  return {get_u64(bytes), get_u64(bytes + 8), get_u32(bytes + 16)};
}

namespace {

// Whether the frame at the front of `pending` is complete enough to say it
// is over the limit.
bool front_is_oversize(std::string_view pending, std::size_t max_payload) noexcept {
  return pending.size() >= frame_header_bytes && read_frame_header(pending.data()).length > max_payload;
}

}  // namespace

void frame_reader::feed(std::string_view bytes) {
  const std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
  // Past an oversize header the stream cannot go on; keeping what follows
  // would only let a peer that keeps sending grow the buffer.
  if (front_is_oversize(pending, max_payload_)) return;
  // Drop consumed bytes once they are at least half the buffer: each byte
  // moved is paid for by a byte dropped, so compaction is amortized O(1) per
  // byte, and the buffer stays within twice what is still pending.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ >= pending.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

frame_reader::status frame_reader::next(frame_header& header, std::string_view& payload) {
  const std::size_t pending = buffer_.size() - consumed_;
  if (pending < frame_header_bytes) return status::need_more;
  const char* front = buffer_.data() + consumed_;
  const frame_header next_header = read_frame_header(front);
  if (next_header.length > max_payload_) {
    // Known from the header alone, before any of the payload is buffered.
    header = next_header;
    return status::oversize;
  }
  if (pending - frame_header_bytes < next_header.length) return status::need_more;
  header = next_header;
  payload = std::string_view(front + frame_header_bytes, next_header.length);
  consumed_ += frame_header_bytes + next_header.length;
  return status::frame;
}

}  // namespace dkv::net
