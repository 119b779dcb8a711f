// dkv-raft-bench: three Raft replicas in one process, messages passed by
// hand, every ready persisted to memory storage and acknowledged. The leader
// takes 128-byte proposals in batches; we report entries committed (the
// leader's commit index) per second and heap allocations per committed entry
// (counted by replacing the global operator new in this program).
//
//   dkv-raft-bench [--entries N] [--payload BYTES]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "store/raft/replica.hpp"

namespace {
std::atomic<std::uint64_t> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace dkv::raft;

struct cluster {
  std::vector<replica> replicas;
  std::vector<memory_storage> disks;
  std::vector<std::vector<message>> inboxes;
  std::uint64_t applied = 0;

  cluster() : disks(3), inboxes(3) {
    for (node_id id = 1; id <= 3; ++id) {
      options opts;
      opts.id = id;
      opts.initial_voters = {1, 2, 3};
      opts.max_inflight_messages = 256;
      replicas.emplace_back(opts, durable_state{}, id);
    }
  }

  // Hands out and carries out every ready until nothing moves.
  void pump() {
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t i = 0; i < 3; ++i) {
        replica& r = replicas[i];
        for (message& m : inboxes[i]) r.step(m);
        inboxes[i].clear();
        ready work = r.take_ready();
        if (work.empty()) continue;
        moved = true;
        if (work.must_persist()) {
          disks[i].persist(work);
          r.persisted(work.sequence);
        }
        for (message& m : work.messages) inboxes[m.to - 1].push_back(std::move(m));
        applied += work.committed.size();
      }
    }
  }

  // Every so often each replica snapshots and drops its applied log, as a
  // real node would; the snapshot here is empty (the bench has no state).
  void compact() {
    for (std::size_t i = 0; i < 3; ++i)
      if (auto taken = replicas[i].compact(replicas[i].applied_index(), {})) disks[i].save_snapshot(*taken);
  }
};

struct result {
  double entries_per_second;
  double allocations_per_entry;
};

result run(std::size_t total, std::size_t batch, std::size_t payload_bytes) {
  cluster c;
  c.replicas[0].campaign();
  c.pump();
  replica& leader = c.replicas[0];
  const std::string bytes(payload_bytes, 'x');
  std::vector<payload> proposals(batch);

  const index_t start = leader.commit_index();
  const std::uint64_t allocations_before = allocations.load();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t proposed = 0;
  while (proposed < total) {
    const std::size_t n = std::min(batch, total - proposed);
    for (std::size_t i = 0; i < n; ++i) proposals[i] = payload::copy_of(bytes);
    if (!leader.propose_batch({proposals.data(), n}).ok()) break;
    proposed += n;
    c.pump();
    if (proposed % 65536 < n) c.compact();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double committed = static_cast<double>(leader.commit_index() - start);
  const auto allocs = static_cast<double>(allocations.load() - allocations_before);
  return {committed / seconds, allocs / committed};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t total = 1'000'000;
  std::size_t payload_bytes = 128;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--entries" || arg == "--payload") && i + 1 < argc) {
      const std::size_t value = std::strtoull(argv[++i], nullptr, 10);
      (arg == "--entries" ? total : payload_bytes) = value;
    } else {
      std::fprintf(stderr, "usage: dkv-raft-bench [--entries N] [--payload BYTES]\n");
      return 2;
    }
  }
  std::printf("3 replicas, %zu-byte proposals, %zu entries per run, memory storage\n", payload_bytes, total);
  std::printf("%8s  %16s  %16s\n", "batch", "committed/s", "allocs/entry");
  for (std::size_t batch : {1, 16, 64, 256, 1024}) {
    const result r = run(batch == 1 ? std::min<std::size_t>(total, 100'000) : total, batch, payload_bytes);
    std::printf("%8zu  %14.2f M  %16.2f\n", batch, r.entries_per_second / 1e6, r.allocations_per_entry);
  }
}
