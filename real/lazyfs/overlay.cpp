#include "real/lazyfs/overlay.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace dkv::lazyfs {

std::uint64_t overlay::dirty_bytes() const noexcept {
  std::uint64_t total = 0;
  for (const auto& [offset, bytes] : extents_) total += bytes.size();
  return total;
}

void overlay::write(std::uint64_t offset, std::string_view bytes) {
  // pwrite of nothing changes nothing, not even the size.
  if (bytes.empty()) return;
  const std::uint64_t end = offset + bytes.size();
  last_write_ = span{offset, bytes.size()};
  size_ = std::max(size_, end);

  // The extents this write touches (overlaps or adjoins): [first, last).
  // Only the one extent starting before `offset` can reach it, since extents
  // never touch each other.
  auto first = extents_.upper_bound(offset);
  if (first != extents_.begin() && extent_end(std::prev(first)) >= offset) --first;
  const auto last = extents_.upper_bound(end);

  if (first == last) {
    extents_.emplace(offset, std::string(bytes));
    return;
  }
  // The common case — an append to an extent (a log), or a rewrite inside
  // one — grows that extent in place: amortized constant time per append,
  // where rebuilding would copy the whole extent each time.
  if (std::next(first) == last && first->first <= offset) {
    std::string& data = first->second;
    const std::uint64_t at = offset - first->first;
    if (at + bytes.size() > data.size()) data.resize(at + bytes.size());
    std::memcpy(data.data() + at, bytes.data(), bytes.size());
    return;
  }
  // Otherwise merge every touched extent and the write into one.
  const std::uint64_t start = std::min(offset, first->first);
  const std::uint64_t stop = std::max(end, extent_end(std::prev(last)));
  std::string merged(stop - start, '\0');
  for (auto it = first; it != last; ++it)
    std::memcpy(merged.data() + (it->first - start), it->second.data(), it->second.size());
  std::memcpy(merged.data() + (offset - start), bytes.data(), bytes.size());
  extents_.erase(first, last);
  extents_.emplace(start, std::move(merged));
}

void overlay::truncate(std::uint64_t size) {
  if (size < size_) {
    extents_.erase(extents_.lower_bound(size), extents_.end());
    if (!extents_.empty()) {
      auto& [offset, bytes] = *extents_.rbegin();
      if (offset + bytes.size() > size) bytes.resize(size - offset);
    }
    // Backing bytes past `size` are gone from the view even if the file
    // grows again: the region then reads as zeros.
    cut_ = std::min(cut_, size);
    if (last_write_) {
      if (last_write_->offset >= size)
        last_write_.reset();
      else
        last_write_->length = std::min(last_write_->length, size - last_write_->offset);
    }
  }
  size_ = size;
}

std::int64_t overlay::read(std::uint64_t offset, char* into, std::size_t length, backing_file& backing) const {
  if (offset >= size_) return 0;
  const std::uint64_t count = std::min<std::uint64_t>(length, size_ - offset);
  const std::uint64_t end = offset + count;
  std::memset(into, 0, count);
  // The backing bytes still in the view, then the dirty extents over them
  // (reading backing bytes an extent hides costs a copy, never a wrong byte).
  if (offset < cut_) {
    if (const int err = backing.read(offset, into, std::min(end, cut_) - offset); err != 0) return err;
  }
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin()) --it;
  for (; it != extents_.end() && it->first < end; ++it) {
    const std::uint64_t from = std::max(offset, it->first);
    const std::uint64_t to = std::min(end, extent_end(it));
    if (from < to) std::memcpy(into + (from - offset), it->second.data() + (from - it->first), to - from);
  }
  return static_cast<std::int64_t>(count);
}

int overlay::write_back(backing_file& backing) const {
  // Cut first, so that backing bytes past the cut cannot survive under a
  // hole; then the extents; then the size, which may still lie past them
  // (a truncation up, or a hole at the end).
  if (cut_ < backing_size_) {
    if (const int err = backing.truncate(cut_); err != 0) return err;
  }
  std::uint64_t written_end = cut_;
  for (auto it = extents_.begin(); it != extents_.end(); ++it) {
    if (const int err = backing.write(it->first, it->second); err != 0) return err;
    written_end = std::max(written_end, extent_end(it));
  }
  if (written_end != size_) return backing.truncate(size_);
  return 0;
}

void overlay::synced() {
  extents_.clear();
  backing_size_ = cut_ = size_;
  last_write_.reset();
}

int overlay::write_torn_prefix(std::uint64_t keep, backing_file& backing) const {
  if (!last_write_) return 0;
  keep = std::min(keep, last_write_->length);
  if (keep == 0) return 0;
  // The last write lies inside one extent: extents merge what they touch,
  // and a truncation that cut the extent cut the write as well.
  auto it = extents_.upper_bound(last_write_->offset);
  --it;
  return backing.write(last_write_->offset, std::string_view(it->second).substr(last_write_->offset - it->first, keep));
}

std::optional<overlay::span> overlay::dirty_span() const noexcept {
  if (extents_.empty()) return std::nullopt;
  const std::uint64_t start = extents_.begin()->first;
  return span{start, extent_end(std::prev(extents_.end())) - start};
}

int overlay::write_dirty_prefix(std::uint64_t keep, backing_file& backing) const {
  const std::optional<span> all = dirty_span();
  if (!all) return 0;
  const std::uint64_t limit = all->offset + std::min(keep, all->length);
  for (auto it = extents_.begin(); it != extents_.end() && it->first < limit; ++it) {
    const std::uint64_t length = std::min<std::uint64_t>(it->second.size(), limit - it->first);
    if (const int err = backing.write(it->first, std::string_view(it->second).substr(0, length)); err != 0) return err;
  }
  return 0;
}

}  // namespace dkv::lazyfs
