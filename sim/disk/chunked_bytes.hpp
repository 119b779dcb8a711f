#pragma once
// The bytes of one simulated file, kept in fixed-size chunks. A file that
// grows by appends never moves what it holds (a std::string would copy
// itself at every doubling and touch fresh pages each time), and the chunks
// of a removed log segment are reused by the next one.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dkv::sim {

class chunked_bytes {
 public:
  static constexpr std::size_t chunk_size = 64 << 10;

  std::size_t size() const noexcept { return size_; }

  void append(std::string_view bytes) {
    while (!bytes.empty()) {
      if (size_ == chunks_.size() * chunk_size) chunks_.push_back(std::make_unique_for_overwrite<char[]>(chunk_size));
      const std::size_t at = size_ % chunk_size;
      const std::size_t n = std::min(bytes.size(), chunk_size - at);
      std::copy_n(bytes.data(), n, chunks_.back().get() + at);
      size_ += n;
      bytes.remove_prefix(n);
    }
  }

  // Up to `length` bytes from `offset` (fewer at the end, none past it).
  void read(std::size_t offset, std::size_t length, std::string& out) const {
    out.clear();
    if (offset >= size_) return;
    length = std::min(length, size_ - offset);
    out.reserve(length);
    while (length > 0) {
      const std::size_t at = offset % chunk_size;
      const std::size_t n = std::min(length, chunk_size - at);
      out.append(chunks_[offset / chunk_size].get() + at, n);
      offset += n;
      length -= n;
    }
  }

  std::string copy_prefix(std::size_t length) const {
    std::string out;
    read(0, length, out);
    return out;
  }

  // Shrinks to `length` bytes (never grows).
  void truncate(std::size_t length) {
    if (length >= size_) return;
    size_ = length;
    chunks_.resize((size_ + chunk_size - 1) / chunk_size);
  }

  void assign(std::string_view bytes) {
    truncate(0);
    append(bytes);
  }

  void flip(std::size_t offset, char mask) { chunks_[offset / chunk_size][offset % chunk_size] ^= mask; }

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace dkv::sim
