#pragma once
// Pending expirations and deletions of one shard, in deadline order (ties by
// key hash, then key, then expiry before deletion): a binary min-heap driven by the logical
// clock. Items are validated when they come due — an entry overwritten or
// rescheduled since leaves a stale item that is simply skipped — and each
// item holds a reference on its entry so the entry's memory outlives it.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "store/engine/entry.hpp"

namespace dkv::engine {

enum class deadline_kind : std::uint8_t { expire = 0, remove = 1 };

struct deadline_item {
  std::uint64_t deadline;
  std::uint64_t key_hash;  // a copy, so ties rarely need to touch the entry
  entry* target;
  deadline_kind kind;

  // Still describes the entry's current schedule?
  bool current() const noexcept {
    if (!target->linked) return false;
    return kind == deadline_kind::expire ? target->expire_at == deadline : target->delete_at == deadline;
  }
};

class deadline_queue {
 public:
  void push(entry* e, std::uint64_t deadline, deadline_kind kind) {
    ++e->queue_refs;
    heap_.push_back({deadline, e->hash, e, kind});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  // Queues the entry's pending expiry and deletion, if any.
  void schedule(entry* e) {
    if (e->expire_at != 0) push(e, e->expire_at, deadline_kind::expire);
    if (e->delete_at != 0) push(e, e->delete_at, deadline_kind::remove);
  }

  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  const deadline_item& top() const noexcept { return heap_.front(); }
  bool due(std::uint64_t now) const noexcept { return !heap_.empty() && heap_.front().deadline <= now; }

  // Removes the earliest item; the caller must release() its reference.
  deadline_item pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    deadline_item item = heap_.back();
    heap_.pop_back();
    return item;
  }

  // Drops an item's reference; frees the entry once it is unlinked and unreferenced.
  static void release(const deadline_item& item) noexcept {
    entry* e = item.target;
    if (--e->queue_refs == 0 && !e->linked) entry::destroy(e);
  }

  // Items with deadline <= now (stale ones included): GetDBInfo's backlog, approximate.
  std::size_t count_due(std::uint64_t now, deadline_kind kind) const noexcept {
    return static_cast<std::size_t>(std::count_if(heap_.begin(), heap_.end(), [&](const deadline_item& i) {
      return i.kind == kind && i.deadline <= now && i.current();
    }));
  }

  void clear() noexcept {
    for (const auto& item : heap_) release(item);
    heap_.clear();
  }

 private:
  // Heap order: "a comes after b".
  static bool later(const deadline_item& a, const deadline_item& b) noexcept {
    if (a.deadline != b.deadline) return a.deadline > b.deadline;
    if (a.key_hash != b.key_hash) return a.key_hash > b.key_hash;
    const int by_key = a.target->key().compare(b.target->key());
    if (by_key != 0) return by_key > 0;
    return a.kind > b.kind;
  }

  std::vector<deadline_item> heap_;
};

}  // namespace dkv::engine
